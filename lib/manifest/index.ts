// The models manifest: parse, validate, expand.
export * from "./model";
export { parseManifest, expandImages, summarize } from "./validate";
export type { ManifestResult, ManifestRules } from "./validate";
export { COMMIT_SHA_PATTERN, HF_REPO_PATTERN, IMAGE_REF_PATTERN, REF_PATTERN } from "./schema";
