// Runs the CLI's `main` in this process with captured streams: the same code the binary runs, minus process start.

import { Writable } from "node:stream";
import { main } from "../../cli/main";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runCli(argv: string[]): Promise<CliRun> {
  const out = new Capture();
  const err = new Capture();
  const code = await main(argv, out, err);
  return { code, out: out.text, err: err.text };
}
