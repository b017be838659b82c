// The build estimate behind `plan`: minutes from sizeGB and the stated throughputs, prices from the one table.

import { strict as assert } from "node:assert";
import {
  buildMinutes,
  estimateBuild,
  formatEstimate,
  monthlyStorage,
  totalOf,
} from "../lib/buildEstimate";
import { COMPUTE_OPTIONS, ENVIRONMENT_TYPES } from "../lib/compute";
import type { Accelerator } from "../lib/naming";
import { CODEBUILD_USD_PER_MINUTE } from "../lib/prices";

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
    // 80 GB: 3 + 2000 s = 36.3 -> 37 minutes x $0.0798 = $2.95.
    ["an 80 GB cpu model on XLARGE", "cpu", "BUILD_GENERAL1_XLARGE", 80, 37, 2.95],
    // 200 GB: 3 + 5000 s = 86.3 -> 87 minutes x $0.20.
    ["a 200 GB cpu model on 2XLARGE", "cpu", "BUILD_GENERAL1_2XLARGE", 200, 87, 17.4],
    // cuda: 6 min start and a second local pass: 30 GB -> 6 + 900 s = 21 minutes x $0.05.
    ["a 30 GB cuda model on the GPU SMALL", "cuda", "BUILD_GENERAL1_SMALL", 30, 21, 1.05],
    // 10 GB: 6 + 300 s = 11 minutes x $0.65.
    ["a 10 GB cuda model on the GPU LARGE", "cuda", "BUILD_GENERAL1_LARGE", 10, 11, 7.15],
    ["a compute type the table has no row for", "cpu", "BUILD_GENERAL1_3XLARGE", 1, 4, null],
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

  it("the price table has a row, a price or null, for every compute type the program can choose", () => {
    for (const accelerator of ["cpu", "cuda"] as const) {
      const rows = CODEBUILD_USD_PER_MINUTE[ENVIRONMENT_TYPES[accelerator]];
      assert.deepEqual(
        Object.keys(rows).sort(),
        COMPUTE_OPTIONS[accelerator].map((o) => o.computeType).sort(),
        `${ENVIRONMENT_TYPES[accelerator]}: add a row (with its source) to lib/prices.ts`,
      );
      for (const [computeType, usd] of Object.entries(rows)) {
        assert.ok(usd === null || (usd > 0 && usd < 10), `${computeType}: ${usd}`);
      }
    }
  });

  it("a null row is unknown, never zero", () => {
    const saved = CODEBUILD_USD_PER_MINUTE.LINUX_CONTAINER;
    try {
      (CODEBUILD_USD_PER_MINUTE as Record<string, Record<string, number | null>>).LINUX_CONTAINER =
        { ...saved, BUILD_GENERAL1_SMALL: null };
      assert.deepEqual(
        estimateBuild({
          accelerator: "cpu",
          computeType: "BUILD_GENERAL1_SMALL",
          environmentType: "LINUX_CONTAINER",
          sizeGB: 1,
        }),
        { computeType: "BUILD_GENERAL1_SMALL", minutes: 4, usd: null },
      );
    } finally {
      (CODEBUILD_USD_PER_MINUTE as Record<string, unknown>).LINUX_CONTAINER = saved;
    }
  });

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
      // C has no sizeGB: counted once, as unknown minutes, not also as a missing price.
      { minutes: 25, usd: 0.02, unknownMinutes: 1, unknownUsd: 1 },
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
