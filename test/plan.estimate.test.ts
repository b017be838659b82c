// `plan`'s build estimate for missing images, in the table and in --json, against the loopback ECR emulator.
import * as assert from "node:assert/strict";
import type { AwsEmulator } from "./support/awsEmulator";
import { runCli } from "./support/cli";
import { catalogue, entry, fakeDigest as d, planArgs } from "./support/planCatalog";
import { type EcrPlanFixture, startEcrPlanFixture } from "./support/planEcr";

const PREFIX = "plan-estimate";

/** Sizes chosen for round figures: see test/buildEstimate.test.ts for the arithmetic. */
const MANIFEST = catalogue(
  entry("alpha", "0.1.0", "sizeGB: 1"),
  entry("beta", "0.2.0", "sizeGB: 30"),
  entry("gamma", "0.3.0", "sizeGB: 30", "variants: [{accelerator: cpu}, {accelerator: cuda}]"),
  entry("delta", "0.1.0"),
  entry("epsilon", "0.1.0", "sizeGB: 800", "downloadAtRuntime: true"),
  entry("zeta", "0.1.0", "sizeGB: 200"),
  entry(
    "eta",
    "0.1.0",
    "sizeGB: 10",
    "variants: [{accelerator: cuda, computeType: BUILD_GENERAL1_LARGE}]",
  ),
);

describe("plan: build estimate of the missing images", function () {
  this.timeout(30_000);
  let fixture: EcrPlanFixture;
  let emu: AwsEmulator;
  let args: string[];

  before(async () => {
    fixture = await startEcrPlanFixture(MANIFEST, "plan-estimate-");
    emu = fixture.emu;
    args = planArgs(fixture.manifest, PREFIX);
  });
  after(async () => {
    await fixture?.close();
  });
  beforeEach(() => {
    emu.reset();
    emu.addRepository(`${PREFIX}/alpha`, { "0.1.0": d(1) });
    emu.addRepository(`${PREFIX}/gamma`, { "0.3.0-cuda": d(4) });
  });

  it("--json: estimate {computeType, minutes, usd} on each missing row only, null when unknown", async () => {
    const r = await runCli([...args, "--json"]);
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as { name: string; status: string; estimate?: unknown }[];
    assert.deepEqual(
      rows.map((e) => [e.name, e.status, e.estimate]),
      [
        ["alpha", "present", undefined],
        // 30 GB on MEDIUM: 16 minutes at $0.01.
        ["beta", "missing", { computeType: "BUILD_GENERAL1_MEDIUM", minutes: 16, usd: 0.16 }],
        ["gamma", "missing", { computeType: "BUILD_GENERAL1_MEDIUM", minutes: 16, usd: 0.16 }],
        ["gamma-cuda", "present", undefined],
        // No sizeGB: no guess.
        ["delta", "missing", { computeType: "BUILD_GENERAL1_MEDIUM", minutes: null, usd: null }],
        ["epsilon", "skipped", undefined],
        // 200 GB needs 2XLARGE's disk: 87 minutes at $0.20.
        ["zeta", "missing", { computeType: "BUILD_GENERAL1_2XLARGE", minutes: 87, usd: 17.4 }],
        // The 4x V100 GPU type: 11 minutes at $0.65.
        ["eta-cuda", "missing", { computeType: "BUILD_GENERAL1_LARGE", minutes: 11, usd: 7.15 }],
      ],
    );
  });

  it("the table: compute type and estimate per missing image, the total and the storage under the summary", async () => {
    emu.reset();
    emu.addRepository(`${PREFIX}/alpha`, { "0.1.0": d(1) });
    const r = await runCli(args);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split("\n");
    assert.match(lines[0], /^NAME +TAG +STATUS +DIGEST +BUILD ESTIMATE$/);
    assert.match(lines[1], /^alpha +0\.1\.0 +present +sha256:[0-9a-f]{12}$/);
    assert.match(lines[2], /^beta +0\.2\.0 +missing +BUILD_GENERAL1_MEDIUM, ~16 min, ~\$0\.16$/);
    // cuda builds on the GPU compute (1x A10G): 21 minutes at $0.05.
    assert.match(
      lines[4],
      /^gamma-cuda +0\.3\.0-cuda +missing +BUILD_GENERAL1_SMALL, ~21 min, ~\$1\.05$/,
    );
    assert.match(
      lines[5],
      /^delta +0\.1\.0 +missing +BUILD_GENERAL1_MEDIUM, unknown \(no sizeGB\)$/,
    );
    assert.match(lines[6], /^epsilon +0\.1\.0 +skipped$/);
    assert.match(lines[7], /^zeta +0\.1\.0 +missing +BUILD_GENERAL1_2XLARGE, ~87 min, ~\$17\.40$/);
    assert.match(
      lines[8],
      /^eta-cuda +0\.1\.0-cuda +missing +BUILD_GENERAL1_LARGE, ~11 min, ~\$7\.15$/,
    );
    assert.match(lines[10], /^1 present, 6 missing, 1 skipped \(/);
    // 16 + 16 + 21 + 87 + 11 minutes, $0.16 + 0.16 + 1.05 + 17.40 + 7.15; every compute type has a
    // price, so only delta (no sizeGB) is left out. Storage: alpha 1 + beta 30 + gamma 30 (once) +
    // zeta 200 + eta 10 GB, delta unknown.
    assert.equal(
      lines[11],
      "estimate: building the 6 missing: ~151 min (1 without sizeGB), ~$25.92; ECR storage of the stack's images ~271 GB, ~$27.10/month (1 without sizeGB) (prices: lib/prices.ts (us-east-1 on-demand, 2026-12-01))",
    );
  });
});
