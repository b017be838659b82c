// ECR pull-through cache rules of a stack: their repository prefixes and what the build role may do under them.

import { createHash } from "node:crypto";

/** The upstreams the build pulls from: BuildKit comes from Docker Hub, python and busybox from ECR Public. */
export type Upstream = "ecr-public" | "docker-hub";

/** Registry URLs as the ECR API reference lists them for CreatePullThroughCacheRule. */
export const UPSTREAM_REGISTRY_URL: Record<Upstream, string> = {
  "ecr-public": "public.ecr.aws",
  "docker-hub": "registry-1.docker.io",
};

/** The build variable that carries `<registry>/<rule prefix>` for each upstream (read by buildspec.yml). */
export const PULL_THROUGH_ENV: Record<Upstream, string> = {
  "ecr-public": "PULL_THROUGH_ECR_PUBLIC",
  "docker-hub": "PULL_THROUGH_DOCKER_HUB",
};

/**
 * ecrRepositoryPrefix "Length Constraints: Minimum length of 2. Maximum length of 30. Pattern:
 * (?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*" (ECR API reference).
 */
export const PTC_PREFIX_PATTERN =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const PTC_PREFIX_MAX = 30;

/**
 * The rule prefix for one upstream: `<stack>-<hash>/<upstream>`. Rule prefixes are per registry, so
 * two stacks (or two projects' `dev` stacks) in one account must not share one: the hash covers the
 * stack and its registryPrefix, the readable part names the stack. Never under `<registryPrefix>/`,
 * so the cached base images are not replicated with the models.
 */
export function pullThroughPrefix(
  stack: string,
  registryPrefix: string,
  upstream: Upstream,
): string {
  const hash = createHash("sha256").update(`${stack}\0${registryPrefix}`).digest("hex").slice(0, 6);
  const room = PTC_PREFIX_MAX - hash.length - 1 - 1 - "ecr-public".length;
  const slug =
    stack
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .slice(0, room)
      .replace(/^-+|-+$/g, "") || "stack";
  return `${slug}-${hash}/${upstream}`;
}

/** The partition of a region's ARNs. */
export function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/**
 * What the CodeBuild role needs to pull through the rules, on the rules' repositories only. ECR user
 * guide, "IAM permissions required to sync an upstream registry": besides the permissions "to push
 * and pull images", "ecr:BatchImportUpstreamImage – Grants permission to retrieve the external image
 * and import it to your private registry" and "ecr:CreateRepository – ... required if the repository
 * storing the cached images doesn't already exist" (the first pull of each image creates it).
 */
export function pullThroughStatement(
  region: string,
  accountId: string,
  prefixes: readonly string[],
): object {
  return {
    Sid: "PullThroughCache",
    Effect: "Allow",
    Action: [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:BatchImportUpstreamImage",
      "ecr:CreateRepository",
      "ecr:GetDownloadUrlForLayer",
    ],
    Resource: prefixes.map(
      (p) => `arn:${partitionOf(region)}:ecr:${region}:${accountId}:repository/${p}/*`,
    ),
  };
}
