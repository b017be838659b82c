// Runs the CLI: `main` in this process with captured streams (the same code, minus process start),
// or as a real process, from source or from the built bundle.

import { execFile } from "node:child_process";
import * as path from "node:path";
import { Writable } from "node:stream";
import { type Io, PROJECT_DIR } from "../../cli/args";
import { main } from "../../cli/main";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** A writable stream that keeps what is written, for a command's out and err. */
export class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `ctx` replaces standard input, the working directory or the environment of the run. */
export async function runCli(
  argv: string[],
  ctx: Partial<Pick<Io, "stdin" | "cwd" | "env">> = {},
): Promise<CliRun> {
  const out = new Capture();
  const err = new Capture();
  const code = await main(argv, out, err, ctx);
  return { code, out: out.text, err: err.text };
}

export interface ProcessRun extends CliRun {
  ms: number;
}

/**
 * The CLI as a real process in the project directory: from source through tsx, or, with `bundle`,
 * the built single-file CLI executed directly (its shebang picks node and its flags).
 * `env` adds to (or, with undefined, removes from) this process's environment.
 */
export function runProcess(
  args: string[],
  opts: { env?: Record<string, string | undefined>; bundle?: string } = {},
): Promise<ProcessRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) {
    if (v !== undefined) {
      env[k] = v;
    }
  }
  const [file, argv] = opts.bundle
    ? [opts.bundle, args]
    : [process.execPath, ["--require", "tsx/cjs", path.join(PROJECT_DIR, "cli/main.ts"), ...args]];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: PROJECT_DIR, env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({
        code: error ? (typeof error.code === "number" ? error.code : -1) : 0,
        out: stdout,
        err: stderr,
        ms: Date.now() - started,
      }),
    );
  });
}
