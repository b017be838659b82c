// The shipped CLI: `npm run build:cli`'s single file, executed directly, against a real
// docker-registry and the ECR emulator (the lazily loaded AWS SDK must resolve from the bundle).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BuiltCli, buildCli, CLI_BUNDLE } from "../scripts/buildCli";
import { startAwsEmulator } from "./support/awsEmulator";
import { runProcess } from "./support/cli";
import { pushImage, writeOciLayout } from "../tools/ociImage";
import { MANIFEST } from "./support/planCatalog";
import { startRegistry } from "../tools/registry";
import { requireTools } from "./support/tools";

const PREFIX = "bundle-test";
/** What the bundle may weigh: yaml, zod/mini's used parts and our code. Classic zod alone is ~450 KiB. */
const MAX_BUNDLE_KIB = 320;

const bundled = (args: string[], env: Record<string, string | undefined> = {}) =>
  runProcess(args, { bundle: CLI_BUNDLE, env });

describe("the bundled CLI (dist/model-images.js)", function () {
  this.timeout(60_000);
  let dir: string;
  let manifest: string;
  let built: BuiltCli;

  before(async () => {
    built = await buildCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-bundle-"));
    manifest = path.join(dir, "models.yaml");
    fs.writeFileSync(manifest, MANIFEST);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is one executable file that starts node with --no-opt, within its size budget", () => {
    const text = fs.readFileSync(CLI_BUNDLE, "utf8");
    assert.equal(text.split("\n")[0], "#!/usr/bin/env -S node --no-opt");
    assert.ok((fs.statSync(CLI_BUNDLE).mode & 0o111) !== 0, "executable");
    const kib = Buffer.byteLength(text) / 1024;
    assert.ok(kib < MAX_BUNDLE_KIB, `${kib.toFixed(0)} KiB, budget ${MAX_BUNDLE_KIB} KiB`);
    // yaml and zod/mini are inside; the SDK is loaded from node_modules at run time, only for ECR.
    const from = (pkg: string) => built.inputs.filter((i) => i.includes(`node_modules/${pkg}/`));
    assert.ok(from("yaml").length > 0, "yaml is bundled");
    assert.ok(from("zod").length > 0, "zod is bundled");
    assert.deepEqual(
      from("zod").filter((i) => i.includes("/classic/")),
      [],
      "no classic zod",
    );
    assert.deepEqual(from("@aws-sdk"), [], "the AWS SDK stays external");
    assert.match(text, /"@aws-sdk\/client-ecr"/);
  });

  it("validate: exit 0, 1 with file:line:col, 2 for usage", async () => {
    const ok = await bundled(["validate", "models.yaml"]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^models\.yaml: ok: \d+ models/);

    const bad = path.join(dir, "bad.yaml");
    fs.writeFileSync(bad, MANIFEST.replace('tag: "0.2.0"', "tag: latest"));
    const failed = await bundled(["validate", bad]);
    assert.equal(failed.code, 1);
    assert.match(
      failed.err,
      new RegExp(
        `^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: tag 'latest' is not allowed`,
      ),
    );

    const usage = await bundled(["frobnicate"]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown command 'frobnicate'/);
  });

  it("plan and kserve against a docker-registry: exact tags and digests", async function () {
    requireTools(this, ["docker-registry"]);
    const registry = await startRegistry();
    try {
      const layoutDir = path.join(dir, "layout");
      const [image] = writeOciLayout(layoutDir, [{ tag: "alpha" }]);
      await pushImage(layoutDir, image, registry.host, `${PREFIX}/alpha`, "0.1.0");
      // The substring trap: "10.2.0" is not "0.2.0".
      await pushImage(layoutDir, image, registry.host, `${PREFIX}/beta`, "10.2.0");
      const select = ["--manifest", manifest, "--registry", registry.host];
      const plan = await bundled(["plan", ...select, "--registry-prefix", PREFIX, "--json"]);
      assert.equal(plan.code, 0, plan.err);
      const rows = JSON.parse(plan.out) as { name: string; status: string; digest?: string }[];
      assert.deepEqual(
        rows.map((r) => [r.name, r.status, r.digest]),
        [
          ["alpha", "present", image.digest],
          ["beta", "missing", undefined],
          ["gamma", "missing", undefined],
          ["gamma-cuda", "missing", undefined],
          ["delta", "missing", undefined],
          ["epsilon", "skipped", undefined],
        ],
      );

      const kserve = await bundled(["kserve", ...select, "--registry-prefix", PREFIX]);
      assert.equal(kserve.code, 0, kserve.err);
      assert.ok(kserve.out.includes(`storageUri: oci://${registry.host}/${PREFIX}/alpha:0.1.0`));
      // Pinning needs every image present: the missing ones are named, nothing is printed.
      const pinned = await bundled([
        "kserve",
        ...select,
        "--registry-prefix",
        PREFIX,
        "--pin-digest",
      ]);
      assert.equal(pinned.code, 1);
      assert.equal(pinned.out, "");
      assert.match(pinned.err, /--pin-digest needs every image, but 4 are not in registry .*beta/);
    } finally {
      await registry.stop();
    }
  });

  it("plan against ECR loads the AWS SDK from node_modules and batches the lookups", async () => {
    const emu = await startAwsEmulator();
    const restore = emu.useForSdk();
    try {
      const digest = `sha256:${"ab".repeat(32)}`;
      emu.addRepository(`${PREFIX}/alpha`, { "0.1.0": digest });
      emu.addRepository(`${PREFIX}/beta`, { "10.2.0": `sha256:${"cd".repeat(32)}` });
      const r = await bundled(
        [
          "plan",
          "--manifest",
          manifest,
          "--registry-prefix",
          PREFIX,
          "--account",
          emu.accountId,
          "--region",
          emu.region,
          "--json",
        ],
        {
          AWS_CONFIG_FILE: path.join(dir, "none"),
          AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"),
        },
      );
      assert.equal(r.code, 0, r.err);
      const rows = JSON.parse(r.out) as { name: string; status: string; digest?: string }[];
      assert.deepEqual(
        rows.map((row) => [row.name, row.status, row.digest]),
        [
          ["alpha", "present", digest],
          ["beta", "missing", undefined],
          ["gamma", "missing", undefined],
          ["gamma-cuda", "missing", undefined],
          ["delta", "missing", undefined],
          ["epsilon", "skipped", undefined],
        ],
      );
      // One BatchGetImage per repository (gamma's two tags share one), no per-tag calls.
      assert.equal(emu.calls("BatchGetImage").length, 4);
    } finally {
      restore();
      await emu.close();
    }
  });
});
