// Benchmark: how program evaluation under mocks grows with the catalogue (50 vs 500 model variants).
// Each size runs in a fresh process so peak memory is its own. Usage: npx tsx bench/programEval.ts [sizes...]

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A manifest with `variants` images: models with a cpu and a cuda variant each. */
export function syntheticManifest(variants: number): string {
  const lines = ["models:"];
  for (let i = 0; i < Math.ceil(variants / 2); i++) {
    const both = 2 * i + 1 < variants;
    lines.push(
      `  - name: model-${i}`,
      `    source: org/model-${i}`,
      `    revision: ${i.toString(16).padStart(40, "0")}`,
      `    tag: "1.0.${i}"`,
      `    sizeGB: ${1 + (i % 20)}`,
      "    variants:",
      "      - accelerator: cpu",
      ...(both ? ["      - accelerator: cuda"] : []),
    );
  }
  return lines.join("\n") + "\n";
}

interface Figures {
  ms: number;
  resources: number;
  uris: number;
  maxRssMiB: number;
}

function measure(variants: number, dir: string): Figures {
  const file = path.join(dir, `models-${variants}.yaml`);
  fs.writeFileSync(file, syntheticManifest(variants));
  const out = execFileSync(
    process.execPath,
    ["-r", "tsx/cjs", path.join(__dirname, "programEvalChild.ts"), file],
    {
      cwd: path.resolve(__dirname, ".."),
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split("\n").pop() as string) as Figures;
}

function main(): void {
  const sizes = process.argv.slice(2).map(Number);
  const [small, large] = sizes.length === 2 ? sizes : [50, 500];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-program-"));
  try {
    measure(small, dir); // warm the tsx compile cache so both sizes pay the same start-up
    const a = measure(small, dir);
    const b = measure(large, dir);
    const row = (n: number, f: Figures) =>
      `${String(n).padStart(8)}  ${String(f.resources).padStart(9)}  ${f.ms.toFixed(0).padStart(9)}  ${f.maxRssMiB.toFixed(0).padStart(13)}`;
    console.log("variants  resources  eval (ms)  peak RSS (MiB)");
    console.log(row(small, a));
    console.log(row(large, b));
    const ratio = b.ms / a.ms;
    console.log(
      `time ratio ${large}/${small}: ${ratio.toFixed(2)}x for ${(large / small).toFixed(0)}x the variants (target <= 12x): ${ratio <= 12 ? "ok" : "TOO SLOW"}`,
    );
    console.log(`memory ratio: ${(b.maxRssMiB / a.maxRssMiB).toFixed(2)}x`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
