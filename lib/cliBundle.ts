// The CLI as one file (dist/model-images.js), built with esbuild: by `npm run build:cli` onto disk, and by the program into the build source, so every CodeBuild build can make and attach its BOM.
//
// The program builds it itself, in memory, on every run: a fresh clone after `npm ci` needs no
// extra step, and the archive never carries a stale dist/ file from an older checkout. The same
// sources give the same bytes, so the archive's content hash only moves when the CLI does.
import type { BuildOptions } from "esbuild";
import * as path from "node:path";

/** Where the bundle sits, in the project and in the build source archive. */
export const CLI_BUNDLE = "dist/model-images.js";

/**
 * The one esbuild configuration. One minified file instead of ~200 modules (yaml, zod/mini's used
 * parts, lib/, cli/); the AWS SDK stays external (only an ECR target loads it, lazily). Run as an
 * executable it starts node with --no-opt (see scripts/buildCli.ts).
 */
export function cliBuildOptions(projectDir: string): BuildOptions {
  return {
    entryPoints: [path.join(projectDir, "cli", "main.ts")],
    outfile: path.join(projectDir, CLI_BUNDLE),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    external: ["@aws-sdk/*"],
    // `env -S` splits the flags (GNU coreutils >= 8.30, BSD/macOS env).
    banner: { js: "#!/usr/bin/env -S node --no-opt" },
    logLevel: "silent",
  };
}

const built = new Map<string, string>();

/**
 * The bundle's text, built in memory (no file written), once per project directory and process.
 * Throws naming the cause and the fix when esbuild is missing or the sources do not compile.
 */
export function cliBundleText(projectDir: string): string {
  const cached = built.get(projectDir);
  if (cached !== undefined) {
    return cached;
  }
  let text: string;
  try {
    // Loaded here: only the program's CodeBuild path needs esbuild, never the CLI itself.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require("esbuild") as typeof import("esbuild");
    const result = esbuild.buildSync({ ...cliBuildOptions(projectDir), write: false });
    text = result.outputFiles[0].text;
  } catch (e) {
    const message = (e as Error).message.split("\n").slice(0, 6).join("\n");
    throw new Error(
      `could not bundle the CLI (${path.join(projectDir, "cli", "main.ts")}) into the build source; every CodeBuild build runs it to attach the image's BOM: ${message}\nRun \`npm ci\` in ${projectDir} (esbuild is a dependency), then pulumi up again.`,
    );
  }
  built.set(projectDir, text);
  return text;
}
