// What the program tests share: the test catalogue, the token sentinel, and checks over a run's recorded resources.

import * as path from "node:path";
import { strict as assert } from "node:assert";
import type { Recorded } from "../../tools/pulumiMocks";

const ROOT = path.resolve(__dirname, "../..");

/** The test catalogue: cpu, cpu+cuda, gated cuda, and a downloadAtRuntime model. */
export const FIXTURE = path.join(ROOT, "test", "fixtures", "catalog.yaml");
/** A placeholder that looks like a token but cannot match a real one (underscores break hf_ + 30 alnum). */
export const TOKEN = "hf_test-SENTINEL-do_not_leak-42";

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

/** Pulumi's marker for a secret value on the wire (sdk/nodejs/runtime/rpc.ts specialSigKey/specialSecretSig). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Paths where `needle` appears outside a secret envelope. */
export function plaintextPaths(value: unknown, needle: string, at = "$"): string[] {
  if (typeof value === "string") {
    return value.includes(needle) ? [at] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => plaintextPaths(v, needle, `${at}[${i}]`));
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === SECRET_SIG_VALUE) {
      return [];
    }
    return Object.entries(obj).flatMap(([k, v]) => plaintextPaths(v, needle, `${at}.${k}`));
  }
  return [];
}
