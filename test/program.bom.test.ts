// The program bundles the CLI into the build source itself (esbuild at program run): on a fresh clone with no dist/, a prod up still attaches every image's BOM.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLI_BUNDLE, cliBundleText } from "../lib/cliBundle";
import { sourceFiles, sourceHash } from "../lib/sourceFiles";
import { type Run, runProgram, stackConfig } from "../tools/programRun";
import { byType } from "../tools/pulumiMocks";
import { FIXTURE, TOKEN } from "./support/programChecks";

const ROOT = path.resolve(__dirname, "..");
const ON_DISK = path.join(ROOT, CLI_BUNDLE);

const envOf = (project: { inputs: Record<string, unknown> }) =>
  Object.fromEntries(
    (
      project.inputs.environment as { environmentVariables: { name: string; value: string }[] }
    ).environmentVariables.map((e) => [e.name, e.value]),
  );

describe("program: the build source carries the bundled CLI without `npm run build:cli`", function () {
  this.timeout(120_000);
  let run: Run;
  let archived: string;
  // A fresh clone: no dist/ (an earlier `npm run build:cli` here is put aside and restored).
  const aside = `${ON_DISK}.aside-${process.pid}`;
  before(async () => {
    if (fs.existsSync(ON_DISK)) {
      fs.renameSync(ON_DISK, aside);
    }
    run = await runProgram(
      "prod",
      { ...stackConfig("prod"), "model-images:manifest": FIXTURE },
      TOKEN,
    );
    const [archive] = byType(run.recorded, "aws:s3/bucketObjectv2:BucketObjectv2");
    const assets = await (
      archive.inputs.source as { assets: Promise<Record<string, { text?: Promise<string> }>> }
    ).assets;
    archived = (await assets[CLI_BUNDLE]?.text) ?? "";
  });
  after(() => {
    if (fs.existsSync(aside)) {
      fs.renameSync(aside, ON_DISK);
    }
  });

  it("every project attaches the BOM (BOM_ATTACH=true), on prod as on dev", async () => {
    const projects = byType(run.recorded, "aws:codebuild/project:Project");
    assert.ok(projects.length > 1);
    for (const project of projects) {
      assert.equal(envOf(project).BOM_ATTACH, "true", project.name);
    }
    const dev = await runProgram("dev", stackConfig("dev"), TOKEN);
    for (const project of byType(dev.recorded, "aws:codebuild/project:Project")) {
      assert.equal(envOf(project).BOM_ATTACH, "true", project.name);
    }
  });

  it(`the archive holds ${CLI_BUNDLE}, built in memory (nothing written to dist/), and it runs`, () => {
    assert.ok(!fs.existsSync(ON_DISK), "the program writes no file into the project");
    assert.equal(archived.split("\n")[0], "#!/usr/bin/env -S node --no-opt");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archived-cli-"));
    try {
      const file = path.join(dir, "model-images.js");
      fs.writeFileSync(file, archived);
      // What the build runs is this CLI: `validate` works and `bom` is one of its commands.
      const ok = spawnSync(process.execPath, [file, "validate", FIXTURE], {
        cwd: ROOT,
        encoding: "utf8",
      });
      assert.equal(ok.status, 0, ok.stderr);
      const bom = spawnSync(process.execPath, [file, "bom"], { cwd: ROOT, encoding: "utf8" });
      assert.match(`${bom.stdout}${bom.stderr}`, /--provenance/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the archive key follows the bundle's content, so a CLI change is a new source", () => {
    const [archive] = byType(run.recorded, "aws:s3/bucketObjectv2:BucketObjectv2");
    const files = sourceFiles(ROOT);
    assert.equal(
      archive.inputs.key,
      `sources/${sourceHash(files, { [CLI_BUNDLE]: archived })}.zip`,
    );
    assert.notEqual(
      sourceHash(files, { [CLI_BUNDLE]: `${archived}\n` }),
      sourceHash(files, { [CLI_BUNDLE]: archived }),
    );
  });

  it("a CLI that cannot be bundled stops the program, saying what and how to fix it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "no-cli-"));
    try {
      assert.throws(
        () => cliBundleText(dir),
        (e: Error) =>
          e.message.startsWith(`could not bundle the CLI (${path.join(dir, "cli", "main.ts")})`) &&
          e.message.includes(`Run \`npm ci\` in ${dir} (esbuild is a dependency)`),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
