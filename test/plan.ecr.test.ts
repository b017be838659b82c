// `plan` in ECR mode against the loopback ECR emulator: BatchGetImage batching, exact tags, missing repositories, auth errors.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import type { ImageSpec } from "../lib/manifest";
import { BATCH_GET_IMAGE_MAX, checkImages, RegistryError } from "../lib/registry";
import type { AwsEmulator } from "./support/awsEmulator";
import { type ProcessRun, runCli, runProcess } from "./support/cli";
import { fakeDigest as d, imagesOf, MANIFEST, planArgs } from "./support/planCatalog";
import { type EcrPlanFixture, startEcrPlanFixture } from "./support/planEcr";

const PREFIX = "plan-ecr";
const ECR = "AmazonEC2ContainerRegistry_V20150921";

/** The CLI in process, streams captured. */
const run = runCli;

/** The CLI as a real process, from source. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<ProcessRun> {
  return runProcess(args, { env });
}

function images(manifest: string): ImageSpec[] {
  return imagesOf(manifest, PREFIX);
}

/** Operations ECR has and the emulator does not build in: added through its route table. */
function addAccountRoutes(emu: AwsEmulator): void {
  emu.route(`${ECR}.DescribeRegistry`, () => ({
    registryId: emu.accountId,
    replicationConfiguration: { rules: [] },
  }));
  emu.route(`${ECR}.GetAuthorizationToken`, () => ({
    authorizationData: [
      {
        authorizationToken: Buffer.from("AWS:password").toString("base64"),
        expiresAt: Math.floor(Date.now() / 1000) + 43200,
        proxyEndpoint: `https://${emu.accountId}.dkr.ecr.${emu.region}.amazonaws.com`,
      },
    ],
  }));
}

describe("plan against ECR (emulator)", function () {
  this.timeout(30_000);
  let fixture: EcrPlanFixture;
  let emu: AwsEmulator;
  let host: string;
  const base = () => planArgs(fixture.manifest, PREFIX);

  before(async () => {
    fixture = await startEcrPlanFixture(MANIFEST, "plan-ecr-");
    emu = fixture.emu;
    host = `${emu.accountId}.dkr.ecr.${emu.region}.amazonaws.com`;
  });
  after(async () => {
    await fixture?.close();
  });
  beforeEach(() => {
    emu.reset();
    addAccountRoutes(emu);
    emu.addRepository(`${PREFIX}/alpha`, { "0.1.0": d(1) });
    // The substring trap: "10.2.0" and "0.2.0-old" contain "0.2.0"; neither is it.
    emu.addRepository(`${PREFIX}/beta`, { "10.2.0": d(2), "0.2.0-old": d(3) });
    emu.addRepository(`${PREFIX}/gamma`, { "0.3.0-cuda": d(4) });
    // plan-ecr/delta does not exist: RepositoryNotFoundException.
  });

  const expected = () => [
    { name: "alpha", status: "present", digest: d(1), uri: `oci://${host}/${PREFIX}/alpha:0.1.0` },
    { name: "beta", status: "missing", uri: `oci://${host}/${PREFIX}/beta:0.2.0` },
    { name: "gamma", status: "missing", uri: `oci://${host}/${PREFIX}/gamma:0.3.0` },
    {
      name: "gamma-cuda",
      status: "present",
      digest: d(4),
      uri: `oci://${host}/${PREFIX}/gamma:0.3.0-cuda`,
    },
    { name: "delta", status: "missing", uri: `oci://${host}/${PREFIX}/delta:0.1.0` },
    { name: "epsilon", status: "skipped", uri: `oci://${host}/${PREFIX}/epsilon:0.1.0` },
  ];
  const brief = (entries: { name: string; status: string; digest?: string; uri: string }[]) =>
    entries.map(({ name, status, digest, uri }) => ({
      name,
      status,
      uri,
      ...(digest ? { digest } : {}),
    }));

  it("--json: exact tags, a missing repository is missing, the account comes from the answer", async () => {
    const r = await run([...base(), "--json"]);
    assert.equal(r.code, 0, r.err);
    const entries = JSON.parse(r.out);
    assert.deepEqual(brief(entries), expected());
    assert.deepEqual(Object.keys(entries[0]), [
      "name",
      "model",
      "variant",
      "repository",
      "tag",
      "uri",
      "status",
      "digest",
    ]);
    // One call per repository (gamma's two tags share one), none for the skipped model.
    const calls = emu.calls("BatchGetImage");
    assert.deepEqual(
      calls.map((c) => c.body.repositoryName).sort(),
      ["alpha", "beta", "delta", "gamma"].map((n) => `${PREFIX}/${n}`),
    );
    const gamma = calls.find((c) => c.body.repositoryName === `${PREFIX}/gamma`)!;
    assert.deepEqual(gamma.body.imageIds, [{ imageTag: "0.3.0" }, { imageTag: "0.3.0-cuda" }]);
    assert.equal(gamma.body.registryId, undefined);
    assert.ok(gamma.body.acceptedMediaTypes?.includes("application/vnd.oci.image.index.v1+json"));
    assert.equal(emu.calls("DescribeRegistry").length, 0);
  });

  it("250 tags of one repository: 3 BatchGetImage calls of at most 100 ids, every tag once, exact matches", async () => {
    const [one] = images(MANIFEST);
    const many: ImageSpec[] = Array.from({ length: 250 }, (_, i) => ({
      ...one,
      name: `alpha-${i}`,
      tag: `1.${i}.0`,
    }));
    const tags: Record<string, string> = {};
    for (let i = 0; i < 250; i += 7) {
      tags[`1.${i}.0`] = d(i % 100);
    }
    tags["11.0.0"] = d(99); // contains "1.0.0" but is not it
    emu.addRepository(`${PREFIX}/alpha`, tags);
    const result = await checkImages(many, { kind: "ecr", region: emu.region });
    const calls = emu.calls("BatchGetImage");
    assert.equal(calls.length, 3);
    const sizes = calls.map((c) => c.body.imageIds!.length).sort((a, b) => b - a);
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.ok(sizes.every((n) => n <= BATCH_GET_IMAGE_MAX));
    const asked = calls.flatMap((c) => c.body.imageIds!.map((id) => id.imageTag)).sort();
    assert.deepEqual(asked, many.map((i) => i.tag).sort());
    for (const c of result.checks) {
      const digest = tags[c.image.tag];
      assert.equal(c.status, digest ? "present" : "missing", c.image.tag);
      assert.equal(c.digest, digest);
    }
    assert.equal(result.checks.find((c) => c.image.tag === "1.0.0")?.status, "present");
    assert.equal(result.checks.filter((c) => c.status === "present").length, 36);
  });

  it("with nothing present, the account comes from DescribeRegistry", async () => {
    emu.reset();
    addAccountRoutes(emu);
    const r = await run([...base(), "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.ok(JSON.parse(r.out).every((e: { uri: string }) => e.uri.startsWith(`oci://${host}/`)));
    assert.equal(emu.calls("DescribeRegistry").length, 1);
  });

  it("a pull-only role without DescribeRegistry: the account comes from GetAuthorizationToken", async () => {
    emu.reset();
    addAccountRoutes(emu);
    emu.inject("DescribeRegistry", {
      kind: "error",
      type: "AccessDeniedException",
      message: "not authorized to perform: ecr:DescribeRegistry",
    });
    const r = await run([...base(), "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out)[0].uri, `oci://${host}/${PREFIX}/alpha:0.1.0`);
    assert.equal(emu.calls("GetAuthorizationToken").length, 1);
  });

  it("--account and an ECR --registry host both send registryId and name that account", async () => {
    const other = "210987654321";
    const r = await run([...base(), "--account", other, "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.ok(emu.calls("BatchGetImage").every((c) => c.body.registryId === other));
    // The emulator holds only its own account's repositories: the other account has none.
    const entries = JSON.parse(r.out);
    assert.deepEqual(
      entries.map((e: { status: string }) => e.status),
      ["missing", "missing", "missing", "missing", "missing", "skipped"],
    );
    assert.equal(
      entries[0].uri,
      `oci://${other}.dkr.ecr.${emu.region}.amazonaws.com/${PREFIX}/alpha:0.1.0`,
    );

    const byHost = await run([...base(), "--registry", host, "--json"]);
    assert.equal(byHost.code, 0, byHost.err);
    assert.deepEqual(brief(JSON.parse(byHost.out)), expected());
    assert.ok(
      emu
        .calls("BatchGetImage")
        .slice(-4)
        .every((c) => c.body.registryId === emu.accountId),
    );
  });

  it("AccessDeniedException is an error (exit 1) naming the call, the repository and the fix", async () => {
    emu.inject(
      "BatchGetImage",
      {
        kind: "error",
        type: "AccessDeniedException",
        message: `User: arn:aws:iam::${"123456789012"}:user/ci is not authorized to perform: ecr:BatchGetImage`,
      },
      10,
    );
    const r = await run([...base()]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.match(
      r.err,
      /^error: ECR BatchGetImage on plan-ecr\/\w+ in us-east-1 \(endpoint http:\/\/127\.0\.0\.1:\d+\) was denied: User: .* is not authorized to perform: ecr:BatchGetImage\. Use credentials allowed ecr:BatchGetImage on arn:aws:ecr:us-east-1:[^:]+:repository\/plan-ecr\/\w+/,
    );
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it("a failure other than ImageNotFound (KmsError) is an error naming the image", async () => {
    emu.failImage(`${PREFIX}/alpha`, "0.1.0", "KmsError", "The KMS key is disabled");
    await assert.rejects(
      checkImages(images(MANIFEST), { kind: "ecr", region: emu.region }),
      (e: unknown) =>
        e instanceof RegistryError &&
        e.image === `${PREFIX}/alpha:0.1.0` &&
        /ECR cannot read plan-ecr\/alpha:0\.1\.0 .*KmsError: The KMS key is disabled \(check the repository's KMS key policy/.test(
          e.message,
        ),
    );
  });

  it("throttling, a 500 and a dropped connection are retried by the SDK", async () => {
    emu.inject("BatchGetImage", { kind: "throttle" }, 1);
    emu.inject("BatchGetImage", { kind: "http500" }, 1);
    emu.inject("BatchGetImage", { kind: "drop" }, 1);
    const result = await checkImages(
      images(MANIFEST),
      { kind: "ecr", region: emu.region },
      { concurrency: 1 },
    );
    assert.deepEqual(
      result.checks.map((c) => c.status),
      ["present", "missing", "missing", "present", "missing", "skipped"],
    );
    assert.equal(emu.calls("BatchGetImage").filter((c) => c.fault).length, 3);
  });

  it("the real CLI: exit 0 with JSON; no credentials at all: exit 1 with the fix", async () => {
    const ok = await cli([...base(), "--json"], {
      ...emu.sdkEnv(),
      AWS_PROFILE: undefined,
      AWS_SESSION_TOKEN: undefined,
    });
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(brief(JSON.parse(ok.out)), expected());

    const none = await cli(base(), {
      ...emu.sdkEnv(),
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: path.join(fixture.dir, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(fixture.dir, "no-credentials"),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    });
    assert.equal(none.code, 1, none.err);
    assert.match(none.err, /^error: no AWS credentials for ECR in us-east-1 .*Set AWS_PROFILE/);
    assert.doesNotMatch(none.err, /\n\s+at /);
  });
});
