// ModelImage on a signed stack (requireSignature) against the ECR/CodeBuild emulator: a pushed-but-unsigned tag is never adopted; a build signs that digest first, or `up` fails saying how to fix it.
import * as assert from "node:assert/strict";
import type { ModelImageInputs } from "../components/modelImage";
import { validateInputs } from "../components/modelImage/inputs";
import { cosignSignatureTag, diffInputs } from "../components/modelImage/rules";
import {
  DIGEST,
  HOST,
  inputs,
  p,
  printed,
  PROJECT,
  REPO,
  rejection,
  useEmulator,
} from "./support/modelImage";

const SIG_TAG = `sha256-${"a".repeat(64)}.sig`;
const signed = (over: Partial<ModelImageInputs> = {}) =>
  inputs({ requireSignature: true, ...over });

describe("cosignSignatureTag: where cosign keeps a digest's classic signature", () => {
  const cases: [string, string][] = [
    [DIGEST, SIG_TAG],
    [`sha256:${"0f".repeat(32)}`, `sha256-${"0f".repeat(32)}.sig`],
    [`sha512:${"e".repeat(128)}`, `sha512-${"e".repeat(128)}.sig`],
  ];
  for (const [digest, tag] of cases) {
    it(`${digest.slice(0, 12)}… -> ${tag.slice(0, 12)}….sig`, () => {
      assert.equal(cosignSignatureTag(digest), tag);
    });
  }
  it("refuses what is not a digest", () => {
    assert.throws(() => cosignSignatureTag("1.0"), /not an image digest/);
  });
});

describe("ModelImage requireSignature: check and diff", () => {
  it("is a boolean input; SIGN_ONLY_DIGEST is ModelImage's own variable", () => {
    assert.deepEqual(
      validateInputs({ ...inputs(), requireSignature: "yes" }).map((f) => f.reason),
      ["requireSignature must be true or false"],
    );
    assert.deepEqual(
      validateInputs({ ...inputs({ environment: { SIGN_ONLY_DIGEST: DIGEST } }) }).map(
        (f) => f.property,
      ),
      ["environment.SIGN_ONLY_DIGEST"],
    );
  });

  it("turning it on is an update (the next up checks the adopted tag), never a replacement; absent means false", () => {
    const old = { ...inputs(), imageDigest: DIGEST } as Record<string, unknown>;
    delete old.requireSignature;
    assert.deepEqual(diffInputs(old, { ...inputs() }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(diffInputs(old, { ...signed() }), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });
});

describe("ModelImage requireSignature against the ECR/CodeBuild emulator", function () {
  this.timeout(30_000);
  const emulator = useEmulator();
  const ops = () => emulator().requests.map((r) => r.operation);
  const lookedUp = () =>
    emulator()
      .calls("BatchGetImage")
      .map((r) => r.body.imageIds?.[0]?.imageTag);

  it("a signed tag is adopted after one look at its signature tag, no build", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0", DIGEST);
    emu.putImage(REPO, SIG_TAG);
    const { outs } = await p.create(signed());
    assert.equal(outs?.imageDigest, DIGEST);
    assert.equal(outs?.buildId, undefined);
    assert.deepEqual(ops(), ["BatchGetImage", "BatchGetImage"]);
    assert.deepEqual(lookedUp(), ["1.0", SIG_TAG]);
  });

  it("without requireSignature an unsigned tag is adopted as before (dev)", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0", DIGEST);
    const { outs } = await p.create(inputs());
    assert.equal(outs?.imageDigest, DIGEST);
    assert.deepEqual(ops(), ["BatchGetImage"]);
  });

  it("a pushed-but-unsigned tag is healed: one build signs that digest (SIGN_ONLY_DIGEST), nothing is rebuilt, the digest stays", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["IN_PROGRESS", "SUCCEEDED"],
      signs: true,
    });
    emu.putImage(REPO, "1.0", DIGEST);
    const env = { MODEL_REVISION: "0123456789abcdef0123456789abcdef01234567" };
    const { result, lines } = await printed(() =>
      p.create(signed({ environment: env, sourceVersion: undefined })),
    );
    const [build] = emu.builds(PROJECT);
    assert.equal(emu.builds(PROJECT).length, 1);
    assert.deepEqual(emu.calls("StartBuild")[0].body.environmentVariablesOverride, [
      { name: "IMAGE_TAG", value: "1.0", type: "PLAINTEXT" },
      { name: "MODEL_REVISION", value: env.MODEL_REVISION, type: "PLAINTEXT" },
      { name: "SIGN_ONLY_DIGEST", value: DIGEST, type: "PLAINTEXT" },
    ]);
    assert.equal(result.outs?.imageDigest, DIGEST, "the adopted digest, not a new image");
    assert.equal(emu.digestOf(REPO, "1.0"), DIGEST);
    assert.ok(emu.digestOf(REPO, SIG_TAG), "signed now");
    assert.equal(result.outs?.buildId, build.id);
    assert.equal(result.id, `${HOST}/${REPO}:1.0`);
    assert.ok(
      lines.some((l) =>
        l.startsWith(`${REPO}:1.0: ${DIGEST} has no cosign signature (no tag ${SIG_TAG})`),
      ),
      lines.join("\n"),
    );
  });

  it("a failed signing build fails the up, naming image, tag, digest, build, logs and the exact fixes; the tag is not adopted", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, {
      repository: REPO,
      statuses: ["IN_PROGRESS", "FAILED"],
      signs: true,
      failure: {
        phase: "BUILD",
        statusCode: "COMMAND_EXECUTION_ERROR",
        message:
          "Error while executing command: bash buildspec/sign-and-attest.sh. Reason: exit status 1",
      },
    });
    emu.putImage(REPO, "1.0", DIGEST);
    const err = await rejection(p.create(signed()));
    const [build] = emu.builds(PROJECT);
    assert.equal(err.name, "ModelImageError");
    const stream = build.id.split(":")[1];
    assert.equal(
      err.message,
      [
        `Image ${REPO}:1.0 (${DIGEST}) is in ECR (region us-east-1) but not signed: there is no cosign signature tag ${SIG_TAG}, and the CodeBuild build that was to sign it ended FAILED in phase BUILD.`,
        `  project: ${PROJECT}`,
        `  build:   ${build.id}`,
        "  phase:   BUILD FAILED — COMMAND_EXECUTION_ERROR: Error while executing command: bash buildspec/sign-and-attest.sh. Reason: exit status 1",
        `  logs:    https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/${PROJECT};stream=${stream}`,
        "The stack signs its images (signing: cosign-kms), so the tag is not adopted. Fix the cause shown in the logs (often: the build role may not kms:Sign with the stack's key), then run `pulumi up` again: it starts another signing build for this digest. Or sign it by hand:",
        `  cosign sign --yes --key "awskms:///$(pulumi stack output signingKeyArn)" --new-bundle-format=false --use-signing-config=false --tlog-upload=false ${HOST}/${REPO}@${DIGEST}`,
        "Or bump the tag in models.yaml to build and sign a new image.",
      ].join("\n"),
    );
    assert.equal(emu.digestOf(REPO, SIG_TAG), undefined);

    // The next up tries again with a new build (a new idempotency token), not the failed one.
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], signs: true });
    const { outs } = await p.create(signed());
    assert.equal(emu.builds(PROJECT).length, 2);
    assert.equal(outs?.imageDigest, DIGEST);
    assert.notEqual(
      emu.calls("StartBuild")[0].body.idempotencyToken,
      emu.calls("StartBuild")[1].body.idempotencyToken,
    );
  });

  it("a signing build that succeeds without signing (no key on the project) still fails the up", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], signs: false });
    emu.putImage(REPO, "1.0", DIGEST);
    const err = await rejection(p.create(signed()));
    assert.match(
      err.message,
      /the CodeBuild build that was to sign it SUCCEEDED but left no signature tag/,
    );
    assert.equal(emu.builds(PROJECT).length, 1);
  });

  it("an interrupted heal is resumed: the running signing build of this digest is adopted, none started", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, { repository: REPO, signs: true });
    emu.putImage(REPO, "1.0", DIGEST);
    const running = emu.addBuild(PROJECT, {
      imageTag: "1.0",
      statuses: ["IN_PROGRESS", "SUCCEEDED"],
      environment: { SIGN_ONLY_DIGEST: DIGEST },
      sourceVersion: "v1",
    });
    const { outs } = await p.create(signed());
    assert.equal(emu.calls("StartBuild").length, 0);
    assert.equal(outs?.buildId, running);
    assert.ok(emu.digestOf(REPO, SIG_TAG));
  });

  it("a missing tag is built by a signing build and adopted without a second build", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], signs: true });
    const { outs } = await p.create(signed());
    assert.equal(emu.builds(PROJECT).length, 1);
    const digest = emu.digestOf(REPO, "1.0") as string;
    assert.equal(outs?.imageDigest, digest);
    assert.deepEqual(lookedUp(), ["1.0", cosignSignatureTag(digest)]);
  });

  it("an update of state adopted unsigned (signing turned on, or adopted before this check) heals it too", async () => {
    const emu = emulator();
    emu.addProject(PROJECT, { repository: REPO, statuses: ["SUCCEEDED"], signs: true });
    emu.putImage(REPO, "1.0", DIGEST);
    const old = { ...inputs(), imageDigest: DIGEST };
    const { outs } = await p.update(`${HOST}/${REPO}:1.0`, old, signed());
    assert.equal(emu.builds(PROJECT).length, 1);
    assert.equal(
      emu.builds(PROJECT)[0].environmentVariables.find((v) => v.name === "SIGN_ONLY_DIGEST")?.value,
      DIGEST,
    );
    assert.equal(outs?.imageDigest, DIGEST);
    assert.ok(emu.digestOf(REPO, SIG_TAG));
  });
});
