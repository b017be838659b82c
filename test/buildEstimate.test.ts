// The build estimate behind `plan`: minutes from sizeGB and the stated throughputs, prices from the one table.

import { strict as assert } from "node:assert";
import {
  buildMinutes,
  estimateBuild,
  formatEstimate,
  monthlyStorage,
  totalOf,
} from "../lib/buildEstimate";
import type { Accelerator } from "../lib/naming";

type Case = [string, Accelerator, string, number | undefined, number | null, number | null];

describe("build estimate", () => {
  const ENV = { cpu: "LINUX_CONTAINER", cuda: "LINUX_GPU_CONTAINER" } as const;
  // name, accelerator, compute type, sizeGB, minutes, usd
  const CASES: Case[] = [
    // 1 GB: 3 min start + 1000 MB x (1/100 + 1/200 + 1/100) s = 25 s -> 3.4 -> 4 minutes x $0.005.
    ["a 1 GB cpu model on SMALL", "cpu", "BUILD_GENERAL1_SMALL", 1, 4, 0.02],
    // 30 GB: 3 + 750 s = 15.5 -> 16 minutes x $0.01.
    ["a 30 GB cpu model on MEDIUM", "cpu", "BUILD_GENERAL1_MEDIUM", 30, 16, 0.16],
    ["a 40 GB cpu model on LARGE", "cpu", "BUILD_GENERAL1_LARGE", 40, 20, 0.4],
    // cuda: 6 min start and a second local pass: 30 GB -> 6 + 900 s = 21 minutes; no GPU price row.
    ["a 30 GB cuda model on the GPU SMALL", "cuda", "BUILD_GENERAL1_SMALL", 30, 21, null],
    ["a cpu model on 2XLARGE (no price row)", "cpu", "BUILD_GENERAL1_2XLARGE", 200, 87, null],
    ["a model without sizeGB", "cpu", "BUILD_GENERAL1_MEDIUM", undefined, null, null],
    ["a tiny model: the start dominates", "cpu", "BUILD_GENERAL1_SMALL", 0.1, 4, 0.02],
  ];
  for (const [what, accelerator, computeType, sizeGB, minutes, usd] of CASES) {
    it(what, () => {
      assert.deepEqual(
        estimateBuild({ accelerator, computeType, environmentType: ENV[accelerator], sizeGB }),
        { computeType, minutes, usd },
      );
    });
  }

  it("minutes grow with the size and never fall below the start", () => {
    let last = 0;
    for (const sizeGB of [0.01, 1, 10, 100, 1000]) {
      const m = buildMinutes({ accelerator: "cpu", sizeGB }) as number;
      assert.ok(m >= 3 && m >= last, `${sizeGB} GB: ${m}`);
      last = m;
    }
  });

  it("totals add what is known and count what is not", () => {
    assert.deepEqual(
      totalOf([
        { computeType: "A", minutes: 4, usd: 0.02 },
        { computeType: "B", minutes: 21, usd: null },
        { computeType: "C", minutes: null, usd: null },
      ]),
      { minutes: 25, usd: 0.02, unknownMinutes: 1, unknownUsd: 2 },
    );
  });

  it("storage counts each model once, skips downloadAtRuntime, and says what it left out", () => {
    assert.deepEqual(
      monthlyStorage([
        { model: "both", sizeGB: 30, skipped: false },
        { model: "both", sizeGB: 30, skipped: false },
        { model: "small", sizeGB: 1.5, skipped: false },
        { model: "huge", sizeGB: 800, skipped: true },
        { model: "nosize", sizeGB: undefined, skipped: false },
      ]),
      { gb: 31.5, usdPerMonth: 3.15, unknownModels: 1 },
    );
  });

  it("prints unknown rather than a guess", () => {
    assert.equal(
      formatEstimate({ computeType: "X", minutes: null, usd: null }),
      "unknown (no sizeGB)",
    );
    assert.equal(
      formatEstimate({ computeType: "X", minutes: 21, usd: null }),
      "~21 min, cost unknown",
    );
    assert.equal(formatEstimate({ computeType: "X", minutes: 16, usd: 0.16 }), "~16 min, ~$0.16");
  });
});
