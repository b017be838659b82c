// The stack's AWS identity (aws:profile, aws:assumeRoles) for ModelImage and plan's ECR path, checked by the access key the emulator saw.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { identityFromAwsConfig } from "../lib/awsIdentity";
import { EcrChecker } from "../lib/registry/ecr";
import { readStackFile } from "../lib/stackFile";
import { ACCOUNT, inputs, p, PROJECT, REPO, useEmulator } from "./support/modelImage";

const ROLE = `arn:aws:iam::${ACCOUNT}:role/model-images-deployer`;

describe("identityFromAwsConfig", () => {
  const from = (values: Record<string, unknown>) => identityFromAwsConfig((k) => values[k]);

  it("reads the profile and one role, from engine strings or YAML values", () => {
    const role = { roleArn: ROLE, sessionName: "ci", externalId: "ext-1" };
    const want = { profile: "ci", roleArn: ROLE, roleSessionName: "ci", externalId: "ext-1" };
    assert.deepEqual(from({ profile: "ci", assumeRoles: JSON.stringify([role]) }), {
      identity: want,
      problems: [],
    });
    assert.deepEqual(from({ profile: "ci", assumeRoles: [role] }), {
      identity: want,
      problems: [],
    });
    assert.deepEqual(from({ profile: "ci", assumeRole: JSON.stringify(role) }), {
      identity: want,
      problems: [],
    });
    assert.deepEqual(from({}), { identity: {}, problems: [] });
  });

  it("refuses what it cannot honour, naming the setting and what to do", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { assumeRoles: [{ roleArn: ROLE }, { roleArn: ROLE }] },
        /^aws:assumeRoles chains 2 roles; .* list only the last role$/,
      ],
      [
        { assumeRoles: [{ roleArn: ROLE, policy: "{}" }] },
        /^aws:assumeRoles\.policy is not supported .* roleArn, sessionName and externalId/,
      ],
      [{ assumeRoles: [{ sessionName: "x" }] }, /^aws:assumeRoles needs roleArn$/],
      [
        { assumeRole: { roleArn: "deployer" } },
        /^aws:assumeRole\.roleArn "deployer" is not an IAM role ARN/,
      ],
      [{ profile: 7 }, /^aws:profile must be a profile name/],
    ];
    for (const [values, message] of cases) {
      const { problems } = from(values);
      assert.equal(problems.length, 1, JSON.stringify(values));
      assert.match(problems[0], message);
    }
  });
});

describe("ModelImage and plan act as the stack's AWS identity", function () {
  const emulator = useEmulator();
  let home: string;
  let saved: Record<string, string | undefined>;

  beforeEach(() => {
    // A fresh HOME per test: the SDK caches the shared files it parsed by path.
    home = fs.mkdtempSync(path.join(os.tmpdir(), "model-images-home-"));
    fs.mkdirSync(path.join(home, ".aws"));
    fs.writeFileSync(
      path.join(home, ".aws", "credentials"),
      "[ci]\naws_access_key_id = AKIDPROFILECI\naws_secret_access_key = profile-secret\n",
    );
    saved = {
      HOME: process.env.HOME,
      AWS_SHARED_CREDENTIALS_FILE: undefined,
      AWS_CONFIG_FILE: undefined,
    };
    for (const k of ["AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"]) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.HOME = home;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  const signers = (ops: string[]) =>
    new Set(
      emulator()
        .requests.filter((r) => ops.includes(r.operation))
        .map((r) => r.accessKeyId),
    );

  it("aws:profile: every ECR and CodeBuild call is signed with the profile's key, not the environment's", async () => {
    const { outs } = await p.create(inputs({ profile: "ci" }));
    assert.equal(outs?.buildId, emulator().builds(PROJECT)[0].id);
    assert.deepEqual(
      [...signers(["BatchGetImage", "ListBuildsForProject", "StartBuild", "BatchGetBuilds"])],
      ["AKIDPROFILECI"],
    );
  });

  it("without a profile or role: the standard chain (the environment's key)", async () => {
    await p.create(inputs());
    assert.deepEqual([...signers(["BatchGetImage", "StartBuild"])], ["AKIDEMULATOR"]);
  });

  it("aws:assumeRoles: the profile assumes the role (session name, external id), and the role's credentials make the calls", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0");
    await p.create(
      inputs({ profile: "ci", roleArn: ROLE, roleSessionName: "pulumi-ci", externalId: "ext-1" }),
    );
    const [assume] = emu.calls("AssumeRole");
    assert.equal(assume.accessKeyId, "AKIDPROFILECI");
    assert.equal(assume.body.RoleArn, ROLE);
    assert.equal(assume.body.RoleSessionName, "pulumi-ci");
    assert.equal(assume.body.ExternalId, "ext-1");
    assert.deepEqual([...signers(["BatchGetImage"])], [emu.roleAccessKeyId(ROLE)]);
  });

  it("a role that cannot be assumed is an error naming the role, the profile and the fix", async () => {
    emulator().inject("AssumeRole", {
      kind: "error",
      type: "AccessDenied",
      message: "not authorized to perform: sts:AssumeRole",
      status: 403,
    });
    const err = await p.create(inputs({ profile: "ci", roleArn: ROLE })).then(
      () => assert.fail("expected a rejection"),
      (e: Error) => e,
    );
    assert.match(
      err.message,
      new RegExp(`cannot assume ${ROLE} \\(aws:assumeRoles\\) with profile ci: AccessDenied`),
    );
    assert.match(err.message, /trust policy/);
    assert.ok(!err.message.includes("profile-secret"));
  });

  it("plan's ECR lookups use the same identity, read from the stack file", async () => {
    const emu = emulator();
    emu.putImage(REPO, "1.0");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-images-stack-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.ci.yaml"),
      `config:\n  aws:region: us-east-1\n  aws:profile: ci\n  aws:assumeRoles:\n    - roleArn: ${ROLE}\n      sessionName: plan\n`,
    );
    const stack = readStackFile(dir, "ci");
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(stack.diagnostics, []);
    assert.deepEqual(stack.awsIdentity, { profile: "ci", roleArn: ROLE, roleSessionName: "plan" });
    const found = await new EcrChecker("us-east-1", { identity: stack.awsIdentity }).batch(REPO, [
      "1.0",
    ]);
    assert.equal(found.get("1.0"), emu.digestOf(REPO, "1.0"));
    assert.equal(emu.calls("AssumeRole")[0].accessKeyId, "AKIDPROFILECI");
    assert.deepEqual([...signers(["BatchGetImage"])], [emu.roleAccessKeyId(ROLE)]);
  });

  it("a stack file with an identity plan cannot honour is a diagnostic with its position", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-images-stack-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.ci.yaml"),
      `config:\n  aws:region: us-east-1\n  aws:assumeRoles:\n    - roleArn: ${ROLE}\n    - roleArn: ${ROLE}\n`,
    );
    const stack = readStackFile(dir, "ci");
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(stack.diagnostics.length, 1);
    assert.equal(stack.diagnostics[0].line, 3);
    assert.match(stack.diagnostics[0].message, /^aws:assumeRoles chains 2 roles/);
  });
});
