// Benchmark: `plan` against a local docker-registry with 200 repositories (half the tags present)
// versus a KAITO-style loop (`skopeo list-tags` per repository, sequentially, then grep), in one run.
// Needs docker-registry and skopeo (Debian). Usage: npx tsx bench/tagCheck.ts [repositories]

import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { buildCli, CLI_BUNDLE, describeBuild } from "../scripts/buildCli";
import { pushImage, writeOciLayout } from "../tools/ociImage";
import { startRegistry } from "../tools/registry";

const PREFIX = "bench";
const PLAN_RUNS = 5;

function manifest(n: number): string {
  const lines = ["models:"];
  for (let i = 0; i < n; i++) {
    lines.push(
      `  - name: model-${i}`,
      `  # exact tags matter: 1.0.${i} must not match 11.0.${i}`,
      `    source: org/model-${i}`,
      `    revision: ${i.toString(16).padStart(40, "0")}`,
      `    tag: "1.0.${i}"`,
    );
  }
  return lines.filter((l) => !l.startsWith("  #")).join("\n") + "\n";
}

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        await fn(items[next++]);
      }
    }),
  );
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tags-"));
  const registry = await startRegistry();
  try {
    console.log(`built ${describeBuild(await buildCli())}`);
    const layout = path.join(dir, "layout");
    const [image] = writeOciLayout(layout, [{ tag: "img" }]);
    // Every repository exists and holds a decoy tag; even-numbered ones also hold their real tag.
    const t0 = performance.now();
    await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      8,
      async (i) => {
        await pushImage(layout, image, registry.host, `${PREFIX}/model-${i}`, `11.0.${i}`);
        if (i % 2 === 0) {
          await pushImage(layout, image, registry.host, `${PREFIX}/model-${i}`, `1.0.${i}`);
        }
      },
    );
    console.log(
      `seeded ${n} repositories (${n / 2} tags present) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const file = path.join(dir, "models.yaml");
    fs.writeFileSync(file, manifest(n));

    // plan is short next to the loop, so one run is at the mercy of scheduler noise: take the median of 5.
    let planOut = "";
    const planArgs = [
      "plan",
      "--manifest",
      file,
      "--registry",
      registry.host,
      "--registry-prefix",
      PREFIX,
      "--json",
    ];
    const planWalls = Array.from({ length: PLAN_RUNS }, () =>
      time(() => {
        planOut = execFileSync(CLI_BUNDLE, planArgs, {
          encoding: "utf8",
          maxBuffer: 16 << 20,
        });
      }),
    ).sort((a, b) => a - b);
    const planWall = planWalls[Math.floor(PLAN_RUNS / 2)];
    const rows = JSON.parse(planOut) as { status: string }[];
    const present = rows.filter((r) => r.status === "present").length;

    let loopPresent = 0;
    const loopWall = time(() => {
      for (let i = 0; i < n; i++) {
        // KAITO's determine_missing_preset_images.py: list the tags, then a substring match.
        const res = spawnSync(
          "sh",
          [
            "-c",
            `skopeo list-tags --tls-verify=false docker://${registry.host}/${PREFIX}/model-${i} | grep -q '1.0.${i}'`,
          ],
          { stdio: "ignore" },
        );
        loopPresent += res.status === 0 ? 1 : 0;
      }
    });

    console.log("method                                   images  present  wall (s)");
    console.log(
      `plan (bundled CLI, median of ${PLAN_RUNS} runs)   ${String(n).padStart(6)}  ${String(present).padStart(7)}  ${planWall.toFixed(3).padStart(8)}`,
    );
    console.log(
      `  plan runs: ${planWalls.map((w) => w.toFixed(3)).join(", ")} s (each a new process)`,
    );
    console.log(
      `skopeo list-tags loop + grep (KAITO)     ${String(n).padStart(6)}  ${String(loopPresent).padStart(7)}  ${loopWall.toFixed(3).padStart(8)}`,
    );
    console.log(
      `plan is ${(loopWall / planWall).toFixed(1)}x faster (target >= 10x); plan under 1 s: ${planWall < 1 ? "yes" : "NO"}`,
    );
    if (loopPresent !== present) {
      console.log(
        `note: the substring loop counts ${loopPresent} present where the exact check finds ${present} (the 11.0.N decoys)`,
      );
    }
  } finally {
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
