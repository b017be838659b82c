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

/** `docker/**` (minus tests), `buildspec/buildspec.yml` as `buildspec.yml` and the scripts it runs (the CLI bundle is generated: lib/cliBundle.ts). */
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
  return files;
}

/**
 * sha256 over archive paths and contents, in a stable order: the files on disk and the generated
 * ones (archive path -> text, e.g. the bundled CLI) alike.
 */
export function sourceHash(files: SourceFiles, generated: Record<string, string> = {}): string {
  const h = createHash("sha256");
  const names = [...new Set([...Object.keys(files), ...Object.keys(generated)])].sort();
  for (const name of names) {
    const content = name in generated ? generated[name] : fs.readFileSync(files[name]);
    h.update(name).update("\0").update(content).update("\0");
  }
  return h.digest("hex");
}
