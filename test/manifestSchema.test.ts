// schema/models.schema.json: generated from the zod schema, current, referenced by models.yaml, and
// in agreement with `validate` on what it can express.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { MANIFEST_JSON_SCHEMA_PATH, manifestJsonSchemaText } from "../lib/manifest/jsonSchema";
import { parseManifest } from "../lib/manifest";

const ROOT = path.resolve(__dirname, "..");
const SCHEMA_FILE = path.join(ROOT, MANIFEST_JSON_SCHEMA_PATH);
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")),
);

const model = (extra: string) =>
  `models:\n  - name: m\n    source: org/m\n    revision: 0123456789abcdef0123456789abcdef01234567\n    tag: "1.0"\n${extra}`;

/** Manifests both the JSON Schema and `validate` (without a stack) accept or reject. */
const CASES: [string, string, boolean][] = [
  ["a minimal model", model(""), true],
  [
    "cpu and cuda variants with platforms",
    model("    variants: [{accelerator: cpu, platforms: [linux/arm64]}, {accelerator: cuda}]\n"),
    true,
  ],
  ["a branch revision", model("").replace(/revision: \S+/, "revision: main"), true],
  [
    "every optional field",
    model(
      '    description: d\n    gated: false\n    downloadAtRuntime: true\n    sizeGB: 1.5\n    include: ["*.json"]\n    exclude: ["original/*"]\n',
    ),
    true,
  ],
  ["an unknown field", model("    colour: red\n"), false],
  ["an unknown variant field", model("    variants: [{accelerator: cpu, gpu: 1}]\n"), false],
  ["tag latest", model("").replace('tag: "1.0"', "tag: latest"), false],
  ["tag Latest", model("").replace('tag: "1.0"', "tag: Latest"), false],
  ["a tag starting with '.'", model("").replace('tag: "1.0"', 'tag: ".1"'), false],
  ["a name with capitals", model("").replace("name: m", "name: Llama"), false],
  ["a source without an org", model("").replace("source: org/m", "source: m"), false],
  ["accelerator gpu", model("    variants: [{accelerator: gpu}]\n"), false],
  ["empty variants", model("    variants: []\n"), false],
  ["sizeGB 0", model("    sizeGB: 0\n"), false],
  ["gated as a string", model('    gated: "yes"\n'), false],
  [
    "platform linux/386",
    model("    variants: [{accelerator: cpu, platforms: [linux/386]}]\n"),
    false,
  ],
  ["a missing tag", model("").replace('    tag: "1.0"\n', ""), false],
  ["no models", "models: []\n", false],
  ["an unknown top-level key", `${model("")}extra: 1\n`, false],
  [
    "a serving block on the model and a variant, cpu as a number",
    model(
      '    serving: {args: ["--max-model-len=8192"], cpu: 4, memory: 24Gi, labels: {team: a}}\n    variants: [{accelerator: cuda, serving: {gpus: 2, tolerations: [{key: nvidia.com/gpu, operator: Exists}]}}]\n',
    ),
    true,
  ],
  ["an unknown serving field", model("    serving: {replicas: 2}\n"), false],
  ["cpu four", model("    serving: {cpu: four}\n"), false],
  ["gpus 0", model("    variants: [{accelerator: cuda, serving: {gpus: 0}}]\n"), false],
  [
    "toleration operator Is",
    model("    serving: {tolerations: [{key: a, operator: Is}]}\n"),
    false,
  ],
  ["an env value as a number", model("    serving: {env: {A: 1}}\n"), false],
];

describe("schema/models.schema.json", () => {
  it("is current: regenerated from lib/manifest/schema.ts it is unchanged (else run `npm run schema`)", () => {
    assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), manifestJsonSchemaText());
  });

  it("models.yaml points editors at it (yaml-language-server modeline)", () => {
    const first = fs.readFileSync(path.join(ROOT, "models.yaml"), "utf8").split("\n")[0];
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    assert.ok(m, `models.yaml's first line is ${JSON.stringify(first)}`);
    assert.equal(path.resolve(ROOT, m[1]), SCHEMA_FILE);
  });

  for (const file of ["models.yaml", "test/fixtures/catalog.yaml"]) {
    it(`accepts ${file}`, () => {
      const ok = validate(parse(fs.readFileSync(path.join(ROOT, file), "utf8")));
      assert.ok(ok, JSON.stringify(validate.errors));
    });
  }

  for (const [title, text, valid] of CASES) {
    it(`${valid ? "accepts" : "rejects"} ${title}, as validate does`, () => {
      const byValidate = parseManifest("m.yaml", text).diagnostics.length === 0;
      assert.equal(
        byValidate,
        valid,
        `validate: ${JSON.stringify(parseManifest("m.yaml", text).diagnostics)}`,
      );
      assert.equal(validate(parse(text)), valid, JSON.stringify(validate.errors));
    });
  }
});
