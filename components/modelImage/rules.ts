// ModelImage's decisions as plain functions: what a diff replaces, when an update rebuilds, which running build it may adopt, how long to wait.

import type { Build } from "@aws-sdk/client-codebuild";
import {
  MODEL_IMAGE_DEFAULTS,
  type ModelImageInputs,
  REPLACE_KEYS,
  UNKNOWN,
  UPDATE_KEYS,
} from "./inputs";

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

/**
 * Which properties changed, and which of those force a replacement. A state written by other
 * provider code (`__provider`, e.g. before an upgrade) is an update even when no input changed:
 * the engine keeps a resource's outputs, `__provider` included, on an unchanged step, and it runs
 * the state's `__provider` for a delete. Only an update puts this code in the state.
 */
export function diffInputs(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: false } {
  const defaults: Record<string, unknown> = MODEL_IMAGE_DEFAULTS;
  const norm = (bag: Record<string, unknown>, k: string) => stableJson(bag[k] ?? defaults[k]);
  const changed = (k: string) => news[k] === UNKNOWN || norm(olds, k) !== norm(news, k);
  const replaces = REPLACE_KEYS.filter(changed);
  const updates = UPDATE_KEYS.filter(changed);
  const newCode =
    typeof news.__provider === "string" &&
    news.__provider !== UNKNOWN &&
    olds.__provider !== news.__provider;
  return {
    changes: replaces.length + updates.length > 0 || newCode,
    replaces: [...replaces],
    deleteBeforeReplace: false,
  };
}

/**
 * Why an update rebuilds the tag: the build inputs that changed (source archive version, or
 * environment variables by name), or undefined when it does not (no rebuildOnChange, or no change).
 */
export function rebuildReason(
  olds: Partial<Pick<ModelImageInputs, "sourceVersion" | "environment">>,
  news: Pick<ModelImageInputs, "sourceVersion" | "environment" | "rebuildOnChange">,
): string | undefined {
  if (!news.rebuildOnChange) {
    return undefined;
  }
  const changed: string[] = [];
  if ((olds.sourceVersion ?? "") !== (news.sourceVersion ?? "")) {
    changed.push("the build source (sourceVersion)");
  }
  const names = changedVariables(olds.environment ?? {}, news.environment ?? {});
  if (names.length > 0) {
    changed.push(names.join(", "));
  }
  return changed.length > 0 ? changed.join("; ") : undefined;
}

/**
 * Names of the variables that differ, sorted. State written before the build variables were inputs
 * has none: recording them is no change of the build, and must not rebuild every image on the
 * first `up` after an upgrade.
 */
function changedVariables(a: Record<string, string>, b: Record<string, string>): string[] {
  if (Object.keys(a).length === 0) {
    return [];
  }
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}

/** What a build was started with: its source version and its variables (overrides and project). */
function buildVariables(build: Pick<Build, "environment">): Map<string, string | undefined> {
  return new Map(
    (build.environment?.environmentVariables ?? []).map((v) => [v.name ?? "", v.value]),
  );
}

/**
 * How a running build differs from this resource's inputs (same source version, IMAGE_TAG and
 * every override); [] when it is a build of exactly these inputs.
 */
export function buildDifferences(
  build: Pick<Build, "sourceVersion" | "environment">,
  inputs: Pick<ModelImageInputs, "sourceVersion" | "environment" | "tag">,
): string[] {
  const diffs: string[] = [];
  if ((build.sourceVersion ?? "") !== (inputs.sourceVersion ?? "")) {
    diffs.push("sourceVersion");
  }
  const vars = buildVariables(build);
  const wanted: Record<string, string> = { ...(inputs.environment ?? {}), IMAGE_TAG: inputs.tag };
  for (const [k, v] of Object.entries(wanted).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (vars.get(k) !== v) {
      diffs.push(k);
    }
  }
  return diffs;
}

/** Whether a running build is a build of exactly these inputs (so an interrupted `up` adopts it). */
export function buildMatches(
  build: Pick<Build, "sourceVersion" | "environment">,
  inputs: Pick<ModelImageInputs, "sourceVersion" | "environment" | "tag">,
): boolean {
  return buildDifferences(build, inputs).length === 0;
}

/** What to do about the recent builds of the tag (newest first). */
export type BuildChoice =
  | { kind: "adopt"; build: Build }
  | { kind: "other"; build: Build; differences: string[] }
  | { kind: "start"; previousBuildId?: string };

/**
 * Adopt a running build of exactly these inputs; report a running build of other inputs (never
 * adopted: its image would hold other weights than the state says); else start one.
 */
export function chooseBuild(
  recent: readonly Build[],
  inputs: Pick<ModelImageInputs, "sourceVersion" | "environment" | "tag">,
): BuildChoice {
  const running = recent.filter((b) => b.buildStatus === "IN_PROGRESS");
  const mine = running.find((b) => buildMatches(b, inputs));
  if (mine) {
    return { kind: "adopt", build: mine };
  }
  const other = running[0];
  if (other) {
    return { kind: "other", build: other, differences: buildDifferences(other, inputs) };
  }
  return { kind: "start", ...(recent[0]?.id ? { previousBuildId: recent[0].id } : {}) };
}

/**
 * The tag cosign keeps a digest's signature under, the way buildspec/sign-and-attest.sh signs
 * (`--new-bundle-format=false`: cosign's sign.go then takes signDigestLegacyBundle, which writes the
 * classic signature image, not the OCI 1.1 referrer of the new bundle format). Sigstore's storage
 * specification: "reg.example.com/ubuntu@sha256:703218... has signatures located at
 * reg.example.com/ubuntu:sha256-703218....sig"; cosign's tag naming: "normalize turns image digests
 * into tags with an optional suffix: sha256:d34db33f -> sha256-d34db33f.suffix", with
 * SignatureTagSuffix = "sig".
 */
export function cosignSignatureTag(digest: string): string {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(digest);
  if (!m) {
    throw new Error(`internal: ${JSON.stringify(digest)} is not an image digest`);
  }
  return `${m[1]}-${m[2]}.sig`;
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
 * after a lost response (or our retry after a full queue) cannot start a second build. The newest
 * earlier build of this tag is part of the hash so that re-running after a failed build (within
 * those 5 minutes) starts a new build instead of being handed the failed one again.
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
