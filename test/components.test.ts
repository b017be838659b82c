// Each component on its own under mocks: exact children, names, inputs and resource options.

import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { BuildSource } from "../components/buildSource";
import { HuggingfaceToken } from "../components/huggingfaceToken";
import { LocalModelImage } from "../components/localModelImage";
import { ModelBuildProject } from "../components/modelBuildProject";
import { ModelCatalog } from "../components/modelCatalog";
import { ModelRepository } from "../components/modelRepository";
import { defaultSettings } from "../lib/settings";
import { expandImages, parseManifest } from "../lib/manifest";
import { CLI_BUNDLE, cliBundleText } from "../lib/cliBundle";
import { sourceFiles, sourceHash } from "../lib/sourceFiles";
import { ACCOUNT, installMocks, Recorded, settle, unwrap } from "../tools/pulumiMocks";
import { TOKEN } from "./support/programChecks";
import { secretEnvelope } from "./support/secretChecks";
import { BUILD_CACHE_RULE } from "./support/ecrLifecycle";

const ROOT = path.resolve(__dirname, "..");

/** Wrap a provider class so every construction records its resource options. */
function recordOptions(
  ns: object,
  name: string,
  into: Map<string, pulumi.CustomResourceOptions>,
): () => void {
  const original = (ns as Record<string, new (...a: unknown[]) => unknown>)[name];
  const descriptor = Object.getOwnPropertyDescriptor(ns, name) as PropertyDescriptor;
  class Recording extends (original as new (
    n: string,
    a: unknown,
    o?: pulumi.CustomResourceOptions,
  ) => object) {
    constructor(n: string, a: unknown, o?: pulumi.CustomResourceOptions) {
      into.set(n, o ?? {});
      super(n, a, o);
    }
  }
  Object.defineProperty(ns, name, { value: Recording, configurable: true });
  return () => Object.defineProperty(ns, name, descriptor);
}

function image(yaml: string) {
  const settings = defaultSettings("dev", { registryPrefix: "p", requirePinnedRevisions: false });
  const result = parseManifest("m.yaml", yaml, settings);
  assert.deepEqual(result.diagnostics, []);
  return expandImages(result.models, settings)[0];
}

describe("components", function () {
  this.timeout(30_000);
  let recorded: Recorded[];
  const only = (type: string) => recorded.filter((r) => r.type === type);

  beforeEach(async () => {
    recorded = [];
    await installMocks(recorded, "dev");
  });

  it("BuildSource: a hardened bucket and the content-addressed archive of docker/ + buildspec.yml", async () => {
    const src = new BuildSource("src", {
      projectDir: ROOT,
      forceDestroy: false,
      noncurrentVersionDays: 10,
    });
    await unwrap(src.bucketName);
    await settle();
    assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`).sort(), [
      "aws:s3/bucket:Bucket src-bucket",
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration src-lifecycle",
      "aws:s3/bucketObjectv2:BucketObjectv2 src-archive",
      "aws:s3/bucketOwnershipControls:BucketOwnershipControls src-ownership",
      "aws:s3/bucketPolicy:BucketPolicy src-tls-only",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock src-public-access",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration src-encryption",
      "aws:s3/bucketVersioning:BucketVersioning src-versioning",
      "model-images:source:BuildSource src",
    ]);
    const hash = sourceHash(sourceFiles(ROOT), { [CLI_BUNDLE]: cliBundleText(ROOT) });
    assert.equal(src.objectKey, `sources/${hash}.zip`);
    const object = only("aws:s3/bucketObjectv2:BucketObjectv2")[0].inputs;
    assert.equal(object.key, `sources/${hash}.zip`);
    assert.equal(object.contentType, "application/zip");
    // The archive is what CodeBuild unpacks: buildspec.yml at the root, the docker/ context beside it.
    const archive = object.source as { assets: Promise<Record<string, { path: Promise<string> }>> };
    const assets = await archive.assets;
    const names = Object.keys(assets).sort();
    assert.equal(await assets["buildspec.yml"].path, path.join(ROOT, "buildspec", "buildspec.yml"));
    assert.ok(
      names.includes("buildspec.yml") &&
        names.includes("docker/Dockerfile") &&
        names.includes("docker/download_model.py") &&
        names.includes("buildspec/sign-and-attest.sh") &&
        names.includes("buildspec/pull-through.sh") &&
        names.includes(CLI_BUNDLE),
      names.join(","),
    );
    assert.ok(
      !names.some((n) => /test_|__pycache__/.test(n)),
      `tests stay out of the archive: ${names.join(",")}`,
    );
    assert.equal(only("aws:s3/bucket:Bucket")[0].inputs.forceDestroy, false);
    const lifecycle = only("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]
      .inputs.rules as Record<string, unknown>[];
    assert.deepEqual(lifecycle[0].noncurrentVersionExpiration, { noncurrentDays: 10 });
  });

  it("BuildSource: the archive key follows the content", () => {
    const files = sourceFiles(ROOT);
    const changed = { ...files, "docker/extra.txt": path.join(ROOT, "models.yaml") };
    assert.notEqual(sourceHash(changed), sourceHash(files));
    assert.equal(sourceHash({ ...files }), sourceHash(files));
  });

  it("HuggingfaceToken: one secret and a secret version whose value stays secret", async () => {
    const t = new HuggingfaceToken("tok", { token: pulumi.secret(TOKEN), recoveryWindowInDays: 7 });
    await unwrap(t.secretArn);
    await settle();
    const secret = only("aws:secretsmanager/secret:Secret");
    assert.equal(secret.length, 1);
    assert.equal(secret[0].name, "tok-secret");
    assert.equal(secret[0].inputs.recoveryWindowInDays, 7);
    const version = only("aws:secretsmanager/secretVersion:SecretVersion")[0];
    assert.equal(version.name, "tok-version");
    assert.deepEqual(version.inputs.secretString, secretEnvelope(TOKEN));
    assert.equal(
      await unwrap(t.secretArn),
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:tok-secret-AbCdEf`,
    );
  });

  for (const retain of [true, false]) {
    it(`ModelRepository: exact inputs, KMS encryption, retainOnDelete ${retain}`, async () => {
      const opts = new Map<string, pulumi.CustomResourceOptions>();
      const restore = recordOptions(awsx.ecr, "Repository", opts);
      try {
        const kms = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
        const repo = new ModelRepository("repo", {
          repositoryName: "p/m",
          imageTagMutability: "IMMUTABLE",
          scanOnPush: false,
          kmsKeyArn: kms,
          forceDelete: !retain,
          retainOnDelete: retain,
          imageExpiryDays: 0,
          untaggedExpiryDays: 3,
        });
        assert.equal(await unwrap(repo.url), `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/p/m`);
        assert.equal(await unwrap(repo.arn), `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/p/m`);
        await settle();
        assert.equal(opts.get("repo-ecr")?.retainOnDelete, retain);
        assert.deepEqual(only("awsx:ecr:Repository")[0].inputs, {
          name: "p/m",
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: false },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: kms }],
          forceDelete: !retain,
          lifecyclePolicy: {
            rules: [
              BUILD_CACHE_RULE,
              {
                tagStatus: "untagged",
                maximumAgeLimit: 3,
                description: "Expire untagged images after 3 days",
              },
            ],
          },
        });
      } finally {
        restore();
      }
    });
  }

  it("ModelBuildProject: an ungated cpu image gets no secret access and PLAINTEXT parameters only", async () => {
    const img = image(
      'models:\n  - name: m\n    source: o/m\n    revision: main\n    tag: "1"\n    sizeGB: 50\n',
    );
    const p = new ModelBuildProject("b", {
      image: img,
      projectName: "proj",
      region: "us-east-1",
      repositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/p/m`,
      repositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/p/m`,
      sourceBucketName: "bkt",
      sourceBucketArn: "arn:aws:s3:::bkt",
      sourceObjectKey: "sources/x.zip",
      accountId: ACCOUNT,
      buildTimeoutMinutes: 90,
      logRetentionDays: 14,
      maxLayerBytes: 1048576,
    });
    await unwrap(p.projectName);
    await settle();
    assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`).sort(), [
      "aws:cloudwatch/logGroup:LogGroup b-logs",
      "aws:codebuild/project:Project b-project",
      "aws:iam/role:Role b-role",
      "aws:iam/rolePolicy:RolePolicy b-policy",
      "model-images:build:ModelBuildProject b",
    ]);
    const project = only("aws:codebuild/project:Project")[0].inputs;
    assert.equal(project.name, "proj");
    assert.equal(project.buildTimeout, 90);
    const env = project.environment as {
      computeType: string;
      type: string;
      environmentVariables: { name: string; type: string; value: string }[];
    };
    // 50 GB needs ~150 GB of disk: XLARGE (256 GB) is the cheapest cpu type that has it.
    assert.equal(env.computeType, "BUILD_GENERAL1_XLARGE");
    assert.equal(env.type, "LINUX_CONTAINER");
    assert.ok(env.environmentVariables.every((v) => v.type === "PLAINTEXT"));
    assert.equal(
      env.environmentVariables.find((v) => v.name === "MAX_LAYER_BYTES")?.value,
      "1048576",
    );
    assert.equal(env.environmentVariables.find((v) => v.name === "MODEL_REVISION")?.value, "main");
    const policy = JSON.parse(only("aws:iam/rolePolicy:RolePolicy")[0].inputs.policy as string);
    assert.deepEqual(
      policy.Statement.map((s: { Sid: string }) => s.Sid),
      ["EcrLogin", "PushOwnRepository", "ReadBuildSource", "LocateSourceBucket", "WriteOwnLogs"],
    );
    assert.equal(only("aws:cloudwatch/logGroup:LogGroup")[0].inputs.name, "/aws/codebuild/proj");
    assert.equal(only("aws:cloudwatch/logGroup:LogGroup")[0].inputs.retentionInDays, 14);
  });

  it("LocalModelImage: the docker-build Image keeps its pushed tags on delete", async () => {
    const img = image('models:\n  - name: m\n    source: o/m\n    revision: main\n    tag: "1"\n');
    // Resource options never reach the mocks; a transformation sees them as the SDK resolves them.
    const seen: pulumi.ResourceTransformationArgs[] = [];
    new LocalModelImage(
      "l",
      { image: img, registry: "localhost:5000", projectDir: ROOT, maxLayerBytes: 5 },
      { transformations: [(a) => void seen.push(a)] },
    );
    await settle();
    const built = seen.filter((a) => a.type === "docker-build:index:Image");
    assert.equal(built.length, 1);
    assert.equal(built[0].opts.retainOnDelete, true);
  });

  it("LocalModelImage: docker-build inputs for an open registry", async () => {
    const img = image(
      'models:\n  - name: m\n    source: o/m\n    revision: main\n    tag: "1"\n    variants: [{accelerator: cuda}]\n',
    );
    const local = new LocalModelImage("l", {
      image: img,
      registry: "localhost:5000",
      projectDir: ROOT,
      maxLayerBytes: 5,
    });
    assert.equal(await unwrap(local.ref), "localhost:5000/p/m:1-cuda");
    await settle();
    const inputs = only("docker-build:index:Image")[0].inputs;
    assert.deepEqual(inputs.platforms, ["linux/amd64"]);
    assert.equal((inputs.buildArgs as Record<string, string>).MAX_LAYER_BYTES, "5");
    assert.equal(
      (inputs.buildArgs as Record<string, string>).BASE_IMAGE,
      "public.ecr.aws/docker/library/busybox:1.37.0",
    );
    assert.deepEqual(inputs.cacheFrom, [
      { registry: { ref: "localhost:5000/p/m:buildcache-cuda-main" } },
    ]);
    assert.match(await unwrap(local.digestRef), /^localhost:5000\/p\/m@sha256:[0-9a-f]{64}$/);
  });

  it("ModelCatalog: a gated image without a token is refused before anything is created", async () => {
    const img = {
      ...image('models:\n  - name: m\n    source: o/m\n    revision: main\n    tag: "1"\n'),
      gated: true,
    };
    assert.throws(
      () =>
        new ModelCatalog("c", {
          images: [img],
          settings: defaultSettings("dev"),
          projectDir: ROOT,
          region: "us-east-1",
        }),
      /gated models need the huggingface-token config on stack 'dev'/,
    );
    await settle();
    assert.deepEqual(
      recorded.filter((r) => r.type.startsWith("aws:")),
      [],
    );
  });

  it("an unexpected data-source call fails instead of returning nothing", async () => {
    const calls: string[] = [];
    await installMocks([], "dev", {}, calls);
    // Pulumi wraps the mock's error; the rejection and the recorded token show where it came from.
    await assert.rejects(aws.getRegion());
    assert.deepEqual(calls, ["aws:index/getRegion:getRegion"]);
  });
});
