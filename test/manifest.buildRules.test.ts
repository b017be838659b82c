// Manifest rules that come from the build path: the build cache's reserved tag prefix, and cuda variants and the 2xlarge cpu compute only in regions where CodeBuild has them.

import { strict as assert } from "node:assert";
import { CPU_2XLARGE_REGIONS, GPU_REGIONS } from "../lib/compute";
import { ManifestRules, parseManifest } from "../lib/manifest";
import { manifestRules as rules } from "./support/manifestRules";

const FILE = "models.yaml";

const model = (tag: string, ...extra: string[]): string =>
  ["models:", "  - name: a", "    source: org/a", `    tag: ${tag}`, ...extra, ""].join("\n");
const CUDA = ["    variants:", "      - accelerator: cpu", "      - accelerator: cuda"];

function problems(text: string, r?: ManifestRules): string[] {
  return parseManifest(FILE, text, r).diagnostics.map(
    (d) => `${d.file}:${d.line}:${d.col}: ${d.message}`,
  );
}

describe("manifest rules of the build path", () => {
  describe("tags reserved for the build cache", () => {
    for (const tag of ['"buildcache-1.0"', "buildcache-cpu-main"]) {
      it(`rejects tag ${tag} with its position`, () => {
        const got = problems(model(tag));
        assert.equal(got.length, 1, got.join("\n"));
        assert.match(
          got[0],
          /^models\.yaml:4:10: tag 'buildcache-[^']+' starts with 'buildcache-', the prefix reserved for the build cache .*; choose another tag$/,
        );
      });
    }
    for (const tag of ['"1.0-buildcache-x"', '"cache-1"', '"BuildCache-1"']) {
      it(`accepts tag ${tag}`, () => {
        assert.deepEqual(problems(model(tag)), []);
      });
    }
  });

  describe("cuda variants and CodeBuild's GPU regions", () => {
    it("refuses a cuda variant on a CodeBuild stack in a region without GPU compute, at the variant", () => {
      const got = problems(model('"1"', ...CUDA), rules({ region: "eu-north-1" }));
      assert.equal(got.length, 1, got.join("\n"));
      assert.match(
        got[0],
        /^models\.yaml:7:22: model 'a' \(stack 'dev'\): CodeBuild has no GPU compute \(LINUX_GPU_CONTAINER\) in eu-north-1; cuda variants build only in us-east-1, .*, cn-northwest-1: set aws:region to one of them, or remove the cuda variant$/,
      );
    });

    it("names every listed region", () => {
      const [got] = problems(model('"1"', ...CUDA), rules({ region: "sa-east-1" }));
      for (const region of GPU_REGIONS) {
        assert.ok(got.includes(region), region);
      }
    });

    const fine: [string, Partial<ManifestRules>, string[]][] = [
      ["a GPU region", { region: "eu-west-1" }, CUDA],
      ["a China GPU region", { region: "cn-north-1" }, CUDA],
      [
        "the local builder, which builds where Pulumi runs",
        { region: "eu-north-1", builder: "local" },
        CUDA,
      ],
      ["no region known (validate without --stack)", {}, CUDA],
      ["a cpu-only model", { region: "eu-north-1" }, []],
      [
        "a downloadAtRuntime model, which builds nothing",
        { region: "eu-north-1" },
        ["    downloadAtRuntime: true", ...CUDA],
      ],
    ];
    for (const [label, over, extra] of fine) {
      it(`accepts ${label}`, () => {
        assert.deepEqual(problems(model('"1"', ...extra), rules(over)), []);
      });
    }
  });

  describe("the 2xlarge cpu compute and its regions", () => {
    const BIG = ["    sizeGB: 200"]; // 200 GB x 3.5 = 700 GB: only 2XLARGE's 824 GB holds it
    const NAMED = [
      "    variants:",
      "      - accelerator: cpu",
      "        computeType: BUILD_GENERAL1_2XLARGE",
    ];

    it("refuses a model that needs 2XLARGE in a region without it, at sizeGB", () => {
      const got = problems(model('"1"', ...BIG), rules({ region: "eu-north-1" }));
      assert.equal(got.length, 1, got.join("\n"));
      assert.match(
        got[0],
        /^models\.yaml:5:13: model 'a' \(stack 'dev'\): CodeBuild has no BUILD_GENERAL1_2XLARGE \(LINUX_CONTAINER\) in eu-north-1; it runs only in us-east-1, .*, cn-northwest-1: set aws:region to one of them, or set downloadAtRuntime: true$/,
      );
      for (const region of CPU_2XLARGE_REGIONS) {
        assert.ok(got[0].includes(region), region);
      }
    });

    it("refuses a named 2XLARGE in a region without it, at computeType", () => {
      const got = problems(model('"1"', ...NAMED), rules({ region: "sa-east-1" }));
      assert.equal(got.length, 1, got.join("\n"));
      assert.match(
        got[0],
        /^models\.yaml:7:22: model 'a' \(stack 'dev'\): CodeBuild has no BUILD_GENERAL1_2XLARGE/,
      );
    });

    const fine: [string, Partial<ManifestRules>, string[]][] = [
      ["2XLARGE in a region that has it", { region: "eu-west-1" }, BIG],
      ["a model XLARGE holds, anywhere", { region: "eu-north-1" }, ["    sizeGB: 70"]],
      ["the local builder", { region: "eu-north-1", builder: "local" }, BIG],
      ["no region known", {}, NAMED],
      ["downloadAtRuntime", { region: "eu-north-1" }, [...BIG, "    downloadAtRuntime: true"]],
    ];
    for (const [label, over, extra] of fine) {
      it(`accepts ${label}`, () => {
        assert.deepEqual(problems(model('"1"', ...extra), rules(over)), []);
      });
    }
  });
});
