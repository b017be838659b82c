// buildspec/buildspec.yml run the way CodeBuild runs it (test/support/codebuild.ts) against fake tools: push → sign → BOM attach, their arguments, failures failing the build, the HF token's reach.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runBuild, type BuildRun } from "./support/buildRun";
import { runCodeBuild } from "./support/codebuild";
import type { ToolCall } from "./support/fakeTools";

const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kserve-models/tiny";
const DIGEST = `sha256:${"ab".repeat(32)}`;
const OLD_DIGEST = `sha256:${"3c".repeat(32)}`;
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
// Never a real token: must not match hf_ followed by 30 letters.
const TOKEN = "hf_fake-token-for-buildspec-runs";

/** The project's variables on a prod stack (signing: cosign-kms), HF_TOKEN from Secrets Manager. */
function prodEnv(over: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    MODEL_NAME: "tiny",
    MODEL_ID: "acme/tiny",
    MODEL_REVISION: "0123456789abcdef0123456789abcdef01234567",
    IMAGE_TAG: "1.0",
    REPOSITORY_URI: REPO,
    ACCELERATOR: "cpu",
    AWS_DEFAULT_REGION: "eu-west-1",
    SIGNING_KEY_ARN: KEY,
    BOM_ATTACH: "true",
    HF_TOKEN: TOKEN,
    ...over,
  };
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

const line = (c: ToolCall) => [c.tool, ...c.argv].join(" ");
const isPush = (c: ToolCall) =>
  c.tool === "docker" && c.argv[1] === "build" && c.argv.some((a) => a.includes("push=true"));
const isSign = (c: ToolCall) => c.tool === "cosign" && c.argv[0] === "sign";
const isBomAttach = (c: ToolCall) =>
  c.tool === "node" && c.argv[1] === "bom" && c.argv.includes("--attach");
const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

/** The supply-chain steps in the order they ran. */
function steps(r: BuildRun): string[] {
  return r.calls.flatMap((c) =>
    isPush(c) ? ["push"] : isSign(c) ? ["sign"] : isBomAttach(c) ? ["bom-attach"] : [],
  );
}

function assertSucceeded(r: BuildRun): void {
  assert.equal(r.status, "SUCCEEDED", r.output);
}

describe("the CodeBuild harness follows the buildspec reference", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(phases: string, exported: string[] = []) {
    const spec = path.join(dir, "buildspec.yml");
    const env = `version: 0.2\nenv:\n  shell: bash\n  exported-variables: [${exported.join(", ")}]\n`;
    fs.writeFileSync(spec, `${env}phases:\n${phases}`);
    fs.mkdirSync(path.join(dir, "src"));
    return runCodeBuild({
      buildspec: spec,
      srcDir: path.join(dir, "src"),
      workDir: dir,
      env: { PATH: "/usr/bin:/bin", HOME: dir },
    });
  }

  it("carries the working directory and plain variables to the next command, not functions, arrays or set options", () => {
    const r = run(`  build:
    commands:
      - |
        set -u
        f() { echo f; }
        list=(a b)
        plain=kept
        mkdir -p sub && cd sub
      - echo "dir=\${PWD##*/} plain=$plain list=\${list[1]:-gone} unset=$NOT_SET_ANYWHERE"; type f >/dev/null 2>&1 || echo "no f"
`);
    assert.equal(r.status, "SUCCEEDED", r.output);
    assert.match(r.output, /dir=sub plain=kept list=gone unset=\n/);
    assert.match(r.output, /no f/);
  });

  it("a failing command skips the rest of its phase, runs finally, and fails the build; ABORT skips post_build", () => {
    const r = run(`  build:
    on-failure: ABORT
    commands:
      - echo one; false
      - echo two
    finally:
      - echo cleanup
  post_build:
    commands:
      - echo post
`);
    assert.equal(r.status, "FAILED");
    assert.deepEqual(r.phases, [{ name: "build", status: "FAILED", ran: 2 }]);
    assert.match(r.output, /one\n[\s\S]*cleanup/);
    assert.doesNotMatch(r.output, /two|post/);
  });

  it("without on-failure, post_build still runs after a failed build phase, told by CODEBUILD_BUILD_SUCCEEDING=0; the build stays FAILED", () => {
    const r = run(
      `  build:
    commands:
      - DIGEST=sha256:x; exit 3
  post_build:
    commands:
      - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING"
`,
      ["DIGEST", "AWS_REGION_X"],
    );
    assert.equal(r.status, "FAILED");
    assert.deepEqual(
      r.phases.map((p) => `${p.name} ${p.status}`),
      ["build FAILED", "post_build SUCCEEDED"],
    );
    assert.match(r.output, /post succeeding=0/);
    assert.deepEqual(r.exported, { DIGEST: "sha256:x" });
  });

  it("a failed pre_build ends the build unless on-failure: CONTINUE", () => {
    const phases = (onFailure: string) => `  pre_build:
${onFailure}    commands:
      - exit 1
  build:
    commands:
      - echo built
`;
    const ended = run(phases(""));
    assert.deepEqual(
      ended.phases.map((p) => p.name),
      ["pre_build"],
    );
    fs.rmSync(path.join(dir, "src"), { recursive: true });
    const continued = run(phases("    on-failure: CONTINUE\n"));
    assert.equal(continued.status, "FAILED");
    assert.match(continued.output, /built/);
  });
});

describe("buildspec/buildspec.yml run as CodeBuild runs it, against fake tools", function () {
  this.timeout(60_000);

  it("prod: pushes, signs the pushed digest with the KMS key, then attaches the BOM to that digest", () => {
    const r = runBuild(prodEnv());
    assertSucceeded(r);
    assert.deepEqual(steps(r), ["push", "sign", "bom-attach"]);
    assert.deepEqual(
      r.phases.map((p) => `${p.name} ${p.status}`),
      ["pre_build SUCCEEDED", "build SUCCEEDED"],
    );
    const push = r.calls.find(isPush) as ToolCall;
    assert.ok(after(push.argv, "--output").includes(`name=${REPO}:1.0,push=true`));
    const sign = r.calls.find(isSign) as ToolCall;
    // Digest-pinned (a tag could move between push and sign), with the stack's KMS key.
    assert.equal(sign.argv.at(-1), `${REPO}@${DIGEST}`);
    assert.equal(after(sign.argv, "--key"), `awskms:///${KEY}`);
    // cosign came from the pinned release, checked before it ran.
    const order = r.calls.map((c) => c.tool);
    assert.ok(order.indexOf("curl") < order.indexOf("sha256sum"));
    assert.ok(order.indexOf("sha256sum") < order.indexOf("cosign"));
    const bom = r.calls.find(isBomAttach) as ToolCall;
    assert.equal(after(bom.argv, "--image"), `${REPO}@${DIGEST}`);
    assert.equal(bom.argv[0], "dist/model-images.js");
    assert.deepEqual(r.exported, { IMAGE_URI: `${REPO}:1.0`, IMAGE_DIGEST: DIGEST });
  });

  it("signing: none (SIGNING_KEY_ARN empty): nothing is downloaded or signed; the BOM is still attached", () => {
    const r = runBuild(prodEnv({ SIGNING_KEY_ARN: "" }));
    assertSucceeded(r);
    assert.deepEqual(steps(r), ["push", "bom-attach"]);
    assert.ok(!r.calls.some((c) => ["curl", "cosign", "sha256sum"].includes(c.tool)));
    assert.match(r.output, /SIGNING_KEY_ARN is empty \(signing: none\)/);
  });

  it("a failing cosign sign fails the build phase and the build, and no BOM is attached", () => {
    const r = runBuild(prodEnv(), { fail: "cosign sign" });
    assert.equal(r.status, "FAILED");
    assert.deepEqual(
      r.phases.map((p) => `${p.name} ${p.status}`),
      ["pre_build SUCCEEDED", "build FAILED"],
    );
    assert.deepEqual(steps(r), ["push", "sign"]);
    assert.match(r.output, /cosign could not sign .*tiny@sha256:abab.* kms:Sign/);
  });

  it("a failing push fails the build before anything is signed", () => {
    const r = runBuild(prodEnv(), { fail: "docker buildx build --progress=plain" });
    assert.equal(r.status, "FAILED");
    assert.deepEqual(steps(r), ["push"]);
  });

  for (const accelerator of ["cpu", "cuda"]) {
    it(`the HF token (${accelerator}) is on no command line, in no output, and in the environment of the buildx builds only`, () => {
      const r = runBuild(prodEnv({ ACCELERATOR: accelerator }));
      assertSucceeded(r);
      assert.ok(r.calls.length > 10, "the run called the tools");
      for (const c of r.calls) {
        assert.ok(!line(c).includes(TOKEN), `on the command line of ${line(c)}`);
        const holders = Object.entries(c.env).filter(([, v]) => v.includes(TOKEN));
        const isSecretBuild =
          c.tool === "docker" &&
          c.argv[1] === "build" &&
          c.argv.includes("id=hf_token,env=HF_TOKEN");
        if (isSecretBuild) {
          assert.deepEqual(
            holders.map(([k]) => k),
            ["HF_TOKEN"],
          );
        } else {
          assert.deepEqual(holders, [], `${line(c)} sees the token`);
        }
      }
      const builds = r.calls.filter((c) => c.tool === "docker" && c.argv[1] === "build");
      // cuda: the smoke export and the push; cpu: the push; then the BOM's read of the image.
      assert.equal(builds.length, accelerator === "cuda" ? 3 : 2);
      assert.equal(builds.filter((c) => c.env.HF_TOKEN === TOKEN).length, builds.length - 1);
      assert.ok(!r.output.includes(TOKEN));
    });
  }

  it("SIGN_ONLY_DIGEST: no build and no push; signs and attaches the BOM to that digest of the repository", () => {
    const r = runBuild(prodEnv({ ACCELERATOR: "cuda", SIGN_ONLY_DIGEST: OLD_DIGEST }));
    assertSucceeded(r);
    assert.deepEqual(steps(r), ["sign", "bom-attach"]);
    assert.ok(!r.calls.some((c) => c.tool === "nvidia-smi"), "no GPU check without a build");
    assert.equal((r.calls.find(isSign) as ToolCall).argv.at(-1), `${REPO}@${OLD_DIGEST}`);
    assert.equal(
      after((r.calls.find(isBomAttach) as ToolCall).argv, "--image"),
      `${REPO}@${OLD_DIGEST}`,
    );
    const inspect = r.calls.find((c) => c.argv[1] === "imagetools") as ToolCall;
    assert.deepEqual(inspect.argv, [
      "buildx",
      "imagetools",
      "inspect",
      `${REPO}:1.0@${OLD_DIGEST}`,
    ]);
    assert.deepEqual(r.exported, { IMAGE_URI: `${REPO}:1.0`, IMAGE_DIGEST: OLD_DIGEST });
  });

  it("SIGN_ONLY_DIGEST that is not a digest fails before anything is signed", () => {
    const r = runBuild(prodEnv({ SIGN_ONLY_DIGEST: "latest" }));
    assert.equal(r.status, "FAILED");
    assert.deepEqual(steps(r), []);
    assert.match(r.output, /SIGN_ONLY_DIGEST=latest is not a sha256:<64 hex> digest/);
  });

  it("pull-through names reach the builds through the script the archive carries", () => {
    const mirror = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-1a2b3c";
    const r = runBuild(
      prodEnv({
        BASE_IMAGE: "public.ecr.aws/docker/library/busybox:1.37.0",
        PULL_THROUGH_ECR_PUBLIC: `${mirror}/ecr-public`,
        PULL_THROUGH_DOCKER_HUB: `${mirror}/docker-hub`,
      }),
    );
    assertSucceeded(r);
    const buildkitd = r.calls.find((c) => c.tool === "docker" && c.argv.includes("-d"));
    assert.ok(buildkitd?.argv.includes(`${mirror}/docker-hub/moby/buildkit:v0.26.3`));
    const push = r.calls.find(isPush) as ToolCall;
    assert.ok(
      push.argv.includes(`BASE_IMAGE=${mirror}/ecr-public/docker/library/busybox:1.37.0`),
      push.argv.join(" "),
    );
  });
});
