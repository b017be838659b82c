// Reads and validates a manifest for a command, writing problems as file:line:col lines.

import * as fs from "node:fs";
import { formatDiagnostic } from "../lib/diagnostics";
import { ManifestResult, ManifestRules, parseManifest } from "../lib/manifest";

/**
 * The validated manifest, or undefined once every problem has been written to `err`
 * (only positioned lines: editors and CI problem matchers read stderr line by line).
 * `hint` follows an unreadable-file message, e.g. where the path came from.
 */
export function loadManifest(
  file: string,
  rules: ManifestRules | undefined,
  err: NodeJS.WritableStream,
  hint = "",
): ManifestResult | undefined {
  let text: Buffer;
  try {
    text = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : (code ?? "unreadable");
    err.write(`${file}: cannot read the manifest: ${why}${hint}\n`);
    return undefined;
  }
  const result = parseManifest(file, text, rules);
  if (result.diagnostics.length > 0) {
    result.diagnostics.forEach((d) => err.write(formatDiagnostic(d) + "\n"));
    return undefined;
  }
  return result;
}
