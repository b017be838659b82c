// The local builder under mocks: docker-build images, no CodeBuild; no AWS at all with a non-ECR registry.

import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ACCOUNT, byType, ECR_PASSWORD } from "../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../tools/programRun";
import { countByType, one, runOnFixture, TOKEN } from "./support/programChecks";
import { plaintextInputs, plaintextPaths, secretEnvelope } from "./support/secretChecks";

const ROOT = path.resolve(__dirname, "..");

describe("program with the local builder", function () {
  this.timeout(60_000);

  describe("the shipped local stack (registry localhost:5000)", () => {
    let run: Run;
    before(async () => {
      run = await runProgram("local", stackConfig("local"));
    });

    it("creates no AWS resource and makes no AWS call", () => {
      assert.deepEqual(
        run.recorded
          .filter((r) => r.type.startsWith("aws:") || r.type.startsWith("awsx:"))
          .map((r) => r.type),
        [],
      );
      assert.deepEqual(run.calls, []);
      assert.deepEqual(countByType(run.recorded), {
        "model-images:index:ModelCatalog": 1,
        "model-images:build:LocalModelImage": 1,
        "docker-build:index:Image": 1,
      });
    });

    it("builds the small model from docker/ with its build args, platforms and a registry cache", () => {
      const image = one(
        run.recorded,
        "docker-build:index:Image",
        "models-qwen2-5-0-5b-instruct-image",
      ).inputs;
      const ref = "localhost:5000/kserve-models-local/qwen2-5-0-5b-instruct";
      assert.deepEqual(image.context, { location: path.join(ROOT, "docker") });
      assert.deepEqual(image.dockerfile, { location: path.join(ROOT, "docker", "Dockerfile") });
      assert.deepEqual(image.tags, [`${ref}:0.1.0`]);
      assert.equal(image.push, true);
      assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
      assert.deepEqual(image.buildArgs, {
        MODEL_ID: "Qwen/Qwen2.5-0.5B-Instruct",
        MODEL_REVISION: "7ae557604adf67be50417f59c2c2f167def9a775",
        MODEL_NAME: "qwen2-5-0-5b-instruct",
        IMAGE_VERSION: "0.1.0",
        INCLUDE_PATTERNS: "[]",
        EXCLUDE_PATTERNS: '["*.gguf","*.bin","*.pth"]',
        MAX_LAYER_BYTES: "10737418240",
        BASE_IMAGE: "public.ecr.aws/docker/library/busybox:1.37.0",
      });
      assert.deepEqual(image.cacheFrom, [
        { registry: { ref: `${ref}:buildcache-cpu-7ae557604adf67be50417f59c2c2f167def9a775` } },
      ]);
      assert.deepEqual(image.cacheTo, [
        {
          registry: {
            ref: `${ref}:buildcache-cpu-7ae557604adf67be50417f59c2c2f167def9a775`,
            mode: "min",
            imageManifest: true,
            ociMediaTypes: true,
          },
        },
      ]);
      assert.equal(image.secrets, undefined, "an ungated model gets no build secret");
      assert.equal(image.registries, undefined, "an open local registry needs no credentials");
    });

    it("skips the build on preview and uses the stack's host-network buildx builder", () => {
      const image = one(
        run.recorded,
        "docker-build:index:Image",
        "models-qwen2-5-0-5b-instruct-image",
      ).inputs;
      assert.equal(image.buildOnPreview, false);
      assert.deepEqual(image.builder, { name: "model-images-host" });
    });

    it("exports the same output shape as the CodeBuild builder", () => {
      const uris = run.outputs.modelUris as Record<string, string>;
      assert.deepEqual(uris, {
        "qwen2-5-0-5b-instruct":
          "oci://localhost:5000/kserve-models-local/qwen2-5-0-5b-instruct:0.1.0",
      });
      assert.match(
        (run.outputs.modelDigestUris as Record<string, string>)["qwen2-5-0-5b-instruct"],
        /^oci:\/\/localhost:5000\/kserve-models-local\/qwen2-5-0-5b-instruct@sha256:[0-9a-f]{64}$/,
      );
      assert.deepEqual(run.outputs.codeBuildProjects, {});
      assert.equal(run.outputs.sourceBucket, undefined);
    });
  });

  describe("local builder pushing to the stack's ECR", () => {
    let run: Run;
    before(async () => {
      run = await runOnFixture("dev", { "model-images:builder": "local" });
    });

    it("creates ECR repositories and images, but no CodeBuild, IAM, S3 or Secrets Manager resource", () => {
      const counts = countByType(run.recorded);
      assert.equal(counts["awsx:ecr:Repository"], 3);
      assert.equal(counts["docker-build:index:Image"], 4);
      for (const t of [
        "aws:codebuild/project:Project",
        "aws:iam/role:Role",
        "aws:s3/bucket:Bucket",
        "aws:secretsmanager/secret:Secret",
      ]) {
        assert.equal(counts[t], undefined, t);
      }
      assert.deepEqual([...new Set(run.calls)].sort(), [
        "aws:ecr/getAuthorizationToken:getAuthorizationToken",
        "aws:index/getCallerIdentity:getCallerIdentity",
      ]);
    });

    it("authenticates to ECR and passes the token only to gated builds, both as secrets", () => {
      const gated = one(
        run.recorded,
        "docker-build:index:Image",
        "models-gated-gpu-cuda-image",
      ).inputs;
      // Pulumi lifts secretness to the whole `secrets` map: the token never travels unwrapped.
      assert.deepEqual(gated.secrets, secretEnvelope({ hf_token: TOKEN }));
      assert.deepEqual(gated.platforms, ["linux/amd64"]);
      // The ECR password is secret, so the whole registries list travels as one secret.
      assert.deepEqual(
        gated.registries,
        secretEnvelope([
          {
            address: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
            username: "AWS",
            password: ECR_PASSWORD,
          },
        ]),
      );
      const small = one(run.recorded, "docker-build:index:Image", "models-small-image").inputs;
      assert.equal(small.secrets, undefined);
      assert.equal(small.builder, undefined, "no buildxBuilder: docker-build's default builder");
      for (const secret of [TOKEN, ECR_PASSWORD]) {
        assert.deepEqual(plaintextInputs(run.recorded, secret), []);
        assert.deepEqual(plaintextPaths(run.outputs, secret), []);
      }
    });

    it("tags with the stack's ECR repositories", () => {
      const image = one(run.recorded, "docker-build:index:Image", "models-both-cuda-image").inputs;
      assert.deepEqual(image.tags, [
        `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/kserve-models-dev/both:2.1-cuda`,
      ]);
      assert.equal(
        (run.outputs.modelUris as Record<string, string>)["both-cuda"],
        `oci://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/kserve-models-dev/both:2.1-cuda`,
      );
      assert.equal(byType(run.recorded, "pulumi-nodejs:dynamic:Resource").length, 0);
    });
  });

  // Settings valid one by one that contradict each other stop the program, naming the fix.
  const CONTRADICTIONS: [string, string, Record<string, string>, RegExp][] = [
    [
      "a registry with the CodeBuild builder",
      "dev",
      { "model-images:registry": "localhost:5000" },
      /registry is only for builder: local/,
    ],
    [
      "rebuildOnSourceChange with IMMUTABLE tags",
      "prod",
      { "model-images:rebuildOnSourceChange": "true" },
      /rebuildOnSourceChange needs imageTagMutability: MUTABLE .* set imageTagMutability to MUTABLE or rebuildOnSourceChange to false/,
    ],
    [
      "builder: local pushing to IMMUTABLE ECR tags",
      "prod",
      { "model-images:builder": "local" },
      /builder: local pushing to the stack's ECR needs imageTagMutability: MUTABLE .* set imageTagMutability to MUTABLE, set registry to a local registry, or use builder: codebuild/,
    ],
    [
      "a buildxBuilder with the CodeBuild builder",
      "dev",
      { "model-images:buildxBuilder": "model-images-host" },
      /buildxBuilder is only for builder: local/,
    ],
  ];
  for (const [what, stack, config, message] of CONTRADICTIONS) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(runProgram(stack, { ...stackConfig(stack), ...config }, TOKEN), message);
    });
  }
});
