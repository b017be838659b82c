// The catalogue the `plan` suites check (four built models, one with cpu and cuda, one skipped), the
// entry builder for the catalogues they write, and their shared plan arguments and digests.

import { strict as assert } from "node:assert";
import { type ImageSpec, parseManifest } from "../../lib/manifest";
import { defaultSettings } from "../../lib/settings";

export const SHA = "3145e03a9fd4cdd7cd953c34d9bbf7ad606122ca";

/** A catalogue entry pinned to SHA; `more` are its further YAML lines (sizeGB, variants, ...). */
export function entry(name: string, tag: string, ...more: string[]): string {
  const lines = [`source: org/${name}`, `revision: ${SHA}`, `tag: "${tag}"`, ...more];
  return `  - name: ${name}\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

/** A manifest holding `entries`. */
export function catalogue(...entries: string[]): string {
  return `\nmodels:\n${entries.join("")}`;
}

export const MANIFEST = catalogue(
  entry("alpha", "0.1.0"),
  entry("beta", "0.2.0"),
  entry("gamma", "0.3.0", "variants: [{accelerator: cpu}, {accelerator: cuda}]"),
  entry("delta", "0.1.0"),
  entry("epsilon", "0.1.0", "downloadAtRuntime: true"),
);

/** `plan`'s arguments for a manifest file under a registry prefix, with no tag suffix. */
export function planArgs(manifest: string, prefix: string): string[] {
  return ["plan", "--manifest", manifest, "--registry-prefix", prefix, "--tag-suffix", ""];
}

/** A distinct, valid-looking digest per small number n: sha256:0n0n… */
export const fakeDigest = (n: number) => `sha256:${String(n).padStart(2, "0").repeat(32)}`;

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
