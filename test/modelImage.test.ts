// Tests the ModelImage dynamic provider through the real AWS SDK against the loopback ECR/CodeBuild emulator.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  buildMatches,
  diffInputs,
  exportedDigest,
  failingPhase,
  idempotencyToken,
  logsLink,
  ModelImage,
  modelImageProvider,
  ModelImageInputs,
  ModelImageOutputs,
  nextPollDelayMs,
  rebuildReason,
  registryHost,
  validateInputs,
} from "../components/modelImage";
import { AwsEmulator, startAwsEmulator } from "./support/awsEmulator";

const ROOT = path.resolve(__dirname, "..");
const REPO = "kserve-models/llama";
const PROJECT = "model-llama-cpu";
const HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const DIGEST = `sha256:${"a".repeat(64)}`;
const HF_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-token-AbCdEf";

const p = modelImageProvider as Required<typeof modelImageProvider>;

function inputs(over: Partial<ModelImageInputs> = {}): ModelImageInputs {
  return {
    region: "us-east-1",
    repositoryName: REPO,
    tag: "1.0",
    projectName: PROJECT,
    pollIntervalSeconds: 0.01,
    timeoutMinutes: 1,
    ...over,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected a rejection");
}

/** Load JS text as a CommonJS module resolving packages from `dir` (what require-from-string does). */
function loadFromString<T>(code: string, filename: string): T {
  const internals = Module as unknown as { _nodeModulePaths(dir: string): string[] };
  const m = new Module(filename, module) as Module & {
    _compile(code: string, filename: string): void;
  };
  m.filename = filename;
  m.paths = internals._nodeModulePaths(path.dirname(filename));
  m._compile(code, filename);
  return m.exports as T;
}

type Serialized = { handler(): Required<pulumi.dynamic.ResourceProvider> };

/** Serialize a provider exactly as pulumi.dynamic.Resource does. */
async function serializeProvider(provider: unknown) {
  return pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
}

describe("ModelImage pure helpers", () => {
  it("registry host per partition", () => {
    assert.equal(registryHost("123456789012", "us-east-1"), HOST);
    assert.equal(
      registryHost("123456789012", "cn-north-1"),
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    );
  });

  it("poll backoff starts at the interval, grows ×1.5, caps at 4×", () => {
    const seq: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 7; i++) {
      d = nextPollDelayMs(d, 10);
      seq.push(d);
    }
    assert.deepEqual(seq, [10_000, 15_000, 22_500, 33_750, 40_000, 40_000, 40_000]);
  });

  it("idempotency token: 64 hex chars, stable, sensitive to what the build is for", () => {
    const h = (s: string) => createHash("sha256").update(s).digest("hex");
    const base = {
      projectName: PROJECT,
      tag: "1.0",
      sourceVersion: "v1",
      environment: { A: "1", B: "2" },
    };
    const t = idempotencyToken(base, h);
    assert.match(t, /^[0-9a-f]{64}$/);
    assert.equal(idempotencyToken({ ...base, environment: { B: "2", A: "1" } }, h), t);
    for (const change of [
      { tag: "1.1" },
      { sourceVersion: "v2" },
      { projectName: "x" },
      { previousBuildId: "p:1" },
    ]) {
      assert.notEqual(idempotencyToken({ ...base, ...change }, h), t, JSON.stringify(change));
    }
  });

  it("logs link: deepLink when CodeBuild gives one, else the console URL from group and stream", () => {
    assert.equal(logsLink({ deepLink: "https://x" }, "us-east-1"), "https://x");
    assert.equal(
      logsLink({ groupName: "/aws/codebuild/p", streamName: "abc/def" }, "eu-west-1"),
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fp/log-events/abc$252Fdef",
    );
    assert.equal(logsLink(undefined, "us-east-1"), undefined);
  });

  it("failing phase: the first phase with a status other than SUCCEEDED, with its contexts", () => {
    const f = failingPhase({
      phases: [
        {
          phaseType: "SUBMITTED",
          phaseStatus: "SUCCEEDED",
          contexts: [{ statusCode: "", message: "" }],
        },
        {
          phaseType: "PRE_BUILD",
          phaseStatus: "FAILED",
          contexts: [{ statusCode: "COMMAND_EXECUTION_ERROR", message: "boom" }],
        },
        { phaseType: "COMPLETED" },
      ],
    });
    assert.deepEqual(f, {
      phase: "PRE_BUILD",
      status: "FAILED",
      detail: "COMMAND_EXECUTION_ERROR: boom",
    });
    assert.deepEqual(failingPhase({ phases: [{ phaseType: "BUILD" }], currentPhase: "BUILD" }), {
      phase: "BUILD",
    });
  });
});

describe("ModelImage rebuild rules", () => {
  const env = { MODEL_REVISION: "a".repeat(40), INCLUDE_PATTERNS: "[]" };

  it("rebuildReason: only with rebuildOnChange, naming the source and the variables that changed", () => {
    const olds = { sourceVersion: "v1", environment: env };
    assert.equal(rebuildReason(olds, { ...olds, sourceVersion: "v2" }), undefined);
    const on = { ...olds, rebuildOnChange: true };
    assert.equal(rebuildReason(olds, on), undefined, "nothing changed");
    assert.equal(
      rebuildReason(olds, { ...on, sourceVersion: "v2" }),
      "the build source (sourceVersion)",
    );
    assert.equal(
      rebuildReason(olds, {
        ...on,
        environment: { ...env, MODEL_REVISION: "b".repeat(40), BASE_IMAGE: "busybox" },
      }),
      "BASE_IMAGE, MODEL_REVISION",
    );
    assert.equal(
      rebuildReason({ environment: env }, { ...on, environment: {} }),
      "the build source (sourceVersion); INCLUDE_PATTERNS, MODEL_REVISION",
    );
    // State from before the variables were inputs: recording them is not a change of the build.
    assert.equal(rebuildReason({ sourceVersion: "v1" }, on), undefined);
    assert.equal(rebuildReason({ sourceVersion: "v1", environment: {} }, on), undefined);
  });

  it("buildMatches: same source version, tag and every override; extra project variables are fine", () => {
    const build = {
      sourceVersion: "v2",
      environment: {
        type: "LINUX_CONTAINER" as const,
        image: "aws/codebuild/standard:7.0",
        computeType: "BUILD_GENERAL1_LARGE" as const,
        environmentVariables: [
          { name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" as const },
          { name: "IMAGE_TAG", value: "1.0" },
          ...Object.entries(env).map(([name, value]) => ({ name, value })),
        ],
      },
    };
    const wanted = { sourceVersion: "v2", environment: env, tag: "1.0" };
    assert.equal(buildMatches(build, wanted), true);
    assert.equal(buildMatches(build, { ...wanted, sourceVersion: "v1" }), false);
    assert.equal(buildMatches(build, { ...wanted, tag: "1.1" }), false);
    assert.equal(
      buildMatches(build, { ...wanted, environment: { ...env, MODEL_REVISION: "c".repeat(40) } }),
      false,
    );
  });

  it("exportedDigest: IMAGE_DIGEST when it is a sha256 digest, else nothing", () => {
    const d = `sha256:${"c".repeat(64)}`;
    const of = (value: string) => ({
      exportedEnvironmentVariables: [
        { name: "IMAGE_URI", value: `${HOST}/${REPO}:1.0` },
        { name: "IMAGE_DIGEST", value },
      ],
    });
    assert.equal(exportedDigest(of(d)), d);
    assert.equal(exportedDigest(of("")), undefined);
    assert.equal(exportedDigest(of("sha256:XYZ")), undefined);
    assert.equal(exportedDigest({}), undefined);
  });
});

describe("ModelImage check and diff", () => {
  it("accepts valid inputs and fills in defaults", async () => {
    const r = await p.check(
      {} as ModelImageInputs,
      {
        region: "us-east-1",
        repositoryName: REPO,
        tag: "1.0",
        projectName: PROJECT,
        __provider: "serialized",
      } as unknown as ModelImageInputs,
    );
    assert.deepEqual(r, {
      inputs: {
        region: "us-east-1",
        repositoryName: REPO,
        tag: "1.0",
        projectName: PROJECT,
        environment: {},
        waitForBuild: true,
        timeoutMinutes: 120,
        pollIntervalSeconds: 15,
        deleteImageOnDestroy: false,
        rebuildOnChange: false,
      },
    });
  });

  it("tag grammar", () => {
    const ok = ["1.0", "v1.2.3-cuda", "_x", "A".repeat(128), "2024.01.02_rc-1"];
    const bad = ["", ".x", "-x", "a:b", "a/b", "A".repeat(129), "1.0 "];
    for (const tag of ok) {
      assert.deepEqual(validateInputs({ ...inputs({ tag }) }), [], tag);
    }
    for (const tag of bad) {
      assert.deepEqual(
        validateInputs({ ...inputs({ tag }) }).map((f) => f.property),
        ["tag"],
        JSON.stringify(tag),
      );
    }
  });

  it("reports every bad property by name, and refuses secrets in environment", async () => {
    const r = await p.check(
      {} as ModelImageInputs,
      {
        region: "us-east-1",
        repositoryName: "Kserve/Llama",
        tag: "1.0",
        timeoutMinutes: -1,
        pollIntervalSeconds: 0,
        registryId: "12",
        environment: { IMAGE_TAG: "x", HF_TOKEN: "hf_abc", "BAD-NAME": "1", OK: "1" },
      } as unknown as ModelImageInputs,
    );
    assert.equal(r.inputs, undefined);
    assert.deepEqual(
      (r.failures ?? []).map((f) => f.property),
      [
        "repositoryName",
        "projectName",
        "registryId",
        "timeoutMinutes",
        "pollIntervalSeconds",
        "environment.IMAGE_TAG",
        "environment.HF_TOKEN",
        "environment.BAD-NAME",
      ],
    );
    const hf = (r.failures ?? []).find((f) => f.property === "environment.HF_TOKEN");
    assert.match(hf?.reason ?? "", /Secrets Manager/);
    assert.ok(!JSON.stringify(r).includes("hf_abc"), "a failure must not echo the value");
  });

  it("refuses a Pulumi secret in environment without echoing it", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "hf_x",
    };
    const failures = validateInputs({ ...inputs(), environment: { HF_HUB_OFFLINE: secret } });
    assert.deepEqual(
      failures.map((f) => f.property),
      ["environment.HF_HUB_OFFLINE"],
    );
    assert.match(
      failures[0].reason,
      /is a Pulumi secret; environment takes non-secret values only/,
    );
    assert.ok(!JSON.stringify(failures).includes("hf_x"));
  });

  it("does not judge values unknown during preview", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    assert.deepEqual(
      validateInputs({ ...inputs(), projectName: unknown, repositoryName: unknown }),
      [],
    );
  });

  it("diff: repository, tag, region, registry replace; other inputs update; defaults compare equal", () => {
    const olds = {
      ...inputs(),
      environment: {},
      waitForBuild: true,
      deleteImageOnDestroy: false,
      imageDigest: DIGEST,
    };
    assert.deepEqual(diffInputs(olds, { ...inputs() }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(diffInputs(olds, { ...inputs({ tag: "1.1" }) }), {
      changes: true,
      replaces: ["tag"],
      deleteBeforeReplace: false,
    });
    for (const k of ["repositoryName", "region", "registryId"] as const) {
      const v = k === "registryId" ? "210987654321" : k === "region" ? "eu-west-1" : "other/repo";
      assert.deepEqual(diffInputs(olds, { ...inputs(), [k]: v }).replaces, [k]);
    }
    for (const change of [
      { environment: { HF_HUB_ENABLE_HF_TRANSFER: "1" } },
      { sourceVersion: "v2" },
      { timeoutMinutes: 30 },
      { projectName: "model-llama-cpu-v2" },
      { deleteImageOnDestroy: true },
      { rebuildOnChange: true },
    ]) {
      assert.deepEqual(diffInputs(olds, { ...inputs(), ...change }), {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
    assert.deepEqual(
      diffInputs(olds, { ...inputs(), tag: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }).replaces,
      ["tag"],
    );
  });

  it("diff through the provider ignores __provider and outputs", async () => {
    const olds = {
      ...inputs(),
      __provider: "old code",
      imageDigest: DIGEST,
      built: true,
    } as unknown as ModelImageOutputs;
    const news = { ...inputs(), __provider: "new code" } as unknown as ModelImageInputs;
    assert.equal((await p.diff("id", olds, news)).changes, false);
  });
});

describe("ModelImage provider against the ECR/CodeBuild emulator", function () {
  let emu: AwsEmulator;
  let restoreEnv: () => void;

  before(async () => {
    emu = await startAwsEmulator();
    restoreEnv = emu.useForSdk();
  });
  after(async () => {
    restoreEnv();
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    emu.addRepository(REPO);
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"],
      projectEnvironment: [{ name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" }],
    });
  });

  const ops = () => emu.requests.map((r) => r.operation);

  it("present tag: adopts the digest, no build", async () => {
    emu.putImage(REPO, "1.0", DIGEST);
    const { id, outs } = await p.create(inputs());
    assert.equal(id, `${HOST}/${REPO}:1.0`);
    assert.equal(outs?.imageDigest, DIGEST);
    assert.equal(outs?.imageUri, `${HOST}/${REPO}:1.0`);
    assert.equal(outs?.digestUri, `${HOST}/${REPO}@${DIGEST}`);
    assert.equal(outs?.built, false);
    assert.equal(outs?.buildId, undefined);
    assert.deepEqual(ops(), ["BatchGetImage"]);
    const body = emu.calls("BatchGetImage")[0].body;
    assert.deepEqual(body.imageIds, [{ imageTag: "1.0" }]);
    assert.equal(body.repositoryName, REPO);
    assert.ok(body.acceptedMediaTypes?.includes("application/vnd.oci.image.index.v1+json"));
    assert.ok(
      body.acceptedMediaTypes?.includes(
        "application/vnd.docker.distribution.manifest.list.v2+json",
      ),
    );
  });

  it("missing tag: exactly one StartBuild, polls IN_PROGRESS, IN_PROGRESS, SUCCEEDED, reads the digest", async () => {
    const env = {
      HF_HUB_ENABLE_HF_TRANSFER: "1",
      MODEL_REVISION: "0123456789abcdef0123456789abcdef01234567",
    };
    const { outs } = await p.create(
      inputs({ sourceVersion: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", environment: env }),
    );
    const [build] = emu.builds(PROJECT);
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.equal(outs?.built, true);
    assert.equal(outs?.buildId, build.id);
    assert.equal(outs?.digestUri, `${HOST}/${REPO}@${emu.digestOf(REPO, "1.0")}`);
    assert.deepEqual(ops(), [
      "BatchGetImage",
      "ListBuildsForProject",
      "StartBuild",
      "BatchGetBuilds",
      "BatchGetBuilds",
      "BatchGetBuilds",
      "BatchGetImage",
    ]);
    assert.deepEqual(
      emu.calls("ListBuildsForProject")[0].body,
      { projectName: PROJECT },
      "no sortOrder",
    );
    const start = emu.calls("StartBuild")[0].body;
    assert.deepEqual(start.environmentVariablesOverride, [
      { name: "IMAGE_TAG", value: "1.0", type: "PLAINTEXT" },
      { name: "HF_HUB_ENABLE_HF_TRANSFER", value: "1", type: "PLAINTEXT" },
      { name: "MODEL_REVISION", value: env.MODEL_REVISION, type: "PLAINTEXT" },
    ]);
    assert.equal(start.sourceVersion, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
    assert.equal(start.projectName, PROJECT);
    const h = (s: string) => createHash("sha256").update(s).digest("hex");
    assert.equal(
      start.idempotencyToken,
      idempotencyToken(
        { projectName: PROJECT, tag: "1.0", sourceVersion: start.sourceVersion, environment: env },
        h,
      ),
    );
    assert.deepEqual(Object.keys(start).sort(), [
      "environmentVariablesOverride",
      "idempotencyToken",
      "projectName",
      "sourceVersion",
    ]);
  });

  it("survives throttling on the first calls of each operation", async () => {
    // One throttle per operation: the SDK's throttling backoff starts at up to 500 ms a retry.
    emu.inject("BatchGetImage", { kind: "throttle" }, 1);
    emu.inject("ListBuildsForProject", { kind: "throttle" }, 1);
    emu.inject("StartBuild", { kind: "throttle" }, 1);
    emu.inject("BatchGetBuilds", { kind: "throttle" }, 1);
    const { outs } = await p.create(inputs());
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.equal(emu.builds(PROJECT).length, 1);
    const starts = emu.calls("StartBuild");
    assert.deepEqual(
      starts.map((r) => r.fault),
      ["throttle", undefined],
    );
    assert.equal(starts[0].body.idempotencyToken, starts[1].body.idempotencyToken);
    for (const op of ["BatchGetImage", "ListBuildsForProject", "StartBuild", "BatchGetBuilds"]) {
      assert.equal(emu.calls(op)[0].fault, "throttle", op);
    }
  });

  it("survives a 500 and dropped connections; a lost StartBuild response does not start a second build", async () => {
    emu.inject("BatchGetImage", { kind: "http500" }, 1);
    emu.inject("ListBuildsForProject", { kind: "drop" }, 1);
    emu.inject("StartBuild", { kind: "dropAfter" }, 1);
    emu.inject("BatchGetBuilds", { kind: "drop" }, 1);
    const { outs } = await p.create(inputs());
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    const starts = emu.calls("StartBuild");
    assert.equal(starts.length, 2, "the SDK retried StartBuild after the lost response");
    assert.equal(starts[0].body.idempotencyToken, starts[1].body.idempotencyToken);
    assert.equal(emu.builds(PROJECT).length, 1, "CodeBuild deduplicated the retry by token");
    assert.equal(outs?.buildId, emu.builds(PROJECT)[0].id);
  });

  it("FAILED build: one clean error naming project, build, status, phase, reason and logs; no secrets", async () => {
    const note = "internal-note-do-not-print";
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["IN_PROGRESS", "FAILED"],
      projectEnvironment: [{ name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" }],
      failure: {
        phase: "BUILD",
        statusCode: "COMMAND_EXECUTION_ERROR",
        message: `Error while executing command: ./build.sh --note ${note}. Reason: exit status 1`,
      },
    });
    const err = await rejection(p.create(inputs({ environment: { BUILD_NOTE: note } })));
    const [build] = emu.builds(PROJECT);
    const stream = build.id.split(":")[1];
    assert.equal(
      err.message,
      [
        `CodeBuild could not build ${REPO}:1.0: build FAILED in phase BUILD.`,
        `  project: ${PROJECT}`,
        `  build:   ${build.id}`,
        `  status:  FAILED`,
        `  phase:   BUILD FAILED — COMMAND_EXECUTION_ERROR: Error while executing command: ./build.sh --note ***. Reason: exit status 1`,
        `  logs:    https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/${PROJECT};stream=${stream}`,
        "The tag is still missing; fix the cause shown in the logs, then run `pulumi up` again to start a new build.",
      ].join("\n"),
    );
    assert.equal(err.name, "ModelImageError");
    assert.equal(err.stack, `ModelImageError: ${err.message}`, "no stack frames");
    for (const secret of [note, HF_SECRET_ARN, "AKIDEMULATOR", "emulator-secret-key"]) {
      assert.ok(!err.message.includes(secret), `message leaks ${secret}`);
    }
    assert.equal(emu.calls("StartBuild").length, 1);
    console.log(`      example failure message:\n${err.message.replace(/^/gm, "        | ")}`);
  });

  it("FAULT without a deepLink: the console URL is built from the log group and stream", async () => {
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["FAULT"],
      noDeepLink: true,
      failure: {
        phase: "DOWNLOAD_SOURCE",
        statusCode: "CLIENT_ERROR",
        message: "AccessDenied: Access Denied for object source.zip",
      },
    });
    const err = await rejection(p.create(inputs()));
    const stream = emu.builds(PROJECT)[0].id.split(":")[1];
    assert.match(err.message, /build FAULT in phase DOWNLOAD_SOURCE\./);
    assert.match(err.message, /phase: {3}DOWNLOAD_SOURCE FAULT — CLIENT_ERROR: AccessDenied/);
    assert.ok(
      err.message.includes(
        `logs:    https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252F${PROJECT}/log-events/${stream}`,
      ),
      err.message,
    );
  });

  it("adopts an in-progress build of the same tag: zero StartBuild", async () => {
    const other = emu.addBuild(PROJECT, { imageTag: "0.9", statuses: ["IN_PROGRESS"] });
    const mine = emu.addBuild(PROJECT, {
      imageTag: "1.0",
      statuses: ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"],
    });
    const { outs } = await p.create(inputs());
    assert.equal(emu.calls("StartBuild").length, 0);
    assert.equal(outs?.buildId, mine);
    assert.notEqual(outs?.buildId, other);
    assert.equal(outs?.built, true);
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.deepEqual(
      emu.calls("BatchGetBuilds")[0].body.ids,
      [mine, other],
      "newest first, one batch",
    );
  });

  it("after a failed build of the tag, a re-run starts a new build with a new token", async () => {
    const failed = emu.addBuild(PROJECT, { imageTag: "1.0", statuses: ["FAILED"] });
    await p.create(inputs());
    const h = (s: string) => createHash("sha256").update(s).digest("hex");
    const token = emu.calls("StartBuild")[0].body.idempotencyToken;
    assert.equal(
      token,
      idempotencyToken(
        { projectName: PROJECT, tag: "1.0", environment: {}, previousBuildId: failed },
        h,
      ),
    );
    assert.notEqual(
      token,
      idempotencyToken({ projectName: PROJECT, tag: "1.0", environment: {} }, h),
    );
    assert.equal(emu.builds(PROJECT).length, 2);
  });

  it("our own timeout: says so, with the build id, and leaves the build running", async () => {
    emu.addProject(PROJECT, { repository: REPO, statuses: ["IN_PROGRESS"] });
    const err = await rejection(p.create(inputs({ timeoutMinutes: 0.001 })));
    const [build] = emu.builds(PROJECT);
    assert.match(
      err.message,
      new RegExp(
        `^Timed out after 0\\.001 min waiting for CodeBuild build ${build.id} of ${REPO}:1\\.0; it is still IN_PROGRESS in phase BUILD\\.`,
      ),
    );
    assert.ok(err.message.includes(`aws codebuild stop-build --id ${build.id} --region us-east-1`));
    assert.ok(err.message.includes("run `pulumi up` again to wait for it"));
    assert.equal(build.status, "IN_PROGRESS");
    assert.equal(err.stack, `ModelImageError: ${err.message}`);
  });

  it("the image may appear in ECR a moment after SUCCEEDED", async () => {
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], imageDelay: 2 });
    const { outs } = await p.create(inputs());
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.equal(emu.calls("BatchGetImage").length, 4);
  });

  it("SUCCEEDED but the tag never arrives: an error about the push step", async () => {
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], push: false });
    const err = await rejection(p.create(inputs()));
    assert.match(err.message, /SUCCEEDED but kserve-models\/llama:1\.0 is not in ECR/);
    assert.match(err.message, /push the image to this repository with the tag from IMAGE_TAG/);
  });

  it("waitForBuild false: starts the build and returns at once with an empty digest", async () => {
    const { id, outs } = await p.create(inputs({ waitForBuild: false }));
    assert.equal(outs?.imageDigest, "");
    assert.equal(outs?.digestUri, "");
    assert.equal(outs?.built, true);
    assert.equal(outs?.buildId, emu.builds(PROJECT)[0].id);
    assert.equal(id, `${HOST}/${REPO}:1.0`, "registry from the build ARN");
    assert.equal(emu.calls("BatchGetBuilds").length, 0);
  });

  it("RepositoryNotFound is an error saying the repository must exist, not 'missing'", async () => {
    const err = await rejection(p.create(inputs({ repositoryName: "kserve-models/nope" })));
    assert.match(
      err.message,
      /^ECR repository kserve-models\/nope:1\.0 \(us-east-1\) does not exist/,
    );
    assert.match(err.message, /must exist before ModelImage runs/);
    assert.deepEqual(ops(), ["BatchGetImage"]);
  });

  it("AccessDenied is an error, not 'missing'", async () => {
    emu.inject(
      "BatchGetImage",
      {
        kind: "error",
        type: "AccessDeniedException",
        message:
          "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:BatchGetImage",
      },
      1,
    );
    const err = await rejection(p.create(inputs()));
    assert.match(err.message, /^Access denied for ecr:BatchGetImage on kserve-models\/llama:1\.0/);
    assert.deepEqual(ops(), ["BatchGetImage"], "not retried, no build");
  });

  it("a per-image failure other than ImageNotFound is an error, not 'missing'", async () => {
    emu.failImage(REPO, "1.0", "KmsError", "The KMS key is disabled");
    const err = await rejection(p.create(inputs()));
    assert.match(
      err.message,
      /failed: KmsError: The KMS key is disabled\. This is not "missing", so no build was started\./,
    );
    assert.deepEqual(ops(), ["BatchGetImage"]);
  });

  it("update re-reads the digest without building; a vanished tag is a clear error", async () => {
    emu.putImage(REPO, "1.0", DIGEST);
    const { outs } = await p.create(inputs());
    const moved = `sha256:${"b".repeat(64)}`;
    emu.putImage(REPO, "1.0", moved);
    const updated = await p.update(
      "id",
      outs as ModelImageOutputs,
      inputs({ environment: { X: "1" } }),
    );
    assert.equal(updated.outs?.imageDigest, moved);
    assert.deepEqual(updated.outs?.environment, { X: "1" });
    emu.deleteImage(REPO, "1.0");
    const err = await rejection(p.update("id", updated.outs as ModelImageOutputs, inputs()));
    assert.match(err.message, /no longer in ECR/);
    assert.match(err.message, /Bump the tag .* or run `pulumi refresh`/);
    assert.equal(emu.calls("StartBuild").length + emu.calls("ListBuildsForProject").length, 0);
  });

  describe("rebuildOnChange (MUTABLE dev tags)", () => {
    const env = { MODEL_REVISION: "a".repeat(40), INCLUDE_PATTERNS: "[]" };
    const v1 = () => inputs({ sourceVersion: "v1", environment: env, rebuildOnChange: true });

    /** A resource that adopted the present tag with the v1 inputs. */
    async function adopted(): Promise<ModelImageOutputs> {
      emu.putImage(REPO, "1.0", DIGEST);
      const { outs } = await p.create(v1());
      assert.equal(outs?.built, false);
      emu.reset();
      emu.addRepository(REPO, { "1.0": DIGEST });
      emu.addProject(PROJECT, {
        repository: REPO,
        statuses: ["IN_PROGRESS", "SUCCEEDED"],
        projectEnvironment: [{ name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" }],
      });
      return outs as ModelImageOutputs;
    }

    it("a new source version builds the tag again, once, and records the build's digest", async () => {
      const olds = await adopted();
      const { outs } = await p.update("id", olds, { ...v1(), sourceVersion: "v2" });
      const starts = emu.calls("StartBuild");
      assert.equal(starts.length, 1);
      assert.equal(starts[0].body.sourceVersion, "v2");
      assert.deepEqual(starts[0].body.environmentVariablesOverride, [
        { name: "IMAGE_TAG", value: "1.0", type: "PLAINTEXT" },
        { name: "INCLUDE_PATTERNS", value: "[]", type: "PLAINTEXT" },
        { name: "MODEL_REVISION", value: "a".repeat(40), type: "PLAINTEXT" },
      ]);
      const [build] = emu.builds(PROJECT);
      assert.equal(outs?.built, true);
      assert.equal(outs?.buildId, build.id);
      assert.equal(outs?.imageDigest, build.pushedDigest);
      assert.notEqual(outs?.imageDigest, DIGEST);
      assert.equal(outs?.digestUri, `${HOST}/${REPO}@${build.pushedDigest}`);
      // The digest comes from the build's export, not a lookup that could still see the old image.
      assert.equal(emu.calls("BatchGetImage").length, 0);
    });

    it("a new revision (an environment change) rebuilds too", async () => {
      const olds = await adopted();
      const news = { ...v1(), environment: { ...env, MODEL_REVISION: "b".repeat(40) } };
      const { outs } = await p.update("id", olds, news);
      assert.equal(emu.calls("StartBuild").length, 1);
      assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
      assert.deepEqual(outs?.environment, news.environment);
    });

    it("no rebuild without the opt-in, or when nothing the build reads changed", async () => {
      const olds = await adopted();
      const off = await p.update("id", olds, {
        ...v1(),
        sourceVersion: "v2",
        rebuildOnChange: false,
      });
      assert.equal(off.outs?.imageDigest, DIGEST);
      const same = await p.update("id", olds, { ...v1(), pollIntervalSeconds: 0.02 });
      assert.equal(same.outs?.imageDigest, DIGEST);
      assert.equal(emu.calls("StartBuild").length + emu.calls("ListBuildsForProject").length, 0);
    });

    it("an interrupted rebuild is adopted; a running build of older inputs is not", async () => {
      const olds = await adopted();
      const stale = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS"],
        environment: env,
        sourceVersion: "v1",
      });
      const mine = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS", "SUCCEEDED"],
        environment: env,
        sourceVersion: "v2",
      });
      const { outs } = await p.update("id", olds, { ...v1(), sourceVersion: "v2" });
      assert.equal(emu.calls("StartBuild").length, 0);
      assert.equal(outs?.buildId, mine);

      emu.reset();
      emu.addRepository(REPO, { "1.0": DIGEST });
      emu.addProject(PROJECT, { repository: REPO, statuses: ["IN_PROGRESS", "SUCCEEDED"] });
      const older = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS"],
        environment: env,
        sourceVersion: "v1",
      });
      const again = await p.update("id", olds, { ...v1(), sourceVersion: "v3" });
      assert.equal(emu.calls("StartBuild").length, 1);
      assert.notEqual(again.outs?.buildId, older);
      assert.notEqual(again.outs?.buildId, stale);
    });

    it("a failed rebuild is an error naming the build; the digest lookup falls back when nothing is exported", async () => {
      const olds = await adopted();
      emu.addProject(PROJECT, {
        repository: REPO,
        statuses: ["IN_PROGRESS", "FAILED"],
        failure: { phase: "BUILD", message: "Error while executing command: docker buildx build" },
      });
      const err = await rejection(p.update("id", olds, { ...v1(), sourceVersion: "v2" }));
      assert.match(err.message, /FAILED/);
      assert.match(err.message, new RegExp(emu.builds(PROJECT)[0].id.replace(/[.:-]/g, "\\$&")));

      emu.addProject(PROJECT, { repository: REPO, exportDigest: false });
      const { outs } = await p.update("id", olds, { ...v1(), sourceVersion: "v3" });
      assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
      assert.equal(emu.calls("BatchGetImage").length, 1);
    });
  });

  it("read (refresh) re-reads the digest, and reports a vanished tag as gone", async () => {
    emu.putImage(REPO, "1.0", DIGEST);
    const { id, outs } = await p.create(inputs());
    const r = await p.read(id, outs);
    assert.equal(r.id, id);
    assert.equal(r.props?.imageDigest, DIGEST);
    emu.deleteImage(REPO, "1.0");
    assert.deepEqual(await p.read(id, outs), {});
  });

  it("read after waitForBuild false: kept while the build runs, digest filled in once it succeeds", async () => {
    const { id, outs } = await p.create(inputs({ waitForBuild: false }));
    const first = await p.read(id, outs);
    assert.deepEqual(first, { id, props: outs }, "IN_PROGRESS: unchanged");
    const second = await p.read(id, outs);
    assert.equal(second.props?.imageDigest, "", "still IN_PROGRESS");
    const third = await p.read(id, outs);
    assert.equal(third.id, id);
    assert.equal(
      third.props?.imageDigest,
      emu.digestOf(REPO, "1.0"),
      "SUCCEEDED during this refresh",
    );
    assert.equal(third.props?.buildId, outs?.buildId);
    assert.equal(emu.calls("StartBuild").length, 1);
  });

  it("delete leaves the image by default, and deletes the tag with the opt-in", async () => {
    emu.putImage(REPO, "1.0", DIGEST);
    const { id, outs } = await p.create(inputs());
    await p.delete(id, outs as ModelImageOutputs);
    assert.equal(emu.digestOf(REPO, "1.0"), DIGEST);
    assert.equal(emu.calls("BatchDeleteImage").length, 0);

    await p.delete(id, { ...(outs as ModelImageOutputs), deleteImageOnDestroy: true });
    assert.equal(emu.digestOf(REPO, "1.0"), undefined);
    assert.deepEqual(emu.calls("BatchDeleteImage")[0].body, {
      repositoryName: REPO,
      imageIds: [{ imageTag: "1.0" }],
    });
    // Already gone (or the repository went first): not an error.
    await p.delete(id, { ...(outs as ModelImageOutputs), deleteImageOnDestroy: true });
    await p.delete(id, {
      ...(outs as ModelImageOutputs),
      repositoryName: "gone/repo",
      deleteImageOnDestroy: true,
    });
  });

  describe("serialized like Pulumi does", () => {
    let serialized: string;

    before(async () => {
      const sf = await serializeProvider(modelImageProvider);
      serialized = sf.text;
      assert.equal(sf.containsSecrets, false);
    });

    it("captures no clients, credentials or @pulumi/pulumi", () => {
      assert.ok(!/require\("@pulumi\/pulumi"\)/.test(serialized));
      assert.ok(!serialized.includes("ModelImage extends"), "the resource class is not captured");
      assert.ok(
        !serialized.includes("AKIDEMULATOR") && !serialized.includes("emulator-secret-key"),
      );
      assert.ok(
        !serialized.includes(emu.url),
        "the endpoint comes from the environment at run time",
      );
      const provider = loadFromString<Serialized>(
        serialized,
        path.join(ROOT, "serialized-provider.js"),
      ).handler();
      assert.deepEqual(Object.keys(provider).sort(), [
        "check",
        "create",
        "delete",
        "diff",
        "read",
        "update",
      ]);
    });

    it("a create interrupted mid-poll (process killed) is resumed by the next create without a second build", async () => {
      emu.addProject(PROJECT, {
        repository: REPO,
        statuses: [...Array(12).fill("IN_PROGRESS"), "SUCCEEDED"],
      });
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "model-image-")), "provider.js");
      fs.writeFileSync(file, serialized);
      // The child loads the text exactly as Pulumi's dynamic provider host does: require-from-string
      // with no file name, so packages resolve from the working directory (the project).
      const script = [
        "const provider = require('require-from-string')(require('node:fs').readFileSync(process.argv[1], 'utf8')).handler();",
        "provider.create(JSON.parse(process.argv[2])).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(2); });",
      ].join("\n");
      const child = spawn(
        process.execPath,
        ["-e", script, file, JSON.stringify(inputs({ pollIntervalSeconds: 0.02 }))],
        {
          cwd: ROOT,
          env: { ...process.env, ...emu.sdkEnv() },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => resolve(code)),
      );
      const deadline = Date.now() + 10_000;
      while (emu.calls("BatchGetBuilds").length < 2) {
        if (child.exitCode !== null || Date.now() > deadline) {
          assert.fail(`child did not reach polling: exit ${child.exitCode} ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGKILL");
      await exited;
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      assert.equal(emu.calls("StartBuild").length, 1);
      const [build] = emu.builds(PROJECT);
      assert.equal(build.status, "IN_PROGRESS", "the interrupted run left the build running");

      const { outs } = await p.create(inputs());
      assert.equal(emu.calls("StartBuild").length, 1, "no duplicate StartBuild");
      assert.equal(emu.builds(PROJECT).length, 1);
      assert.equal(outs?.buildId, build.id);
      assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    });

    it("also serializes and runs when compiled by tsc (Pulumi's ts-node path)", async () => {
      const ts = await import("typescript");
      const source = fs.readFileSync(path.join(ROOT, "components/modelImage.ts"), "utf8");
      const js = ts.transpileModule(source, {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
      }).outputText;
      const compiled = loadFromString<{ modelImageProvider: unknown }>(
        js,
        path.join(ROOT, "components/modelImage.tsc-test.js"),
      );
      const sf = await serializeProvider(compiled.modelImageProvider);
      assert.ok(!/require\("@pulumi\/pulumi"\)/.test(sf.text));
      const provider = loadFromString<Serialized>(
        sf.text,
        path.join(ROOT, "serialized-tsc-provider.js"),
      ).handler();
      emu.putImage(REPO, "1.0", DIGEST);
      const checked = await provider.check({}, inputs());
      assert.deepEqual(checked.failures, undefined);
      const { outs } = await provider.create(checked.inputs);
      assert.equal(outs.imageDigest, DIGEST);
    });
  });
});

describe("ModelImage resource under setMocks", () => {
  const recorded: pulumi.runtime.MockResourceArgs[] = [];

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          recorded.push(args);
          return {
            id: `${args.name}-id`,
            state: {
              ...args.inputs,
              imageDigest: DIGEST,
              imageUri: `${HOST}/${REPO}:1.0`,
              built: false,
            },
          };
        },
        call: (args) => {
          throw new Error(`unexpected call ${args.token}`);
        },
      },
      "model-images",
      "test",
      false,
    );
  });

  function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
  }

  it("registers one dynamic resource with the expected inputs and no token", async () => {
    process.env.HUGGING_FACE_HUB_TOKEN = "hf_should_never_appear";
    try {
      const img = new ModelImage("llama-cpu", {
        region: "us-east-1",
        repositoryName: pulumi.output(REPO),
        tag: "1.0",
        projectName: PROJECT,
        environment: { HF_HUB_ENABLE_HF_TRANSFER: "1" },
        deleteImageOnDestroy: true,
      });
      assert.equal(await unwrap(img.imageUri), `${HOST}/${REPO}:1.0`);
      assert.equal(await unwrap(img.imageDigest), DIGEST);
      assert.equal(recorded.length, 1);
      const [r] = recorded;
      assert.equal(r.type, "pulumi-nodejs:dynamic:Resource");
      assert.equal(r.name, "llama-cpu");
      const { __provider, ...rest } = r.inputs;
      assert.equal(typeof __provider, "string");
      assert.deepEqual(rest, {
        region: "us-east-1",
        repositoryName: REPO,
        tag: "1.0",
        projectName: PROJECT,
        environment: { HF_HUB_ENABLE_HF_TRANSFER: "1" },
        deleteImageOnDestroy: true,
      });
      assert.ok(!Object.keys(rest).some((k) => /token|secret/i.test(k)));
      assert.ok(!JSON.stringify(r.inputs).includes("hf_should_never_appear"));
    } finally {
      delete process.env.HUGGING_FACE_HUB_TOKEN;
    }
  });
});
