// Looks up tags in Amazon ECR with BatchGetImage (at most 100 ids a call), by exact tag, with errors that say the fix.
//
// The SDK is loaded on first use: the distribution path of `plan` must not pay its start-up cost.
// Endpoints come from the standard variables, so AWS_ENDPOINT_URL_ECR redirects it; credentials
// are the stack's identity (aws:profile, aws:assumeRoles) when given, else the standard chain.
// `lookupEcrTags` is the one BatchGetImage lookup: `plan` (EcrChecker) and the ModelImage
// provider both use it, so they accept the same media types and batch the same way.

import type { ECRClient } from "@aws-sdk/client-ecr";
import { type AwsIdentity, awsClientIdentity } from "../awsIdentity";
import { MANIFEST_MEDIA_TYPES, RegistryError } from "./types";

/** ECR's own limit on image ids per BatchGetImage call. */
export const BATCH_GET_IMAGE_MAX = 100;

/** What ECR answered for one requested tag. */
export type EcrTagAnswer =
  | { kind: "present"; digest: string; registryId?: string }
  | { kind: "missing" }
  | { kind: "failed"; code: string; reason: string };

/**
 * One BatchGetImage call for up to 100 tags of one repository, by exact tag, asking for every
 * manifest and index media type (without the index types ECR answers a multi-platform tag with
 * one platform's manifest, whose digest is not the tag's). A tag ECR answered neither way is
 * absent from the map. SDK errors (RepositoryNotFoundException included) are thrown as they are:
 * the callers differ on what a missing repository means.
 */
export async function lookupEcrTags(
  client: Pick<ECRClient, "send">,
  mod: Pick<EcrModule, "BatchGetImageCommand">,
  query: { repositoryName: string; registryId?: string; tags: readonly string[] },
  options: { abortSignal?: AbortSignal } = {},
): Promise<Map<string, EcrTagAnswer>> {
  const { tags } = query;
  if (tags.length < 1 || tags.length > BATCH_GET_IMAGE_MAX) {
    throw new Error(
      `internal: ${tags.length} tags in one BatchGetImage call (1 to ${BATCH_GET_IMAGE_MAX})`,
    );
  }
  const res = await client.send(
    new mod.BatchGetImageCommand({
      repositoryName: query.repositoryName,
      ...(query.registryId ? { registryId: query.registryId } : {}),
      imageIds: tags.map((imageTag) => ({ imageTag })),
      acceptedMediaTypes: [...MANIFEST_MEDIA_TYPES],
    }),
    options,
  );
  const out = new Map<string, EcrTagAnswer>();
  for (const img of res.images ?? []) {
    const tag = img.imageId?.imageTag;
    // Exact match only: ECR answers per requested id, but never trust a tag we did not ask for.
    if (tag !== undefined && tags.includes(tag) && img.imageId?.imageDigest) {
      out.set(tag, {
        kind: "present",
        digest: img.imageId.imageDigest,
        ...(img.registryId ? { registryId: img.registryId } : {}),
      });
    }
  }
  for (const f of res.failures ?? []) {
    const tag = f.imageId?.imageTag;
    if (tag === undefined || !tags.includes(tag) || out.has(tag)) {
      continue;
    }
    out.set(
      tag,
      f.failureCode === "ImageNotFound"
        ? { kind: "missing" }
        : {
            kind: "failed",
            code: f.failureCode ?? "UnknownFailure",
            reason: f.failureReason ?? "no reason given",
          },
    );
  }
  return out;
}

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`: account and region of an ECR registry host. */
export function parseEcrHost(host: string): { registryId: string; region: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m ? { registryId: m[1], region: m[2] } : undefined;
}

type EcrModule = typeof import("@aws-sdk/client-ecr");

const CREDENTIAL_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
]);

export interface EcrCheckerOptions {
  /** The account owning the registry; without it ECR uses the caller's. */
  registryId?: string;
  /** SDK retries after throttling, 5xx and dropped connections (default 3). */
  retries?: number;
  /** Per request: connect, silence and whole-exchange limit in ms (default 30000). */
  timeoutMs?: number;
  /** The command's deadline: aborting it ends every call in flight. */
  signal?: AbortSignal;
  /** The stack's AWS identity (aws:profile, aws:assumeRoles); default: the standard chain. */
  identity?: AwsIdentity;
}

/** The ECR API host calls go to: the endpoint override, else the regional endpoint. */
export function ecrApiHost(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = env.AWS_ENDPOINT_URL_ECR ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    try {
      return new URL(endpoint).host;
    } catch {
      return endpoint;
    }
  }
  return `api.ecr.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

export class EcrChecker {
  /** Calls made, for tests and benchmarks. */
  readonly stats = { batchGetImage: 0 };
  private sdk?: Promise<{ mod: EcrModule; client: ECRClient }>;
  private account?: string;

  private readonly timeoutMs: number;

  constructor(
    readonly region: string,
    private readonly opts: EcrCheckerOptions = {},
  ) {
    this.account = opts.registryId;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Send with the command's deadline; its expiry becomes an error naming the ECR host. */
  private async call<T>(send: (opts: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    const signal = this.opts.signal;
    if (signal?.aborted) {
      throw this.deadlineError();
    }
    try {
      return await send(signal ? { abortSignal: signal } : {});
    } catch (e) {
      if (signal?.aborted) {
        throw this.deadlineError();
      }
      throw e;
    }
  }

  private deadlineError(): RegistryError {
    const reason = this.opts.signal?.reason as unknown;
    return new RegistryError(
      `ECR (${ecrApiHost(this.region)}, ${this.region}) did not answer within ${reason instanceof Error ? reason.message : "the time limit"}; check the network path to ${ecrApiHost(this.region)} (and AWS_ENDPOINT_URL_ECR if set), or allow more time`,
    );
  }

  private load(): Promise<{ mod: EcrModule; client: ECRClient }> {
    this.sdk ??= import("@aws-sdk/client-ecr").then((mod) => ({
      mod,
      client: new mod.ECRClient({
        region: this.region,
        maxAttempts: (this.opts.retries ?? 3) + 1,
        // The SDK's defaults wait forever on a silent server. requestTimeout is a wall-clock limit
        // per attempt that only logs unless throwOnRequestTimeout; socketTimeout is the silence limit.
        requestHandler: {
          connectionTimeout: Math.min(this.timeoutMs, 10_000),
          requestTimeout: this.timeoutMs,
          socketTimeout: this.timeoutMs,
          throwOnRequestTimeout: true,
        },
        ...awsClientIdentity(this.opts.identity ?? {}, this.region),
      }),
    }));
    return this.sdk;
  }

  /**
   * Digests of up to 100 tags of one repository: a digest for each present tag, undefined for a
   * missing tag or a repository that does not exist. Any other answer throws a RegistryError.
   */
  async batch(
    repository: string,
    tags: readonly string[],
  ): Promise<Map<string, string | undefined>> {
    const { mod, client } = await this.load();
    const out = new Map<string, string | undefined>();
    let answers;
    try {
      this.stats.batchGetImage++;
      answers = await this.call((o) =>
        lookupEcrTags(
          client,
          mod,
          { repositoryName: repository, registryId: this.opts.registryId, tags },
          o,
        ),
      );
    } catch (e) {
      if (e instanceof RegistryError) {
        throw e;
      }
      if ((e as Error).name === "RepositoryNotFoundException") {
        tags.forEach((t) => out.set(t, undefined));
        return out;
      }
      throw this.sdkError(e, "BatchGetImage", repository);
    }
    for (const tag of tags) {
      const a = answers.get(tag);
      if (a?.kind === "present") {
        this.account ??= a.registryId;
        out.set(tag, a.digest);
      } else if (a?.kind === "missing") {
        out.set(tag, undefined);
      } else if (a?.kind === "failed") {
        throw new RegistryError(
          `ECR cannot read ${repository}:${tag} in ${this.where()}: ${a.code}: ${a.reason}${
            a.code === "KmsError"
              ? " (check the repository's KMS key policy allows kms:Decrypt for you)"
              : ""
          }`,
          `${repository}:${tag}`,
        );
      }
    }
    const unanswered = tags.filter((t) => !out.has(t));
    if (unanswered.length > 0) {
      throw new RegistryError(
        `ECR BatchGetImage on ${repository} in ${this.where()} answered neither an image nor a failure for ${unanswered.join(", ")}; try again`,
        `${repository}:${unanswered[0]}`,
      );
    }
    return out;
  }

  /** The account of the registry: given, seen in a BatchGetImage answer, or asked of ECR. */
  async registryAccount(): Promise<string> {
    if (this.account) {
      return this.account;
    }
    const { mod, client } = await this.load();
    try {
      const res = await this.call((o) => client.send(new mod.DescribeRegistryCommand({}), o));
      this.account = res.registryId;
    } catch (e) {
      if (e instanceof RegistryError) {
        throw e;
      }
      // Pull-only roles (AmazonEC2ContainerRegistryReadOnly) lack DescribeRegistry but have GetAuthorizationToken.
      if (
        (e as Error).name !== "AccessDeniedException" &&
        (e as Error).name !== "UnknownOperationException"
      ) {
        throw this.sdkError(e, "DescribeRegistry", undefined);
      }
      try {
        const res = await this.call((o) =>
          client.send(new mod.GetAuthorizationTokenCommand({}), o),
        );
        const endpoint = res.authorizationData?.[0]?.proxyEndpoint ?? "";
        this.account = parseEcrHost(
          endpoint.replace(/^https?:\/\//, "").replace(/\/.*$/, ""),
        )?.registryId;
      } catch (e2) {
        if (e2 instanceof RegistryError) {
          throw e2;
        }
        throw this.sdkError(e2, "GetAuthorizationToken", undefined);
      }
    }
    if (!this.account) {
      throw new RegistryError(
        `could not learn the AWS account of the ECR registry in ${this.where()}: pass --account <12-digit account id>`,
      );
    }
    return this.account;
  }

  private where(): string {
    const endpoint = process.env.AWS_ENDPOINT_URL_ECR ?? process.env.AWS_ENDPOINT_URL;
    return endpoint ? `${this.region} (endpoint ${endpoint})` : this.region;
  }

  private sdkError(e: unknown, op: string, repository: string | undefined): RegistryError {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const name = err.name ?? "Error";
    const code = err.code ?? err.cause?.code ?? "";
    const target = repository ? ` on ${repository}` : "";
    const image = repository ? `${repository}` : undefined;
    const msg = (err.message ?? "").split("\n")[0];
    if (name === "AccessDeniedException") {
      const arn = repository
        ? `arn:aws:ecr:${this.region}:${this.account ?? "<account>"}:repository/${repository}`
        : "*";
      return new RegistryError(
        `ECR ${op}${target} in ${this.where()} was denied: ${msg}. Use credentials allowed ecr:${op} on ${arn} (AWS_PROFILE, aws sso login), or pass --account if the registry is another account's`,
        image,
      );
    }
    if (CREDENTIAL_ERRORS.has(name)) {
      return new RegistryError(
        `AWS rejected the credentials for ECR ${op} in ${this.where()} (${name}: ${msg}); refresh them (aws sso login, or a new AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN)`,
        image,
      );
    }
    if (name === "CredentialsProviderError" || /credential/i.test(name)) {
      return new RegistryError(
        `no AWS credentials for ECR in ${this.where()}: ${msg}. Set AWS_PROFILE (and run aws sso login) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
        image,
      );
    }
    if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name) || name === "TimeoutError") {
      return new RegistryError(
        `cannot reach ECR at ${ecrApiHost(this.region)} in ${this.where()} (${code || name}) during ${op}${target}; check the network, the region, and AWS_ENDPOINT_URL_ECR if set`,
        image,
      );
    }
    return new RegistryError(
      `ECR ${op}${target} in ${this.where()} failed: ${name}: ${msg}`,
      image,
    );
  }
}
