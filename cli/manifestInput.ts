// Reads and validates a manifest for a command, from a file or (`-`) standard input.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../lib/diagnostics";
import { ManifestResult, ManifestRules, parseManifest } from "../lib/manifest";
import type { Io } from "./args";

/** The name problems carry for a manifest read from standard input. */
export const STDIN_NAME = "<stdin>";

export interface ManifestInput {
  /** The validated manifest; undefined when there are problems. */
  result?: ManifestResult;
  /** Positioned problems; line and column 0 when the file itself cannot be read. */
  diagnostics: Diagnostic[];
}

function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(Buffer.from(c)));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** A manifest's bytes, or the problem that it cannot be read (line and column 0). */
export type ManifestText =
  | { shown: string; text: Buffer; diagnostics: [] }
  | { shown: string; text?: undefined; diagnostics: Diagnostic[] };

/**
 * Read `file` (relative to io.cwd; `-` is standard input). `shown` is its name in problems;
 * `hint` follows an unreadable-file message, e.g. where the path came from.
 */
export async function readManifestText(
  file: string,
  io: Pick<Io, "stdin" | "cwd">,
  hint = "",
): Promise<ManifestText> {
  const shown = file === "-" ? STDIN_NAME : file;
  try {
    const text =
      file === "-" ? await readStream(io.stdin) : fs.readFileSync(path.resolve(io.cwd, file));
    return { shown, text, diagnostics: [] };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : (code ?? "unreadable");
    return {
      shown,
      diagnostics: [
        { file: shown, line: 0, col: 0, message: `cannot read the manifest: ${why}${hint}` },
      ],
    };
  }
}

/** Read `file` as readManifestText does and validate it against `rules`. */
export async function readManifest(
  file: string,
  rules: ManifestRules | undefined,
  io: Pick<Io, "stdin" | "cwd">,
  hint = "",
): Promise<ManifestInput> {
  const input = await readManifestText(file, io, hint);
  if (input.text === undefined) {
    return { diagnostics: input.diagnostics };
  }
  const result = parseManifest(input.shown, input.text, rules);
  return result.diagnostics.length > 0
    ? { diagnostics: result.diagnostics }
    : { result, diagnostics: [] };
}

/** `file:line:col: message`, or `file: message` for a problem with the whole file. */
export function formatProblem(d: Diagnostic): string {
  return d.line === 0 ? `${d.file}: ${d.message}` : `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Write problems one a line (editors and CI problem matchers read stderr line by line). */
export function writeProblems(
  diagnostics: readonly Diagnostic[],
  err: NodeJS.WritableStream,
): void {
  diagnostics.forEach((d) => err.write(formatProblem(d) + "\n"));
}
