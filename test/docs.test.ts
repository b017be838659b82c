// Every relative link (and its #anchor) in the README and the docs resolves to a file and a heading.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COMPUTE_OPTIONS, DISK_FACTOR, computeOption, maxModelGB } from "../lib/compute";
import type { Accelerator } from "../lib/naming";
import { anchors, brokenReason, headingSlug, relativeLinks } from "./support/markdownLinks";

const ROOT = path.resolve(__dirname, "..");

/** The documentation a user reads: README, docs/, the benchmarks and the contributor guide. */
function documents(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join("docs", f));
  return ["README.md", "CONTRIBUTING.md", path.join("bench", "README.md"), ...docs].map((f) =>
    path.join(ROOT, f),
  );
}

describe("documentation links", () => {
  it("the documents exist (README, CONTRIBUTING, bench/README, docs/*.md)", () => {
    const rel = documents().map((f) => path.relative(ROOT, f));
    for (const f of rel) {
      assert.ok(fs.existsSync(path.join(ROOT, f)), f);
    }
    for (const expected of [
      "docs/configuration.md",
      "docs/manifest.md",
      "docs/cli.md",
      "docs/image-and-build.md",
      "docs/operations.md",
    ]) {
      assert.ok(rel.includes(expected), `${expected} is missing`);
    }
  });

  for (const file of documents()) {
    it(`${path.relative(ROOT, file)}: every relative link and anchor resolves`, () => {
      const links = relativeLinks(file, fs.readFileSync(file, "utf8"));
      const broken = links
        .map((l) => ({ l, why: brokenReason(l) }))
        .filter((b) => b.why !== undefined)
        .map((b) => `${path.relative(ROOT, b.l.file)}:${b.l.line}: (${b.l.target}) ${b.why}`);
      assert.deepEqual(broken, []);
    });
  }

  it("the README stays a short entry point (at most ~300 lines)", () => {
    const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length;
    assert.ok(lines <= 300, `README.md has ${lines} lines; move reference material to docs/`);
  });
});

describe("the link checker", () => {
  const SLUGS: [string, string][] = [
    ["How `pulumi up` decides what to build", "how-pulumi-up-decides-what-to-build"],
    ["1. On a laptop or kind cluster, without AWS", "1-on-a-laptop-or-kind-cluster-without-aws"],
    ["The CLI: validate, plan, kserve", "the-cli-validate-plan-kserve"],
    [
      "Move a gated model from `downloadAtRuntime` to built",
      "move-a-gated-model-from-downloadatruntime-to-built",
    ],
    ["`plan` against a registry: `bench/tagCheck.ts`", "plan-against-a-registry-benchtagcheckts"],
  ];
  for (const [heading, slug] of SLUGS) {
    it(`"${heading}" → #${slug}`, () => assert.equal(headingSlug(heading), slug));
  }

  it("numbers repeated headings and ignores headings inside code blocks", () => {
    const md = "# A\n## Usage\n```sh\n# not a heading\n```\n## Usage\n";
    assert.deepEqual([...anchors(md)], ["a", "usage", "usage-1"]);
  });

  it("finds relative links, skips URLs, inline code and code blocks", () => {
    const md = [
      "See [cli](docs/cli.md#plan) and [site](https://example.com) and `[x](nope.md)`.",
      "```",
      "[y](also-nope.md)",
      "```",
      '[self](#top) [img](<a b.md> "title")',
    ].join("\n");
    assert.deepEqual(
      relativeLinks("/r/README.md", md).map((l) => [l.line, l.target]),
      [
        [1, "docs/cli.md#plan"],
        [5, "#top"],
        [5, "a b.md"],
      ],
    );
  });

  it("reports a missing file and a missing anchor, accepts good ones", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "links-"));
    fs.mkdirSync(path.join(dir, "docs"));
    fs.writeFileSync(path.join(dir, "docs", "a.md"), "# Title\n## Set it\n");
    const file = path.join(dir, "README.md");
    const at = (target: string) => brokenReason({ file, line: 1, target });
    assert.equal(at("docs/a.md"), undefined);
    assert.equal(at("docs/a.md#set-it"), undefined);
    assert.match(at("docs/b.md") ?? "", /^no file .*docs\/b\.md$/);
    assert.match(
      at("docs/a.md#rotate-it") ?? "",
      /^no heading with anchor #rotate-it in a\.md \(anchors: title, set-it\)$/,
    );
    fs.rmSync(dir, { recursive: true });
  });
});

describe("docs/manifest.md compute table", () => {
  // The table users size their models by must say what validate and the program enforce.
  const text = fs.readFileSync(path.join(ROOT, "docs", "manifest.md"), "utf8");
  const rows = [
    ...text.matchAll(/^\| (cpu|cuda) \| (BUILD_\w+)[^|]*\| (\d+) GB \| (\d+) GB \|$/gm),
  ].map((m) => ({
    accelerator: m[1] as Accelerator,
    computeType: m[2],
    diskGB: +m[3],
    largestGB: +m[4],
  }));

  it("lists every compute option, in the program's order", () => {
    const expected = (Object.keys(COMPUTE_OPTIONS) as Accelerator[]).flatMap((a) =>
      COMPUTE_OPTIONS[a].map((o) => `${a} ${o.computeType}`),
    );
    assert.deepEqual(
      rows.map((r) => `${r.accelerator} ${r.computeType}`),
      expected,
    );
  });

  it(`gives each option's disk and largest model (disk ÷ DISK_FACTOR ${DISK_FACTOR})`, () => {
    for (const r of rows) {
      const option = computeOption(r.accelerator, r.computeType)!;
      assert.deepEqual(
        { row: `${r.accelerator} ${r.computeType}`, diskGB: r.diskGB, largestGB: r.largestGB },
        {
          row: `${r.accelerator} ${r.computeType}`,
          diskGB: option.diskGB,
          largestGB: maxModelGB(option),
        },
      );
    }
  });
});

describe("README diagram", () => {
  it("lists every stack output index.ts exports, and no other", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = /^outputs: ([\s\S]*?)\ncli\//m.exec(readme);
    assert.ok(block, "the diagram has an 'outputs:' line");
    const listed = block[1]
      .split(/[,\s]+/)
      .filter(Boolean)
      .sort();
    const exported = [
      ...fs.readFileSync(path.join(ROOT, "index.ts"), "utf8").matchAll(/^export const (\w+)/gm),
    ]
      .map((m) => m[1])
      .sort();
    assert.deepEqual(listed, exported);
  });
});
