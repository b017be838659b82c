// What the program tests share: the test catalogue, the token sentinel, and finding a run's recorded resources.

import * as path from "node:path";
import { strict as assert } from "node:assert";
import type { Recorded } from "../../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../../tools/programRun";

const ROOT = path.resolve(__dirname, "../..");

/** The test catalogue: cpu, cpu+cuda, gated cuda, and a downloadAtRuntime model. */
export const FIXTURE = path.join(ROOT, "test", "fixtures", "catalog.yaml");
/** A placeholder that looks like a token but cannot match a real one (underscores break hf_ + 30 alnum). */
export const TOKEN = "hf_test-SENTINEL-do_not_leak-42";

/** Run index.ts on `stack`'s own config with the test catalogue and the token, plus `overrides`. */
export function runOnFixture(stack: string, overrides: Record<string, string> = {}): Promise<Run> {
  return runProgram(
    stack,
    { ...stackConfig(stack), "model-images:manifest": FIXTURE, ...overrides },
    TOKEN,
  );
}

export function one(recorded: Recorded[], type: string, name: string): Recorded {
  const found = recorded.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `expected one ${type} named ${name}, got ${found.length}`);
  return found[0];
}

export function countByType(recorded: Recorded[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of recorded) {
    out[r.type] = (out[r.type] ?? 0) + 1;
  }
  return out;
}
