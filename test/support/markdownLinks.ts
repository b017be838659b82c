// Relative links and anchors in Markdown files, and GitHub's heading anchors, for the docs link test.

import * as fs from "node:fs";
import * as path from "node:path";

export interface Link {
  /** The Markdown file holding the link. */
  file: string;
  line: number;
  /** The link target as written, e.g. `docs/cli.md#plan`. */
  target: string;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a Markdown text offers: its headings' slugs, a repeated one as `slug-1`, `slug-2`. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text } of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!m) {
      continue;
    }
    const slug = headingSlug(m[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((text, i) => {
    const m = /^\s*(```|~~~)/.exec(text);
    if (m) {
      fence = fence === undefined ? m[1] : fence === m[1] ? undefined : fence;
      return;
    }
    if (fence === undefined) {
      out.push({ text, line: i + 1 });
    }
  });
  return out;
}

/** Links to files of this repository (not URLs), outside code blocks and inline code. */
export function relativeLinks(file: string, markdown: string): Link[] {
  const links: Link[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\]\(\s*(?:<([^>]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] ?? m[2];
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        links.push({ file, line, target });
      }
    }
  }
  return links;
}

/** Why a link does not resolve, or undefined when it does. */
export function brokenReason(link: Link): string | undefined {
  const [pathPart, fragment] = link.target.split("#", 2) as [string, string | undefined];
  const resolved =
    pathPart === "" ? link.file : path.resolve(path.dirname(link.file), decodeURI(pathPart));
  if (!fs.existsSync(resolved)) {
    return `no file ${path.relative(process.cwd(), resolved)}`;
  }
  if (fragment === undefined) {
    return undefined;
  }
  if (!resolved.endsWith(".md")) {
    return `#${fragment} on a file that is not Markdown`;
  }
  const offered = anchors(fs.readFileSync(resolved, "utf8"));
  return offered.has(fragment)
    ? undefined
    : `no heading with anchor #${fragment} in ${path.basename(resolved)} (anchors: ${[...offered].join(", ")})`;
}
