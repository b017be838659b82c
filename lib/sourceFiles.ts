// The build source (docker/ + buildspec/) as a file list and a content hash, so a changed file means a new object.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Archive path -> file on disk. The buildspec goes to the archive root, where CodeBuild looks for it. */
export type SourceFiles = Record<string, string>;

/** Files the build does not need (tests, caches) stay out of the archive and out of the hash. */
const SKIP = [/(^|\/)__pycache__(\/|$)/, /(^|\/)test_[^/]*\.py$/, /(^|\/)tests\//, /\.pyc$/];

function walk(dir: string, rel = ""): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      return e.isDirectory() ? walk(dir, p) : e.isFile() ? [p] : [];
    });
}

/** Called by the buildspec after the push; at the same path in the archive as in the project. */
export const SIGN_SCRIPT = "buildspec/sign-and-attest.sh";
/** Called by the buildspec to name images through the pull-through cache; same path in the archive. */
export const PULL_THROUGH_SCRIPT = "buildspec/pull-through.sh";
/** The single-file CLI the build runs `bom` with, when it has been built. */
export const CLI_BUNDLE = "dist/model-images.js";

/** `docker/**` (minus tests), `buildspec/buildspec.yml` as `buildspec.yml`, the scripts it runs and the CLI bundle. */
export function sourceFiles(projectDir: string): SourceFiles {
  const files: SourceFiles = {};
  for (const rel of walk(path.join(projectDir, "docker"))) {
    if (!SKIP.some((re) => re.test(rel))) {
      files[`docker/${rel}`] = path.join(projectDir, "docker", rel);
    }
  }
  files["buildspec.yml"] = path.join(projectDir, "buildspec", "buildspec.yml");
  for (const script of [SIGN_SCRIPT, PULL_THROUGH_SCRIPT]) {
    files[script] = path.join(projectDir, script);
  }
  // The bundled CLI (npm run build:cli) makes the BOM in the build with the code `bom` runs here.
  if (fs.existsSync(path.join(projectDir, CLI_BUNDLE))) {
    files[CLI_BUNDLE] = path.join(projectDir, CLI_BUNDLE);
  }
  return files;
}

/** sha256 over archive paths and contents, in a stable order. */
export function sourceHash(files: SourceFiles): string {
  const h = createHash("sha256");
  for (const name of Object.keys(files).sort()) {
    h.update(name).update("\0").update(fs.readFileSync(files[name])).update("\0");
  }
  return h.digest("hex");
}
