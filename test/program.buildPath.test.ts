// The build path as AWS sees it, under mocks: IAM and CodeBuild names within their limits for long model names, a first build with no S3 version id, cuda only where CodeBuild has GPUs.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  BUILD_POLICY_NAME,
  buildRoleName,
  IAM_ROLE_NAME_MAX,
  PROJECT_DESCRIPTION_MAX,
} from "../components/modelBuildProject";
import { eventRuleName } from "../components/buildNotifications";
import { validateInputs } from "../components/modelImage/inputs";
import { EVENT_RULE_NAME_MAX } from "../lib/naming";
import { byType } from "../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../tools/programRun";
import { FIXTURE, TOKEN } from "./support/programChecks";

// 50 characters: with `-cuda`, the image name is 55, and Pulumi's auto-name for the role
// (`models-<image>-role-` + 7 random characters) would be 80.
const LONG = "qwen2-5-coder-32b-instruct-awq-int4-calibrated-v2x";
const IAM_NAME = /^[\w+=,.@-]+$/;

function manifestWith(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "build-path-"));
  const file = path.join(dir, "models.yaml");
  fs.writeFileSync(file, text);
  return file;
}

const LONG_MANIFEST = [
  "models:",
  `  - name: ${LONG}`,
  "    source: Qwen/Qwen2.5-Coder-32B-Instruct-AWQ",
  "    revision: 0123456789abcdef0123456789abcdef01234567",
  '    tag: "1.0.0"',
  "    description: " + "a very long description ".repeat(12).trim(),
  "    variants:",
  "      - accelerator: cpu",
  "      - accelerator: cuda",
  "",
].join("\n");

describe("build path (index.ts under mocks, as AWS would judge it)", function () {
  this.timeout(60_000);

  describe(`a ${LONG.length}-character model with a cuda variant`, () => {
    let run: Run;
    before(async () => {
      assert.equal(LONG.length, 50);
      run = await runProgram("dev", {
        ...stackConfig("dev"),
        "model-images:manifest": manifestWith(LONG_MANIFEST),
        "model-images:notifyEmail": "ml-team@example.com",
      });
    });

    it("names every role explicitly, within IAM's 64 characters, deterministic and distinct", () => {
      const roles = byType(run.recorded, "aws:iam/role:Role");
      assert.equal(roles.length, 2);
      const names = roles.map((r) => r.inputs.name as string);
      for (const [i, name] of names.entries()) {
        const autoName = `${roles[i].name}-xxxxxxx`;
        assert.ok(
          typeof name === "string",
          `role ${roles[i].name} has no name: Pulumi would auto-name it ${autoName} (${autoName.length} characters)`,
        );
        assert.ok(name.length <= IAM_ROLE_NAME_MAX, `${name} has ${name.length} characters`);
        assert.match(name, IAM_NAME);
      }
      assert.notEqual(names[0].toLowerCase(), names[1].toLowerCase());
      assert.deepEqual(names.sort(), [
        buildRoleName(`model-images-dev-${LONG}`, "us-east-1"),
        buildRoleName(`model-images-dev-${LONG}-cuda`, "us-east-1"),
      ]);
    });

    it("names every EventBridge rule explicitly, within 64 characters, under the deployer policy's prefix", () => {
      const rules = byType(run.recorded, "aws:cloudwatch/eventRule:EventRule");
      assert.equal(rules.length, 2);
      const names = rules.map((r) => r.inputs.name as string);
      for (const [i, name] of names.entries()) {
        const autoName = `${rules[i].name}-xxxxxxx`;
        assert.ok(
          typeof name === "string",
          `rule ${rules[i].name} has no name: Pulumi would auto-name it ${autoName} (${autoName.length} characters)`,
        );
        assert.ok(name.length <= EVENT_RULE_NAME_MAX, `${name} has ${name.length} characters`);
        assert.match(name, /^models-notify-[.\-_A-Za-z0-9]+$/);
      }
      assert.notEqual(names[0], names[1]);
      // Another stack's rule for the same image gets another name.
      assert.notEqual(
        eventRuleName(`models-notify-${LONG}`, `model-images-dev-${LONG}`, "us-east-1"),
        eventRuleName(`models-notify-${LONG}`, `model-images-prod-${LONG}`, "us-east-1"),
      );
    });

    it("names every inline policy explicitly", () => {
      const policies = byType(run.recorded, "aws:iam/rolePolicy:RolePolicy");
      assert.equal(policies.length, 2);
      for (const p of policies) {
        assert.equal(p.inputs.name, BUILD_POLICY_NAME);
      }
    });

    it("keeps CodeBuild project names and descriptions within CodeBuild's limits", () => {
      for (const p of byType(run.recorded, "aws:codebuild/project:Project")) {
        const description = p.inputs.description as string;
        assert.ok(description.length <= PROJECT_DESCRIPTION_MAX, `${description.length}`);
        assert.match(p.inputs.name as string, /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/);
      }
    });
  });

  describe("role names", () => {
    it("stay within 64 characters for the longest project names and differ per region", () => {
      const project = `model-images-${"s".repeat(40)}-${"m".repeat(58)}-cuda`;
      const a = buildRoleName(project, "us-east-1");
      const b = buildRoleName(project, "eu-west-1");
      assert.equal(a.length, IAM_ROLE_NAME_MAX);
      assert.match(a, IAM_NAME);
      assert.notEqual(a, b);
      assert.equal(a, buildRoleName(project, "us-east-1"));
      const short = buildRoleName("model-images-dev-small", "us-east-1");
      assert.match(short, /^model-images-dev-small-[0-9a-f]{8}$/);
    });
  });

  describe("a new stack's first build", () => {
    it("starts with no S3 version id: the archive written before versioning has none", async () => {
      // S3 returns no version id for an object written while the bucket is unversioned, and one
      // written while versioning propagates may not be readable by version yet.
      const run = await runProgram(
        "dev",
        { ...stackConfig("dev"), "model-images:manifest": FIXTURE },
        TOKEN,
        {
          newResource(args: pulumi.runtime.MockResourceArgs) {
            if (args.type === "aws:s3/bucketObjectv2:BucketObjectv2") {
              return { id: `${args.name}-id`, state: { ...args.inputs, versionId: "" } };
            }
            return undefined as unknown as { id: string; state: Record<string, unknown> };
          },
        },
      );
      const images = byType(run.recorded, "pulumi-nodejs:dynamic:Resource");
      assert.ok(images.length > 0);
      const key = byType(run.recorded, "aws:s3/bucketObjectv2:BucketObjectv2")[0].inputs.key;
      for (const image of images) {
        assert.equal(image.inputs.sourceVersion, undefined);
        // The provider's own check would refuse an empty sourceVersion.
        assert.deepEqual(
          validateInputs(image.inputs).filter((f) => f.property === "sourceVersion"),
          [],
          image.name,
        );
        const env = image.inputs.environment as Record<string, string>;
        assert.equal(env.BUILD_SOURCE_KEY, key);
      }
    });
  });

  describe("cuda variants outside CodeBuild's GPU regions", () => {
    it("stop the program with the manifest position and the regions that have GPUs", async () => {
      await assert.rejects(
        runProgram("dev", {
          ...stackConfig("dev"),
          "aws:region": "eu-north-1",
          "model-images:manifest": FIXTURE,
        }),
        (err: Error) => {
          assert.match(err.message, /catalog\.yaml:15:\d+: model 'both' \(stack 'dev'\)/);
          assert.match(err.message, /no GPU compute \(LINUX_GPU_CONTAINER\) in eu-north-1/);
          assert.match(err.message, /us-east-1, us-east-2, us-west-2/);
          assert.doesNotMatch(err.message, /\n\s+at /, "no stack trace");
          return true;
        },
      );
    });
  });
});
