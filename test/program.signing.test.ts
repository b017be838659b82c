// Signing per stack under Pulumi mocks: the KMS signing identity, who may sign with it, what the builds get, and the exported policy.

import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ACCOUNT, byType, REGION, SIGNING_PUBLIC_KEY_PEM } from "../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../tools/programRun";
import { FIXTURE, TOKEN } from "./support/programChecks";

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: { AWS: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const statements = (policy: unknown) =>
  (JSON.parse(String(policy)) as { Statement: Statement[] }).Statement;
const envOf = (project: { inputs: Record<string, unknown> }) =>
  Object.fromEntries(
    (
      (project.inputs.environment as { environmentVariables: { name: string; value: string }[] })
        .environmentVariables ?? []
    ).map((e) => [e.name, e.value]),
  );

describe("program: signing per stack", function () {
  this.timeout(60_000);

  describe("prod (signing: cosign-kms)", () => {
    let run: Run;
    let keyArn = "";
    let roleArns: string[] = [];
    before(async () => {
      run = await runProgram(
        "prod",
        { ...stackConfig("prod"), "model-images:manifest": FIXTURE },
        TOKEN,
      );
      const [key] = byType(run.recorded, "aws:kms/key:Key");
      keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.name}-0000`;
      roleArns = byType(run.recorded, "aws:iam/role:Role")
        .filter((r) => String(r.inputs.description).startsWith("CodeBuild service role"))
        // Build roles carry explicit names (IAM's 64-character limit), not their resource names.
        .map((r) => `arn:aws:iam::${ACCOUNT}:role/${String(r.inputs.name)}`);
    });

    it("creates one asymmetric P-256 signing key with its alias", () => {
      const keys = byType(run.recorded, "aws:kms/key:Key");
      assert.equal(keys.length, 1);
      assert.equal(keys[0].name, "models-signing-key");
      assert.equal(keys[0].inputs.keyUsage, "SIGN_VERIFY");
      assert.equal(keys[0].inputs.customerMasterKeySpec, "ECC_NIST_P256");
      assert.equal(keys[0].inputs.policy, undefined, "the key policy is its own resource");
      const aliases = byType(run.recorded, "aws:kms/alias:Alias");
      assert.deepEqual(
        aliases.map((a) => a.inputs.name),
        ["alias/model-images-prod-signing"],
      );
      assert.ok(run.calls.includes("aws:kms/getPublicKey:getPublicKey"));
    });

    it("the key policy lets exactly the stack's build roles sign, root administer but not sign, everyone else is denied", () => {
      assert.ok(roleArns.length > 1, "several build roles");
      const [policy] = byType(run.recorded, "aws:kms/keyPolicy:KeyPolicy");
      const byId = Object.fromEntries(statements(policy.inputs.policy).map((s) => [s.Sid, s]));
      assert.deepEqual(Object.keys(byId).sort(), [
        "AdministerNotSign",
        "BuildRolesReadPublicKey",
        "BuildRolesSign",
        "NobodyElseSigns",
      ]);
      assert.deepEqual(byId.AdministerNotSign.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
      assert.ok(!(byId.AdministerNotSign.Action as string[]).some((a) => /Sign|^kms:\*$/.test(a)));
      assert.deepEqual(byId.BuildRolesSign.Principal, { AWS: roleArns });
      assert.equal(byId.BuildRolesSign.Action, "kms:Sign");
      assert.equal(byId.NobodyElseSigns.Effect, "Deny");
      assert.deepEqual(byId.NobodyElseSigns.Condition, {
        ArnNotEquals: { "aws:PrincipalArn": roleArns },
      });
    });

    it("each build role may sign with this key only, and each project names it", () => {
      const policies = byType(run.recorded, "aws:iam/rolePolicy:RolePolicy").filter((p) =>
        statements(p.inputs.policy).some((s) => s.Sid === "PushOwnRepository"),
      );
      assert.equal(policies.length, roleArns.length);
      for (const p of policies) {
        const kms = statements(p.inputs.policy).filter((s) =>
          [s.Action].flat().some((a) => a.startsWith("kms:")),
        );
        assert.deepEqual(kms, [
          {
            Sid: "SignWithStackKey",
            Effect: "Allow",
            Action: ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
            Resource: keyArn,
          },
        ]);
      }
      for (const project of byType(run.recorded, "aws:codebuild/project:Project")) {
        assert.equal(envOf(project).SIGNING_KEY_ARN, keyArn, project.name);
        assert.ok(["true", "false"].includes(envOf(project).BOM_ATTACH), project.name);
      }
    });

    it("every ModelImage adopts a tag only once its digest is signed (requireSignature, a plain input)", () => {
      const images = byType(run.recorded, "pulumi-nodejs:dynamic:Resource");
      assert.ok(images.length > 1);
      for (const image of images) {
        assert.equal(image.inputs.requireSignature, true, image.name);
      }
    });

    it("exports the Kyverno policy for the stack's repositories and key, and the public key", () => {
      const policy = parse(String(run.outputs.imagePolicy)) as {
        kind: string;
        spec: {
          rules: {
            verifyImages: {
              imageReferences: string[];
              attestors: { entries: { keys: { publicKeys: string } }[] }[];
            }[];
          }[];
        };
      };
      assert.equal(policy.kind, "ClusterPolicy");
      const [verify] = policy.spec.rules[0].verifyImages;
      assert.deepEqual(verify.imageReferences, [
        `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/kserve-models/*`,
      ]);
      assert.equal(verify.attestors[0].entries[0].keys.publicKeys, SIGNING_PUBLIC_KEY_PEM);
      assert.equal(run.outputs.signingPublicKey, SIGNING_PUBLIC_KEY_PEM);
      assert.equal(run.outputs.signingKeyArn, keyArn);
    });
  });

  describe("dev (signing: none)", () => {
    let run: Run;
    before(async () => {
      run = await runProgram("dev", stackConfig("dev"), TOKEN);
    });

    it("creates no key, gives the builds no key and exports no policy", () => {
      assert.deepEqual(byType(run.recorded, "aws:kms/key:Key"), []);
      assert.deepEqual(byType(run.recorded, "aws:kms/keyPolicy:KeyPolicy"), []);
      for (const project of byType(run.recorded, "aws:codebuild/project:Project")) {
        assert.equal(envOf(project).SIGNING_KEY_ARN, "", project.name);
      }
      assert.equal(run.outputs.imagePolicy, undefined);
      assert.ok(!run.calls.includes("aws:kms/getPublicKey:getPublicKey"));
      for (const image of byType(run.recorded, "pulumi-nodejs:dynamic:Resource")) {
        assert.equal(image.inputs.requireSignature, false, image.name);
      }
    });
  });

  it("signing with the local builder is refused, naming the setting and the fix", async () => {
    await assert.rejects(
      runProgram("local", { ...stackConfig("local"), "model-images:signing": "cosign-kms" }),
      (err: Error) =>
        err instanceof pulumi.RunError &&
        /signing: cosign-kms on stack 'local' needs builder: codebuild/.test(err.message),
    );
  });
});
