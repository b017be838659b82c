// The catalogue both `plan` suites check: four built models (one with cpu and cuda) and one skipped.

import { strict as assert } from "node:assert";
import { type ImageSpec, parseManifest } from "../../lib/manifest";
import { defaultSettings } from "../../lib/settings";

export const SHA = "3145e03a9fd4cdd7cd953c34d9bbf7ad606122ca";

export const MANIFEST = `
models:
  - name: alpha
    source: org/alpha
    revision: ${SHA}
    tag: "0.1.0"
  - name: beta
    source: org/beta
    revision: ${SHA}
    tag: "0.2.0"
  - name: gamma
    source: org/gamma
    revision: ${SHA}
    tag: "0.3.0"
    variants: [{accelerator: cpu}, {accelerator: cuda}]
  - name: delta
    source: org/delta
    revision: ${SHA}
    tag: "0.1.0"
  - name: epsilon
    source: org/epsilon
    revision: ${SHA}
    tag: "0.1.0"
    downloadAtRuntime: true
`;

/** The images of a manifest under a registry prefix (asserting it is valid). */
export function imagesOf(manifest: string, prefix: string): ImageSpec[] {
  const result = parseManifest(
    "plan-test.yaml",
    manifest,
    defaultSettings("dev", {
      registryPrefix: prefix,
      tagSuffix: "",
      requirePinnedRevisions: false,
    }),
  );
  assert.deepEqual(result.diagnostics, []);
  return result.images;
}
