// Runs the real index.ts under recording mocks for a stack config; shared by the program tests.

import * as fs from "node:fs";
import * as path from "node:path";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, Recorded, settle, unwrap } from "./pulumiMocks";

const ROOT = path.resolve(__dirname, "../..");

/** The test catalogue: cpu, cpu+cuda, gated cuda, and a downloadAtRuntime model. */
export const FIXTURE = path.join(ROOT, "test", "fixtures", "catalog.yaml");
/** A placeholder that looks like a token but cannot match a real one (underscores break hf_ + 30 alnum). */
export const TOKEN = "hf_test-SENTINEL-do_not_leak-42";

export interface Run {
  recorded: Recorded[];
  calls: string[];
  outputs: Record<string, unknown>;
  module: Record<string, unknown>;
}

/** The stack file's config as the engine hands it to the program: every value a string. */
export function stackConfig(stack: string): Record<string, string> {
  const doc = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, String(v)]));
}

/** Run index.ts for a stack; `token` becomes the secret huggingface-token config. */
export async function runProgram(
  stack: string,
  config: Record<string, string>,
  token?: string,
  /** Mock overrides, e.g. a provider answering with other outputs. */
  extra: Partial<pulumi.runtime.Mocks> = {},
): Promise<Run> {
  const recorded: Recorded[] = [];
  const calls: string[] = [];
  await installMocks(recorded, stack, extra, calls);
  const all = {
    ...config,
    ...(token === undefined ? {} : { "model-images:huggingface-token": token }),
  };
  pulumi.runtime.setAllConfig(all, token === undefined ? [] : ["model-images:huggingface-token"]);
  const entry = require.resolve("../../index");
  delete require.cache[entry];
  // The program runs at import; a fresh require re-runs it under the new config.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(entry) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(module)) {
    outputs[k] = await unwrap(v as pulumi.Output<unknown>);
  }
  await settle();
  return { recorded, calls, outputs, module };
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
