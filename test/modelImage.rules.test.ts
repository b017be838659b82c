// ModelImage's pure rules and messages, from tables: backoff, tokens, rebuilds, which running build may be adopted, links.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Build } from "@aws-sdk/client-codebuild";
import { buildLink, failingPhase, logsLink } from "../components/modelImage/messages";
import {
  buildMatches,
  chooseBuild,
  exportedDigest,
  idempotencyToken,
  nextPollDelayMs,
  rebuildReason,
} from "../components/modelImage/rules";
import { HF_SECRET_ARN, HOST, PROJECT, REPO } from "./support/modelImage";

const env: Record<string, string> = { MODEL_REVISION: "a".repeat(40), INCLUDE_PATTERNS: "[]" };

/** A build as CodeBuild describes it: project variables plus IMAGE_TAG and the overrides. */
function build(
  over: {
    id?: string;
    status?: Build["buildStatus"];
    tag?: string;
    sourceVersion?: string;
    environment?: Record<string, string>;
  } = {},
): Build {
  return {
    id: over.id ?? `${PROJECT}:1`,
    buildStatus: over.status ?? "IN_PROGRESS",
    sourceVersion: over.sourceVersion ?? "v2",
    environment: {
      type: "LINUX_CONTAINER",
      image: "aws/codebuild/standard:7.0",
      computeType: "BUILD_GENERAL1_LARGE",
      environmentVariables: [
        { name: "HF_TOKEN", value: HF_SECRET_ARN, type: "SECRETS_MANAGER" },
        { name: "IMAGE_TAG", value: over.tag ?? "1.0" },
        ...Object.entries(over.environment ?? env).map(([name, value]) => ({ name, value })),
      ],
    },
  };
}

describe("ModelImage rules", () => {
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

  it("rebuildReason: only with rebuildOnChange, naming the source and the variables that changed", () => {
    const olds = { sourceVersion: "v1", environment: env };
    assert.equal(
      rebuildReason(olds, { ...olds, sourceVersion: "v2", rebuildOnChange: false }),
      undefined,
    );
    const on = { ...olds, rebuildOnChange: true };
    const cases: [Partial<typeof on>, string | undefined][] = [
      [{}, undefined],
      [{ sourceVersion: "v2" }, "the build source (sourceVersion)"],
      [
        { environment: { ...env, MODEL_REVISION: "b".repeat(40), BASE_IMAGE: "busybox" } },
        "BASE_IMAGE, MODEL_REVISION",
      ],
    ];
    for (const [change, want] of cases) {
      assert.equal(rebuildReason(olds, { ...on, ...change }), want, JSON.stringify(change));
    }
    assert.equal(
      rebuildReason({ environment: env }, { ...on, environment: {} }),
      "the build source (sourceVersion); INCLUDE_PATTERNS, MODEL_REVISION",
    );
    // State from before the variables were inputs: recording them is not a change of the build.
    assert.equal(rebuildReason({ sourceVersion: "v1" }, on), undefined);
    assert.equal(rebuildReason({ sourceVersion: "v1", environment: {} }, on), undefined);
  });

  it("buildMatches: same source version, tag and every override; extra project variables are fine", () => {
    const wanted = { sourceVersion: "v2", environment: env, tag: "1.0" };
    assert.equal(buildMatches(build(), wanted), true);
    const cases = [
      { sourceVersion: "v1" },
      { tag: "1.1" },
      { environment: { ...env, MODEL_REVISION: "c".repeat(40) } },
      { environment: { ...env, BASE_IMAGE: "busybox" } },
    ];
    for (const change of cases) {
      assert.equal(buildMatches(build(), { ...wanted, ...change }), false, JSON.stringify(change));
    }
  });

  it("chooseBuild: adopts only a running build of exactly these inputs; names how another differs", () => {
    const wanted = { sourceVersion: "v2", environment: env, tag: "1.0" };
    const mine = build({ id: "p:mine" });
    const other = build({
      id: "p:other",
      sourceVersion: "v1",
      environment: { ...env, MODEL_REVISION: "b".repeat(40) },
    });
    const failed = build({ id: "p:failed", status: "FAILED" });
    assert.deepEqual(chooseBuild([other, mine], wanted), { kind: "adopt", build: mine });
    assert.deepEqual(chooseBuild([other, failed], wanted), {
      kind: "other",
      build: other,
      differences: ["sourceVersion", "MODEL_REVISION"],
    });
    assert.deepEqual(chooseBuild([failed], wanted), { kind: "start", previousBuildId: "p:failed" });
    assert.deepEqual(chooseBuild([], wanted), { kind: "start" });
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

describe("ModelImage messages", () => {
  it("logs link: deepLink when CodeBuild gives one, else the console URL from group and stream", () => {
    assert.equal(logsLink({ deepLink: "https://x" }, "us-east-1"), "https://x");
    assert.equal(
      logsLink({ groupName: "/aws/codebuild/p", streamName: "abc/def" }, "eu-west-1"),
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fp/log-events/abc$252Fdef",
    );
    assert.equal(logsLink(undefined, "us-east-1"), undefined);
  });

  it("build link: the logs when named, else the build's console page", () => {
    const id = `${PROJECT}:0b1c`;
    const arn = `arn:aws:codebuild:us-east-1:123456789012:build/${id}`;
    assert.equal(
      buildLink({ id, arn, logs: { deepLink: "https://logs" } }, "us-east-1"),
      "https://logs",
    );
    assert.equal(
      buildLink({ id, arn }, "us-east-1"),
      `https://us-east-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/${PROJECT}/build/${PROJECT}%3A0b1c/?region=us-east-1`,
    );
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
