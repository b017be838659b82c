// Checks buildspec/buildspec.yml: its structure, and what its commands do when CodeBuild's phases run them (test/support/codebuild.ts) against fake aws, docker and nvidia-smi executables.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { type BuildRun, runBuild } from "./support/buildRun";
import type { ToolCall } from "./support/fakeTools";

const ROOT = path.resolve(__dirname, "..");
const BUILDSPEC = path.join(ROOT, "buildspec", "buildspec.yml");
const PHASE_ORDER = ["install", "pre_build", "build", "post_build"];
// Never a real token: must not match hf_ followed by 30 letters.
const TOKEN = "hf_fake-token-for-tests";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"ab".repeat(32)}`;
const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kserve-models/tiny-llama";

interface Phase {
  "on-failure"?: string;
  commands: string[];
}
interface Buildspec {
  version: unknown;
  env: { shell?: string; variables?: Record<string, string>; "exported-variables"?: string[] };
  phases: Record<string, Phase>;
}

type Call = ToolCall;

function loadBuildspec(): Buildspec {
  return parse(fs.readFileSync(BUILDSPEC, "utf8")) as Buildspec;
}

function allCommands(spec: Buildspec): string[] {
  return PHASE_ORDER.flatMap((p) => spec.phases[p]?.commands ?? []);
}

function contractEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    MODEL_NAME: "tiny-llama",
    MODEL_ID: "acme/tiny-llama",
    MODEL_REVISION: SHA,
    IMAGE_TAG: "1.0",
    REPOSITORY_URI: REPO,
    BASE_IMAGE: "public.ecr.aws/docker/library/busybox:1.37.0",
    PYTHON_IMAGE: "public.ecr.aws/docker/library/python:3.12.8-slim-bookworm",
    ACCELERATOR: "cpu",
    PLATFORMS: "linux/amd64,linux/arm64",
    INCLUDE_PATTERNS: '["*.safetensors","*.json"]',
    EXCLUDE_PATTERNS: '["original/*"]',
    MAX_LAYER_BYTES: "10737418240",
    AWS_DEFAULT_REGION: "eu-west-1",
    HF_TOKEN: TOKEN,
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** One CodeBuild build of the buildspec; `fail` makes matching fake calls fail (FAKE_FAIL). */
function runBuildspec(
  env: Record<string, string>,
  opts: { fail?: string; digest?: string } = {},
): BuildRun {
  return runBuild(env, { digest: DIGEST, ...opts });
}

function builds(calls: Call[]): Call[] {
  return calls.filter(
    (c) => c.tool === "docker" && c.argv[0] === "buildx" && c.argv[1] === "build",
  );
}

/** The GPU-relevant sequence: host GPU probe, builds (by output type), container runs. */
function steps(calls: Call[]): string[] {
  return calls.flatMap((c) => {
    if (c.tool === "nvidia-smi") {
      return ["host-gpu"];
    }
    if (c.tool === "docker" && c.argv[0] === "run" && c.argv.includes("--gpus")) {
      return ["run"];
    }
    if (c.tool === "docker" && c.argv[1] === "build") {
      return [`build ${flagValues(c.argv, "--output")[0].split(",")[0]}`];
    }
    return [];
  });
}

/** Value of `--flag value` (every occurrence). */
function flagValues(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
}

function buildArgs(argv: string[]): Record<string, string> {
  return Object.fromEntries(
    flagValues(argv, "--build-arg").map((kv) => [
      kv.slice(0, kv.indexOf("=")),
      kv.slice(kv.indexOf("=") + 1),
    ]),
  );
}

function assertOk(r: BuildRun): void {
  assert.equal(r.status, "SUCCEEDED", `buildspec failed:\n${r.output}`);
}

describe("buildspec/buildspec.yml", () => {
  describe("structure", () => {
    const spec = loadBuildspec();

    it("is a version 0.2 buildspec run by bash that exports the digest", () => {
      assert.equal(spec.version, 0.2);
      assert.equal(spec.env.shell, "bash");
      assert.deepEqual(spec.env["exported-variables"], ["IMAGE_URI", "IMAGE_DIGEST"]);
      // Defaults in env.variables could shadow the project's values; they live in the shell.
      assert.equal(spec.env.variables, undefined);
      assert.deepEqual(Object.keys(spec.phases), ["pre_build", "build"]);
    });

    it("fails fast: every command block starts with set -euo pipefail and every phase aborts", () => {
      for (const [name, phase] of Object.entries(spec.phases)) {
        assert.equal(phase["on-failure"], "ABORT", `phase ${name}`);
        for (const cmd of phase.commands) {
          assert.match(
            cmd,
            /^set -euo pipefail\n/,
            `a ${name} command does not start with set -euo pipefail:\n${cmd}`,
          );
        }
      }
    });

    it("never traces commands or expands the token onto a command line", () => {
      const text = allCommands(spec).join("\n");
      assert.doesNotMatch(text, /set -[a-z]*x|set -o xtrace/);
      // The only expansions of HF_TOKEN: the emptiness test, and the value handed to the two
      // buildx builds' environment; buildx gets the variable's name on its command line.
      const lines = text.split("\n").filter((l) => /\$\{?HF_TOKEN/.test(l));
      assert.deepEqual(
        lines.map((l) => l.trim().replace(/ "\$\{common.*/, "")),
        [
          'if [ -n "${HF_TOKEN:-}" ]; then',
          'HF_TOKEN="${HF_TOKEN:-}" docker buildx build',
          'HF_TOKEN="${HF_TOKEN:-}" docker buildx build',
        ],
      );
      assert.match(text, /--secret id=hf_token,env=HF_TOKEN/);
    });
  });

  describe("run against fake aws and docker", function () {
    this.timeout(60_000);

    it("logs in to ECR, runs BuildKit with its state on CODEBUILD_SRC_DIR's disk, builds every platform with cache and pushes", () => {
      const r = runBuildspec(contractEnv());
      assertOk(r);

      // aws and docker login run side by side in one pipe: either may be recorded first.
      const [first, second, buildkitd, create] = r.calls.filter(
        (c) => c.tool !== "docker" || c.argv[1] !== "version",
      );
      const [awsCall, login] = first.tool === "aws" ? [first, second] : [second, first];
      assert.deepEqual(awsCall.argv, ["ecr", "get-login-password", "--region", "eu-west-1"]);
      assert.deepEqual(login.argv, [
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      ]);
      assert.equal(login.stdin?.trim(), "fake-ecr-password");
      // BuildKit's state (snapshots, content store) is a bind mount from the build's own disk,
      // not the docker volume under /var/lib/docker that the docker-container driver would use.
      const work = path.join(r.srcDir, ".modelcar");
      assert.deepEqual(buildkitd.argv.slice(0, 5), [
        "run",
        "-d",
        "--name",
        "modelcar-buildkitd",
        "--privileged",
      ]);
      assert.deepEqual(flagValues(buildkitd.argv, "-v"), [
        `${work}/buildkit:/var/lib/buildkit`,
        `${work}/run:/run/buildkit`,
      ]);
      assert.ok(buildkitd.argv.includes("moby/buildkit:v0.26.3"));
      assert.deepEqual(create.argv, [
        "buildx",
        "create",
        "--name",
        "modelcar",
        "--driver",
        "remote",
        "--use",
        `unix://${work}/run/buildkitd.sock`,
      ]);
      assert.match(r.output, new RegExp(`BuildKit state in ${work}/buildkit`));

      const all = builds(r.calls);
      assert.equal(all.length, 1, "a cpu variant builds once");
      const argv = all[0].argv;
      assert.deepEqual(flagValues(argv, "--platform"), ["linux/amd64,linux/arm64"]);
      assert.deepEqual(flagValues(argv, "--file"), ["docker/Dockerfile"]);
      assert.equal(argv[argv.length - 1], "docker", "the build context is docker/");
      assert.deepEqual(buildArgs(argv), {
        MODEL_ID: "acme/tiny-llama",
        MODEL_REVISION: SHA,
        MODEL_NAME: "tiny-llama",
        IMAGE_VERSION: "1.0",
        INCLUDE_PATTERNS: '["*.safetensors","*.json"]',
        EXCLUDE_PATTERNS: '["original/*"]',
        MAX_LAYER_BYTES: "10737418240",
        BASE_IMAGE: "public.ecr.aws/docker/library/busybox:1.37.0",
        PYTHON_IMAGE: "public.ecr.aws/docker/library/python:3.12.8-slim-bookworm",
      });

      const cacheRef = `${REPO}:buildcache-cpu-${SHA}`;
      assert.deepEqual(flagValues(argv, "--cache-from"), [`type=registry,ref=${cacheRef}`]);
      const [cacheTo] = flagValues(argv, "--cache-to");
      // mode=min: the cache holds the image's own layers (the blobs the push uploads anyway),
      // never the downloader stage's layer, a second copy of the weights.
      assert.ok(
        !cacheTo.split(",").includes("mode=max"),
        `--cache-to ${cacheTo} exports every stage`,
      );
      for (const opt of [
        `ref=${cacheRef}`,
        "mode=min",
        "image-manifest=true",
        "oci-mediatypes=true",
        "compression=zstd",
        "compression-level=1",
        "force-compression=true",
      ]) {
        assert.ok(cacheTo.split(",").includes(opt), `--cache-to ${cacheTo} lacks ${opt}`);
      }
      const [output] = flagValues(argv, "--output");
      for (const opt of [
        "type=image",
        `name=${REPO}:1.0`,
        "push=true",
        "compression=zstd",
        "compression-level=1",
        "force-compression=true",
      ]) {
        assert.ok(output.split(",").includes(opt), `--output ${output} lacks ${opt}`);
      }
      assert.equal(flagValues(argv, "--metadata-file").length, 1);
      assert.ok(!argv.includes("--load") && !argv.includes("--no-cache-filter"));
      assert.ok(
        !r.calls.some((c) => c.tool === "docker" && c.argv.includes("--gpus")),
        "no GPU check for cpu",
      );

      assert.deepEqual(flagValues(argv, "--secret"), ["id=hf_token,env=HF_TOKEN"]);
      assert.equal(all[0].env.HF_TOKEN, TOKEN, "buildx must see the token in its environment");

      const inspect = r.calls.find((c) => c.argv[1] === "imagetools");
      assert.deepEqual(inspect?.argv, ["buildx", "imagetools", "inspect", `${REPO}:1.0@${DIGEST}`]);
      assert.match(r.output, new RegExp(`IMAGE_DIGEST=${DIGEST}`));
      assert.deepEqual(r.exported, { IMAGE_URI: `${REPO}:1.0`, IMAGE_DIGEST: DIGEST });
    });

    it("keeps the token off every command line and out of the log", () => {
      const r = runBuildspec(contractEnv());
      assertOk(r);
      for (const c of r.calls) {
        assert.ok(!c.argv.some((a) => a.includes(TOKEN)), `${c.tool} ${c.argv.join(" ")}`);
      }
      assert.ok(!r.output.includes(TOKEN));
    });

    for (const [label, token] of [
      ["unset", undefined],
      ["empty", ""],
    ] as const) {
      it(`passes no secret when HF_TOKEN is ${label}`, () => {
        const r = runBuildspec(contractEnv({ HF_TOKEN: token }));
        assertOk(r);
        assert.deepEqual(flagValues(builds(r.calls)[0].argv, "--secret"), []);
      });
    }

    it("leaves the Dockerfile defaults and shell defaults in place for empty optional values", () => {
      const r = runBuildspec(
        contractEnv({
          BASE_IMAGE: "",
          PYTHON_IMAGE: undefined,
          PLATFORMS: undefined,
          ACCELERATOR: undefined,
          INCLUDE_PATTERNS: undefined,
        }),
      );
      assertOk(r);
      const argv = builds(r.calls)[0].argv;
      const args = buildArgs(argv);
      assert.equal(args.BASE_IMAGE, undefined);
      assert.equal(args.PYTHON_IMAGE, undefined);
      assert.equal(args.INCLUDE_PATTERNS, "[]");
      assert.deepEqual(flagValues(argv, "--platform"), ["linux/amd64"]);
      assert.ok(flagValues(argv, "--cache-from")[0].endsWith(`:buildcache-cpu-${SHA}`));
    });

    it("downloads afresh for a branch revision, whose cached download may be stale", () => {
      const r = runBuildspec(contractEnv({ MODEL_REVISION: "refs/pr/1" }));
      assertOk(r);
      const argv = builds(r.calls)[0].argv;
      assert.deepEqual(flagValues(argv, "--no-cache-filter"), ["downloader"]);
      assert.deepEqual(flagValues(argv, "--cache-from"), [
        `type=registry,ref=${REPO}:buildcache-cpu-refs-pr-1`,
      ]);
    });

    it("runs the GPU smoke check with its own pinned CUDA image on the exported linux/amd64 model before pushing a cuda variant", () => {
      const r = runBuildspec(contractEnv({ ACCELERATOR: "cuda", IMAGE_TAG: "1.0-cuda" }));
      assertOk(r);
      assert.deepEqual(steps(r.calls), ["host-gpu", "build type=local", "run", "build type=image"]);

      const [smoke, push] = builds(r.calls);
      assert.deepEqual(flagValues(smoke.argv, "--platform"), ["linux/amd64"]);
      const smokeDir = path.join(r.srcDir, ".modelcar", "smoke");
      assert.deepEqual(flagValues(smoke.argv, "--output"), [`type=local,dest=${smokeDir}`]);
      assert.deepEqual(
        flagValues(smoke.argv, "--cache-to"),
        [],
        "only the pushed build writes the cache",
      );
      // The pushed build is the cpu build's: same Dockerfile, same base, no CUDA anywhere.
      assert.equal(buildArgs(push.argv).BASE_IMAGE, "public.ecr.aws/docker/library/busybox:1.37.0");
      const run = r.calls.find((c) => c.tool === "docker" && c.argv.includes("--gpus"));
      assert.ok(run);
      assert.deepEqual(run.argv.slice(0, 4), ["run", "--rm", "--gpus", "all"]);
      assert.ok(flagValues(run.argv, "-e").includes("NVIDIA_DISABLE_REQUIRE=true"));
      assert.deepEqual(flagValues(run.argv, "-v"), [`${smokeDir}:/modelcar`]);
      assert.ok(run.argv.includes("nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04"));
      const script = run.argv[run.argv.length - 1];
      assert.match(script, /nvidia-smi -L/);
      assert.match(script, /chroot \/modelcar \/bin\/sh -c "\$MODELCAR_CHECK"/);
      const check = flagValues(run.argv, "-e").find((e) => e.startsWith("MODELCAR_CHECK="));
      assert.match(check ?? "", /ls -A \/models/);
      assert.ok(
        flagValues(push.argv, "--cache-to")[0].includes(`ref=${REPO}:buildcache-cuda-${SHA}`),
      );
      assert.ok(flagValues(push.argv, "--output")[0].includes(`name=${REPO}:1.0-cuda`));
      assert.ok(!r.leftovers.includes("smoke"), "the exported model is removed before the push");
    });

    it("runs the smoke check with CUDA_SMOKE_IMAGE when set", () => {
      const image =
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nvidia/cuda:12.8.1-base-ubuntu24.04";
      const r = runBuildspec(contractEnv({ ACCELERATOR: "cuda", CUDA_SMOKE_IMAGE: image }));
      assertOk(r);
      const run = r.calls.find((c) => c.tool === "docker" && c.argv.includes("--gpus"));
      assert.ok(run?.argv.includes(image));
    });

    it("pushes nothing when the GPU smoke check fails", () => {
      const r = runBuildspec(contractEnv({ ACCELERATOR: "cuda" }), { fail: "docker run --rm" });
      assert.equal(r.status, "FAILED");
      assert.match(r.output, new RegExp(`GPU smoke check of ${REPO}:1.0 failed`));
      assert.deepEqual(
        steps(r.calls),
        ["host-gpu", "build type=local", "run"],
        "no push build after a failed check",
      );
    });

    it("refuses a cuda build on a host without a GPU", () => {
      const r = runBuildspec(contractEnv({ ACCELERATOR: "cuda" }), { fail: "nvidia-smi" });
      assert.equal(r.status, "FAILED");
      assert.match(r.output, /no GPU on this build host/);
      assert.equal(builds(r.calls).length, 0);
    });

    it("names missing contract variables and an unknown accelerator before touching docker", () => {
      let r = runBuildspec(contractEnv({ REPOSITORY_URI: undefined, IMAGE_TAG: "" }));
      assert.equal(r.status, "FAILED");
      assert.match(r.output, /did not set IMAGE_TAG REPOSITORY_URI/);
      assert.deepEqual(r.calls, []);

      r = runBuildspec(contractEnv({ ACCELERATOR: "rocm" }));
      assert.equal(r.status, "FAILED");
      assert.match(r.output, /ACCELERATOR=rocm is not supported; use cpu or cuda/);
      assert.deepEqual(r.calls, []);
    });

    it("fails when buildx reports no digest", () => {
      const r = runBuildspec(contractEnv(), { digest: "" });
      assert.equal(r.status, "FAILED");
      assert.match(r.output, /buildx wrote no containerimage.digest/);
    });
  });

  describe("pull-through cache (pullThroughCache: true)", function () {
    this.timeout(60_000);
    const MIRROR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    const ECR_PUBLIC = `${MIRROR}/dev-1a2b3c/ecr-public`;
    const DOCKER_HUB = `${MIRROR}/dev-1a2b3c/docker-hub`;
    // The image of the buildkitd container the buildspec starts (its state on the build's disk).
    const builderImage = (calls: Call[]) => {
      const argv = calls.find(
        (c) => c.tool === "docker" && c.argv[0] === "run" && c.argv.includes("-d"),
      )?.argv;
      return argv ? `image=${argv[argv.indexOf("--addr") - 1]}` : undefined;
    };
    const dockerfilePython = /^ARG PYTHON_IMAGE=(.*)$/m.exec(
      fs.readFileSync(path.join(ROOT, "docker", "Dockerfile"), "utf8"),
    )?.[1] as string;

    it("pulls the base, python and BuildKit images through the rules' names", () => {
      const r = runBuildspec(
        contractEnv({
          PYTHON_IMAGE: undefined,
          PULL_THROUGH_ECR_PUBLIC: ECR_PUBLIC,
          PULL_THROUGH_DOCKER_HUB: DOCKER_HUB,
        }),
      );
      assertOk(r);
      const args = buildArgs(builds(r.calls)[0].argv);
      assert.equal(args.BASE_IMAGE, `${ECR_PUBLIC}/docker/library/busybox:1.37.0`);
      // The Dockerfile's own pinned default, read from it, under the cache's name.
      assert.match(dockerfilePython, /^public\.ecr\.aws\//);
      assert.equal(
        args.PYTHON_IMAGE,
        `${ECR_PUBLIC}/${dockerfilePython.slice("public.ecr.aws/".length)}`,
      );
      assert.equal(builderImage(r.calls), `image=${DOCKER_HUB}/moby/buildkit:v0.26.3`);
    });

    const NAMES: [string, string, Record<string, string>][] = [
      ["python:3.12", `${DOCKER_HUB}/library/python:3.12`, { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB }],
      [
        "docker.io/library/busybox:1",
        `${DOCKER_HUB}/library/busybox:1`,
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB },
      ],
      [
        "docker.io/busybox:1",
        `${DOCKER_HUB}/library/busybox:1`,
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB },
      ],
      [
        "registry-1.docker.io/org/img@sha256:ab",
        `${DOCKER_HUB}/org/img@sha256:ab`,
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB },
      ],
      [
        "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04",
        "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04",
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB, PULL_THROUGH_ECR_PUBLIC: ECR_PUBLIC },
      ],
      [
        "localhost:5000/busybox:1",
        "localhost:5000/busybox:1",
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB },
      ],
      // Only an ECR Public rule: Docker Hub names stay as they are.
      ["python:3.12", "python:3.12", { PULL_THROUGH_ECR_PUBLIC: ECR_PUBLIC }],
      [
        "public.ecr.aws/docker/library/busybox:1.37.0",
        "public.ecr.aws/docker/library/busybox:1.37.0",
        { PULL_THROUGH_DOCKER_HUB: DOCKER_HUB },
      ],
    ];
    // The naming script alone (a full run per name costs seconds).
    for (const [given, expected, env] of NAMES) {
      it(`names ${given} ${given === expected ? "as it is" : `as ${expected}`} (${Object.keys(env).join(", ")})`, () => {
        const res = spawnSync("bash", [path.join(ROOT, "buildspec", "pull-through.sh"), given], {
          env: { PATH: "/usr/bin:/bin", ...env },
          encoding: "utf8",
        });
        assert.equal(res.status, 0, res.stderr);
        assert.equal(res.stdout, `${expected}\n`);
      });
    }

    it("without the cache, every image keeps its public name and the Dockerfile its default", () => {
      const r = runBuildspec(contractEnv({ PYTHON_IMAGE: undefined }));
      assertOk(r);
      const args = buildArgs(builds(r.calls)[0].argv);
      assert.equal(args.BASE_IMAGE, "public.ecr.aws/docker/library/busybox:1.37.0");
      assert.equal(args.PYTHON_IMAGE, undefined);
      assert.equal(builderImage(r.calls), "image=moby/buildkit:v0.26.3");
    });
  });
});
