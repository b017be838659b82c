// What `plan` and `kserve` look at and where: their shared flags, the stack, the manifest, the registry.

import * as path from "node:path";
import type { ImageSpec } from "../lib/manifest";
import {
  checkImages,
  type CheckResult,
  findCredentials,
  parseEcrHost,
  REGISTRY_HOST_PATTERN,
  RegistryError,
  type RegistryTarget,
} from "../lib/registry";
import { stackImages } from "../lib/images";
import { SETTINGS, type StackSettings } from "../lib/settings";
import { EXIT, type FlagValues, type Io, secondsFlag, UsageError } from "./args";
import { readManifestText, writeProblems } from "./manifestInput";
import { loadStack, projectDir } from "./stack";

/** The whole command's time limit unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** One request's limit (silence, and the whole exchange), within the command's. */
export const REQUEST_TIMEOUT_SECONDS = 30;

/** Flags choosing the images (shared by `plan` and `kserve`). */
export const SELECTION_FLAGS = {
  stack: {
    type: "string",
    arg: "S",
    help: "stack whose Pulumi.<stack>.yaml gives the settings (default dev)",
  },
  manifest: {
    type: "string",
    arg: "F",
    help: "manifest file; '-' reads standard input (default: the stack's 'manifest'\nsetting)",
  },
  model: {
    type: "string",
    arg: "NAME",
    multiple: true,
    help: "only this model (or image name, e.g. gamma-cuda); repeat for more",
  },
  "registry-prefix": { type: "string", arg: "P", help: "override the stack's registryPrefix" },
  "tag-suffix": {
    type: "string",
    arg: "S",
    help: "override the stack's tagSuffix (CI: e.g. --tag-suffix -pr-123)\nThe stack's onlyModels narrows the list, as it does for 'pulumi up'.",
  },
} as const;

/** Flags choosing the registry (shared by `plan` and `kserve`). */
export const REGISTRY_FLAGS = {
  registry: {
    type: "string",
    arg: "HOST[:PORT]",
    help: "any OCI registry, through the Distribution API (HTTPS; HTTP for\nlocalhost/127.x); REGISTRY_USERNAME/REGISTRY_PASSWORD for a login",
  },
  insecure: { type: "boolean", help: "plain HTTP for a non-loopback --registry" },
  account: {
    type: "string",
    arg: "ID",
    help: "ECR: the 12-digit account owning the registry (default: the caller's)",
  },
  region: {
    type: "string",
    arg: "R",
    help: "ECR: region (default: aws:region of the stack, else AWS_REGION)",
  },
  timeout: {
    type: "string",
    arg: "SECONDS",
    help: `give up after this long, naming the host that did not answer (default ${DEFAULT_TIMEOUT_SECONDS});\neach request also has its own limit of at most ${REQUEST_TIMEOUT_SECONDS} s`,
  },
} as const;

export type SelectionFlags = FlagValues<typeof SELECTION_FLAGS & typeof REGISTRY_FLAGS>;

export interface Selection {
  settings: StackSettings;
  manifestFile: string;
  images: ImageSpec[];
  target: RegistryTarget;
  /** True when the registry is the stack's own (so `pulumi up` would build the missing images there). */
  stackRegistry: boolean;
  /** The command's deadline (--timeout) and each request's limit, for every registry call. */
  limits: { signal: AbortSignal; timeoutMs: number };
}

/**
 * An AbortSignal that fires `seconds` from now with a reason naming the flag; the timer never
 * holds the process open.
 */
export function commandDeadline(seconds: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(
    () => controller.abort(new Error(`the ${seconds} s --timeout`)),
    seconds * 1000,
  ).unref();
  return controller.signal;
}

function checkSetting(key: "registryPrefix" | "tagSuffix", flag: string, value: string): void {
  const problem = SETTINGS.find((s) => s.key === key)?.check?.(value as never);
  if (problem !== undefined) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} ${problem}`);
  }
}

async function registryTarget(
  host: string,
  flags: SelectionFlags,
  source: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<RegistryTarget> {
  if (!REGISTRY_HOST_PATTERN.test(host)) {
    throw new UsageError(
      `${source} ${JSON.stringify(host)} is not HOST[:PORT] (e.g. 127.0.0.1:5000 or ghcr.io; no scheme or path)`,
    );
  }
  const ecr = parseEcrHost(host);
  if (ecr) {
    // An ECR host wants SigV4, not a registry login: use the ECR API for it.
    if (flags.account !== undefined && flags.account !== ecr.registryId) {
      throw new UsageError(`--account ${flags.account} contradicts the registry host ${host}`);
    }
    return { kind: "ecr", region: ecr.region, registryId: ecr.registryId };
  }
  if ((env.REGISTRY_USERNAME === undefined) !== (env.REGISTRY_PASSWORD === undefined)) {
    throw new UsageError("set both REGISTRY_USERNAME and REGISTRY_PASSWORD, or neither");
  }
  const credentials = await findCredentials(host, env, signal);
  return {
    kind: "distribution",
    host,
    insecure: flags.insecure ?? false,
    ...(credentials ? { credentials } : {}),
  };
}

/**
 * Narrow images to the `--model` names: a model name takes all its variants, an image name one.
 * A name matching nothing is a usage error naming what exists.
 */
export function selectByName(
  images: readonly ImageSpec[],
  names: readonly string[] | undefined,
  all: readonly ImageSpec[],
  onlyModels: string,
): ImageSpec[] {
  if (names === undefined || names.length === 0) {
    return [...images];
  }
  for (const n of names) {
    if (images.some((i) => i.model === n || i.name === n)) {
      continue;
    }
    const excluded = all.some((i) => i.model === n || i.name === n);
    throw new UsageError(
      excluded
        ? `--model ${n}: the stack's onlyModels (${onlyModels}) leaves it out`
        : `--model ${n} is not in the manifest (models: ${[...new Set(images.map((i) => i.model))].join(", ")})`,
    );
  }
  return images.filter((i) => names.includes(i.model) || names.includes(i.name));
}

/**
 * Read the stack's settings and the manifest, apply the flags, and choose the registry. Returns an
 * exit code instead when the stack file or the manifest has problems (already printed to `io.err`).
 */
export async function loadSelection(flags: SelectionFlags, io: Io): Promise<Selection | number> {
  const seconds = secondsFlag("timeout", flags.timeout, DEFAULT_TIMEOUT_SECONDS);
  const limits = {
    signal: commandDeadline(seconds),
    timeoutMs: Math.min(seconds, REQUEST_TIMEOUT_SECONDS) * 1000,
  };
  try {
    return await select(flags, io, limits);
  } catch (e) {
    if (e instanceof RegistryError) {
      io.err.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
}

async function select(
  flags: SelectionFlags,
  io: Io,
  limits: Selection["limits"],
): Promise<Selection | number> {
  const stack = flags.stack ?? "dev";
  const stackFile = await loadStack(stack, io, limits.signal);
  if (stackFile.diagnostics.length > 0) {
    writeProblems(stackFile.diagnostics, io.err);
    return EXIT.failed;
  }
  const settings: StackSettings = { ...stackFile.settings };
  if (flags["registry-prefix"] !== undefined) {
    checkSetting("registryPrefix", "registry-prefix", flags["registry-prefix"]);
    settings.registryPrefix = flags["registry-prefix"];
  }
  if (flags["tag-suffix"] !== undefined) {
    checkSetting("tagSuffix", "tag-suffix", flags["tag-suffix"]);
    settings.tagSuffix = flags["tag-suffix"];
  }
  if (flags.account !== undefined && !/^\d{12}$/.test(flags.account)) {
    throw new UsageError(
      `--account ${JSON.stringify(flags.account)} is not a 12-digit AWS account id`,
    );
  }

  let target: RegistryTarget;
  let stackRegistry = true;
  if (flags.registry !== undefined) {
    target = await registryTarget(flags.registry, flags, "--registry", io.env, limits.signal);
    stackRegistry = false;
  } else if (settings.registry !== "") {
    target = await registryTarget(
      settings.registry,
      flags,
      `registry setting of stack '${stack}'`,
      io.env,
      limits.signal,
    );
  } else {
    if (flags.insecure) {
      throw new UsageError("--insecure applies to --registry only (ECR is always HTTPS)");
    }
    const region =
      flags.region ?? stackFile.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new UsageError(
        `no AWS region for the ECR registry: set aws:region in ${stackFile.file}, AWS_REGION, or pass --region (or use --registry for another registry)`,
      );
    }
    target = { kind: "ecr", region, ...(flags.account ? { registryId: flags.account } : {}) };
  }
  if (target.kind === "ecr") {
    // Look up as the stack's aws provider would act: its aws:profile / aws:assumeRoles.
    target = { ...target, identity: stackFile.awsIdentity };
    // The SDK's node-version notice would land in the middle of the CLI's own stderr; package.json's
    // engines field is where the supported node version is stated.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  }

  const file =
    flags.manifest ?? path.relative(io.cwd, path.resolve(projectDir(io), settings.manifest));
  const input = await readManifestText(
    file,
    io,
    flags.manifest === undefined
      ? ` (the 'manifest' setting of stack '${stack}'; pass --manifest to choose another)`
      : "",
  );
  if (input.text === undefined) {
    writeProblems(input.diagnostics, io.err);
    return EXIT.failed;
  }
  // The images `pulumi up` would have, from the same function; read-only, so a gated model is
  // listed and rendered on any stack (`validate --stack`, the pre-flight for `up`, refuses it).
  const found = stackImages({
    file: input.shown,
    text: input.text,
    settings,
    // The stack's region, as the program reads it; --region only chooses the registry to look in.
    region: stackFile.region ?? io.env.AWS_REGION ?? "",
    readOnly: true,
  });
  if (found.diagnostics.length > 0) {
    writeProblems(found.diagnostics, io.err);
    return EXIT.failed;
  }
  if (found.problems.length > 0) {
    found.problems.forEach((p) => io.err.write(`${stackFile.file}: ${p}\n`));
    return EXIT.failed;
  }
  const images = selectByName(found.images, flags.model, found.all, settings.onlyModels);
  return { settings, manifestFile: file, images, target, stackRegistry, limits };
}

/** A progress line on a terminal once checks take more than a second; silent otherwise. */
export function progressLine(err: NodeJS.WritableStream, label: string) {
  const tty = (err as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  let shown = false;
  let last = 0;
  return {
    update(done: number, total: number) {
      const now = Date.now();
      if (!tty || now - started < 1000 || (now - last < 100 && done < total)) {
        return;
      }
      last = now;
      shown = true;
      err.write(`\r${label} ${done}/${total}…\x1b[K`);
    },
    clear() {
      if (shown) {
        shown = false;
        err.write("\r\x1b[K");
      }
    },
  };
}

/** Check the images, with the progress line; a RegistryError becomes a message and exit code 1. */
export async function runCheck(selection: Selection, io: Io): Promise<CheckResult | number> {
  const progress = progressLine(io.err, "checking images");
  try {
    return await checkImages(selection.images, selection.target, {
      ...selection.limits,
      onProgress: (d, t) => progress.update(d, t),
    });
  } catch (e) {
    progress.clear();
    if (e instanceof RegistryError) {
      io.err.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  } finally {
    progress.clear();
  }
}
