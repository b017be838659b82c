// Runs the real index.ts under recording mocks for a stack config: for the program tests, scripts/mockOutputs and bench/programEval.

import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, Recorded, Registration, settle, unwrap } from "./pulumiMocks";

const ROOT = path.resolve(__dirname, "..");

export interface Run {
  recorded: Recorded[];
  calls: string[];
  /** URN, parent and dependencies of every resource, in registration order. */
  registrations: Registration[];
  outputs: Record<string, unknown>;
  module: Record<string, unknown>;
}

/** The stack file's config as the engine hands it to the program: every value a string. */
export function stackConfig(stack: string, projectDir = ROOT): Record<string, string> {
  const doc = parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
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
  const registrations: Registration[] = [];
  await installMocks(recorded, stack, extra, calls, registrations);
  const all = {
    ...config,
    ...(token === undefined ? {} : { "model-images:huggingface-token": token }),
  };
  pulumi.runtime.setAllConfig(all, token === undefined ? [] : ["model-images:huggingface-token"]);
  const entry = require.resolve("../index");
  delete require.cache[entry];
  // The program runs at import; a fresh require re-runs it under the new config.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(entry) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(module)) {
    outputs[k] = await unwrap(v as pulumi.Output<unknown>);
  }
  await settle();
  return { recorded, calls, registrations, outputs, module };
}
