// Fixtures for the ModelImage tests: inputs, the emulator per test, and the progress lines a call prints.
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { modelImageProvider, type ModelImageInputs } from "../../components/modelImage";
import { type AwsEmulator, startAwsEmulator } from "./awsEmulator";

export const ACCOUNT = "123456789012";
export const REPO = "kserve-models/llama";
export const PROJECT = "model-llama-cpu";
export const HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
export const DIGEST = `sha256:${"a".repeat(64)}`;
export const HF_SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:hf-token-AbCdEf`;

/** The provider as the engine calls it (through the loader that requires handlers.ts). */
export const p = modelImageProvider as Required<
  Omit<pulumi.dynamic.ResourceProvider, "delete" | "configure">
> &
  Pick<pulumi.dynamic.ResourceProvider, "delete">;

/** Inputs as `check` leaves them, with sub-second polling so tests stay fast. */
export function inputs(over: Partial<ModelImageInputs> = {}): ModelImageInputs {
  return {
    region: "us-east-1",
    repositoryName: REPO,
    tag: "1.0",
    projectName: PROJECT,
    registryId: ACCOUNT,
    sourceVersion: "v1",
    environment: {},
    timeoutMinutes: 1,
    pollIntervalSeconds: 0.01,
    rebuildOnChange: false,
    requireSignature: false,
    ...over,
  };
}

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected a rejection");
}

/** The lines `fn` printed on stdout (the channel the Pulumi CLI shows for dynamic providers). */
export async function printed<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split("\n")
        .filter((l) => l !== ""),
    );
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await fn(), lines };
  } finally {
    process.stdout.write = write;
  }
}

/**
 * An emulator for the suite, reset before each test with the llama repository and project (a
 * build polls IN_PROGRESS twice, then SUCCEEDED). Returns a getter.
 */
export function useEmulator(): () => AwsEmulator {
  let emu: AwsEmulator;
  let restoreEnv: () => void;
  before(async () => {
    emu = await startAwsEmulator();
    restoreEnv = emu.useForSdk();
  });
  after(async () => {
    restoreEnv();
    await emu.close();
  });
  // Progress lines go to stdout (as in the provider host); keep them out of the test report.
  let write: typeof process.stdout.write;
  beforeEach(() => {
    write = process.stdout.write;
    const real = write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).startsWith(`${REPO}:`) ? true : real(chunk, ...rest)) as typeof write;
  });
  afterEach(() => {
    process.stdout.write = write;
  });
  beforeEach(() => {
    emu.reset();
    emu.addRepository(REPO);
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"],
      projectEnvironment: [{ name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" }],
    });
  });
  return () => emu;
}
