// The registry-check vocabulary shared by the distribution client, the ECR checker, `plan` and `kserve`.

import type { AwsIdentity } from "../awsIdentity";
import type { ImageSpec } from "../manifest";

/** Where the images live: any OCI registry through the Distribution API, or Amazon ECR through its API. */
export type RegistryTarget = DistributionTarget | EcrTarget;

export interface DistributionTarget {
  kind: "distribution";
  /** `host[:port]`, as in image references. */
  host: string;
  /** Plain HTTP even for a non-loopback host (loopback hosts always use HTTP). */
  insecure?: boolean;
  /** Basic credentials for the registry or its token service (anonymous without). */
  credentials?: RegistryCredentials;
}

/** A registry login, and where it came from (named in errors; the secret never is). */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** e.g. `REGISTRY_USERNAME`, `~/.docker/config.json (credHelpers: ecr-login)`. */
  source: string;
}

export interface EcrTarget {
  kind: "ecr";
  region: string;
  /** The account that owns the registry; without it ECR uses the caller's account. */
  registryId?: string;
  /** The stack's AWS identity (aws:profile, aws:assumeRoles); default: the standard chain. */
  identity?: AwsIdentity;
}

export type ImageStatus = "present" | "missing" | "skipped";

export interface ImageCheck {
  image: ImageSpec;
  status: ImageStatus;
  /** `sha256:…` of the tag's manifest or index, when present. */
  digest?: string;
  /** `oci://<registry>/<repository>:<tag>`. */
  uri: string;
  /** `oci://<registry>/<repository>@sha256:…`, when present. */
  digestUri?: string;
}

export interface CheckResult {
  /** Registry host the URIs name (for ECR: `<account>.dkr.ecr.<region>.amazonaws.com`). */
  registry: string;
  /** One entry per input image, in input order. */
  checks: ImageCheck[];
}

export interface CheckOptions {
  /** Lookups in flight at once (default 16). */
  concurrency?: number;
  /** Retries of one request after 429, 5xx or a dropped connection (default 3). */
  retries?: number;
  /** First retry delay in ms; doubles per retry (default 250). */
  backoffMs?: number;
  /** Per request: the longest silence and the longest whole exchange, in ms (default 30000). */
  timeoutMs?: number;
  /**
   * The caller's deadline for the whole check: once aborted, requests in flight are dropped and
   * the check fails naming the host; the abort reason's message says which limit (`the 120 s --timeout`).
   */
  signal?: AbortSignal;
  /** Called after each image is settled (skipped images count at once). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A check that could not be completed: auth, network, or an answer that is neither "present" nor
 * "missing". Never means "missing". The message names the registry and the image and says the fix.
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    /** `repository:tag` the failure is about, when it is about one image. */
    readonly image?: string,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** The media types a tag may point at: single-platform manifests and multi-platform indexes. */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
] as const;
