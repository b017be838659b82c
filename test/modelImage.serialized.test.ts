// ModelImage as Pulumi stores and runs it: the serialized provider's size, and that text run by a plain node process the way the provider host does.
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { modelImageProvider } from "../components/modelImage";
import { inputs, PROJECT, REPO, useEmulator } from "./support/modelImage";

const ROOT = path.resolve(__dirname, "..");

/** The budget for the provider text Pulumi stores in each ModelImage's inputs and outputs. */
export const PROVIDER_BUDGET_BYTES = 4096;

/** Serialize a provider exactly as pulumi.dynamic.Resource does (`() => provider`). */
async function serializeProvider(provider: unknown) {
  return pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
}

/** Run the serialized provider in a child node process, as pulumi-resource-pulumi-nodejs does. */
function runSerialized(
  text: string,
  method: "create",
  args: unknown[],
  env: Record<string, string>,
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-image-"));
  const file = path.join(dir, "provider.js");
  fs.writeFileSync(file, text);
  // require-from-string with no file name, so packages and the handlers resolve from the
  // working directory (the project), as in the host. Plain node: no TypeScript loader.
  const script = [
    "const provider = require('require-from-string')(require('node:fs').readFileSync(process.argv[1], 'utf8')).handler();",
    `provider.${method}(...JSON.parse(process.argv[2])).then((r) => { process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'); process.exit(0); }, (e) => { console.error(e.message); process.exit(2); });`,
  ].join("\n");
  const child = spawn(process.execPath, ["-e", script, file, JSON.stringify(args)], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  return { child, exited, out: () => ({ stdout, stderr }), cleanup };
}

describe("ModelImage serialized like Pulumi does", function () {
  this.timeout(60_000);
  const emulator = useEmulator();
  let serialized: string;

  before(async () => {
    const sf = await serializeProvider(modelImageProvider);
    serialized = sf.text;
    assert.equal(sf.containsSecrets, false);
  });

  it(`fits the state budget: at most ${PROVIDER_BUDGET_BYTES} bytes, no implementation, no clients or credentials`, () => {
    const bytes = Buffer.byteLength(serialized);
    assert.ok(bytes <= PROVIDER_BUDGET_BYTES, `serialized provider is ${bytes} bytes`);
    console.log(`      serialized provider: ${bytes} bytes`);
    assert.ok(!/require\("@pulumi\/pulumi"\)/.test(serialized));
    assert.ok(!serialized.includes("ModelImage extends"), "the resource class is not captured");
    assert.ok(!serialized.includes("BatchGetImage"), "the implementation stays in the project");
    assert.ok(
      serialized.includes('"components/modelImage/handlers"'),
      "a path relative to the project",
    );
    assert.ok(
      !serialized.includes(ROOT),
      "no absolute path: the state is the same from any checkout",
    );
    for (const secret of ["AKIDEMULATOR", "emulator-secret-key", emulator().url]) {
      assert.ok(!serialized.includes(secret), secret);
    }
  });

  it("also fits the budget when compiled by tsc (Pulumi's ts-node path)", async () => {
    const ts = await import("typescript");
    const source = fs.readFileSync(path.join(ROOT, "components/modelImage/provider.ts"), "utf8");
    const js = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    }).outputText;
    const m = new Module(path.join(ROOT, "tsc-provider.js"));
    (m as unknown as { _compile(c: string, f: string): void })._compile(
      js,
      path.join(ROOT, "tsc-provider.js"),
    );
    const sf = await serializeProvider(
      (m.exports as { modelImageProvider: unknown }).modelImageProvider,
    );
    const bytes = Buffer.byteLength(sf.text);
    console.log(`      serialized provider (tsc): ${bytes} bytes`);
    assert.ok(bytes <= PROVIDER_BUDGET_BYTES, `tsc-compiled provider is ${bytes} bytes`);
  });

  it("runs in a plain node process from the project directory, printing its progress line on stdout", async () => {
    const emu = emulator();
    const run = runSerialized(serialized, "create", [inputs()], emu.sdkEnv());
    const code = await run.exited;
    run.cleanup();
    const { stdout, stderr } = run.out();
    assert.equal(code, 0, stderr);
    const [build] = emu.builds(PROJECT);
    assert.ok(
      stdout.includes(
        `${REPO}:1.0: started CodeBuild build ${build.id} (project ${PROJECT}); logs: https://`,
      ),
      stdout,
    );
    const result = JSON.parse(stdout.split("RESULT ")[1]) as { outs: { imageDigest: string } };
    assert.equal(result.outs.imageDigest, emu.digestOf(REPO, "1.0"));
  });

  it("outside the project it fails saying where to run it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elsewhere-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const script = `const p = require('require-from-string')(require('node:fs').readFileSync(${JSON.stringify(path.join(dir, "p.js"))}, 'utf8')).handler(); Promise.resolve().then(() => p.create({})).catch((e) => { console.error(e.message); process.exit(2); })`;
    fs.writeFileSync(path.join(dir, "p.js"), serialized);
    const r = spawnSync(process.execPath, ["-e", script], { cwd: dir, encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^ModelImage: run pulumi in the model-images project, after npm install: Error: Cannot find module '.*\/components\/modelImage\/handlers'$/m,
    );
  });

  it("a create interrupted mid-poll (process killed) is resumed by the next create without a second build", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: [...Array(12).fill("IN_PROGRESS"), "SUCCEEDED"],
    });
    const run = runSerialized(
      serialized,
      "create",
      [inputs({ pollIntervalSeconds: 0.02 })],
      emu.sdkEnv(),
    );
    const deadline = Date.now() + 20_000;
    while (emu.calls("BatchGetBuilds").length < 2) {
      if (run.child.exitCode !== null || Date.now() > deadline) {
        assert.fail(`child did not reach polling: exit ${run.child.exitCode} ${run.out().stderr}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    run.child.kill("SIGKILL");
    await run.exited;
    run.cleanup();
    assert.equal(emu.calls("StartBuild").length, 1);
    const [build] = emu.builds(PROJECT);
    assert.equal(build.status, "IN_PROGRESS", "the interrupted run left the build running");

    const { outs } = await (
      modelImageProvider.create as NonNullable<typeof modelImageProvider.create>
    )(inputs());
    assert.equal(emu.calls("StartBuild").length, 1, "no duplicate StartBuild");
    assert.equal(emu.builds(PROJECT).length, 1);
    assert.equal(outs?.buildId, build.id);
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
  });
});
