// buildspec/sign-and-attest.sh run by bash against the shared fake tools (test/support/fakeTools.sh): push → sign → BOM attach, the arguments, the pinned cosign, and failures failing the build.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { fakeTools, type ToolCall } from "./support/fakeTools";

const ROOT = path.resolve(__dirname, "..");
const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kserve-models/tiny";
const DIGEST = `sha256:${"ab".repeat(32)}`;
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const COSIGN_AMD64 = "4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71";

/** A fake tool's call, with only the registry login from its environment (what the BOM step gets). */
interface Call extends Omit<ToolCall, "env"> {
  env: { REGISTRY_USERNAME?: string; REGISTRY_PASSWORD?: string };
}

interface Run {
  status: number | null;
  output: string;
  calls: Call[];
}

/** The script under `bash -c` with the shared fake tools first on PATH; `fail` is FAKE_FAIL (see fakeTools.ts). */
function run(script: string, env: Record<string, string>, fail?: string): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sign-attest-"));
  try {
    const tools = fakeTools(dir, DIGEST);
    const res = spawnSync("bash", ["-c", script], {
      cwd: ROOT,
      env: {
        PATH: `${tools.bin}:/usr/bin:/bin`,
        HOME: dir,
        TMPDIR: dir,
        ...tools.env,
        ...(fail ? { FAKE_FAIL: fail } : {}),
        AWS_DEFAULT_REGION: "eu-west-1",
        ...env,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    const calls = tools
      .calls()
      // `uname -m` only picks the cosign build (the fake says x86_64); the checks are on the tools run.
      .filter((c) => c.tool !== "uname")
      .map(({ env: callEnv, ...call }) => ({
        ...call,
        env: Object.fromEntries(
          ["REGISTRY_USERNAME", "REGISTRY_PASSWORD"]
            .filter((k) => k in callEnv)
            .map((k) => [k, callEnv[k]]),
        ),
      }));
    return { status: res.status, output: `${res.stdout}${res.stderr}`, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SIGN = `bash buildspec/sign-and-attest.sh ${REPO} ${DIGEST}`;
const summary = (calls: Call[]) => calls.map((c) => `${c.tool} ${c.argv.slice(0, 2).join(" ")}`);

describe("buildspec/sign-and-attest.sh against fake tools", () => {
  it("installs the pinned cosign, checks its sha256 before running it, signs the digest with the KMS key, then attaches the BOM", () => {
    const r = run(SIGN, { SIGNING_KEY_ARN: KEY, BOM_ATTACH: "true" });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(summary(r.calls), [
      "curl --proto =https",
      "sha256sum --check --strict",
      "cosign sign --yes",
      "docker buildx build",
      "aws ecr get-login-password",
      "node dist/model-images.js bom",
    ]);
    const [curl, sum, cosign, extract, , bom] = r.calls;
    assert.equal(
      curl.argv.at(-1),
      "https://github.com/sigstore/cosign/releases/download/v3.1.3/cosign-linux-amd64",
    );
    assert.match(sum.stdin ?? "", new RegExp(`^${COSIGN_AMD64}  .*/bin/cosign\\n$`));
    assert.deepEqual(cosign.argv, [
      "sign",
      "--yes",
      "--key",
      `awskms:///${KEY}`,
      "--new-bundle-format=false",
      "--use-signing-config=false",
      "--tlog-upload=false",
      `${REPO}@${DIGEST}`,
    ]);
    assert.ok(extract.argv.includes(`modelcar=docker-image://${REPO}@${DIGEST}`));
    assert.match(extract.stdin ?? "", /COPY --from=modelcar \/models\/\.provenance\.json/);
    assert.deepEqual(bom.argv.slice(1, 3), ["bom", "--provenance"]);
    assert.deepEqual(bom.argv.slice(4), ["--image", `${REPO}@${DIGEST}`, "--attach"]);
    assert.deepEqual(bom.env, { REGISTRY_USERNAME: "AWS", REGISTRY_PASSWORD: "fake-ecr-password" });
    assert.ok(!r.output.includes("fake-ecr-password"), "the registry password is never printed");
  });

  // [test, FAKE_FAIL: the failing call's prefix, message, the tools run]
  const failures: [string, string, RegExp, string[]][] = [
    [
      "a cosign whose sha256 is not the pinned one is never run",
      "sha256sum",
      /does not have the pinned sha256 4629c757/,
      ["curl", "sha256sum"],
    ],
    [
      "a signing failure fails before any BOM is attached",
      "cosign sign",
      /cosign could not sign .*kserve-models\/tiny@sha256:abab.* Check that this build's role may kms:Sign/,
      ["curl", "sha256sum", "cosign"],
    ],
    [
      "a failed BOM attach fails the build",
      "node dist/model-images.js bom",
      /could not attach the BOM/,
      ["curl", "sha256sum", "cosign", "docker", "aws", "node"],
    ],
  ];
  for (const [name, fail, message, tools] of failures) {
    it(name, () => {
      const r = run(SIGN, { SIGNING_KEY_ARN: KEY, BOM_ATTACH: "true" }, fail);
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, message);
      assert.deepEqual(
        r.calls.map((c) => c.tool),
        tools,
      );
    });
  }

  it("signing: none and no bundle: neither cosign nor the BOM, said so in the log", () => {
    const r = run(SIGN, {});
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.calls, []);
    assert.match(r.output, /SIGNING_KEY_ARN is empty \(signing: none\)/);
    assert.match(r.output, /no BOM attached/);
  });
});

describe("buildspec.yml calls sign-and-attest.sh right after the push", () => {
  it("as the build phase's last step, with the repository and the pushed digest", () => {
    const spec = parse(fs.readFileSync(path.join(ROOT, "buildspec", "buildspec.yml"), "utf8")) as {
      phases: Record<string, { commands: string[] }>;
    };
    const build = spec.phases.build.commands.join("\n").trimEnd().split("\n");
    const push = build.findIndex((l) => l.includes("push=true"));
    const sign = build.findIndex((l) => l.includes("sign-and-attest.sh"));
    assert.ok(push >= 0 && sign > push, "the push comes before signing");
    assert.equal(
      build.at(-1)!.trim(),
      'bash buildspec/sign-and-attest.sh "$REPOSITORY_URI" "$IMAGE_DIGEST"',
    );
    assert.equal(spec.phases.build["on-failure" as never], "ABORT");
  });
});
