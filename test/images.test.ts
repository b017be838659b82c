// lib/images: settings + manifest + selection -> images, from a table; and the program (`pulumi up`)
// and the CLI (`plan`, `kserve`) getting the same images from the same stack file and manifest.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT, type Io } from "../cli/args";
import { loadSelection, type Selection, type SelectionFlags } from "../cli/selection";
import { BUILD_SOURCE_ENV, buildInputs } from "../lib/buildEnv";
import { stackImages, type StackImagesInput } from "../lib/images";
import { codeBuildProjectName, ociTagUri } from "../lib/naming";
import { defaultSettings, type StackSettings } from "../lib/settings";
import { ACCOUNT } from "../tools/pulumiMocks";
import { type Run, runProgram, stackConfig } from "../tools/programRun";
import { Capture } from "./support/cli";
import { one, TOKEN } from "./support/programChecks";

const ROOT = path.resolve(__dirname, "..");
const SHA = "0123456789abcdef0123456789abcdef01234567";

/** Every kind of image: cpu, cpu+cuda, a gated cuda with its own compute, overrides, a skipped one. */
const MANIFEST = `models:
  - name: small
    source: org/small
    revision: ${SHA}
    tag: "1.0.0"
    sizeGB: 1
  - name: both
    source: org/both
    revision: ${SHA}
    tag: "2.1"
    sizeGB: 30
    include: ["*.safetensors", "*.json"]
    variants: [{accelerator: cpu}, {accelerator: cuda}]
  - name: gated
    source: vendor/gated
    revision: ${SHA}
    tag: "0.3.0"
    gated: true
    exclude: ["original/*"]
    variants: [{accelerator: cuda, computeType: BUILD_GENERAL1_SMALL}]
  - name: custom
    source: org/custom
    revision: ${SHA}
    tag: "4"
    variants:
      - accelerator: cpu
        platforms: [linux/amd64]
        baseImage: public.ecr.aws/docker/library/busybox:1.36.1
  - name: runtime
    source: vendor/huge
    revision: ${SHA}
    tag: "1.0"
    downloadAtRuntime: true
`;

function input(settings: Partial<StackSettings>, extra: Partial<StackImagesInput> = {}) {
  return {
    file: "m.yaml",
    text: MANIFEST,
    settings: defaultSettings("dev", { hasHuggingfaceToken: true, ...settings }),
    region: "us-east-1",
    ...extra,
  };
}

describe("stackImages (table)", () => {
  const cases: {
    name: string;
    input: StackImagesInput;
    /** name tag repository computeType platforms, one string per image. */
    images?: string[];
    all?: number;
    diagnostic?: RegExp;
    problem?: RegExp;
  }[] = [
    {
      name: "every image with the stack's prefix; tagSuffix after the cuda suffix",
      input: input({ registryPrefix: "team", tagSuffix: "-pr-7" }),
      images: [
        "small 1.0.0-pr-7 team/small BUILD_GENERAL1_SMALL linux/amd64,linux/arm64",
        "both 2.1-pr-7 team/both BUILD_GENERAL1_MEDIUM linux/amd64,linux/arm64",
        "both-cuda 2.1-cuda-pr-7 team/both BUILD_GENERAL1_SMALL linux/amd64",
        "gated-cuda 0.3.0-cuda-pr-7 team/gated BUILD_GENERAL1_SMALL linux/amd64",
        "custom 4-pr-7 team/custom BUILD_GENERAL1_MEDIUM linux/amd64",
        "runtime 1.0-pr-7 team/runtime BUILD_GENERAL1_MEDIUM linux/amd64,linux/arm64",
      ],
      all: 6,
    },
    {
      name: "onlyModels narrows to the named models, all their variants; `all` keeps the rest",
      input: input({ registryPrefix: "", onlyModels: " both , custom" }),
      images: [
        "both 2.1 both BUILD_GENERAL1_MEDIUM linux/amd64,linux/arm64",
        "both-cuda 2.1-cuda both BUILD_GENERAL1_SMALL linux/amd64",
        "custom 4 custom BUILD_GENERAL1_MEDIUM linux/amd64",
      ],
      all: 6,
    },
    {
      name: "an onlyModels name not in the manifest is a problem naming the models, no images",
      input: input({ onlyModels: "both,nope" }),
      images: [],
      all: 6,
      problem: /onlyModels names 'nope', which is not in the manifest \(models: small, both, gated/,
    },
    {
      name: "a gated model on a stack without the token is refused for building",
      input: input({ hasHuggingfaceToken: false }),
      diagnostic:
        /m\.yaml:\d+:\d+: model 'gated' is gated but stack 'dev' has no huggingface-token/,
    },
    {
      name: "read-only (plan, kserve), the same stack lists it",
      input: input({ hasHuggingfaceToken: false }, { readOnly: true }),
      all: 6,
    },
    {
      name: "cuda variants in a region without CodeBuild GPUs are refused at their position",
      input: input({}, { region: "eu-north-1" }),
      diagnostic: /m\.yaml:\d+:\d+: model 'both' \(stack 'dev'\): CodeBuild has no GPU compute/,
    },
    {
      name: "... read-only too: plan must not promise a build `pulumi up` refuses",
      input: input({}, { region: "eu-north-1", readOnly: true }),
      diagnostic: /CodeBuild has no GPU compute \(LINUX_GPU_CONTAINER\) in eu-north-1/,
    },
    {
      name: "the local builder builds cuda variants anywhere",
      input: input({ builder: "local", registry: "localhost:5000" }, { region: "eu-north-1" }),
      all: 6,
    },
    {
      name: "a stack that pins revisions refuses a branch",
      input: {
        ...input({ requirePinnedRevisions: true }),
        text: MANIFEST.replace(`revision: ${SHA}\n    tag: "4"`, 'revision: main\n    tag: "4"'),
      },
      diagnostic: /m\.yaml:\d+:\d+: .*revision/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = stackImages(c.input);
      const shown = r.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
      if (c.diagnostic) {
        assert.ok(
          shown.some((d) => c.diagnostic?.test(d)),
          shown.join("\n") || "no diagnostics",
        );
        assert.deepEqual([r.images, r.all, r.problems], [[], [], []]);
        return;
      }
      assert.deepEqual(shown, []);
      if (c.problem) {
        assert.equal(r.problems.length, 1);
        assert.match(r.problems[0], c.problem);
      } else {
        assert.deepEqual(r.problems, []);
      }
      if (c.images) {
        assert.deepEqual(
          r.images.map(
            (i) => `${i.name} ${i.tag} ${i.repositoryName} ${i.computeType} ${i.platforms}`,
          ),
          c.images,
        );
      }
      assert.equal(r.all.length, c.all);
    });
  }
});

/** A project directory holding Pulumi.yaml, `Pulumi.dev.yaml` with `config`, and the manifest. */
function project(config: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-images-"));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, "models.yaml"), MANIFEST);
  const lines = Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), `config:\n${lines.join("\n")}\n`);
  return dir;
}

/** `plan`/`kserve`'s selection for the project's dev stack, as the CLI loads it. */
async function cliSelection(dir: string): Promise<{ selection: Selection | number; err: string }> {
  const err = new Capture();
  const io: Io = { out: new Capture(), err, stdin: process.stdin, cwd: dir, env: {} };
  const selection = await loadSelection({ stack: "dev" } as SelectionFlags, io);
  return { selection, err: err.text };
}

/** `pulumi up` of the project's dev stack under mocks (the manifest path made absolute). */
function programRun(dir: string): Promise<Run> {
  const config = stackConfig("dev", dir);
  return runProgram(
    "dev",
    { ...config, "model-images:manifest": path.join(dir, config["model-images:manifest"]) },
    TOKEN,
  );
}

const DEV = {
  "aws:region": "us-east-1",
  "model-images:manifest": "models.yaml",
  "model-images:registryPrefix": "team-dev",
  "model-images:tagSuffix": "-pr-42",
  "model-images:onlyModels": "both,gated,custom,runtime",
  "model-images:imageTagMutability": "MUTABLE",
  "model-images:requirePinnedRevisions": "false",
  "model-images:maxLayerBytes": "1073741824",
};

describe("the program and the CLI get the same images from one stack file and manifest", function () {
  this.timeout(60_000);
  let dir: string;
  let run: Run;
  let selection: Selection;

  before(async () => {
    dir = project(DEV);
    run = await programRun(dir);
    const cli = await cliSelection(dir);
    assert.equal(cli.err, "");
    selection = cli.selection as Selection;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const built = () => selection.images.filter((i) => !i.skipped);
  const modelImageInputs = (image: string) =>
    one(run.recorded, "pulumi-nodejs:dynamic:Resource", `models-${image}-image`).inputs;

  it("the same image names, onlyModels applied by both", () => {
    const program = [
      ...Object.keys(run.outputs.modelUris as object),
      ...Object.keys(run.outputs.skippedImages as object),
    ].sort();
    assert.deepEqual(program, ["both", "both-cuda", "custom", "gated-cuda", "runtime"]);
    assert.deepEqual(selection.images.map((i) => i.name).sort(), program);
  });

  it("each built image: the same repository, tag (with -cuda and the suffix) and URI", () => {
    const uris = run.outputs.modelUris as Record<string, string>;
    const registry = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
    for (const image of built()) {
      const inputs = modelImageInputs(image.name);
      assert.equal(inputs.repositoryName, image.repositoryName, image.name);
      assert.equal(inputs.tag, image.tag, image.name);
      assert.equal(inputs.projectName, codeBuildProjectName("dev", image.name));
      assert.equal(uris[image.name], ociTagUri(registry, image.repositoryName, image.tag));
    }
    assert.equal(
      uris["both-cuda"],
      `oci://${registry}/team-dev/both:2.1-cuda-pr-42`,
      "the suffix follows -cuda",
    );
  });

  it("each built image: the same build inputs (source, revision, base, platforms, patterns...)", () => {
    for (const image of built()) {
      const inputs = modelImageInputs(image.name);
      const environment = { ...(inputs.environment as Record<string, string>) };
      delete environment[BUILD_SOURCE_ENV];
      assert.deepEqual(environment, buildInputs(image, selection.settings.maxLayerBytes));
    }
  });

  it("each built image: the same compute type and environment type", () => {
    for (const image of built()) {
      const project = one(
        run.recorded,
        "aws:codebuild/project:Project",
        `models-${image.name}-project`,
      );
      const env = project.inputs.environment as { computeType: string; type: string };
      assert.deepEqual([env.computeType, env.type], [image.computeType, image.environmentType]);
    }
  });

  it("the skipped image: listed by both, the Hub URI in the program's outputs", () => {
    const skipped = selection.images
      .filter((i) => i.skipped)
      .map((i) => [i.name, `hf://${i.source}`]);
    assert.deepEqual(Object.entries(run.outputs.skippedImages as object), skipped);
  });
});

describe("the program and the CLI refuse the same stack alike", function () {
  this.timeout(60_000);
  const refusals: { name: string; config: Record<string, string>; message: RegExp }[] = [
    {
      name: "cuda variants where CodeBuild has no GPUs",
      config: { ...DEV, "aws:region": "eu-north-1" },
      message:
        /models\.yaml:\d+:\d+: model 'both' \(stack 'dev'\): CodeBuild has no GPU compute \(LINUX_GPU_CONTAINER\) in eu-north-1/,
    },
    {
      name: "onlyModels naming a model the manifest lacks",
      config: { ...DEV, "model-images:onlyModels": "both,nope" },
      message: /onlyModels names 'nope', which is not in the manifest/,
    },
  ];
  for (const r of refusals) {
    it(r.name, async () => {
      const dir = project(r.config);
      try {
        await assert.rejects(programRun(dir), (e: Error) => r.message.test(e.message));
        const cli = await cliSelection(dir);
        assert.equal(cli.selection, EXIT.failed);
        assert.match(cli.err, r.message);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
