// ModelImage through the real AWS SDK against the loopback ECR/CodeBuild emulator: lookups, builds, faults, updates, refresh, delete.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ModelImageOutputs } from "../components/modelImage";
import { idempotencyToken } from "../components/modelImage/rules";
import { MANIFEST_MEDIA_TYPES } from "../lib/registry/types";
import {
  DIGEST,
  HF_SECRET_ARN,
  HOST,
  inputs,
  p,
  printed,
  PROJECT,
  REPO,
  rejection,
  useEmulator,
} from "./support/modelImage";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("ModelImage provider against the ECR/CodeBuild emulator", function () {
  const emulator = useEmulator();
  const ops = () => emulator().requests.map((r) => r.operation);

  it("present tag: adopts the digest, no build", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0", DIGEST);
    const { id, outs } = await p.create(inputs());
    assert.equal(id, `${HOST}/${REPO}:1.0`);
    assert.equal(outs?.imageDigest, DIGEST);
    assert.equal(outs?.buildId, undefined);
    assert.deepEqual(ops(), ["BatchGetImage"]);
    const body = emu.calls("BatchGetImage")[0].body;
    assert.deepEqual(body.imageIds, [{ imageTag: "1.0" }]);
    assert.equal(body.repositoryName, REPO);
    assert.equal(body.registryId, "123456789012");
    // The one media-type list plan uses too (lib/registry), index types included.
    assert.deepEqual(body.acceptedMediaTypes, [...MANIFEST_MEDIA_TYPES]);
  });

  it("missing tag: exactly one StartBuild, polls IN_PROGRESS, IN_PROGRESS, SUCCEEDED, records the exported digest", async () => {
    const emu = emulator();
    const env = {
      HF_HUB_ENABLE_HF_TRANSFER: "1",
      MODEL_REVISION: "0123456789abcdef0123456789abcdef01234567",
    };
    const sourceVersion = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
    const { outs } = await p.create(inputs({ sourceVersion, environment: env }));
    const [build] = emu.builds(PROJECT);
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.equal(outs?.imageDigest, build.pushedDigest);
    assert.equal(outs?.buildId, build.id);
    assert.deepEqual(ops(), [
      "BatchGetImage",
      "ListBuildsForProject",
      "StartBuild",
      "BatchGetBuilds",
      "BatchGetBuilds",
      "BatchGetBuilds",
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
    assert.equal(start.sourceVersion, sourceVersion);
    assert.equal(start.projectName, PROJECT);
    assert.equal(
      start.idempotencyToken,
      idempotencyToken({ projectName: PROJECT, tag: "1.0", sourceVersion, environment: env }, sha),
    );
    assert.deepEqual(Object.keys(start).sort(), [
      "environmentVariablesOverride",
      "idempotencyToken",
      "projectName",
      "sourceVersion",
    ]);
  });

  it("survives throttling on the first calls of each operation", async () => {
    const emu = emulator();
    // One throttle per operation: the SDK's throttling backoff starts at up to 500 ms a retry.
    for (const op of ["BatchGetImage", "ListBuildsForProject", "StartBuild", "BatchGetBuilds"]) {
      emu.inject(op, { kind: "throttle" }, 1);
    }
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
    const emu = emulator();
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
    const emu = emulator();
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
  });

  it("FAULT without a deepLink: the console URL is built from the log group and stream", async () => {
    const emu = emulator();
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

  it("after a failed build of the tag, a re-run starts a new build with a new token", async () => {
    const emu = emulator();
    const failed = emu.addBuild(PROJECT, {
      imageTag: "1.0",
      statuses: ["FAILED"],
      sourceVersion: "v1",
    });
    await p.create(inputs());
    const token = emu.calls("StartBuild")[0].body.idempotencyToken;
    const parts = { projectName: PROJECT, tag: "1.0", sourceVersion: "v1", environment: {} };
    assert.equal(token, idempotencyToken({ ...parts, previousBuildId: failed }, sha));
    assert.notEqual(token, idempotencyToken(parts, sha));
    assert.equal(emu.builds(PROJECT).length, 2);
  });

  it("our own timeout: says so, with the build id, and leaves the build running", async () => {
    const emu = emulator();
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

  it("without an exported digest, the image may appear in ECR a moment after SUCCEEDED", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["SUCCEEDED"],
      imageDelay: 2,
      exportDigest: false,
    });
    const { outs } = await p.create(inputs());
    assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
    assert.equal(emu.calls("BatchGetImage").length, 4);
  });

  it("SUCCEEDED but the tag never arrives: an error about the push step", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], push: false });
    const err = await rejection(p.create(inputs()));
    assert.match(err.message, /SUCCEEDED but kserve-models\/llama:1\.0 is not in ECR/);
    assert.match(err.message, /push the image to this repository with the tag from IMAGE_TAG/);
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
    emulator().inject(
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
    emulator().failImage(REPO, "1.0", "KmsError", "The KMS key is disabled");
    const err = await rejection(p.create(inputs()));
    assert.match(
      err.message,
      /failed: KmsError: The KMS key is disabled\. This is not "missing", so no build was started\./,
    );
    assert.deepEqual(ops(), ["BatchGetImage"]);
  });

  it("update re-reads the digest without building; a vanished tag is a clear error", async () => {
    const emu = emulator();
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

  it("read (refresh) re-reads the digest, and reports a vanished tag as gone", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0", DIGEST);
    const { id, outs } = await p.create(inputs());
    const r = await p.read(id, {
      ...(outs as ModelImageOutputs),
      deleteImageOnDestroy: true,
    } as ModelImageOutputs);
    assert.equal(r.id, id);
    assert.deepEqual(r.props, outs, "the current outputs, without retired inputs");
    emu.deleteImage(REPO, "1.0");
    assert.deepEqual(await p.read(id, outs), {});
  });

  describe("rebuildOnChange (MUTABLE dev tags)", () => {
    const env = { MODEL_REVISION: "a".repeat(40), INCLUDE_PATTERNS: "[]" };
    const v1 = () => inputs({ sourceVersion: "v1", environment: env, rebuildOnChange: true });

    /** A resource that adopted the present tag with the v1 inputs. */
    async function adopted(): Promise<ModelImageOutputs> {
      const emu = emulator();
      emu.putImage(REPO, "1.0", DIGEST);
      const { outs } = await p.create(v1());
      assert.equal(outs?.buildId, undefined);
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
      const emu = emulator();
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
      assert.equal(outs?.buildId, build.id);
      assert.equal(outs?.imageDigest, build.pushedDigest);
      assert.notEqual(outs?.imageDigest, DIGEST);
      // The digest comes from the build's export, not a lookup that could still see the old image.
      assert.equal(emu.calls("BatchGetImage").length, 0);
    });

    it("a new revision (an environment change) rebuilds too", async () => {
      const olds = await adopted();
      const news = { ...v1(), environment: { ...env, MODEL_REVISION: "b".repeat(40) } };
      const { outs } = await p.update("id", olds, news);
      assert.equal(emulator().calls("StartBuild").length, 1);
      assert.equal(outs?.imageDigest, emulator().digestOf(REPO, "1.0"));
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
      const emu = emulator();
      assert.equal(emu.calls("StartBuild").length + emu.calls("ListBuildsForProject").length, 0);
    });

    it("an interrupted rebuild of the same inputs is adopted", async () => {
      const olds = await adopted();
      const mine = emulator().addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS", "SUCCEEDED"],
        environment: env,
        sourceVersion: "v2",
      });
      const { outs } = await p.update("id", olds, { ...v1(), sourceVersion: "v2" });
      assert.equal(emulator().calls("StartBuild").length, 0);
      assert.equal(outs?.buildId, mine);
    });

    it("a failed rebuild is an error naming the build; the digest lookup falls back when nothing is exported", async () => {
      const olds = await adopted();
      const emu = emulator();
      emu.addProject(PROJECT, {
        repository: REPO,
        statuses: ["IN_PROGRESS", "FAILED"],
        failure: { phase: "BUILD", message: "Error while executing command: docker buildx build" },
      });
      const err = await rejection(p.update("id", olds, { ...v1(), sourceVersion: "v2" }));
      assert.match(err.message, /FAILED/);
      assert.ok(err.message.includes(emu.builds(PROJECT)[0].id));

      emu.addProject(PROJECT, { repository: REPO, exportDigest: false });
      const { outs } = await p.update("id", olds, { ...v1(), sourceVersion: "v3" });
      assert.equal(outs?.imageDigest, emu.digestOf(REPO, "1.0"));
      assert.equal(emu.calls("BatchGetImage").length, 1);
    });
  });

  describe("progress while `up` waits (stdout: the channel the CLI shows for dynamic providers)", () => {
    it("a started build prints its id and logs link once", async () => {
      const { result, lines } = await printed(() => p.create(inputs()));
      const [build] = emulator().builds(PROJECT);
      assert.equal(result.outs?.buildId, build.id);
      assert.deepEqual(lines, [
        `${REPO}:1.0: started CodeBuild build ${build.id} (project ${PROJECT}); logs: https://us-east-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/${PROJECT}/build/${encodeURIComponent(build.id)}/?region=us-east-1`,
      ]);
    });

    it("an adopted build prints its id and logs link; a present tag prints nothing", async () => {
      const emu = emulator();
      const other = emu.addBuild(PROJECT, { imageTag: "0.9", statuses: ["IN_PROGRESS"] });
      const mine = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"],
        sourceVersion: "v1",
      });
      const { result, lines } = await printed(() => p.create(inputs()));
      assert.equal(emu.calls("StartBuild").length, 0);
      assert.equal(result.outs?.buildId, mine);
      assert.notEqual(result.outs?.buildId, other);
      assert.deepEqual(
        emu.calls("BatchGetBuilds")[0].body.ids,
        [mine, other],
        "newest first, one batch",
      );
      const stream = mine.split(":")[1];
      assert.deepEqual(lines, [
        `${REPO}:1.0: adopted running CodeBuild build ${mine} (project ${PROJECT}); logs: https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/${PROJECT};stream=${stream}`,
      ]);
      const again = await printed(() => p.create(inputs()));
      assert.deepEqual(again.lines, []);
    });
  });
});
