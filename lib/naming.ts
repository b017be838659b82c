// Names, tags and URIs derived from the manifest: the single implementation the program and the CLI share.

import { createHash } from "node:crypto";

export type Accelerator = "cpu" | "cuda";
export const ACCELERATORS: readonly Accelerator[] = ["cpu", "cuda"];

/** OCI distribution-spec tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Kubernetes DNS-1123 label (InferenceService names, ECR path segments). */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;
/** ECR repository name grammar (path segments separated by `/`). */
export const ECR_REPOSITORY_PATTERN =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const ECR_REPOSITORY_MAX = 256;

/** `<name>` for cpu images, `<name>-cuda` for cuda: the key of every per-image output. */
export function imageName(model: string, accelerator: Accelerator): string {
  return accelerator === "cpu" ? model : `${model}-${accelerator}`;
}

/** `<tag>` for cpu, `<tag>-cuda` for cuda, then the stack's suffix (e.g. `-pr-123`). */
export function imageTag(tag: string, accelerator: Accelerator, suffix: string): string {
  return (accelerator === "cpu" ? tag : `${tag}-${accelerator}`) + suffix;
}

/** `<registryPrefix>/<model>`; an empty prefix puts the repository at the registry root. */
export function repositoryName(prefix: string, model: string): string {
  return prefix === "" ? model : `${prefix}/${model}`;
}

/** The ECR registry host for an account and region (China regions use amazonaws.com.cn). */
export function ecrRegistryHost(accountId: string, region: string): string {
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `${accountId}.dkr.ecr.${region}.${domain}`;
}

/** `oci://<registry>/<repository>:<tag>`, what KServe's storageUri takes. */
export function ociTagUri(registry: string, repository: string, tag: string): string {
  return `oci://${registry}/${repository}:${tag}`;
}

/** `oci://<registry>/<repository>@sha256:…`, immune to a re-pushed tag. */
export function ociDigestUri(registry: string, repository: string, digest: string): string {
  return `oci://${registry}/${repository}@${digest}`;
}

/** Tags of the registry build cache start with this; the repository lifecycle expires them. */
export const BUILD_CACHE_TAG_PREFIX = "buildcache-";

/**
 * The build-cache tag of one variant and revision (the same rule as buildspec.yml's `cache_ref`):
 * written once per revision, so IMMUTABLE repositories accept it.
 */
export function buildCacheTag(accelerator: Accelerator, revision: string): string {
  return `${BUILD_CACHE_TAG_PREFIX}${accelerator}-${revision.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 40)}`;
}

/** Our own wait outlasts CodeBuild's build timeout by this much (queueing, provisioning). */
export const WAIT_MARGIN_MINUTES = 30;

/**
 * The CodeBuild project of one image, unique per stack and image. CodeBuild's pattern is
 * `[A-Za-z0-9][A-Za-z0-9\-_]{1,254}`: any other character becomes `-`, and the name stops at 255.
 */
export function codeBuildProjectName(stack: string, imageName: string): string {
  return `model-images-${stack}-${imageName}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

/**
 * A name AWS takes as given, for resources Pulumi would otherwise auto-name (`<logical name>-` plus
 * 7 random characters), which overflows a service's limit once an image name is long and fails
 * only at AWS. `base` (already in the service's characters) cut to fit, then `-` and 8 hex
 * characters of sha256(seed): deterministic, and distinct for distinct seeds (seed the stack's
 * region and project so two stacks in one account never share a name).
 */
export function fitName(base: string, max: number, seed: string): string {
  const hash = createHash("sha256").update(seed).digest("hex").slice(0, 8);
  return `${base.slice(0, max - hash.length - 1)}-${hash}`;
}

/** EventBridge rule names: 1 to 64 of `[.\-_A-Za-z0-9]`, unique per event bus and region. */
export const EVENT_RULE_NAME_MAX = 64;
