// Runs the real index.ts under Pulumi mocks for dev and prod configs and checks the whole AWS graph.

import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ACCOUNT, byType, mockDigest } from "../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../tools/programRun";
import { countByType, FIXTURE, one, runOnFixture, TOKEN } from "./support/programChecks";
import { plaintextInputs, plaintextPaths, secretEnvelope } from "./support/secretChecks";
import { BUILD_CACHE_RULE } from "./support/ecrLifecycle";

const REGISTRY = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
};

describe("program (index.ts under mocks)", function () {
  this.timeout(60_000);

  describe("dev stack with a token", () => {
    let run: Run;
    before(async () => {
      run = await runOnFixture("dev");
    });

    it("creates exactly the expected resources", () => {
      assert.deepEqual(countByType(run.recorded), {
        "model-images:index:ModelCatalog": 1,
        "model-images:source:BuildSource": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
        "aws:s3/bucketVersioning:BucketVersioning": 1,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
        "aws:s3/bucketPolicy:BucketPolicy": 1,
        "aws:s3/bucketObjectv2:BucketObjectv2": 1,
        "model-images:secrets:HuggingfaceToken": 1,
        "aws:secretsmanager/secret:Secret": 1,
        "aws:secretsmanager/secretVersion:SecretVersion": 1,
        // small, both, gated-gpu; runtime-only is downloadAtRuntime and gets nothing.
        "model-images:registry:ModelRepository": 3,
        "awsx:ecr:Repository": 3,
        // small, both, both-cuda, gated-gpu-cuda
        "model-images:build:ModelBuildProject": 4,
        "aws:cloudwatch/logGroup:LogGroup": 4,
        "aws:iam/role:Role": 4,
        "aws:iam/rolePolicy:RolePolicy": 4,
        "aws:codebuild/project:Project": 4,
        // ModelImage, one per built image
        "pulumi-nodejs:dynamic:Resource": 4,
      });
    });

    it("exports oci:// URIs keyed by image name, and the skipped images", () => {
      assert.deepEqual(run.outputs.modelUris, {
        small: `oci://${REGISTRY}/kserve-models-dev/small:1.0.0`,
        both: `oci://${REGISTRY}/kserve-models-dev/both:2.1`,
        "both-cuda": `oci://${REGISTRY}/kserve-models-dev/both:2.1-cuda`,
        "gated-gpu-cuda": `oci://${REGISTRY}/kserve-models-dev/gated-gpu:0.3.0-cuda`,
      });
      assert.deepEqual(run.outputs.skippedImages, { "runtime-only": "hf://vendor/huge-model" });
      assert.deepEqual(run.outputs.repositories, {
        small: `${REGISTRY}/kserve-models-dev/small`,
        both: `${REGISTRY}/kserve-models-dev/both`,
        "gated-gpu": `${REGISTRY}/kserve-models-dev/gated-gpu`,
      });
      assert.deepEqual(run.outputs.codeBuildProjects, {
        small: "model-images-dev-small",
        both: "model-images-dev-both",
        "both-cuda": "model-images-dev-both-cuda",
        "gated-gpu-cuda": "model-images-dev-gated-gpu-cuda",
      });
      assert.equal(run.outputs.sourceBucket, "models-source-bucket-abc123");
    });

    it("configures ECR for dev: mutable, deletable, expiring", () => {
      const repo = one(run.recorded, "awsx:ecr:Repository", "models-both-ecr").inputs;
      assert.deepEqual(repo, {
        name: "kserve-models-dev/both",
        imageTagMutability: "MUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        forceDelete: true,
        lifecyclePolicy: {
          rules: [
            BUILD_CACHE_RULE,
            {
              tagStatus: "untagged",
              maximumAgeLimit: 1,
              description: "Expire untagged images after 1 day",
            },
            {
              tagStatus: "any",
              maximumAgeLimit: 14,
              description: "Expire images older than 14 days",
            },
          ],
        },
        tags: { Project: "model-images", Stack: "dev", ManagedBy: "pulumi", Model: "both" },
      });
    });

    it("builds cuda on GPU compute and cpu on Linux compute sized for the model", () => {
      const env = (n: string) =>
        one(run.recorded, "aws:codebuild/project:Project", `models-${n}-project`).inputs
          .environment as Record<string, unknown>;
      assert.equal(env("both-cuda").type, "LINUX_GPU_CONTAINER");
      assert.equal(env("both-cuda").computeType, "BUILD_GENERAL1_SMALL");
      assert.equal(env("gated-gpu-cuda").type, "LINUX_GPU_CONTAINER");
      assert.equal(env("both").type, "LINUX_CONTAINER");
      // 30 GB of weights need ~90 GB of disk: more than SMALL's 64 GB.
      assert.equal(env("both").computeType, "BUILD_GENERAL1_MEDIUM");
      assert.equal(env("small").computeType, "BUILD_GENERAL1_SMALL");
      for (const n of ["small", "both", "both-cuda", "gated-gpu-cuda"]) {
        assert.equal(env(n).privilegedMode, true, n);
        assert.equal(env(n).image, "aws/codebuild/standard:7.0");
      }
    });

    it("passes build parameters as PLAINTEXT and the token only as a SECRETS_MANAGER reference", () => {
      const project = one(
        run.recorded,
        "aws:codebuild/project:Project",
        "models-gated-gpu-cuda-project",
      ).inputs;
      const vars = (
        project.environment as {
          environmentVariables: { name: string; type: string; value: string }[];
        }
      ).environmentVariables;
      const byName = Object.fromEntries(vars.map((v) => [v.name, v]));
      assert.deepEqual(byName.HF_TOKEN, {
        name: "HF_TOKEN",
        type: "SECRETS_MANAGER",
        value: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:models-hf-token-secret-AbCdEf`,
      });
      assert.deepEqual(
        vars.filter((v) => v.name !== "HF_TOKEN").map((v) => [v.name, v.type, v.value]),
        [
          ["MODEL_NAME", "PLAINTEXT", "gated-gpu"],
          ["MODEL_ID", "PLAINTEXT", "vendor/gated-model"],
          ["MODEL_REVISION", "PLAINTEXT", "fedcba9876543210fedcba9876543210fedcba98"],
          ["IMAGE_TAG", "PLAINTEXT", "0.3.0-cuda"],
          ["REPOSITORY_URI", "PLAINTEXT", `${REGISTRY}/kserve-models-dev/gated-gpu`],
          ["BASE_IMAGE", "PLAINTEXT", "public.ecr.aws/docker/library/busybox:1.37.0"],
          ["ACCELERATOR", "PLAINTEXT", "cuda"],
          ["PLATFORMS", "PLAINTEXT", "linux/amd64"],
          ["INCLUDE_PATTERNS", "PLAINTEXT", "[]"],
          ["EXCLUDE_PATTERNS", "PLAINTEXT", '["original/*"]'],
          ["MAX_LAYER_BYTES", "PLAINTEXT", "10737418240"],
          // signing: none on dev; the BOM is always attached (the program bundles the CLI).
          ["SIGNING_KEY_ARN", "PLAINTEXT", ""],
          ["BOM_ATTACH", "PLAINTEXT", "true"],
        ],
      );
      // An ungated image gets no token at all.
      const small = one(
        run.recorded,
        "aws:codebuild/project:Project",
        "models-small-project",
      ).inputs;
      const smallVars = (
        small.environment as { environmentVariables: { name: string; type: string }[] }
      ).environmentVariables;
      assert.ok(smallVars.every((v) => v.type === "PLAINTEXT" && v.name !== "HF_TOKEN"));
      assert.equal(small.buildTimeout, 240);
      assert.equal(small.concurrentBuildLimit, 1);
      assert.deepEqual(small.source, {
        type: "S3",
        location: `models-source-bucket-abc123/sources/${(small.source as { location: string }).location.split("/sources/")[1]}`,
        buildspec: "buildspec.yml",
      });
      assert.match(
        (small.source as { location: string }).location,
        /\/sources\/[0-9a-f]{64}\.zip$/,
      );
      assert.deepEqual(small.logsConfig, {
        cloudwatchLogs: { status: "ENABLED", groupName: "/aws/codebuild/model-images-dev-small" },
        s3Logs: { status: "DISABLED" },
      });
    });

    it("scopes each role's policy to its own repository, source object, log group and secret", () => {
      for (const n of ["small", "both", "both-cuda", "gated-gpu-cuda"]) {
        const policy = JSON.parse(
          one(run.recorded, "aws:iam/rolePolicy:RolePolicy", `models-${n}-policy`).inputs
            .policy as string,
        );
        const statements = policy.Statement as Statement[];
        for (const s of statements) {
          assert.equal(s.Effect, "Allow");
          assert.notEqual(s.Action, "*");
          assert.ok(![s.Action].flat().includes("*"), `${n}: wildcard action`);
          if (s.Resource === "*") {
            assert.deepEqual(
              s.Action,
              ["ecr:GetAuthorizationToken"],
              `${n}: only GetAuthorizationToken may use Resource "*"`,
            );
          }
        }
        const model = n.replace(/-cuda$/, "");
        const sid = (id: string) => statements.find((s) => s.Sid === id) as Statement;
        assert.equal(
          sid("PushOwnRepository").Resource,
          `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/kserve-models-dev/${model}`,
        );
        assert.match(
          sid("ReadBuildSource").Resource as string,
          /^arn:aws:s3:::models-source-bucket-abc123\/sources\/[0-9a-f]{64}\.zip$/,
        );
        assert.equal(
          sid("WriteOwnLogs").Resource,
          `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/codebuild/model-images-dev-${n}:*`,
        );
        assert.equal(
          statements.some((s) => s.Sid === "ReadHuggingfaceToken"),
          n === "gated-gpu-cuda",
          n,
        );
      }
      const trust = JSON.parse(
        one(run.recorded, "aws:iam/role:Role", "models-small-role").inputs
          .assumeRolePolicy as string,
      );
      assert.deepEqual(trust.Statement[0].Principal, { Service: "codebuild.amazonaws.com" });
      assert.deepEqual(trust.Statement[0].Condition, {
        StringEquals: { "aws:SourceAccount": ACCOUNT },
      });
    });

    it("hardens the source bucket", () => {
      const pab = byType(run.recorded, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]
        .inputs;
      for (const flag of [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
      ]) {
        assert.equal(pab[flag], true, flag);
      }
      assert.deepEqual(
        byType(run.recorded, "aws:s3/bucketVersioning:BucketVersioning")[0].inputs
          .versioningConfiguration,
        {
          status: "Enabled",
        },
      );
      assert.deepEqual(
        byType(
          run.recorded,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )[0].inputs.rules,
        [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      );
      const policy = JSON.parse(
        byType(run.recorded, "aws:s3/bucketPolicy:BucketPolicy")[0].inputs.policy as string,
      );
      assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
      assert.equal(policy.Statement[0].Effect, "Deny");
      const rules = byType(
        run.recorded,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      )[0].inputs.rules as Record<string, unknown>[];
      assert.deepEqual(rules[0].noncurrentVersionExpiration, { noncurrentDays: 30 });
      assert.deepEqual(rules[0].abortIncompleteMultipartUpload, { daysAfterInitiation: 1 });
      assert.equal(byType(run.recorded, "aws:s3/bucket:Bucket")[0].inputs.forceDestroy, true);
    });

    it("sets log retention from config", () => {
      for (const g of byType(run.recorded, "aws:cloudwatch/logGroup:LogGroup")) {
        assert.equal(g.inputs.retentionInDays, 7);
        assert.match(g.inputs.name as string, /^\/aws\/codebuild\/model-images-dev-/);
      }
    });

    it("keeps the token out of every input and output: it appears only as a Pulumi secret", () => {
      assert.deepEqual(plaintextInputs(run.recorded, TOKEN), []);
      const holders = run.recorded.filter((r) => JSON.stringify(r.inputs).includes(TOKEN));
      assert.deepEqual(
        holders.map((r) => r.type),
        ["aws:secretsmanager/secretVersion:SecretVersion"],
      );
      assert.deepEqual(holders[0].inputs.secretString, secretEnvelope(TOKEN));
      assert.deepEqual(plaintextPaths(run.outputs, TOKEN), []);
      assert.ok(!JSON.stringify(run.outputs).includes(TOKEN));
    });

    it("exports digest-pinned InferenceService YAML per image, hf:// for downloadAtRuntime", () => {
      const manifests = run.outputs.kserveManifests as Record<string, string>;
      assert.deepEqual(Object.keys(manifests).sort(), [
        "both",
        "both-cuda",
        "gated-gpu-cuda",
        "runtime-only",
        "small",
      ]);
      const cuda = parse(manifests["both-cuda"]) as {
        kind: string;
        metadata: { name: string };
        spec: {
          predictor: {
            model: { storageUri: string; resources: { limits: Record<string, string> } };
          };
        };
      };
      assert.equal(cuda.kind, "InferenceService");
      assert.equal(cuda.metadata.name, "both-cuda");
      assert.equal(
        cuda.spec.predictor.model.storageUri,
        `oci://${REGISTRY}/kserve-models-dev/both@${mockDigest("kserve-models-dev/both", "2.1-cuda")}`,
      );
      assert.equal(cuda.spec.predictor.model.resources.limits["nvidia.com/gpu"], "1");
      const runtime = parse(manifests["runtime-only"]) as {
        spec: { predictor: { model: { storageUri: string } } };
      };
      assert.equal(
        runtime.spec.predictor.model.storageUri,
        "hf://vendor/huge-model:00112233445566778899aabbccddeeff00112233",
      );
    });

    it("checks each image's tag with a ModelImage wired to its project, repository and source version", () => {
      const images = byType(run.recorded, "pulumi-nodejs:dynamic:Resource");
      const inputs = one(
        run.recorded,
        "pulumi-nodejs:dynamic:Resource",
        "models-both-cuda-image",
      ).inputs;
      assert.equal(images.length, 4);
      assert.equal(inputs.projectName, "model-images-dev-both-cuda");
      assert.equal(inputs.repositoryName, "kserve-models-dev/both");
      assert.equal(inputs.tag, "2.1-cuda");
      assert.equal(inputs.region, "us-east-1");
      assert.equal(inputs.registryId, ACCOUNT);
      // The archive key names the source; no S3 version id (a new bucket may not have one yet).
      assert.equal(inputs.sourceVersion, undefined);
      assert.equal(inputs.timeoutMinutes, 240 + 30);
      assert.equal(inputs.pollIntervalSeconds, 15);
      // Retired: ModelImage always waits for its build and never deletes an image.
      assert.equal(inputs.waitForBuild, undefined);
      assert.equal(inputs.deleteImageOnDestroy, undefined);
      // No aws:profile or aws:assumeRoles on this stack: the default chain, like its aws provider.
      assert.deepEqual(
        ["profile", "roleArn", "roleSessionName", "externalId"].filter((k) => k in inputs),
        [],
      );
      // dev rebuilds a MUTABLE tag when what the build reads changes: the project's own values.
      assert.equal(inputs.rebuildOnChange, true);
      const project = one(
        run.recorded,
        "aws:codebuild/project:Project",
        "models-both-cuda-project",
      );
      const projectVars = (
        project.inputs.environment as { environmentVariables: { name: string; value: string }[] }
      ).environmentVariables;
      const environment = inputs.environment as Record<string, string>;
      assert.deepEqual(Object.keys(environment).sort(), [
        "ACCELERATOR",
        "BASE_IMAGE",
        "BUILD_SOURCE_KEY",
        "EXCLUDE_PATTERNS",
        "IMAGE_TAG",
        "INCLUDE_PATTERNS",
        "MAX_LAYER_BYTES",
        "MODEL_ID",
        "MODEL_NAME",
        "MODEL_REVISION",
        "PLATFORMS",
      ]);
      const source = project.inputs.source as { location: string };
      assert.match(environment.BUILD_SOURCE_KEY, /^sources\/[0-9a-f]{64}\.zip$/);
      assert.ok(source.location.endsWith(`/${environment.BUILD_SOURCE_KEY}`), source.location);
      for (const [name, value] of Object.entries(environment)) {
        if (name === "BUILD_SOURCE_KEY") {
          continue;
        }
        assert.deepEqual(
          projectVars.find((v) => v.name === name),
          { name, value, type: "PLAINTEXT" },
          name,
        );
      }
      assert.ok(!("huggingfaceToken" in inputs) && !("token" in inputs));
      assert.deepEqual(run.outputs.modelDigestUris, {
        small: `oci://${REGISTRY}/kserve-models-dev/small@${mockDigest("kserve-models-dev/small", "1.0.0")}`,
        both: `oci://${REGISTRY}/kserve-models-dev/both@${mockDigest("kserve-models-dev/both", "2.1")}`,
        "both-cuda": `oci://${REGISTRY}/kserve-models-dev/both@${mockDigest("kserve-models-dev/both", "2.1-cuda")}`,
        "gated-gpu-cuda": `oci://${REGISTRY}/kserve-models-dev/gated-gpu@${mockDigest("kserve-models-dev/gated-gpu", "0.3.0-cuda")}`,
      });
    });
  });

  describe("prod stack", () => {
    let run: Run;
    before(async () => {
      run = await runOnFixture("prod");
    });

    it("uses immutable tags, keeps repositories, scans on push and keeps images", () => {
      for (const r of byType(run.recorded, "awsx:ecr:Repository")) {
        assert.equal(r.inputs.imageTagMutability, "IMMUTABLE");
        assert.equal(r.inputs.forceDelete, false);
        assert.deepEqual(r.inputs.imageScanningConfiguration, { scanOnPush: true });
        assert.deepEqual((r.inputs.lifecyclePolicy as { rules: unknown[] }).rules, [
          BUILD_CACHE_RULE,
          {
            tagStatus: "untagged",
            maximumAgeLimit: 1,
            description: "Expire untagged images after 1 day",
          },
        ]);
        assert.match(r.inputs.name as string, /^kserve-models\//);
      }
      assert.equal(byType(run.recorded, "aws:s3/bucket:Bucket")[0].inputs.forceDestroy, false);
      assert.equal(
        byType(run.recorded, "aws:secretsmanager/secret:Secret")[0].inputs.recoveryWindowInDays,
        30,
      );
      for (const g of byType(run.recorded, "aws:cloudwatch/logGroup:LogGroup")) {
        assert.equal(g.inputs.retentionInDays, 365);
      }
      for (const p of byType(run.recorded, "aws:codebuild/project:Project")) {
        assert.equal(p.inputs.buildTimeout, 480);
      }
      for (const i of byType(run.recorded, "pulumi-nodejs:dynamic:Resource")) {
        assert.equal(i.inputs.rebuildOnChange, false, "an IMMUTABLE tag is never rebuilt");
      }
      assert.equal(
        (run.outputs.modelUris as Record<string, string>).small,
        `oci://${REGISTRY}/kserve-models/small:1.0.0`,
      );
    });
  });

  describe("kserveManifests follow the stack's kserveKinds and kserveNamespace", () => {
    let run: Run;
    before(async () => {
      run = await runOnFixture("dev", {
        // The engine hands structured config to the program as JSON text.
        "model-images:kserveKinds": JSON.stringify(["isvc", "llmisvc"]),
        "model-images:kserveNamespace": "models",
      });
    });

    it("each image holds both kinds, in the namespace, digest-pinned", () => {
      const manifests = run.outputs.kserveManifests as Record<string, string>;
      assert.equal(Object.keys(manifests).length, 5);
      for (const [name, text] of Object.entries(manifests)) {
        const docs = parseAllDocuments(text).map((d) => d.toJS()) as {
          kind: string;
          metadata: { name: string; namespace?: string };
        }[];
        assert.deepEqual(
          docs.map((d) => [d.kind, d.metadata.name, d.metadata.namespace]),
          [
            ["InferenceService", name, "models"],
            ["LLMInferenceService", name, "models"],
          ],
        );
      }
      const llm = parseAllDocuments(manifests["both-cuda"])[1].toJS() as {
        spec: { model: { uri: string } };
      };
      assert.equal(
        llm.spec.model.uri,
        `oci://${REGISTRY}/kserve-models-dev/both@${mockDigest("kserve-models-dev/both", "2.1-cuda")}`,
      );
    });

    it("by default: InferenceService only, no namespace", async () => {
      const plain = await runOnFixture("dev");
      const manifests = plain.outputs.kserveManifests as Record<string, string>;
      for (const text of Object.values(manifests)) {
        const docs = parseAllDocuments(text).map((d) => d.toJS());
        assert.equal(docs.length, 1);
        assert.equal(docs[0].kind, "InferenceService");
        assert.equal(docs[0].metadata.namespace, undefined);
      }
    });

    it("a serving field a configured kind cannot express stops the program at its position", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kinds-"));
      const file = path.join(dir, "models.yaml");
      fs.writeFileSync(
        file,
        fs
          .readFileSync(FIXTURE, "utf8")
          .replace(
            '    tag: "1.0.0"\n',
            '    tag: "1.0.0"\n    serving:\n      runtime: kserve-huggingfaceserver\n',
          ),
      );
      try {
        await assert.rejects(
          runProgram(
            "dev",
            {
              ...stackConfig("dev"),
              "model-images:manifest": file,
              "model-images:kserveKinds": JSON.stringify(["llmisvc"]),
            },
            TOKEN,
          ),
          (err: Error) => {
            assert.ok(err instanceof pulumi.RunError, String(err));
            assert.match(
              err.message,
              /models\.yaml:7:16: runtime 'kserve-huggingfaceserver' cannot be expressed by an LLMInferenceService/,
            );
            return true;
          },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("an unknown kind is a config problem naming the key", async () => {
      await assert.rejects(
        runOnFixture("dev", { "model-images:kserveKinds": JSON.stringify(["pods"]) }),
        /model-images:kserveKinds: kserveKinds must be a non-empty list of isvc, llmisvc, each once \(got "\[\\"pods\\"\]"\)/,
      );
    });
  });

  describe("bad input stops the program with positions, not a trace", () => {
    it("a gated model on a stack without a token", async () => {
      await assert.rejects(
        runProgram("prod", { ...stackConfig("prod"), "model-images:manifest": FIXTURE }),
        (err: Error) => {
          assert.ok(err instanceof pulumi.RunError, String(err));
          assert.match(
            err.message,
            /catalog\.yaml:\d+:\d+: model 'gated-gpu' is gated but stack 'prod' has no huggingface-token/,
          );
          return true;
        },
      );
    });

    it("invalid config names the key and what is allowed", async () => {
      await assert.rejects(
        runProgram(
          "dev",
          { ...stackConfig("dev"), "model-images:imageTagMutability": "SOMETIMES" },
          TOKEN,
        ),
        (err: Error) =>
          err instanceof pulumi.RunError &&
          /model-images:imageTagMutability: imageTagMutability must be MUTABLE or IMMUTABLE/.test(
            err.message,
          ),
      );
    });
  });
});
