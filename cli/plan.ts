// `plan`: which of the manifest's images the registry already holds, and which `pulumi up` would build.

import * as path from "node:path";
import { formatDiagnostic } from "../lib/diagnostics";
import type { ImageSpec } from "../lib/manifest";
import {
  checkImages,
  type CheckResult,
  type ImageCheck,
  parseEcrHost,
  REGISTRY_HOST_PATTERN,
  RegistryError,
  type RegistryTarget,
} from "../lib/registry";
import { selectImages } from "../lib/selection";
import { SETTINGS, type StackSettings } from "../lib/settings";
import { listStacks, readStackFile } from "../lib/stackFile";
import { EXIT, parse, PROJECT_DIR, UsageError } from "./args";
import { loadManifest } from "./manifestInput";

export const PLAN_USAGE = `usage: plan [--stack S] [--manifest F] [--registry HOST[:PORT]] [--json]

Lists every image of the manifest as present (with its digest), missing (a 'pulumi up' builds it)
or skipped (downloadAtRuntime: never built). Tags match exactly.

selection (shared with 'kserve'):
  --stack S               stack whose Pulumi.<stack>.yaml gives the settings (default dev)
  --manifest F            manifest file (default: the stack's 'manifest' setting)
  --registry-prefix P     override the stack's registryPrefix
  --tag-suffix=S          override the stack's tagSuffix (CI: e.g. --tag-suffix=-pr-123)
                          The stack's onlyModels narrows the list, as it does for 'pulumi up'.
registry (default: the stack's 'registry' setting, else the stack's ECR registry):
  --registry HOST[:PORT]  any OCI registry, through the Distribution API (HTTPS; HTTP for
                          localhost/127.x); REGISTRY_USERNAME/REGISTRY_PASSWORD for a login
  --insecure              plain HTTP for a non-loopback --registry
  --account ID            ECR: the 12-digit account owning the registry (default: the caller's)
  --region R              ECR: region (default: aws:region of the stack, else AWS_REGION)
output:
  --json                  an array of {name, model, variant, repository, tag, uri, status, digest?}

Exit codes: 0 the check completed (whatever is missing), 1 problems (manifest, registry, auth,
network: nothing is ever guessed "missing"), 2 usage.`;

/** Flags `plan` and `kserve` share: what to look at and where. */
export const SELECTION_OPTIONS = {
  stack: { type: "string" },
  manifest: { type: "string" },
  registry: { type: "string" },
  "registry-prefix": { type: "string" },
  "tag-suffix": { type: "string" },
  insecure: { type: "boolean" },
  account: { type: "string" },
  region: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export interface SelectionFlags {
  stack?: string;
  manifest?: string;
  registry?: string;
  "registry-prefix"?: string;
  "tag-suffix"?: string;
  insecure?: boolean;
  account?: string;
  region?: string;
}

export interface Selection {
  settings: StackSettings;
  manifestFile: string;
  images: ImageSpec[];
  target: RegistryTarget;
  /** True when the registry is the stack's own (so `pulumi up` would build the missing images there). */
  stackRegistry: boolean;
}

function checkSetting(key: "registryPrefix" | "tagSuffix", flag: string, value: string): void {
  const problem = SETTINGS.find((s) => s.key === key)?.check?.(value as never);
  if (problem !== undefined) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} ${problem}`);
  }
}

function registryTarget(host: string, flags: SelectionFlags, source: string): RegistryTarget {
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
  const username = process.env.REGISTRY_USERNAME;
  const password = process.env.REGISTRY_PASSWORD;
  if ((username === undefined) !== (password === undefined)) {
    throw new UsageError("set both REGISTRY_USERNAME and REGISTRY_PASSWORD, or neither");
  }
  return {
    kind: "distribution",
    host,
    insecure: flags.insecure ?? false,
    ...(username !== undefined && password !== undefined
      ? { credentials: { username, password } }
      : {}),
  };
}

/**
 * Read the stack's settings and the manifest, apply the flags, and choose the registry. Returns an
 * exit code instead when the stack file or the manifest has problems (already printed to `err`).
 */
export function loadSelection(
  flags: SelectionFlags,
  err: NodeJS.WritableStream,
): Selection | number {
  const stack = flags.stack ?? "dev";
  const stacks = listStacks(PROJECT_DIR);
  if (!stacks.includes(stack)) {
    throw new UsageError(
      `unknown stack '${stack}': no Pulumi.${stack}.yaml in ${PROJECT_DIR} (stacks: ${stacks.join(", ") || "none"})`,
    );
  }
  const stackFile = readStackFile(PROJECT_DIR, stack);
  if (stackFile.diagnostics.length > 0) {
    stackFile.diagnostics.forEach((d) => err.write(formatDiagnostic(d) + "\n"));
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
    target = registryTarget(flags.registry, flags, "--registry");
    stackRegistry = false;
  } else if (settings.registry !== "") {
    target = registryTarget(settings.registry, flags, `registry setting of stack '${stack}'`);
  } else {
    if (flags.insecure) {
      throw new UsageError("--insecure applies to --registry only (ECR is always HTTPS)");
    }
    const region =
      flags.region ?? stackFile.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new UsageError(
        `no AWS region for the ECR registry: set aws:region in ${stackFile.file}, AWS_REGION, or pass --region (or use --registry for another registry)`,
      );
    }
    target = { kind: "ecr", region, ...(flags.account ? { registryId: flags.account } : {}) };
  }
  if (target.kind === "ecr") {
    // The SDK's node-version notice would land in the middle of the CLI's own stderr; package.json's
    // engines field is where the supported node version is stated.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  }

  const file =
    flags.manifest ?? path.relative(process.cwd(), path.resolve(PROJECT_DIR, settings.manifest));
  const result = loadManifest(
    file,
    settings,
    err,
    flags.manifest === undefined
      ? ` (the 'manifest' setting of stack '${stack}'; pass --manifest to choose another)`
      : "",
  );
  if (result === undefined) {
    return EXIT.failed;
  }
  // The stack's onlyModels narrows the catalogue exactly as the program does.
  const selected = selectImages(result.images, settings.onlyModels);
  if (selected.problems.length > 0) {
    selected.problems.forEach((p) => err.write(`${stackFile.file}: ${p}\n`));
    return EXIT.failed;
  }
  return { settings, manifestFile: file, images: selected.images, target, stackRegistry };
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
export async function runCheck(
  selection: Selection,
  err: NodeJS.WritableStream,
): Promise<CheckResult | number> {
  const progress = progressLine(err, "checking images");
  try {
    return await checkImages(selection.images, selection.target, {
      onProgress: (d, t) => progress.update(d, t),
    });
  } catch (e) {
    progress.clear();
    if (e instanceof RegistryError) {
      err.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  } finally {
    progress.clear();
  }
}

/** `sha256:` and the first 12 hex digits: enough to tell images apart in a table. */
export function shortDigest(digest: string | undefined): string {
  if (digest === undefined) {
    return "";
  }
  const [alg, hex] = digest.split(":");
  return `${alg}:${(hex ?? "").slice(0, 12)}`;
}

export interface PlanEntry {
  name: string;
  model: string;
  variant: string;
  repository: string;
  tag: string;
  uri: string;
  status: ImageCheck["status"];
  digest?: string;
}

export function planEntries(result: CheckResult): PlanEntry[] {
  return result.checks.map((c) => ({
    name: c.image.name,
    model: c.image.model,
    variant: c.image.accelerator,
    repository: c.image.repositoryName,
    tag: c.image.tag,
    uri: c.uri,
    status: c.status,
    ...(c.digest !== undefined ? { digest: c.digest } : {}),
  }));
}

export function formatTable(result: CheckResult, selection?: Selection): string {
  const rows = [
    ["NAME", "TAG", "STATUS", "DIGEST"],
    ...result.checks.map((c) => [c.image.name, c.image.tag, c.status, shortDigest(c.digest)]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
  const count = (s: ImageCheck["status"]) => result.checks.filter((c) => c.status === s).length;
  const missing = count("missing");
  const where = selection
    ? `registry ${result.registry}, stack ${selection.settings.stack}`
    : `registry ${result.registry}`;
  lines.push(
    "",
    `${count("present")} present, ${missing} missing, ${count("skipped")} skipped (${where})`,
  );
  if (missing > 0 && selection?.stackRegistry) {
    lines.push(
      `pulumi up --stack ${selection.settings.stack} builds the ${missing} missing image${missing === 1 ? "" : "s"}`,
    );
  }
  return lines.join("\n") + "\n";
}

export async function plan(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { values } = parse(argv, { ...SELECTION_OPTIONS, json: { type: "boolean" } }, false);
  if (values.help) {
    out.write(PLAN_USAGE + "\n");
    return EXIT.ok;
  }
  const selection = loadSelection(values, err);
  if (typeof selection === "number") {
    return selection;
  }
  const result = await runCheck(selection, err);
  if (typeof result === "number") {
    return result;
  }
  out.write(
    values.json
      ? JSON.stringify(planEntries(result), null, 2) + "\n"
      : formatTable(result, selection),
  );
  return EXIT.ok;
}
