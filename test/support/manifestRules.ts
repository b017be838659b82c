// Stack rules for manifest tests: a dev-like stack without a token, with the fields a case overrides.

import type { ManifestRules } from "../../lib/manifest";

export const manifestRules = (over: Partial<ManifestRules> = {}): ManifestRules => ({
  stack: "dev",
  registryPrefix: "",
  tagSuffix: "",
  requirePinnedRevisions: false,
  hasHuggingfaceToken: false,
  ...over,
});
