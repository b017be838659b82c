// SPDX license ids from CycloneDX's own list, so every id the BOM carries passes its schema's enum.
//
// TypeScript's node10 resolution cannot see the package's "exports" map, so the subpath is
// required by name and typed here; esbuild bundles it (with the JSON list) into the CLI.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const spdx = require("@cyclonedx/cyclonedx-library/SPDX") as {
  fixupSpdxId(value: string): string | undefined;
};

/** The SPDX id spelled as the list spells it (`apache-2.0` → `Apache-2.0`), or undefined. */
export function fixupSpdxId(value: string): string | undefined {
  return spdx.fixupSpdxId(value);
}
