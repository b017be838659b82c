// Dynamic resource that makes sure one ECR tag exists: adopts it when present, else runs (or adopts) one CodeBuild build and waits for it.
//
// Serialization: Pulumi serializes `modelImageProvider` (its methods and every function they call)
// into the state file and runs it in a separate provider process. So the provider methods and the
// helpers below capture nothing but plain data and other plain functions from this module; the AWS
// SDK is imported inside each call (`await import`), and clients are built per call from the inputs
// plus the default credential chain. That keeps clients and credentials out of the state, and lets
// the standard AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_CODEBUILD variables redirect the SDK
// (SDK v3 reads AWS_ENDPOINT_URL_<SERVICE ID> itself; the service ids are "ECR" and "CodeBuild").
// No provider code uses `pulumi` at run time (type positions are erased); only the ModelImage
// class at the bottom does.
//
// The HuggingFace token never reaches this provider: it has no input for one, and `check` rejects
// token-like names in `environment`. The CodeBuild project reads the token from Secrets Manager at
// build time, so the token is neither in this resource's inputs/outputs nor in its state, and
// StartBuild never carries it.
import * as pulumi from "@pulumi/pulumi";
import type { Build } from "@aws-sdk/client-codebuild";
import { ecrRegistryHost } from "../lib/naming";

/** Provider inputs (plain values, defaults applied by `check`). */
export interface ModelImageInputs {
  /** AWS region of the repository and the CodeBuild project. */
  region: string;
  /** ECR repository name (it must exist; this resource never creates it). */
  repositoryName: string;
  /** Image tag to make exist. */
  tag: string;
  /** CodeBuild project that builds and pushes `<repository>:<IMAGE_TAG>`. */
  projectName: string;
  /** Registry (account) id; default: the caller's registry. */
  registryId?: string;
  /** S3 object version of the build source archive, passed to StartBuild. */
  sourceVersion?: string;
  /** Non-secret environment overrides for StartBuild (IMAGE_TAG is set by the provider). */
  environment?: Record<string, string>;
  /** Wait for the build and read its digest (default true). */
  waitForBuild?: boolean;
  /** How long to wait for a build, in minutes (default 120; fractions allowed). */
  timeoutMinutes?: number;
  /** First poll interval in seconds (default 15; fractions allowed); grows ×1.5 up to 4×. */
  pollIntervalSeconds?: number;
  /** Delete the tag when the resource is destroyed (default false: images outlive the stack). */
  deleteImageOnDestroy?: boolean;
  /**
   * Rebuild the tag in place when `sourceVersion` or `environment` changes (default false: an
   * update never rebuilds). Only for MUTABLE tags: ECR refuses a second push of an IMMUTABLE one.
   */
  rebuildOnChange?: boolean;
}

/** Provider outputs: the inputs (defaults applied) plus what the provider found or built. */
export interface ModelImageOutputs extends ModelImageInputs {
  environment: Record<string, string>;
  waitForBuild: boolean;
  timeoutMinutes: number;
  pollIntervalSeconds: number;
  deleteImageOnDestroy: boolean;
  rebuildOnChange: boolean;
  /** `sha256:…`; "" when `waitForBuild` is false and the build has not been seen to finish. */
  imageDigest: string;
  /** `<registry>/<repository>:<tag>`. */
  imageUri: string;
  /** `<registry>/<repository>@sha256:…`; "" while imageDigest is "". */
  digestUri: string;
  /** `<registryId>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions). */
  registryHost: string;
  /** True when this resource started or adopted a build; false when the tag already existed. */
  built: boolean;
  /** The build started or adopted, when one ran. */
  buildId?: string;
}

/** Arguments of the ModelImage resource (see ModelImageInputs for each field). */
export interface ModelImageArgs {
  /** AWS region of the repository and the CodeBuild project. */
  region: pulumi.Input<string>;
  /** ECR repository name; it must already exist. */
  repositoryName: pulumi.Input<string>;
  /** Image tag to make exist; a change replaces the resource (and so builds the new tag). */
  tag: pulumi.Input<string>;
  /** CodeBuild project that builds and pushes the image. */
  projectName: pulumi.Input<string>;
  /** Registry (account) id; default: the caller's registry. */
  registryId?: pulumi.Input<string>;
  /** S3 object version of the build source; a change rebuilds an existing tag only with `rebuildOnChange`. */
  sourceVersion?: pulumi.Input<string>;
  /** Non-secret environment overrides for StartBuild (the build's inputs). Never put the HF token here. */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Wait for the build and read its digest (default true). */
  waitForBuild?: pulumi.Input<boolean>;
  /** How long to wait for a build, in minutes (default 120). */
  timeoutMinutes?: pulumi.Input<number>;
  /** First poll interval in seconds (default 15). */
  pollIntervalSeconds?: pulumi.Input<number>;
  /** Delete the tag on destroy (dev stacks); default false. */
  deleteImageOnDestroy?: pulumi.Input<boolean>;
  /** Rebuild the (MUTABLE) tag in place when sourceVersion or environment changes; default false. */
  rebuildOnChange?: pulumi.Input<boolean>;
}

export const MODEL_IMAGE_DEFAULTS = {
  waitForBuild: true,
  timeoutMinutes: 120,
  pollIntervalSeconds: 15,
  deleteImageOnDestroy: false,
  rebuildOnChange: false,
} as const;

// Both manifest and index types: without the index types ECR answers with one platform's
// manifest for a multi-platform image, and the digest would not be the tag's digest.
const ACCEPTED_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

// Pulumi's marker for a value not known during preview (runtime/rpc unknownValue).
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Pulumi's marker key on a secret value (runtime/rpc specialSigKey).
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const REPLACE_KEYS = ["region", "registryId", "repositoryName", "tag"] as const;
const UPDATE_KEYS = [
  "projectName",
  "sourceVersion",
  "environment",
  "waitForBuild",
  "timeoutMinutes",
  "pollIntervalSeconds",
  "deleteImageOnDestroy",
  "rebuildOnChange",
] as const;

// ---- pure helpers (exported for tests; captured by value when the provider is serialized) ----

/** An Error whose message is the whole story: Pulumi shows it as is, so no stack frames. */
export function modelImageError(message: string): Error {
  const e = new Error(message);
  e.name = "ModelImageError";
  e.stack = `ModelImageError: ${message}`;
  return e;
}

/** Inputs with every default filled in. */
export type ResolvedInputs = ModelImageInputs &
  Required<Pick<ModelImageInputs, keyof typeof MODEL_IMAGE_DEFAULTS | "environment">>;

/** Fill in defaults; `check` stores the result, so state and diffs see explicit values. */
export function withDefaults(inputs: ModelImageInputs): ResolvedInputs {
  return {
    region: inputs.region,
    repositoryName: inputs.repositoryName,
    tag: inputs.tag,
    projectName: inputs.projectName,
    ...(inputs.registryId !== undefined ? { registryId: inputs.registryId } : {}),
    ...(inputs.sourceVersion !== undefined ? { sourceVersion: inputs.sourceVersion } : {}),
    environment: inputs.environment ?? {},
    waitForBuild: inputs.waitForBuild ?? MODEL_IMAGE_DEFAULTS.waitForBuild,
    timeoutMinutes: inputs.timeoutMinutes ?? MODEL_IMAGE_DEFAULTS.timeoutMinutes,
    pollIntervalSeconds: inputs.pollIntervalSeconds ?? MODEL_IMAGE_DEFAULTS.pollIntervalSeconds,
    deleteImageOnDestroy: inputs.deleteImageOnDestroy ?? MODEL_IMAGE_DEFAULTS.deleteImageOnDestroy,
    rebuildOnChange: inputs.rebuildOnChange ?? MODEL_IMAGE_DEFAULTS.rebuildOnChange,
  };
}

/** The ECR registry host for an account and region (the one rule in lib/naming; it captures nothing, so it serializes). */
export const registryHost = ecrRegistryHost;

/** Validation of provider inputs; [] when valid. Unknown (preview) values are not judged. */
export function validateInputs(
  news: Record<string, unknown>,
): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  const known = (v: unknown) => v !== undefined && v !== UNKNOWN;
  const rules: [string, RegExp, string][] = [
    ["region", /^[a-z]{2}(-[a-z]+)+-\d+$/, "an AWS region such as us-east-1"],
    [
      "repositoryName",
      /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
      "an ECR repository name (lowercase letters, digits, . _ - and / between parts, 2-256 characters)",
    ],
    ["tag", /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, "an OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"],
    [
      "projectName",
      /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/,
      "a CodeBuild project name ([A-Za-z0-9][A-Za-z0-9_-]{1,254})",
    ],
  ];
  for (const [key, re, what] of rules) {
    const v = news[key];
    if (v === UNKNOWN) {
      continue;
    }
    if (typeof v !== "string" || v === "") {
      failures.push({ property: key, reason: `${key} is required and must be a non-empty string` });
    } else if (!re.test(v)) {
      failures.push({ property: key, reason: `${key} ${JSON.stringify(v)} is not ${what}` });
    }
  }
  if (
    known(news.registryId) &&
    !(typeof news.registryId === "string" && /^\d{12}$/.test(news.registryId))
  ) {
    failures.push({
      property: "registryId",
      reason: "registryId must be a 12-digit AWS account id",
    });
  }
  if (
    known(news.sourceVersion) &&
    (typeof news.sourceVersion !== "string" || news.sourceVersion === "")
  ) {
    failures.push({
      property: "sourceVersion",
      reason: "sourceVersion must be a non-empty string when set",
    });
  }
  for (const key of ["waitForBuild", "deleteImageOnDestroy", "rebuildOnChange"]) {
    if (known(news[key]) && typeof news[key] !== "boolean") {
      failures.push({ property: key, reason: `${key} must be true or false` });
    }
  }
  for (const key of ["timeoutMinutes", "pollIntervalSeconds"]) {
    const v = news[key];
    if (known(v) && !(typeof v === "number" && Number.isFinite(v) && v > 0)) {
      failures.push({
        property: key,
        reason: `${key} must be a positive number (fractions allowed)`,
      });
    }
  }
  const env = news.environment;
  if (known(env)) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      failures.push({
        property: "environment",
        reason: "environment must be a map of names to strings",
      });
    } else {
      for (const [name, value] of Object.entries(env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          failures.push({
            property: `environment.${name}`,
            reason: `${JSON.stringify(name)} is not a variable name`,
          });
        } else if (name === "IMAGE_TAG") {
          failures.push({
            property: "environment.IMAGE_TAG",
            reason: "IMAGE_TAG is set from `tag`; remove it from environment",
          });
        } else if (/TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(name)) {
          failures.push({
            property: `environment.${name}`,
            reason: `${name} looks like a secret; StartBuild overrides are plaintext and end up in state and build metadata. Give the CodeBuild project a Secrets Manager variable instead`,
          });
        } else if (typeof value === "object" && value !== null && SECRET_SIG in value) {
          failures.push({
            property: `environment.${name}`,
            reason: `environment.${name} is a Pulumi secret; environment takes non-secret values only. Give the CodeBuild project a Secrets Manager variable instead`,
          });
        } else if (value !== UNKNOWN && typeof value !== "string") {
          failures.push({
            property: `environment.${name}`,
            reason: `environment.${name} must be a string`,
          });
        }
      }
    }
  }
  return failures;
}

/** Stable JSON (sorted keys) so that maps compare by content. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${v.map((x) => stableJson(x)).join(",")}]`;
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Which properties changed, and which of those force a replacement. */
export function diffInputs(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: false } {
  const defaults: Record<string, unknown> = { ...MODEL_IMAGE_DEFAULTS, environment: {} };
  const norm = (bag: Record<string, unknown>, k: string) => stableJson(bag[k] ?? defaults[k]);
  const changed = (k: string) => news[k] === UNKNOWN || norm(olds, k) !== norm(news, k);
  const replaces = REPLACE_KEYS.filter(changed);
  const updates = UPDATE_KEYS.filter(changed);
  return {
    changes: replaces.length + updates.length > 0,
    replaces: [...replaces],
    deleteBeforeReplace: false,
  };
}

/**
 * Why an update rebuilds the tag: the build inputs that changed (source archive version, or
 * environment variables by name), or undefined when it does not (no rebuildOnChange, or no change).
 */
export function rebuildReason(
  olds: Pick<ModelImageInputs, "sourceVersion" | "environment">,
  news: Pick<ModelImageInputs, "sourceVersion" | "environment" | "rebuildOnChange">,
): string | undefined {
  if (!news.rebuildOnChange) {
    return undefined;
  }
  const changed: string[] = [];
  if ((olds.sourceVersion ?? "") !== (news.sourceVersion ?? "")) {
    changed.push("the build source (sourceVersion)");
  }
  const a = olds.environment ?? {};
  const b = news.environment ?? {};
  // State written before the build variables were inputs has none: recording them is no change
  // of the build, and must not rebuild every image on the first `up` after an upgrade.
  const names =
    Object.keys(a).length === 0
      ? []
      : [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
  if (names.length > 0) {
    changed.push(names.sort().join(", "));
  }
  return changed.length > 0 ? changed.join("; ") : undefined;
}

/**
 * Whether a running build is this rebuild (same source version, IMAGE_TAG and overrides), so an
 * interrupted `up` adopts it; a build of older inputs still running is not what was asked for.
 */
export function buildMatches(
  build: Pick<Build, "sourceVersion" | "environment">,
  inputs: Pick<ModelImageInputs, "sourceVersion" | "environment" | "tag">,
): boolean {
  if ((build.sourceVersion ?? "") !== (inputs.sourceVersion ?? "")) {
    return false;
  }
  const vars = new Map(
    (build.environment?.environmentVariables ?? []).map((v) => [v.name, v.value]),
  );
  const wanted: Record<string, string> = { ...(inputs.environment ?? {}), IMAGE_TAG: inputs.tag };
  return Object.entries(wanted).every(([k, v]) => vars.get(k) === v);
}

/** The digest the buildspec exported (IMAGE_DIGEST) once its push was verified, if well-formed. */
export function exportedDigest(
  build: Pick<Build, "exportedEnvironmentVariables">,
): string | undefined {
  const value = (build.exportedEnvironmentVariables ?? []).find(
    (v) => v.name === "IMAGE_DIGEST",
  )?.value;
  return value && /^sha256:[0-9a-f]{64}$/.test(value) ? value : undefined;
}

/**
 * StartBuild idempotency token: a SHA-256 (64 hex characters) of what the build is for.
 * CodeBuild keeps a token for 5 minutes and answers a repeat with the same build, so an SDK retry
 * after a lost response cannot start a second build. The newest earlier build of this tag is part
 * of the hash so that re-running after a failed build (within those 5 minutes) starts a new build
 * instead of being handed the failed one again.
 */
export function idempotencyToken(
  parts: {
    projectName: string;
    tag: string;
    sourceVersion?: string;
    environment?: Record<string, string>;
    previousBuildId?: string;
  },
  sha256Hex: (s: string) => string,
): string {
  return sha256Hex(
    stableJson([
      "model-image/v1",
      parts.projectName,
      parts.tag,
      parts.sourceVersion ?? "",
      parts.environment ?? {},
      parts.previousBuildId ?? "",
    ]),
  );
}

/** Next poll delay: starts at the interval, grows ×1.5, capped at 4× the interval. */
export function nextPollDelayMs(previousMs: number | undefined, intervalSeconds: number): number {
  const base = intervalSeconds * 1000;
  return previousMs === undefined ? base : Math.min(previousMs * 1.5, base * 4);
}

/** CloudWatch console link for a build's logs: CodeBuild's deepLink, else built from group/stream. */
export function logsLink(
  logs: { deepLink?: string; groupName?: string; streamName?: string } | undefined,
  region: string,
): string | undefined {
  if (logs?.deepLink) {
    return logs.deepLink;
  }
  if (!logs?.groupName) {
    return undefined;
  }
  // The console's fragment encoding: URI-encode twice, then '%' becomes '$'.
  const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, "$");
  const host = region.startsWith("cn-")
    ? "console.amazonaws.cn"
    : `${region}.console.aws.amazon.com`;
  const base = `https://${host}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(logs.groupName)}`;
  return logs.streamName ? `${base}/log-events/${enc(logs.streamName)}` : base;
}

/** The first phase that did not succeed, with CodeBuild's explanation of it. */
export function failingPhase(build: Pick<Build, "phases" | "currentPhase">): {
  phase: string;
  status?: string;
  detail?: string;
} {
  const phase = (build.phases ?? []).find(
    (p) => p.phaseStatus !== undefined && p.phaseStatus !== "SUCCEEDED",
  );
  if (!phase) {
    return { phase: build.currentPhase ?? "unknown" };
  }
  const detail = (phase.contexts ?? [])
    .map((c) => [c.statusCode, c.message].filter((s) => s).join(": "))
    .filter((s) => s)
    .join("; ");
  return {
    phase: phase.phaseType ?? "unknown",
    status: phase.phaseStatus,
    ...(detail ? { detail } : {}),
  };
}

/** Replace every occurrence of the given values (e.g. environment values) with "***". */
export function redact(text: string, values: string[]): string {
  let out = text;
  for (const v of values) {
    if (v.length >= 4) {
      out = out.split(v).join("***");
    }
  }
  return out.length > 600 ? `${out.slice(0, 600)}…` : out;
}

/** The error for a build that ended without SUCCEEDED. Names no environment values. */
export function buildFailureMessage(
  build: Pick<Build, "id" | "buildStatus" | "phases" | "currentPhase" | "logs">,
  ctx: { projectName: string; image: string; region: string; redactValues?: string[] },
): string {
  const f = failingPhase(build);
  const phase = [f.phase, f.status].filter((s) => s).join(" ");
  const lines = [
    `CodeBuild could not build ${ctx.image}: build ${build.buildStatus ?? "ended without SUCCEEDED"} in phase ${f.phase}.`,
    `  project: ${ctx.projectName}`,
    `  build:   ${build.id ?? "unknown"}`,
    `  status:  ${build.buildStatus ?? "unknown"}`,
    `  phase:   ${phase}${f.detail ? ` — ${redact(f.detail, ctx.redactValues ?? [])}` : ""}`,
    `  logs:    ${logsLink(build.logs, ctx.region) ?? "(no CloudWatch logs recorded for this build)"}`,
    "The tag is still missing; fix the cause shown in the logs, then run `pulumi up` again to start a new build.",
  ];
  return lines.join("\n");
}

/** The error for our own wait limit. The build keeps running, and the next `up` adopts it. */
export function buildTimeoutMessage(
  build: Pick<Build, "id" | "buildStatus" | "currentPhase" | "logs">,
  ctx: { projectName: string; image: string; region: string; timeoutMinutes: number },
): string {
  return [
    `Timed out after ${ctx.timeoutMinutes} min waiting for CodeBuild build ${build.id ?? "unknown"} of ${ctx.image}; it is still ${build.buildStatus ?? "IN_PROGRESS"} in phase ${build.currentPhase ?? "unknown"}.`,
    `  project: ${ctx.projectName}`,
    `  logs:    ${logsLink(build.logs, ctx.region) ?? "(no CloudWatch logs recorded yet)"}`,
    "The build keeps running: run `pulumi up` again to wait for it (it is adopted, not started again), raise timeoutMinutes, " +
      `or stop it with \`aws codebuild stop-build --id ${build.id ?? "<id>"} --region ${ctx.region}\`.`,
  ].join("\n");
}

/** A one-line, actionable message for an ECR/CodeBuild SDK error. */
export function describeAwsError(e: unknown, action: string, target: string): string {
  const err = e as { name?: string; message?: string; code?: string };
  const name = err?.name ?? "Error";
  const message = err?.message ?? String(e);
  if (name === "RepositoryNotFoundException") {
    return `ECR repository ${target} does not exist (${action}: ${message}). The repository must exist before ModelImage runs: create it in the same program (it is a dependency) or fix repositoryName/registryId/region.`;
  }
  if (
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnauthorizedOperation"
  ) {
    return `Access denied for ${action} on ${target}: ${message}. Grant the deploying identity ${action} on it.`;
  }
  if (name === "ResourceNotFoundException" && action.startsWith("codebuild:")) {
    return `CodeBuild project ${target} was not found (${action}: ${message}). Check projectName and region.`;
  }
  return `${action} on ${target} failed: ${name}: ${message}`;
}

// ---- AWS calls (plain async functions; the SDK is imported per call) ----------------------

type EcrSdk = typeof import("@aws-sdk/client-ecr");
type CodeBuildSdk = typeof import("@aws-sdk/client-codebuild");

interface Aws {
  ecrSdk: EcrSdk;
  ecr: InstanceType<EcrSdk["ECRClient"]>;
  cbSdk?: CodeBuildSdk;
  codebuild?: InstanceType<CodeBuildSdk["CodeBuildClient"]>;
}

// Standard retries (throttling, 5xx, dropped connections) with more attempts than the default 3:
// a two-hour wait should not die on one throttled poll.
async function openAws(region: string, withCodeBuild: boolean): Promise<Aws> {
  const ecrSdk = await import("@aws-sdk/client-ecr");
  const config = {
    region,
    maxAttempts: 6,
    retryMode: "standard",
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  };
  const aws: Aws = { ecrSdk, ecr: new ecrSdk.ECRClient(config) };
  if (withCodeBuild) {
    aws.cbSdk = await import("@aws-sdk/client-codebuild");
    aws.codebuild = new aws.cbSdk.CodeBuildClient(config);
  }
  return aws;
}

function closeAws(aws: Aws): void {
  aws.ecr.destroy();
  aws.codebuild?.destroy();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exact tag lookup: the digest, or undefined when ECR says ImageNotFound. Anything else throws. */
async function lookupTag(
  aws: Aws,
  inputs: Pick<ModelImageInputs, "repositoryName" | "tag" | "registryId" | "region">,
): Promise<{ digest: string; registryId?: string } | undefined> {
  const target = `${inputs.repositoryName}:${inputs.tag} (${inputs.region})`;
  let out;
  try {
    out = await aws.ecr.send(
      new aws.ecrSdk.BatchGetImageCommand({
        repositoryName: inputs.repositoryName,
        ...(inputs.registryId ? { registryId: inputs.registryId } : {}),
        imageIds: [{ imageTag: inputs.tag }],
        acceptedMediaTypes: ACCEPTED_MEDIA_TYPES,
      }),
    );
  } catch (e) {
    throw modelImageError(describeAwsError(e, "ecr:BatchGetImage", target));
  }
  const image = (out.images ?? []).find(
    (i) => i.imageId?.imageTag === inputs.tag && i.imageId?.imageDigest,
  );
  if (image) {
    return { digest: image.imageId?.imageDigest as string, registryId: image.registryId };
  }
  const failure = (out.failures ?? [])[0];
  if (failure?.failureCode === "ImageNotFound") {
    return undefined;
  }
  throw modelImageError(
    failure
      ? `ecr:BatchGetImage on ${target} failed: ${failure.failureCode}: ${failure.failureReason ?? "no reason given"}. This is not "missing", so no build was started.`
      : `ecr:BatchGetImage on ${target} returned neither the image nor a failure; refusing to guess whether it exists.`,
  );
}

/** Builds of this project for this tag, newest first, from the first page or two of history. */
async function recentBuildsForTag(aws: Aws, projectName: string, tag: string): Promise<Build[]> {
  const cb = aws.codebuild as NonNullable<Aws["codebuild"]>;
  const sdk = aws.cbSdk as CodeBuildSdk;
  const matches: Build[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < 2; page++) {
      // No sortOrder: the default is newest first, and CodeBuild rejects an explicit sortOrder
      // for projects with more than 100 builds.
      const list = await cb.send(
        new sdk.ListBuildsForProjectCommand({ projectName, ...(nextToken ? { nextToken } : {}) }),
      );
      const ids = list.ids ?? [];
      if (ids.length > 0) {
        const got = await cb.send(new sdk.BatchGetBuildsCommand({ ids: ids.slice(0, 100) }));
        const byId = new Map((got.builds ?? []).map((b) => [b.id, b]));
        for (const id of ids) {
          const b = byId.get(id);
          const vars = b?.environment?.environmentVariables ?? [];
          if (b && vars.some((v) => v.name === "IMAGE_TAG" && v.value === tag)) {
            matches.push(b);
          }
        }
      }
      nextToken = list.nextToken;
      if (matches.length > 0 || !nextToken) {
        break;
      }
    }
  } catch (e) {
    throw modelImageError(
      describeAwsError(e, "codebuild:ListBuildsForProject/BatchGetBuilds", projectName),
    );
  }
  return matches;
}

async function getBuild(aws: Aws, id: string, projectName: string): Promise<Build> {
  const cb = aws.codebuild as NonNullable<Aws["codebuild"]>;
  const sdk = aws.cbSdk as CodeBuildSdk;
  let got;
  try {
    got = await cb.send(new sdk.BatchGetBuildsCommand({ ids: [id] }));
  } catch (e) {
    throw modelImageError(
      describeAwsError(e, "codebuild:BatchGetBuilds", `${projectName} build ${id}`),
    );
  }
  const build = (got.builds ?? [])[0];
  if (!build) {
    throw modelImageError(
      `CodeBuild build ${id} of project ${projectName} was not found (BatchGetBuilds buildsNotFound).`,
    );
  }
  return build;
}

async function startBuild(
  aws: Aws,
  inputs: ResolvedInputs,
  previousBuildId?: string,
): Promise<Build> {
  const cb = aws.codebuild as NonNullable<Aws["codebuild"]>;
  const sdk = aws.cbSdk as CodeBuildSdk;
  const env = inputs.environment;
  const crypto = await import("node:crypto");
  const token = idempotencyToken(
    {
      projectName: inputs.projectName,
      tag: inputs.tag,
      sourceVersion: inputs.sourceVersion,
      environment: env,
      previousBuildId,
    },
    (s) => crypto.createHash("sha256").update(s).digest("hex"),
  );
  const overrides = [
    { name: "IMAGE_TAG", value: inputs.tag, type: "PLAINTEXT" as const },
    ...Object.keys(env)
      .sort()
      .map((name) => ({ name, value: env[name], type: "PLAINTEXT" as const })),
  ];
  try {
    const out = await cb.send(
      new sdk.StartBuildCommand({
        projectName: inputs.projectName,
        environmentVariablesOverride: overrides,
        idempotencyToken: token,
        ...(inputs.sourceVersion ? { sourceVersion: inputs.sourceVersion } : {}),
      }),
    );
    if (!out.build?.id) {
      throw modelImageError(`codebuild:StartBuild for ${inputs.projectName} returned no build id.`);
    }
    return out.build;
  } catch (e) {
    if ((e as Error).name === "ModelImageError") {
      throw e;
    }
    throw modelImageError(describeAwsError(e, "codebuild:StartBuild", inputs.projectName));
  }
}

/** Poll with backoff until the build is terminal or our deadline passes. */
async function waitForTerminal(aws: Aws, first: Build, inputs: ResolvedInputs): Promise<Build> {
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  let build = first;
  let delay: number | undefined;
  while (build.buildStatus === "IN_PROGRESS" || build.buildStatus === undefined) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw modelImageError(
        buildTimeoutMessage(build, {
          projectName: inputs.projectName,
          image: `${inputs.repositoryName}:${inputs.tag}`,
          region: inputs.region,
          timeoutMinutes: inputs.timeoutMinutes,
        }),
      );
    }
    delay = nextPollDelayMs(delay, inputs.pollIntervalSeconds);
    await sleep(Math.min(delay, left));
    build = await getBuild(aws, build.id as string, inputs.projectName);
  }
  return build;
}

/** After SUCCEEDED: the tag should be there; ECR may show it a moment later. */
async function digestAfterBuild(aws: Aws, inputs: ResolvedInputs, build: Build) {
  const tries = 6;
  for (let i = 0; i < tries; i++) {
    const found = await lookupTag(aws, inputs);
    if (found) {
      return found;
    }
    await sleep(Math.min(2000, inputs.pollIntervalSeconds * 1000) * (i + 1));
  }
  throw modelImageError(
    [
      `CodeBuild build ${build.id} SUCCEEDED but ${inputs.repositoryName}:${inputs.tag} is not in ECR (region ${inputs.region}).`,
      `  logs: ${logsLink(build.logs, inputs.region) ?? "(none)"}`,
      "The buildspec must push the image to this repository with the tag from IMAGE_TAG; check the push step in the logs.",
    ].join("\n"),
  );
}

function accountFromArn(arn: string | undefined): string | undefined {
  const account = arn?.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function outputsFor(
  inputs: ResolvedInputs,
  found: { digest: string; registryId?: string },
  extra: { built: boolean; buildId?: string; accountHint?: string },
): ModelImageOutputs {
  const account = inputs.registryId ?? found.registryId ?? extra.accountHint ?? "unknown-registry";
  const host = registryHost(account, inputs.region);
  return {
    ...inputs,
    imageDigest: found.digest,
    imageUri: `${host}/${inputs.repositoryName}:${inputs.tag}`,
    digestUri: found.digest ? `${host}/${inputs.repositoryName}@${found.digest}` : "",
    registryHost: host,
    built: extra.built,
    ...(extra.buildId ? { buildId: extra.buildId } : {}),
  };
}

async function createImage(raw: ModelImageInputs): Promise<ModelImageOutputs> {
  const inputs = withDefaults(raw);
  const aws = await openAws(inputs.region, true);
  try {
    const present = await lookupTag(aws, inputs);
    if (present) {
      return outputsFor(inputs, present, { built: false });
    }
    // An interrupted `pulumi up` leaves its build running: adopt it rather than start a second one.
    return await buildTag(aws, inputs, () => true, "registry");
  } finally {
    closeAws(aws);
  }
}

/**
 * Start a build of the tag, or adopt a running one that `adoptable` accepts; wait for it; return
 * the outputs. `digestFrom: "build"` takes the digest the build exported (a rebuilt MUTABLE tag:
 * right after the push, a lookup could still answer with the previous image), else looks it up.
 */
async function buildTag(
  aws: Aws,
  inputs: ResolvedInputs,
  adoptable: (b: Build) => boolean,
  digestFrom: "registry" | "build",
): Promise<ModelImageOutputs> {
  const recent = await recentBuildsForTag(aws, inputs.projectName, inputs.tag);
  let build =
    recent.find((b) => b.buildStatus === "IN_PROGRESS" && adoptable(b)) ??
    (await startBuild(aws, inputs, recent[0]?.id));
  if (!inputs.waitForBuild) {
    return outputsFor(
      inputs,
      { digest: "" },
      { built: true, buildId: build.id, accountHint: accountFromArn(build.arn) },
    );
  }
  build = await waitForTerminal(aws, build, inputs);
  if (build.buildStatus !== "SUCCEEDED") {
    throw modelImageError(
      buildFailureMessage(build, {
        projectName: inputs.projectName,
        image: `${inputs.repositoryName}:${inputs.tag}`,
        region: inputs.region,
        redactValues: Object.values(inputs.environment),
      }),
    );
  }
  const exported = digestFrom === "build" ? exportedDigest(build) : undefined;
  const found = exported ? { digest: exported } : await digestAfterBuild(aws, inputs, build);
  return outputsFor(inputs, found, {
    built: true,
    buildId: build.id,
    accountHint: accountFromArn(build.arn),
  });
}

/** Rebuild an existing MUTABLE tag because its build inputs changed. */
async function rebuildImage(inputs: ResolvedInputs): Promise<ModelImageOutputs> {
  const aws = await openAws(inputs.region, true);
  try {
    return await buildTag(aws, inputs, (b) => buildMatches(b, inputs), "build");
  } finally {
    closeAws(aws);
  }
}

/** Re-read the digest of an existing resource; undefined when the tag is gone. */
async function rereadDigest(inputs: ResolvedInputs) {
  const aws = await openAws(inputs.region, false);
  try {
    return await lookupTag(aws, inputs);
  } finally {
    closeAws(aws);
  }
}

async function buildStatus(
  region: string,
  projectName: string,
  buildId: string,
): Promise<string | undefined> {
  const aws = await openAws(region, true);
  try {
    const cb = aws.codebuild as NonNullable<Aws["codebuild"]>;
    const got = await cb.send(
      new (aws.cbSdk as CodeBuildSdk).BatchGetBuildsCommand({ ids: [buildId] }),
    );
    return (got.builds ?? [])[0]?.buildStatus;
  } catch (e) {
    throw modelImageError(
      describeAwsError(e, "codebuild:BatchGetBuilds", `${projectName} build ${buildId}`),
    );
  } finally {
    closeAws(aws);
  }
}

function pickInputs(bag: Record<string, unknown>): ModelImageInputs {
  const keys = [...REPLACE_KEYS, ...UPDATE_KEYS];
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (bag[k] !== undefined) {
      out[k] = bag[k];
    }
  }
  return out as unknown as ModelImageInputs;
}

// ---- the provider ------------------------------------------------------------------------

export const modelImageProvider: pulumi.dynamic.ResourceProvider<
  ModelImageInputs,
  ModelImageOutputs
> = {
  async check(_olds, news) {
    const failures = validateInputs(news as unknown as Record<string, unknown>);
    if (failures.length > 0) {
      return { failures } satisfies pulumi.dynamic.CheckResult<ModelImageInputs>;
    }
    return {
      inputs: withDefaults(pickInputs(news as unknown as Record<string, unknown>)),
    } satisfies pulumi.dynamic.CheckResult<ModelImageInputs>;
  },

  async diff(_id, olds, news) {
    return diffInputs(
      olds as unknown as Record<string, unknown>,
      news as unknown as Record<string, unknown>,
    ) satisfies pulumi.dynamic.DiffResult;
  },

  async create(inputs) {
    const outs = await createImage(pickInputs(inputs as unknown as Record<string, unknown>));
    return { id: outs.imageUri, outs } satisfies pulumi.dynamic.CreateResult<ModelImageOutputs>;
  },

  async read(id, props) {
    const old = (props ?? {}) as ModelImageOutputs;
    const inputs = withDefaults(pickInputs(old as unknown as Record<string, unknown>));
    let found = await rereadDigest(inputs);
    if (!found && !old.imageDigest && old.buildId) {
      // Created with waitForBuild: false. A running build keeps the resource; one that has just
      // succeeded has pushed the tag, so look again.
      const status = await buildStatus(inputs.region, inputs.projectName, old.buildId);
      if (status === "IN_PROGRESS") {
        return { id, props: old };
      }
      if (status === "SUCCEEDED") {
        found = await rereadDigest(inputs);
      }
    }
    if (!found) {
      // Gone: refresh drops the resource, and the next `pulumi up` builds the tag again.
      return {};
    }
    return {
      id,
      props: {
        ...old,
        ...outputsFor(inputs, found, { built: old.built ?? false, buildId: old.buildId }),
      },
    } satisfies pulumi.dynamic.ReadResult<ModelImageOutputs>;
  },

  async update(_id, olds, news) {
    const inputs = withDefaults(pickInputs(news as unknown as Record<string, unknown>));
    if (rebuildReason(olds, inputs) !== undefined) {
      // The stack opted in (dev, MUTABLE tags): new build inputs under the same tag build it again.
      return {
        outs: await rebuildImage(inputs),
      } satisfies pulumi.dynamic.UpdateResult<ModelImageOutputs>;
    }
    const found = await rereadDigest(inputs);
    if (!found) {
      if (!olds.imageDigest) {
        // Started with waitForBuild: false and not finished yet; nothing to re-read.
        return { outs: { ...olds, ...inputs } };
      }
      throw modelImageError(
        `Image ${inputs.repositoryName}:${inputs.tag} is no longer in ECR (region ${inputs.region}); it was ${olds.imageDigest}. ` +
          "An update rebuilds only when the build inputs change and the stack sets rebuildOnSourceChange. Bump the tag in models.yaml to build a new image, or run `pulumi refresh` so that the next `pulumi up` builds this tag again.",
      );
    }
    return {
      outs: outputsFor(inputs, found, { built: olds.built, buildId: olds.buildId }),
    } satisfies pulumi.dynamic.UpdateResult<ModelImageOutputs>;
  },

  async delete(_id, props) {
    if (!props.deleteImageOnDestroy) {
      return;
    }
    const aws = await openAws(props.region, false);
    const target = `${props.repositoryName}:${props.tag} (${props.region})`;
    try {
      const out = await aws.ecr.send(
        new aws.ecrSdk.BatchDeleteImageCommand({
          repositoryName: props.repositoryName,
          ...(props.registryId ? { registryId: props.registryId } : {}),
          imageIds: [{ imageTag: props.tag }],
        }),
      );
      const failure = (out.failures ?? []).find((f) => f.failureCode !== "ImageNotFound");
      if (failure) {
        throw modelImageError(
          `ecr:BatchDeleteImage on ${target} failed: ${failure.failureCode}: ${failure.failureReason ?? "no reason given"}.`,
        );
      }
    } catch (e) {
      if ((e as Error).name === "ModelImageError") {
        throw e;
      }
      // The repository going first (force-deleted dev repositories) leaves nothing to delete.
      if ((e as Error).name !== "RepositoryNotFoundException") {
        throw modelImageError(describeAwsError(e, "ecr:BatchDeleteImage", target));
      }
    } finally {
      closeAws(aws);
    }
  },
};

/**
 * An image tag in ECR that exists after `pulumi up`: adopted when already pushed, else built once
 * by the CodeBuild project. Outputs `imageDigest`, `imageUri`, `digestUri` for KServe.
 */
export class ModelImage extends pulumi.dynamic.Resource {
  declare readonly region: pulumi.Output<string>;
  declare readonly repositoryName: pulumi.Output<string>;
  declare readonly tag: pulumi.Output<string>;
  declare readonly projectName: pulumi.Output<string>;
  declare readonly registryId: pulumi.Output<string | undefined>;
  declare readonly sourceVersion: pulumi.Output<string | undefined>;
  declare readonly environment: pulumi.Output<Record<string, string>>;
  declare readonly waitForBuild: pulumi.Output<boolean>;
  declare readonly timeoutMinutes: pulumi.Output<number>;
  declare readonly pollIntervalSeconds: pulumi.Output<number>;
  declare readonly deleteImageOnDestroy: pulumi.Output<boolean>;
  declare readonly rebuildOnChange: pulumi.Output<boolean>;
  declare readonly imageDigest: pulumi.Output<string>;
  declare readonly imageUri: pulumi.Output<string>;
  declare readonly digestUri: pulumi.Output<string>;
  declare readonly registryHost: pulumi.Output<string>;
  declare readonly built: pulumi.Output<boolean>;
  declare readonly buildId: pulumi.Output<string | undefined>;

  constructor(name: string, args: ModelImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      modelImageProvider,
      name,
      {
        region: args.region,
        repositoryName: args.repositoryName,
        tag: args.tag,
        projectName: args.projectName,
        registryId: args.registryId,
        sourceVersion: args.sourceVersion,
        environment: args.environment,
        waitForBuild: args.waitForBuild,
        timeoutMinutes: args.timeoutMinutes,
        pollIntervalSeconds: args.pollIntervalSeconds,
        deleteImageOnDestroy: args.deleteImageOnDestroy,
        rebuildOnChange: args.rebuildOnChange,
        // Outputs must be named here (as undefined) to be readable on the resource.
        imageDigest: undefined,
        imageUri: undefined,
        digestUri: undefined,
        registryHost: undefined,
        built: undefined,
        buildId: undefined,
      },
      opts,
    );
  }
}
