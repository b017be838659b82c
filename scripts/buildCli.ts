// Builds the CLI into one file, dist/model-images.js, for fast starts: `plan` checks hundreds of
// tags well under a second including process start, so loading must not cost more than the lookups.
//
// One minified file instead of ~200 modules (yaml, zod/mini's used parts, lib/, cli/) saves the
// per-file resolve and compile work. The AWS SDK stays external: only an ECR target loads it, lazily.
// Run as an executable, the file starts node with --no-opt: a command lives well under a second, so
// TurboFan's background compiles never pay back and only take a core from the registry under test
// (measured: node's CPU for a 200-image plan falls from ~410 ms to ~290 ms).
// Usage: npm run build:cli [-- --outfile <path inside the project>]

import { build } from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLI_BUNDLE as BUNDLE_PATH, cliBuildOptions } from "../lib/cliBundle";

export const ROOT = path.resolve(__dirname, "..");
export const CLI_BUNDLE = path.join(ROOT, BUNDLE_PATH);

export interface BuiltCli {
  outfile: string;
  bytes: number;
  /** The source files inside the bundle, relative to the project. */
  inputs: string[];
}

export async function buildCli(outfile = CLI_BUNDLE): Promise<BuiltCli> {
  const result = await build({
    ...cliBuildOptions(ROOT),
    outfile,
    sourcemap: true,
    logLevel: "warning",
    metafile: true,
  });
  fs.chmodSync(outfile, 0o755);
  const [main] = Object.values(result.metafile.outputs).filter((o) => o.entryPoint !== undefined);
  return { outfile, bytes: main.bytes, inputs: Object.keys(main.inputs) };
}

export function describeBuild(built: BuiltCli): string {
  return `${path.relative(process.cwd(), built.outfile)} (${(built.bytes / 1024).toFixed(0)} KiB)`;
}

if (require.main === module) {
  const i = process.argv.indexOf("--outfile");
  const outfile = i > 0 ? path.resolve(process.argv[i + 1] ?? "") : CLI_BUNDLE;
  buildCli(outfile).then(
    (built) => process.stdout.write(`built ${describeBuild(built)}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
