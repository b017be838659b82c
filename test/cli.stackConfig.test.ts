// The one settings loader: a plaintext token is refused (CLI and program), ESC environments are read
// through a fake `pulumi` on PATH or refused without it, stack files written by the test.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { configEntriesFromJson } from "../cli/stack";
import { readStackInputs } from "../components/config";
import { settingsFromConfig } from "../lib/stackConfig";
import { runCli } from "./support/cli";
import { installMocks } from "../tools/pulumiMocks";
import { SHA } from "./support/planCatalog";

const FIX = "pulumi config set --secret huggingface-token <token> --stack";

describe("settings loader (settingsFromConfig)", () => {
  const cases: {
    name: string;
    entries: { key: string; value?: unknown; secret: boolean }[];
    expect: (r: ReturnType<typeof settingsFromConfig>) => void;
  }[] = [
    {
      name: "a secret token counts as present; its value is never needed",
      entries: [{ key: "model-images:huggingface-token", secret: true }],
      expect: (r) => {
        assert.equal(r.settings.hasHuggingfaceToken, true);
        assert.deepEqual(r.problems, []);
      },
    },
    {
      name: "a plaintext token is refused with the command that stores it encrypted",
      entries: [{ key: "model-images:huggingface-token", value: "hf_abc", secret: false }],
      expect: (r) => {
        assert.equal(r.settings.hasHuggingfaceToken, false);
        assert.equal(r.problems.length, 1);
        assert.equal(r.problems[0].key, "huggingface-token");
        assert.ok(r.problems[0].message.includes(`${FIX} ci`), r.problems[0].message);
        assert.doesNotMatch(r.problems[0].message, /hf_abc/);
      },
    },
    {
      name: "bare keys are the project's; aws:region is picked up; other namespaces ignored",
      entries: [
        { key: "registryPrefix", value: "team-a", secret: false },
        { key: "aws:region", value: "eu-west-1", secret: false },
        { key: "other:thing", value: 1, secret: false },
      ],
      expect: (r) => {
        assert.equal(r.settings.registryPrefix, "team-a");
        assert.equal(r.region, "eu-west-1");
        assert.deepEqual(r.problems, []);
      },
    },
    {
      name: "a setting held as a secret cannot be read outside 'up': a problem, not a default",
      entries: [{ key: "model-images:tagSuffix", secret: true }],
      expect: (r) => {
        assert.equal(r.problems[0].key, "tagSuffix");
        assert.match(r.problems[0].message, /^tagSuffix is a secret here/);
      },
    },
    {
      name: "an unknown project key is a problem",
      entries: [{ key: "model-images:registryPrefx", value: "x", secret: false }],
      expect: (r) => assert.match(r.problems[0].message, /unknown setting 'registryPrefx'/),
    },
  ];
  for (const c of cases) {
    it(c.name, () => c.expect(settingsFromConfig("ci", c.entries)));
  }

  it("pulumi config --json: values for plain keys, presence only for secrets", () => {
    const entries = configEntriesFromJson(
      JSON.stringify({
        "aws:region": { value: "us-west-2", secret: false },
        "model-images:huggingface-token": { secret: true },
        "model-images:onlyModels": { value: "a,b", secret: false },
        "model-images:maxLayerBytes": { value: "1048576", objectValue: 1048576, secret: false },
      }),
    );
    assert.deepEqual(entries, [
      { key: "aws:region", secret: false, value: "us-west-2" },
      { key: "model-images:huggingface-token", secret: true },
      { key: "model-images:onlyModels", secret: false, value: "a,b" },
      { key: "model-images:maxLayerBytes", secret: false, value: 1048576 },
    ]);
  });
});

describe("the CLI reads a stack's real configuration", function () {
  this.timeout(20_000);
  let project: string;
  let bin: string;
  let calls: string;
  const manifest = `models:\n  - {name: alpha, source: org/alpha, revision: ${SHA}, tag: "0.1.0", gated: true}\n`;

  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: model-images\nruntime: nodejs\n");
    fs.writeFileSync(path.join(project, "models.yaml"), manifest);
    bin = path.join(project, "bin");
    fs.mkdirSync(bin);
    calls = path.join(project, "pulumi-calls.log");
    // A fake Pulumi CLI: records its arguments and directory, prints what $FAKE_PULUMI_JSON holds.
    fs.writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh\necho "$PWD $*" >> "${calls}"\nif [ -n "$FAKE_PULUMI_FAIL" ]; then echo "$FAKE_PULUMI_FAIL" >&2; exit 255; fi\nif [ -n "$FAKE_PULUMI_HANG" ]; then exec sleep 30; fi\ncat "$FAKE_PULUMI_JSON"\n`,
      { mode: 0o755 },
    );
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));
  beforeEach(() => fs.rmSync(calls, { force: true }));

  const stackFile = (name: string, text: string) =>
    fs.writeFileSync(path.join(project, `Pulumi.${name}.yaml`), text);
  const envWith = (extra: Record<string, string>, withPulumi: boolean): NodeJS.ProcessEnv => ({
    ...process.env,
    PATH: withPulumi ? `${bin}${path.delimiter}/usr/bin:/bin` : "/usr/bin:/bin",
    ...extra,
  });
  const run = (argv: string[], extra: Record<string, string> = {}, withPulumi = true) =>
    runCli(argv, { cwd: project, env: envWith(extra, withPulumi) });

  it("a plaintext token in the stack file: validate, plan and kserve exit 1 with the fix", async () => {
    stackFile(
      "leaky",
      "config:\n  model-images:requirePinnedRevisions: false\n  model-images:huggingface-token: hf_plaintext_value\n",
    );
    for (const argv of [
      ["validate", "models.yaml", "--stack", "leaky"],
      ["plan", "--stack", "leaky", "--registry", "127.0.0.1:1"],
      ["kserve", "--stack", "leaky", "--registry", "127.0.0.1:1"],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 1, argv.join(" "));
      assert.equal(r.out, "");
      assert.match(
        r.err,
        /^Pulumi\.leaky\.yaml:3:3: huggingface-token is stored in plaintext .*pulumi config set --secret huggingface-token <token> --stack leaky/,
      );
      assert.doesNotMatch(r.err, /hf_plaintext_value/);
    }
    stackFile(
      "sealed",
      "config:\n  model-images:requirePinnedRevisions: false\n  model-images:huggingface-token:\n    secure: AAABAJ2x\n",
    );
    const ok = await run(["validate", "models.yaml", "--stack", "sealed"]);
    assert.equal(ok.code, 0, ok.err);
  });

  it("ESC environments without the Pulumi CLI: exit 1 naming the environments and what to do", async () => {
    stackFile(
      "esc",
      "environment:\n  - team/common\n  - team/dev\nconfig:\n  aws:region: us-east-1\n",
    );
    for (const argv of [
      ["plan", "--stack", "esc", "--registry", "127.0.0.1:1"],
      ["validate", "models.yaml", "--stack", "esc"],
    ]) {
      const r = await run(argv, {}, false);
      assert.equal(r.code, 1, r.err);
      assert.equal(
        r.err,
        "Pulumi.esc.yaml:1:1: stack 'esc' takes configuration from the Pulumi ESC environments team/common, team/dev, which only the Pulumi CLI can resolve, and 'pulumi' is not on PATH: install it and log in (pulumi login), or run with a stack file that holds the settings itself\n",
      );
    }
  });

  it("ESC environments with the Pulumi CLI: the resolved values decide (prefix, suffix, token presence)", async () => {
    stackFile("esc", "environment:\n  - team/dev\nconfig:\n  aws:region: us-east-1\n");
    const json = path.join(project, "config.json");
    fs.writeFileSync(
      json,
      JSON.stringify({
        "aws:region": { value: "us-east-1", secret: false },
        "model-images:registryPrefix": { value: "from-esc", secret: false },
        "model-images:tagSuffix": { value: "-esc", secret: false },
        "model-images:requirePinnedRevisions": {
          value: "false",
          objectValue: false,
          secret: false,
        },
        "model-images:huggingface-token": { secret: true },
      }),
    );
    const r = await run(["kserve", "--stack", "esc", "--registry", "127.0.0.1:5000"], {
      FAKE_PULUMI_JSON: json,
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /storageUri: oci:\/\/127\.0\.0\.1:5000\/from-esc\/alpha:0\.1\.0-esc\n/);
    assert.equal(fs.readFileSync(calls, "utf8"), `${project} config --json --stack esc\n`);
    // The token is a secret in ESC: validate (the pre-flight for up) accepts the gated model.
    const v = await run(["validate", "models.yaml", "--stack", "esc"], { FAKE_PULUMI_JSON: json });
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /ok \(stack esc\)/);
  });

  it("ESC: a plaintext token there is refused too; a failing pulumi is an error, not defaults", async () => {
    stackFile("esc", "environment:\n  - team/dev\n");
    const json = path.join(project, "leak.json");
    fs.writeFileSync(
      json,
      JSON.stringify({ "model-images:huggingface-token": { value: "hf_x", secret: false } }),
    );
    const leak = await run(["validate", "models.yaml", "--stack", "esc"], {
      FAKE_PULUMI_JSON: json,
    });
    assert.equal(leak.code, 1);
    assert.match(
      leak.err,
      /^Pulumi\.esc\.yaml:1:1: huggingface-token is stored in plaintext .*\(from ESC: team\/dev\)\n$/,
    );
    const failed = await run(["plan", "--stack", "esc", "--registry", "127.0.0.1:1"], {
      FAKE_PULUMI_FAIL: "error: no stack named 'esc' found",
    });
    assert.equal(failed.code, 1);
    assert.equal(
      failed.err,
      "Pulumi.esc.yaml:1:1: stack 'esc' takes configuration from ESC (team/dev), but 'pulumi config --json --stack esc' failed: error: no stack named 'esc' found; check 'pulumi login' and access to the environments\n",
    );
  });

  it("a pulumi that never answers is bounded by --timeout", async () => {
    stackFile("esc", "environment:\n  - team/dev\n");
    const started = Date.now();
    const r = await run(["plan", "--stack", "esc", "--registry", "127.0.0.1:1", "--timeout", "1"], {
      FAKE_PULUMI_HANG: "1",
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      "Pulumi.esc.yaml:1:1: stack 'esc' takes configuration from ESC (team/dev), but 'pulumi config --json --stack esc' failed: no answer within the 1 s --timeout; check 'pulumi login' and access to the environments\n",
    );
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  });
});

describe("the program refuses a plaintext token", () => {
  const CONFIG = {
    "aws:region": "us-east-1",
    "model-images:requirePinnedRevisions": "false",
    "model-images:manifest": "models.yaml",
  };
  before(async () => {
    await installMocks([], "leaky", {}, []);
  });

  it("a token Pulumi did not mark secret stops the program with the fix; a secret one does not", () => {
    const root = path.resolve(__dirname, "..");
    pulumi.runtime.setAllConfig({ ...CONFIG, "model-images:huggingface-token": "hf_x" }, []);
    assert.throws(
      () => readStackInputs(root),
      (e: Error) =>
        e instanceof pulumi.RunError &&
        e.message.includes(
          "model-images:huggingface-token: huggingface-token is stored in plaintext",
        ) &&
        e.message.includes(FIX) &&
        !e.message.includes("hf_x"),
    );
    pulumi.runtime.setAllConfig({ ...CONFIG, "model-images:huggingface-token": "hf_x" }, [
      "model-images:huggingface-token",
    ]);
    const inputs = readStackInputs(root);
    assert.equal(inputs.settings.hasHuggingfaceToken, true);
    assert.ok(inputs.huggingfaceToken !== undefined);
  });
});
