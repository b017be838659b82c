// One CodeBuild build of buildspec/buildspec.yml on this machine: the source archive unpacked, the fake tools on PATH, the CodeBuild harness running the phases.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLI_BUNDLE } from "../../lib/cliBundle";
import { sourceFiles } from "../../lib/sourceFiles";
import { type CodeBuildRun, runCodeBuild } from "./codebuild";
import { fakeTools, type ToolCall } from "./fakeTools";

const ROOT = path.resolve(__dirname, "../..");

export interface BuildRun extends CodeBuildRun {
  calls: ToolCall[];
  /** CODEBUILD_SRC_DIR during the run (removed afterwards). */
  srcDir: string;
  /** What is left in $CODEBUILD_SRC_DIR/.modelcar after the run. */
  leftovers: string[];
}

/**
 * Unpacks what the source archive holds (the same file list BuildSource uploads, the bundled CLI
 * as a stand-in: the fake node never runs it) and runs the buildspec from it with `env` as the
 * project's and StartBuild's variables. `fail` is FAKE_FAIL (see fakeTools.ts).
 */
export function runBuild(
  env: Record<string, string>,
  opts: { fail?: string; digest?: string } = {},
): BuildRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codebuild-"));
  try {
    const srcDir = path.join(dir, "src");
    for (const [name, file] of Object.entries(sourceFiles(ROOT))) {
      fs.mkdirSync(path.dirname(path.join(srcDir, name)), { recursive: true });
      fs.copyFileSync(file, path.join(srcDir, name));
    }
    fs.mkdirSync(path.join(srcDir, path.dirname(CLI_BUNDLE)), { recursive: true });
    fs.writeFileSync(path.join(srcDir, CLI_BUNDLE), "// the bundled CLI\n");
    const tools = fakeTools(path.join(dir, "tools"), opts.digest ?? `sha256:${"ab".repeat(32)}`);
    const work = path.join(dir, "harness");
    fs.mkdirSync(work);
    const run = runCodeBuild({
      buildspec: path.join(srcDir, "buildspec.yml"),
      srcDir,
      workDir: work,
      env: {
        PATH: `${tools.bin}:/usr/bin:/bin`,
        HOME: dir,
        TMPDIR: dir,
        ...tools.env,
        ...(opts.fail ? { FAKE_FAIL: opts.fail } : {}),
        ...env,
      },
    });
    const modelcar = path.join(srcDir, ".modelcar");
    const leftovers = fs.existsSync(modelcar) ? fs.readdirSync(modelcar).sort() : [];
    return { ...run, calls: tools.calls(), srcDir, leftovers };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
