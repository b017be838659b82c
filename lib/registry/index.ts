// Registry lookups for plan, kserve and the program: which images exist, and their digests.
export * from "./types";
export { checkImages, mapLimit, resolveRegistryHost, DEFAULT_CONCURRENCY } from "./check";
export { findCredentials } from "./credentials";
export {
  DIGEST_PATTERN,
  DistributionClient,
  manifestMediaType,
  maySendCredentials,
  isLoopback,
  parseChallenge,
  REGISTRY_HOST_PATTERN,
} from "./distribution";
export type { Challenge, DistributionClientOptions } from "./distribution";
export { EcrChecker, ecrApiHost, parseEcrHost, BATCH_GET_IMAGE_MAX } from "./ecr";
export type { EcrCheckerOptions } from "./ecr";
