// One measurement: evaluate index.ts under mocks for the manifest in argv[2]; prints JSON figures.

import { performance } from "node:perf_hooks";
import { runProgram, stackConfig } from "../tools/programRun";

async function main(): Promise<void> {
  const manifest = process.argv[2];
  const start = performance.now();
  const run = await runProgram("dev", { ...stackConfig("dev"), "model-images:manifest": manifest });
  const ms = performance.now() - start;
  const uris = Object.keys(run.outputs.modelUris as Record<string, string>).length;
  process.stdout.write(
    JSON.stringify({
      ms,
      resources: run.recorded.length,
      uris,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    }) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
