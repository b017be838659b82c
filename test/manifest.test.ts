// Table-driven tests of the manifest rules: each problem at its exact line and column, and the expansion into images.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_BASE_IMAGES,
  DEFAULT_PLATFORMS,
  ImageSpec,
  ManifestResult,
  ManifestRules,
  parseManifest,
  summarize,
} from "../lib/manifest";
import { readStackFile } from "../lib/stackFile";
import { manifestRules } from "./support/manifestRules";

const FILE = "m.yaml";
const PROJECT_DIR = path.resolve(__dirname, "..");
const SHA = "0123456789abcdef0123456789abcdef01234567";

/** YAML text whose Nth line is the Nth argument: positions in the cases read straight off it. */
const lines = (...ls: string[]): string => ls.join("\n") + "\n";

const rules = manifestRules;
const DEV = rules();
const PROD = rules({
  stack: "prod",
  registryPrefix: "kserve-models",
  requirePinnedRevisions: true,
});

/*
 * Most cases start from this model; its positions:
 *   1 models:
 *   2   - name: a            mapping and `name` key at col 5, value at col 11
 *   3     source: org/a      value at col 13
 *   4     tag: "1"           value at col 10
 *   5     <extra line>       key at col 5, value at col 7 + key length
 */
const HEAD = ["models:", "  - name: a", "    source: org/a", '    tag: "1"'];
const model = (...extra: string[]): string => lines(...HEAD, ...extra);

interface Expected {
  line: number;
  col: number;
  match: RegExp;
}

interface InvalidCase {
  name: string;
  yaml: string | Buffer;
  rules?: ManifestRules;
  expect: Expected[];
}

interface ValidCase {
  name: string;
  yaml: string | Buffer;
  rules?: ManifestRules;
  valid: (result: ManifestResult) => void;
}

type Case = InvalidCase | ValidCase;

const onlyModel = (r: ManifestResult) => {
  assert.equal(r.models.length, 1);
  return r.models[0];
};

const ALIAS_BOMB = lines(
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "models: *d",
);

const CASES: Case[] = [
  // --- valid basics
  {
    name: "minimal model: revision defaults to main without a stack",
    yaml: model(),
    valid: (r) => {
      const m = onlyModel(r);
      assert.equal(m.revision, "main");
      assert.equal(m.pinned, false);
      assert.deepEqual(
        m.variants.map((v) => v.accelerator),
        ["cpu"],
      );
      assert.equal(m.line, 2);
      assert.equal(r.images.length, 1);
    },
  },
  {
    name: "byte order mark and CRLF line ends are read as text",
    yaml: "\ufeff" + model("    revision: main").replace(/\n/g, "\r\n"),
    valid: (r) => assert.equal(onlyModel(r).revision, "main"),
  },
  {
    name: "binary input arrives as a Buffer",
    yaml: Buffer.from(model(`    revision: ${SHA}`)),
    rules: PROD,
    valid: (r) => assert.equal(onlyModel(r).pinned, true),
  },

  // --- name
  {
    name: "name: not a DNS-1123 label",
    yaml: lines("models:", "  - name: Bad_Name", "    source: org/a", '    tag: "1"'),
    expect: [
      { line: 2, col: 11, match: /^name "Bad_Name" is not a DNS-1123 label: use lowercase/ },
    ],
  },
  {
    name: "name: 64 characters",
    yaml: lines("models:", `  - name: ${"a".repeat(64)}`, "    source: org/a", '    tag: "1"'),
    expect: [{ line: 2, col: 11, match: /^name may be at most 63 characters/ }],
  },
  {
    name: "name: a number",
    yaml: lines("models:", "  - name: 12", "    source: org/a", '    tag: "1"'),
    expect: [{ line: 2, col: 11, match: /^name must be a string: a DNS-1123 label/ }],
  },
  {
    name: "name: the cuda image name would exceed 63 characters",
    yaml: lines(
      "models:",
      `  - name: ${"a".repeat(60)}`,
      "    source: org/a",
      '    tag: "1"',
      "    variants: [{accelerator: cuda}]",
    ),
    expect: [{ line: 2, col: 11, match: /^image name 'a+-cuda' is longer than 63 characters/ }],
  },
  {
    name: "name: missing",
    yaml: lines("models:", "  - source: org/a", '    tag: "1"'),
    expect: [{ line: 2, col: 5, match: /^missing required field 'name': a DNS-1123 label/ }],
  },
  {
    name: "name: duplicate, reported at the second occurrence",
    yaml: lines(
      "models:",
      "  - name: a",
      "    source: org/a",
      '    tag: "1"',
      "  - name: a",
      "    source: org/b",
      '    tag: "1"',
    ),
    expect: [
      {
        line: 5,
        col: 11,
        match: /^duplicate model name 'a' \(first at line 2\); names must be unique$/,
      },
    ],
  },
  {
    name: "name: a cuda image of one model collides with another model's image",
    yaml: lines(
      "models:",
      "  - name: a",
      "    source: org/a",
      '    tag: "1"',
      "    variants: [{accelerator: cuda}]",
      "  - name: a-cuda",
      "    source: org/b",
      '    tag: "1"',
    ),
    expect: [
      { line: 6, col: 11, match: /^image name 'a-cuda' \(cpu variant of 'a-cuda'\) collides/ },
    ],
  },

  // --- source
  {
    name: "source: no org",
    yaml: lines("models:", "  - name: a", "    source: noslash", '    tag: "1"'),
    expect: [
      {
        line: 3,
        col: 13,
        match: /^source "noslash" is not valid: a HuggingFace repo id 'org\/name'/,
      },
    ],
  },
  {
    name: "source: leading '-' in the name part",
    yaml: lines("models:", "  - name: a", "    source: org/-x", '    tag: "1"'),
    expect: [{ line: 3, col: 13, match: /^source "org\/-x" is not valid/ }],
  },
  {
    name: "source: three segments",
    yaml: lines("models:", "  - name: a", "    source: a/b/c", '    tag: "1"'),
    expect: [{ line: 3, col: 13, match: /^source "a\/b\/c" is not valid/ }],
  },
  {
    name: "source: missing",
    yaml: lines("models:", "  - name: a", '    tag: "1"'),
    expect: [{ line: 2, col: 5, match: /^missing required field 'source': a HuggingFace repo id/ }],
  },

  // --- revision
  {
    name: "revision: a branch on a stack that requires pinning",
    yaml: model("    revision: main"),
    rules: PROD,
    expect: [
      {
        line: 5,
        col: 15,
        match: /^revision "main" is not a commit SHA: stack 'prod' requires pinned revisions/,
      },
    ],
  },
  {
    name: "revision: a branch where the stack allows it",
    yaml: model("    revision: main"),
    rules: DEV,
    valid: (r) => {
      assert.equal(onlyModel(r).revision, "main");
      assert.equal(onlyModel(r).pinned, false);
    },
  },
  {
    name: "revision: a ref with slashes where the stack allows it",
    yaml: model("    revision: refs/pr/1"),
    rules: DEV,
    valid: (r) => assert.equal(onlyModel(r).revision, "refs/pr/1"),
  },
  {
    name: "revision: missing on a stack that requires pinning",
    yaml: model(),
    rules: PROD,
    expect: [
      {
        line: 2,
        col: 5,
        match: /^missing required field 'revision': stack 'prod' requires a pinned commit SHA/,
      },
    ],
  },
  {
    name: "revision: missing where the stack allows branches defaults to main",
    yaml: model(),
    rules: DEV,
    valid: (r) => assert.equal(onlyModel(r).revision, "main"),
  },
  {
    name: "revision: a commit SHA on a pinned stack",
    yaml: model(`    revision: ${SHA}`),
    rules: PROD,
    valid: (r) => {
      assert.equal(onlyModel(r).revision, SHA);
      assert.equal(onlyModel(r).pinned, true);
      assert.equal(r.images[0].pinned, true);
    },
  },
  {
    name: "revision: uppercase SHA",
    yaml: model(`    revision: ${SHA.toUpperCase()}`),
    expect: [
      { line: 5, col: 15, match: /has uppercase letters: write the commit SHA in lowercase/ },
    ],
  },
  {
    name: "revision: uppercase SHA on a pinned stack",
    yaml: model(`    revision: ${SHA.toUpperCase()}`),
    rules: PROD,
    expect: [{ line: 5, col: 15, match: /has uppercase letters/ }],
  },
  {
    name: "revision: 40 digits unquoted keep their text (YAML would read a lossy number)",
    yaml: model("    revision: 0123456789012345678901234567890123456789"),
    rules: PROD,
    valid: (r) => {
      assert.equal(onlyModel(r).revision, "0123456789012345678901234567890123456789");
      assert.equal(onlyModel(r).pinned, true);
    },
  },
  {
    name: "revision: a number-like branch keeps its text",
    yaml: model("    revision: 1e5"),
    rules: DEV,
    valid: (r) => assert.equal(onlyModel(r).revision, "1e5"),
  },
  {
    name: "revision: neither a SHA nor a branch",
    yaml: model('    revision: "a b"'),
    rules: DEV,
    expect: [
      {
        line: 5,
        col: 15,
        match:
          /^revision "a b" is neither a commit SHA \(40 lowercase hex characters\) nor a branch name$/,
      },
    ],
  },
  {
    name: "revision: a list",
    yaml: model("    revision: [main]"),
    expect: [
      {
        line: 5,
        col: 15,
        match: /^revision must be a commit SHA .* or, where the stack allows, a branch name$/,
      },
    ],
  },

  // --- tag
  {
    name: "tag: latest",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: latest"),
    expect: [{ line: 4, col: 10, match: /^tag 'latest' is not allowed: KServe re-pulls it/ }],
  },
  {
    name: "tag: LATEST",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: LATEST"),
    expect: [{ line: 4, col: 10, match: /^tag 'latest' is not allowed/ }],
  },
  {
    name: "tag: with a space",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: a b"),
    expect: [
      {
        line: 4,
        col: 10,
        match:
          /^tag "a b" is not a valid image tag: use letters, digits, '_', '\.', '-' \(up to 128/,
      },
    ],
  },
  {
    name: "tag: leading dot",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: .x"),
    expect: [{ line: 4, col: 10, match: /^tag "\.x" is not a valid image tag/ }],
  },
  {
    name: "tag: leading dash (the number -1, read as its text)",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: -1"),
    expect: [{ line: 4, col: 10, match: /^tag "-1" is not a valid image tag/ }],
  },
  {
    name: "tag: 129 characters",
    yaml: lines("models:", "  - name: a", "    source: org/a", `    tag: ${"t".repeat(129)}`),
    expect: [{ line: 4, col: 10, match: /^tag "t{129}" is not a valid image tag/ }],
  },
  {
    name: "tag: 128 characters",
    yaml: lines("models:", "  - name: a", "    source: org/a", `    tag: ${"t".repeat(128)}`),
    valid: (r) => assert.equal(r.images[0].tag, "t".repeat(128)),
  },
  {
    name: "tag: 125 characters plus -cuda is over 128",
    yaml: lines(
      "models:",
      "  - name: a",
      "    source: org/a",
      `    tag: ${"t".repeat(125)}`,
      "    variants: [{accelerator: cuda}]",
    ),
    expect: [
      {
        line: 4,
        col: 10,
        match:
          /^image tag 't{125}-cuda' \(with the cuda suffix and the stack's tagSuffix\) is longer than 128/,
      },
    ],
  },
  {
    name: "tag: 122 characters plus the stack's tagSuffix -pr-123 is over 128",
    yaml: lines("models:", "  - name: a", "    source: org/a", `    tag: ${"t".repeat(122)}`),
    rules: rules({ tagSuffix: "-pr-123" }),
    expect: [{ line: 4, col: 10, match: /^image tag 't{122}-pr-123' .* is longer than 128/ }],
  },
  {
    name: "tag: 121 characters plus -pr-123 is exactly 128",
    yaml: lines("models:", "  - name: a", "    source: org/a", `    tag: ${"t".repeat(121)}`),
    rules: rules({ tagSuffix: "-pr-123" }),
    valid: (r) => assert.equal(r.images[0].tag, `${"t".repeat(121)}-pr-123`),
  },
  {
    name: "tag: 1.10 unquoted stays 1.10",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: 1.10"),
    valid: (r) => {
      assert.equal(onlyModel(r).tag, "1.10");
      assert.equal(r.images[0].tag, "1.10");
    },
  },
  {
    name: "tag: 2 unquoted is the string 2",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: 2"),
    valid: (r) => assert.equal(r.images[0].tag, "2"),
  },
  {
    name: "tag: 1.0, 0x1F and 1e3 keep their text",
    yaml: lines(
      "models:",
      "  - {name: a, source: org/a, tag: 1.0}",
      "  - {name: b, source: org/b, tag: 0x1F}",
      "  - {name: c, source: org/c, tag: 1e3}",
    ),
    valid: (r) =>
      assert.deepEqual(
        r.images.map((i) => i.tag),
        ["1.0", "0x1F", "1e3"],
      ),
  },
  {
    name: "tag: 1.10 in a flow mapping with a comment stays 1.10",
    yaml: lines("models: [{name: a, source: org/a, tag: 1.10}] # one model"),
    valid: (r) => assert.equal(r.images[0].tag, "1.10"),
  },
  {
    name: "tag: a list",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag: [1]"),
    expect: [{ line: 4, col: 10, match: /^tag must be a string: an image tag such as "0\.1\.0"/ }],
  },
  {
    name: "tag: empty value",
    yaml: lines("models:", "  - name: a", "    source: org/a", "    tag:"),
    expect: [{ line: 4, col: 9, match: /^tag must be a string/ }],
  },
  {
    name: "tag: missing",
    yaml: lines("models:", "  - name: a", "    source: org/a"),
    expect: [
      { line: 2, col: 5, match: /^missing required field 'tag': an image tag such as "0\.1\.0"$/ },
    ],
  },

  // --- the other model fields
  {
    name: "description: a number",
    yaml: model("    description: 5"),
    expect: [{ line: 5, col: 18, match: /^description must be a string$/ }],
  },
  {
    name: "gated: yes is not a boolean in YAML 1.2",
    yaml: model("    gated: yes"),
    expect: [{ line: 5, col: 12, match: /^gated must be true or false$/ }],
  },
  {
    name: "downloadAtRuntime: 1",
    yaml: model("    downloadAtRuntime: 1"),
    expect: [{ line: 5, col: 24, match: /^downloadAtRuntime must be true or false$/ }],
  },
  {
    name: "sizeGB: 0",
    yaml: model("    sizeGB: 0"),
    expect: [{ line: 5, col: 13, match: /^sizeGB must be greater than 0$/ }],
  },
  {
    name: "sizeGB: a string",
    yaml: model('    sizeGB: "5"'),
    expect: [{ line: 5, col: 13, match: /^sizeGB must be a number: the approximate size/ }],
  },
  {
    name: "sizeGB: over 10000",
    yaml: model("    sizeGB: 10001"),
    expect: [{ line: 5, col: 13, match: /^sizeGB must be at most 10000$/ }],
  },
  {
    name: "include: a string, not a list",
    yaml: model('    include: "*.json"'),
    expect: [{ line: 5, col: 14, match: /^include must be a list of glob patterns, e\.g\./ }],
  },
  {
    name: "include: an empty pattern, at the element",
    yaml: model('    include: ["*.json", ""]'),
    expect: [{ line: 5, col: 25, match: /^include patterns may not be empty$/ }],
  },
  {
    name: "exclude: a number pattern",
    yaml: model("    exclude: [1]"),
    expect: [{ line: 5, col: 15, match: /^each exclude pattern must be a string/ }],
  },
  {
    name: "unknown model field: at the key, listing the allowed fields",
    yaml: model("    colour: red"),
    expect: [
      {
        line: 5,
        col: 5,
        match:
          /^unknown field 'colour'; allowed fields: name, source, revision, tag, description, gated, downloadAtRuntime, sizeGB, include, exclude, variants, serving$/,
      },
    ],
  },
  {
    name: "duplicate key in a model: at the repeat",
    yaml: model('    tag: "2"'),
    expect: [{ line: 5, col: 5, match: /unique: each key may appear once in a mapping/ }],
  },
  {
    name: "a model that is not a mapping",
    yaml: lines("models:", "  - just-a-string"),
    expect: [{ line: 2, col: 5, match: /^each model must be a mapping with name, source/ }],
  },

  // --- variants
  {
    name: "variants: empty",
    yaml: model("    variants: []"),
    expect: [{ line: 5, col: 15, match: /^variants may not be empty; omit it for the default/ }],
  },
  {
    name: "variants: a scalar",
    yaml: model("    variants: cuda"),
    expect: [
      { line: 5, col: 15, match: /^variants must be a list such as \[\{accelerator: cpu\}/ },
    ],
  },
  {
    name: "variant: not a mapping",
    yaml: model("    variants:", "      - cuda"),
    expect: [
      { line: 6, col: 9, match: /^each variant must be a mapping such as \{accelerator: cuda\}$/ },
    ],
  },
  {
    name: "variant: unknown accelerator",
    yaml: model("    variants:", "      - accelerator: tpu"),
    expect: [{ line: 6, col: 22, match: /^accelerator must be cpu or cuda$/ }],
  },
  {
    name: "variant: accelerator missing",
    yaml: model("    variants:", "      - computeType: BUILD_GENERAL1_SMALL"),
    expect: [{ line: 6, col: 9, match: /^missing required field 'accelerator': cpu or cuda$/ }],
  },
  {
    name: "variant: unknown field, listing the variant fields",
    yaml: model("    variants:", "      - accelerator: cpu", "        gpu: 1"),
    expect: [
      {
        line: 7,
        col: 9,
        match:
          /^unknown field 'gpu'; allowed fields: accelerator, baseImage, computeType, platforms, serving$/,
      },
    ],
  },
  {
    name: "variant: duplicate accelerator, at the second",
    yaml: model("    variants:", "      - accelerator: cpu", "      - accelerator: cpu"),
    expect: [
      {
        line: 7,
        col: 22,
        match:
          /^accelerator 'cpu' is listed twice for model 'a' \(also variant 1\); each accelerator once$/,
      },
    ],
  },
  {
    name: "variant: a computeType LINUX_GPU_CONTAINER does not offer",
    yaml: model(
      "    variants:",
      "      - accelerator: cuda",
      "        computeType: BUILD_GENERAL1_MEDIUM",
    ),
    expect: [
      {
        line: 7,
        col: 22,
        match:
          /^computeType 'BUILD_GENERAL1_MEDIUM' is not available for cuda builds \(LINUX_GPU_CONTAINER\); allowed: BUILD_GENERAL1_SMALL \(220 GB disk\), BUILD_GENERAL1_LARGE \(50 GB disk\)$/,
      },
    ],
  },
  {
    name: "variant: an unknown cpu computeType",
    yaml: model("    variants:", "      - accelerator: cpu", "        computeType: BUILD_HUGE"),
    expect: [
      {
        line: 7,
        col: 22,
        match:
          /^computeType 'BUILD_HUGE' is not available for cpu builds \(LINUX_CONTAINER\); allowed: BUILD_GENERAL1_SMALL \(64 GB disk\)/,
      },
    ],
  },
  {
    name: "variant: the chosen GPU compute's disk is too small for the model",
    yaml: model(
      "    sizeGB: 20",
      "    variants:",
      "      - accelerator: cuda",
      "        computeType: BUILD_GENERAL1_LARGE",
    ),
    expect: [
      {
        line: 8,
        col: 22,
        match:
          /^computeType BUILD_GENERAL1_LARGE has 50 GB disk, too little for a 20 GB model \(a build needs about 3.5x\)/,
      },
    ],
  },
  {
    name: "sizeGB: too large for any cpu compute",
    yaml: model("    sizeGB: 300"),
    expect: [
      {
        line: 5,
        col: 13,
        match:
          /^a 300 GB model is too large for any cpu CodeBuild compute \(at most 235 GB\); set downloadAtRuntime: true$/,
      },
    ],
  },
  {
    name: "sizeGB: too large for any cuda compute (fine for cpu)",
    yaml: model("    sizeGB: 100", "    variants: [{accelerator: cpu}, {accelerator: cuda}]"),
    expect: [
      {
        line: 5,
        col: 13,
        match: /^a 100 GB model is too large for any cuda CodeBuild compute \(at most 62 GB\)/,
      },
    ],
  },
  {
    name: "sizeGB: too large to build is fine with downloadAtRuntime",
    yaml: model("    sizeGB: 300", "    downloadAtRuntime: true"),
    valid: (r) => assert.equal(r.images[0].skipped, true),
  },
  {
    name: "variant: baseImage not an image reference",
    yaml: model("    variants:", "      - accelerator: cpu", "        baseImage: Not An Image"),
    expect: [
      {
        line: 7,
        col: 20,
        match: /^baseImage "Not An Image" is not valid: an image reference like/,
      },
    ],
  },
  {
    name: "variant: platforms empty",
    yaml: model("    variants:", "      - accelerator: cpu", "        platforms: []"),
    expect: [{ line: 7, col: 20, match: /^platforms may not be empty; omit it for the default$/ }],
  },
  {
    name: "variant: an unsupported platform, at the element",
    yaml: model("    variants:", "      - accelerator: cpu", "        platforms: [linux/s390x]"),
    expect: [
      { line: 7, col: 21, match: /^each platform must be one of linux\/amd64, linux\/arm64$/ },
    ],
  },

  // --- gated models and the stack's token
  {
    name: "gated without a token on the stack",
    yaml: model("    gated: true"),
    rules: DEV,
    expect: [
      {
        line: 5,
        col: 12,
        match:
          /^model 'a' is gated but stack 'dev' has no huggingface-token: run 'pulumi config set --secret huggingface-token <token> --stack dev', or set downloadAtRuntime: true$/,
      },
    ],
  },
  {
    name: "gated with a token on the stack",
    yaml: model("    gated: true"),
    rules: rules({ hasHuggingfaceToken: true }),
    valid: (r) => {
      assert.equal(r.images[0].gated, true);
      assert.equal(r.images[0].skipped, false);
    },
  },
  {
    name: "gated without a token but downloaded at runtime",
    yaml: model("    gated: true", "    downloadAtRuntime: true"),
    rules: DEV,
    valid: (r) => assert.equal(r.images[0].skipped, true),
  },
  {
    name: "gated without a stack: the token rule needs one",
    yaml: model("    gated: true"),
    valid: (r) => assert.equal(r.images[0].gated, true),
  },

  // --- the file as a whole
  {
    name: "empty file",
    yaml: "",
    expect: [
      { line: 1, col: 1, match: /^the manifest is empty; expected a mapping with a 'models' list/ },
    ],
  },
  {
    name: "only blank lines and a comment",
    yaml: lines("", "# nothing yet", "   "),
    expect: [{ line: 1, col: 1, match: /^the manifest is empty/ }],
  },
  {
    name: "top level is a list",
    yaml: lines("- name: a", "- name: b"),
    expect: [
      {
        line: 1,
        col: 1,
        match: /^the manifest's top level is a list; expected a mapping with a 'models' list$/,
      },
    ],
  },
  {
    name: "top level is a scalar",
    yaml: lines("just some text"),
    expect: [
      { line: 1, col: 1, match: /^the manifest's top level is a string; expected a mapping/ },
    ],
  },
  {
    name: "top level is a number",
    yaml: lines("42"),
    expect: [{ line: 1, col: 1, match: /^the manifest's top level is a number/ }],
  },
  {
    name: "models: []",
    yaml: lines("models: []"),
    expect: [{ line: 1, col: 9, match: /^models is empty: list at least one model$/ }],
  },
  {
    name: "models: empty value",
    yaml: lines("models:"),
    expect: [{ line: 1, col: 8, match: /^models must be a list of models$/ }],
  },
  {
    name: "models: a number",
    yaml: lines("models: 3"),
    expect: [{ line: 1, col: 9, match: /^models must be a list of models$/ }],
  },
  {
    name: "models missing (and the key that is there is unknown)",
    yaml: lines("modles:", "  - name: a"),
    expect: [
      { line: 1, col: 1, match: /^unknown top-level field 'modles'; allowed: models$/ },
      { line: 1, col: 1, match: /^missing required field 'models': a list of models$/ },
    ],
  },
  {
    name: "unknown top-level key next to a valid list",
    yaml: model("extra: 1"),
    expect: [{ line: 5, col: 1, match: /^unknown top-level field 'extra'; allowed: models$/ }],
  },
  {
    name: "a collection as a top-level key (no process warning, one problem)",
    yaml: lines("? [a]", ": 1", ...HEAD),
    expect: [{ line: 1, col: 1, match: /^unknown top-level field '\[ a \]'/ }],
  },
  {
    name: "duplicate top-level key",
    yaml: lines("models: []", "models: []"),
    expect: [
      { line: 1, col: 9, match: /^models is empty/ },
      { line: 2, col: 1, match: /unique: each key may appear once/ },
    ],
  },
  {
    name: "NUL byte, at its position",
    yaml: lines("models:", "  - name: a\u0000b"),
    expect: [
      {
        line: 2,
        col: 12,
        match: /^the file is not text \(it holds a NUL byte\); the manifest must be UTF-8 YAML$/,
      },
    ],
  },
  {
    name: "binary junk (a PNG header)",
    yaml: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
    expect: [{ line: 3, col: 1, match: /NUL byte/ }],
  },
  {
    name: "invalid UTF-8 without NUL bytes",
    yaml: Buffer.from([0xff, 0xfe, 0x41, 0x0a]),
    expect: [
      {
        line: 1,
        col: 1,
        match: /^the file is not UTF-8 text \(an invalid byte sequence starts here\)/,
      },
    ],
  },
  {
    name: "invalid UTF-8 after valid lines: positioned at the bad byte",
    yaml: Buffer.concat([
      Buffer.from("models:\n  - name: caf"),
      Buffer.from([0xe9]),
      Buffer.from("\n"),
    ]),
    expect: [{ line: 2, col: 14, match: /^the file is not UTF-8 text/ }],
  },
  {
    name: "100 nested flow brackets: at the 65th",
    yaml: "models: " + "[".repeat(100),
    expect: [{ line: 1, col: 73, match: /^YAML nests deeper than 64 levels here/ }],
  },
  {
    name: "a single-quoted '' escape does not hide brackets from the depth check",
    yaml: "models: " + ("[".repeat(40) + "'x'' " + "]".repeat(40) + "', ").repeat(2) + "\n",
    expect: [{ line: 1, col: 121, match: /^YAML nests deeper than 64 levels here/ }],
  },
  {
    name: "100 compact block sequences on one line: at the 65th '-'",
    yaml: lines("models:", "- ".repeat(100) + "x"),
    expect: [{ line: 2, col: 129, match: /^YAML nests deeper than 64 levels here/ }],
  },
  {
    name: "a stray '[' in a plain scalar does not hide a deep block run",
    yaml: lines("note: a [ b", "models:", "- ".repeat(100) + "x"),
    expect: [{ line: 3, col: 129, match: /^YAML nests deeper than 64 levels here/ }],
  },
  {
    name: "10 MB of nesting: the size cap",
    yaml: "models: " + "[".repeat(10 * 1024 * 1024),
    expect: [
      { line: 1, col: 1, match: /^the file is 10\.0 MiB; a manifest may be at most 4 MiB$/ },
    ],
  },
  {
    name: "alias bomb",
    yaml: ALIAS_BOMB,
    expect: [
      { line: 1, col: 1, match: /^aliases expand to too much data \(over 100 alias uses\)/ },
    ],
  },
  {
    name: "YAML syntax: a tab as indentation",
    yaml: lines("models:", "\t- name: a"),
    expect: [{ line: 2, col: 1, match: /^invalid YAML: Tabs are not allowed as indentation/ }],
  },
  {
    name: "YAML syntax: an unclosed flow sequence",
    yaml: lines("models: [a, b", "other: 1"),
    expect: [
      {
        line: 2,
        col: 1,
        match:
          /^invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
      },
    ],
  },
  {
    name: "YAML syntax: two documents",
    yaml: lines("models: []", "---", "models: []"),
    expect: [{ line: 2, col: 1, match: /^invalid YAML: Source contains multiple documents/ }],
  },
  {
    name: "many problems are reported at once, in order",
    yaml: lines(
      "models:",
      "  - name: A",
      "    source: bad",
      "    tag: latest",
      "    sizeGB: -1",
      "    gated: yes",
      "    foo: 1",
      "  - name: A",
      "    source: x",
    ),
    expect: [
      { line: 2, col: 11, match: /^name "A" is not a DNS-1123 label/ },
      { line: 3, col: 13, match: /^source "bad" is not valid/ },
      { line: 4, col: 10, match: /^tag 'latest' is not allowed/ },
      { line: 5, col: 13, match: /^sizeGB must be greater than 0$/ },
      { line: 6, col: 12, match: /^gated must be true or false$/ },
      { line: 7, col: 5, match: /^unknown field 'foo'/ },
      { line: 8, col: 5, match: /^missing required field 'tag'/ },
      { line: 8, col: 11, match: /^name "A" is not a DNS-1123 label/ },
      { line: 9, col: 13, match: /^source "x" is not valid/ },
    ],
  },
  {
    name: "over 50 problems: the first 50 and a count of the rest",
    yaml: lines("models:", ...Array.from({ length: 60 }, () => "  - x")),
    expect: [
      ...Array.from({ length: 50 }, (_, i) => ({
        line: i + 2,
        col: 5,
        match: /^each model must be a mapping/,
      })),
      { line: 51, col: 5, match: /^and 10 more problems \(fix these first\)$/ },
    ],
  },
];

describe("manifest rules (table)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const result = parseManifest(FILE, c.yaml, c.rules);
      if ("valid" in c) {
        assert.deepEqual(result.diagnostics, [], "expected a valid manifest");
        assert.ok(result.images.length > 0);
        c.valid(result);
        return;
      }
      const got = result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
      assert.equal(result.diagnostics.length, c.expect.length, `diagnostics:\n${got.join("\n")}`);
      c.expect.forEach((e, i) => {
        const d = result.diagnostics[i];
        assert.equal(d.file, FILE);
        assert.deepEqual(
          { line: d.line, col: d.col },
          { line: e.line, col: e.col },
          `position of diagnostic ${i + 1}: ${got[i]}`,
        );
        assert.match(d.message, e.match, got[i]);
      });
      assert.deepEqual(result.models, []);
      assert.deepEqual(result.images, []);
    });
  }
});

describe("manifest expansion into images", () => {
  const CATALOGUE = lines(
    "models:",
    "  - name: small",
    "    source: org/small",
    `    revision: ${SHA}`,
    '    tag: "1.2.0"',
    "    sizeGB: 10",
    "    description: a small model",
    '    include: ["*.safetensors", "*.json"]',
    '    exclude: ["original/*"]',
    "    variants:",
    "      - accelerator: cpu",
    "      - accelerator: cuda",
    "  - name: big",
    "    source: org/big",
    `    revision: ${SHA}`,
    '    tag: "2.0"',
    "    sizeGB: 50",
    "    variants: [{accelerator: cpu}, {accelerator: cuda}]",
    "  - name: unsized",
    "    source: org/unsized",
    `    revision: ${SHA}`,
    '    tag: "3"',
    "    variants: [{accelerator: cpu}, {accelerator: cuda}]",
  );
  const STACK = rules({ registryPrefix: "kserve-models-dev", tagSuffix: "-pr-7" });
  const byName = (images: ImageSpec[]) => new Map(images.map((i) => [i.name, i]));

  it("names, tags with suffix, repositories with prefix, environment types", () => {
    const r = parseManifest(FILE, CATALOGUE, STACK);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      r.images.map((i) => [
        i.name,
        i.model,
        i.accelerator,
        i.tag,
        i.repositoryName,
        i.environmentType,
      ]),
      [
        ["small", "small", "cpu", "1.2.0-pr-7", "kserve-models-dev/small", "LINUX_CONTAINER"],
        [
          "small-cuda",
          "small",
          "cuda",
          "1.2.0-cuda-pr-7",
          "kserve-models-dev/small",
          "LINUX_GPU_CONTAINER",
        ],
        ["big", "big", "cpu", "2.0-pr-7", "kserve-models-dev/big", "LINUX_CONTAINER"],
        [
          "big-cuda",
          "big",
          "cuda",
          "2.0-cuda-pr-7",
          "kserve-models-dev/big",
          "LINUX_GPU_CONTAINER",
        ],
        ["unsized", "unsized", "cpu", "3-pr-7", "kserve-models-dev/unsized", "LINUX_CONTAINER"],
        [
          "unsized-cuda",
          "unsized",
          "cuda",
          "3-cuda-pr-7",
          "kserve-models-dev/unsized",
          "LINUX_GPU_CONTAINER",
        ],
      ],
    );
  });

  it("compute type: the cheapest with 3.5x the model size in disk, defaults without sizeGB", () => {
    const images = byName(parseManifest(FILE, CATALOGUE, STACK).images);
    // 10 GB needs 35 GB: the smallest of each kind.
    assert.equal(images.get("small")?.computeType, "BUILD_GENERAL1_SMALL");
    assert.equal(images.get("small-cuda")?.computeType, "BUILD_GENERAL1_SMALL");
    // 50 GB needs 175 GB: past MEDIUM and LARGE (128 GB) to XLARGE; on GPU, the small type's
    // 220 GB (the large GPU type has only 50 GB).
    assert.equal(images.get("big")?.computeType, "BUILD_GENERAL1_XLARGE");
    assert.equal(images.get("big-cuda")?.computeType, "BUILD_GENERAL1_SMALL");
    assert.equal(images.get("unsized")?.computeType, "BUILD_GENERAL1_MEDIUM");
    assert.equal(images.get("unsized-cuda")?.computeType, "BUILD_GENERAL1_SMALL");
  });

  it("compute type: the disk margin moves a model past a disk it would fill to the brim", () => {
    // 3x (the measured peak) would fit 20 GB into SMALL's 64 GB with 4 GB to spare; 3.5x asks for
    // 70 GB, so MEDIUM. 18 GB (63 GB) still fits SMALL.
    const sized = (gb: number) => {
      const r = parseManifest(
        FILE,
        lines(
          "models:",
          "  - name: m",
          "    source: org/m",
          `    revision: ${SHA}`,
          '    tag: "1"',
          `    sizeGB: ${gb}`,
        ),
        STACK,
      );
      assert.deepEqual(r.diagnostics, []);
      return r.images[0].computeType;
    };
    assert.equal(sized(18), "BUILD_GENERAL1_SMALL");
    assert.equal(sized(20), "BUILD_GENERAL1_MEDIUM");
  });

  it("default base images and platforms per accelerator", () => {
    const images = byName(parseManifest(FILE, CATALOGUE, STACK).images);
    assert.equal(images.get("small")?.baseImage, DEFAULT_BASE_IMAGES.cpu);
    assert.deepEqual(images.get("small")?.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal(images.get("small-cuda")?.baseImage, DEFAULT_BASE_IMAGES.cuda);
    assert.deepEqual(images.get("small-cuda")?.platforms, ["linux/amd64"]);
    assert.deepEqual(DEFAULT_PLATFORMS.cuda, ["linux/amd64"]);
    assert.match(DEFAULT_BASE_IMAGES.cpu, /busybox:[0-9.]+$/);
    // A cuda modelcar is a plain modelcar: a CUDA base would give the sidecar NVIDIA_* settings.
    assert.equal(DEFAULT_BASE_IMAGES.cuda, DEFAULT_BASE_IMAGES.cpu);
  });

  it("model fields reach every image", () => {
    const small = byName(parseManifest(FILE, CATALOGUE, STACK).images).get("small-cuda");
    assert.deepEqual(small, {
      name: "small-cuda",
      model: "small",
      accelerator: "cuda",
      source: "org/small",
      revision: SHA,
      pinned: true,
      tag: "1.2.0-cuda-pr-7",
      repositoryName: "kserve-models-dev/small",
      baseImage: DEFAULT_BASE_IMAGES.cuda,
      environmentType: "LINUX_GPU_CONTAINER",
      computeType: "BUILD_GENERAL1_SMALL",
      platforms: ["linux/amd64"],
      include: ["*.safetensors", "*.json"],
      exclude: ["original/*"],
      gated: false,
      skipped: false,
      sizeGB: 10,
      description: "a small model",
      serving: {},
    } satisfies ImageSpec);
  });

  it("variant overrides: baseImage, computeType, platforms", () => {
    const r = parseManifest(
      FILE,
      model(
        "    variants:",
        "      - accelerator: cpu",
        "        baseImage: registry.example.com/base/busybox:1.36",
        "        computeType: BUILD_GENERAL1_2XLARGE",
        "        platforms: [linux/arm64]",
        "      - accelerator: cuda",
        "        computeType: BUILD_GENERAL1_LARGE",
      ),
      DEV,
    );
    assert.deepEqual(r.diagnostics, []);
    const [cpu, cuda] = r.images;
    assert.equal(cpu.baseImage, "registry.example.com/base/busybox:1.36");
    assert.equal(cpu.computeType, "BUILD_GENERAL1_2XLARGE");
    assert.deepEqual(cpu.platforms, ["linux/arm64"]);
    assert.equal(cuda.computeType, "BUILD_GENERAL1_LARGE");
    assert.equal(cuda.baseImage, DEFAULT_BASE_IMAGES.cuda);
  });

  it("without a stack: no prefix, no suffix", () => {
    const [img] = parseManifest(FILE, model()).images;
    assert.equal(img.repositoryName, "a");
    assert.equal(img.tag, "1");
  });

  it("downloadAtRuntime: listed as skipped, and counted so in the summary", () => {
    const r = parseManifest(
      FILE,
      lines(
        "models:",
        "  - {name: a, source: org/a, tag: '1', variants: [{accelerator: cpu}, {accelerator: cuda}]}",
        "  - {name: b, source: org/b, tag: '1', downloadAtRuntime: true, gated: true}",
      ),
      DEV,
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      r.images.map((i) => [i.name, i.skipped]),
      [
        ["a", false],
        ["a-cuda", false],
        ["b", true],
      ],
    );
    assert.equal(
      summarize(r),
      "2 models, 3 variants: 2 images to build, 1 skipped (downloadAtRuntime)",
    );
  });
});

describe("the shipped models.yaml", () => {
  const file = path.join(PROJECT_DIR, "models.yaml");
  const text = fs.readFileSync(file);

  for (const stack of ["dev", "prod"]) {
    it(`is valid for the ${stack} stack`, () => {
      const s = readStackFile(PROJECT_DIR, stack);
      assert.deepEqual(s.diagnostics, []);
      const r = parseManifest("models.yaml", text, s.settings);
      assert.deepEqual(
        r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`),
        [],
      );
      assert.ok(
        r.images.every((i) => i.repositoryName.startsWith(`${s.settings.registryPrefix}/`)),
      );
      if (s.settings.requirePinnedRevisions) {
        assert.ok(r.models.every((m) => m.pinned));
      }
    });
  }

  it("has at least 3 models: a gated one, one with a cuda variant, a small ungated one", () => {
    const r = parseManifest("models.yaml", text);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(r.models.length >= 3, `${r.models.length} models`);
    assert.ok(r.models.some((m) => m.gated));
    assert.ok(r.models.some((m) => m.variants.some((v) => v.accelerator === "cuda")));
    assert.ok(
      r.models.some(
        (m) => !m.gated && !m.downloadAtRuntime && m.sizeGB !== undefined && m.sizeGB <= 2,
      ),
      "a small (<= 2 GB) ungated model to try a new stack with",
    );
  });
});

// ---- the serving block ---------------------------------------------------------------------

/** The model above with a `serving:` block at line 5; its fields from line 6, key at col 7. */
const served = (...fields: string[]): string => model("    serving:", ...fields);
/**
 * The model with two variants; the cuda variant's `serving:` fields start at line 9 (col 11), or
 * one line later per model-level field line plus its `serving:` line.
 */
const servedVariants = (modelFields: string[], cudaFields: string[]): string =>
  model(
    ...(modelFields.length > 0 ? ["    serving:", ...modelFields] : []),
    "    variants:",
    "      - accelerator: cpu",
    "      - accelerator: cuda",
    ...(cudaFields.length > 0 ? ["        serving:", ...cudaFields] : []),
  );
const BOTH_KINDS = rules({ kserveKinds: ["isvc", "llmisvc"] });
const TOKEN_LIKE = "hf_" + "a1B2c3D4".repeat(5);

const SERVING_CASES: Case[] = [
  {
    name: "serving: not a mapping",
    yaml: model("    serving: big"),
    expect: [{ line: 5, col: 14, match: /^serving must be a mapping such as \{args:/ }],
  },
  {
    name: "serving: unknown key, listing the serving fields",
    yaml: served("      replicas: 2"),
    expect: [
      {
        line: 6,
        col: 7,
        match:
          /^unknown field 'replicas'; allowed fields: runtime, args, env, gpus, cpu, cpuLimit, memory, minReplicas, maxReplicas, nodeSelector, tolerations, serviceAccountName, labels, annotations$/,
      },
    ],
  },
  {
    name: "cpu: not a quantity",
    yaml: served("      cpu: four"),
    expect: [
      { line: 6, col: 12, match: /^cpu "four" is not a positive Kubernetes quantity: write e.g./ },
    ],
  },
  {
    name: "cpu: zero",
    yaml: served('      cpu: "0"'),
    expect: [{ line: 6, col: 12, match: /^cpu "0" is not a positive Kubernetes quantity/ }],
  },
  {
    name: "memory: 24GB is not Kubernetes' unit",
    yaml: served("      memory: 24GB"),
    expect: [{ line: 6, col: 15, match: /^memory "24GB" is not a positive Kubernetes quantity/ }],
  },
  {
    name: "memory: a bare 24 is 24 bytes, a unit slip",
    yaml: served("      memory: 24"),
    expect: [{ line: 6, col: 15, match: /^memory "24" is under 128Mi.*e\.g\. 24Gi$/ }],
  },
  {
    name: "memory: 24m is milli-bytes",
    yaml: served("      memory: 24m"),
    expect: [{ line: 6, col: 15, match: /^memory "24m" is under 128Mi/ }],
  },
  {
    name: "cpuLimit: below cpu",
    yaml: served('      cpu: "4"', '      cpuLimit: "2"'),
    expect: [
      {
        line: 7,
        col: 17,
        match:
          /^cpuLimit 2 is below the cpu request 4 for the cpu variant of model 'a'; Kubernetes requires request <= limit/,
      },
    ],
  },
  {
    name: "cpuLimit: below the cuda default request, from the variant",
    yaml: servedVariants([], ['          cpuLimit: "1"']),
    expect: [
      {
        line: 9,
        col: 21,
        match: /^cpuLimit 1 is below the cpu request 4 \(the cuda default\) for the cuda variant/,
      },
    ],
  },
  {
    name: "gpus: on a model with only the default cpu variant",
    yaml: served("      gpus: 1"),
    expect: [
      {
        line: 6,
        col: 13,
        match: /^gpus is for cuda variants, and model 'a' has only the default cpu variant/,
      },
    ],
  },
  {
    name: "gpus: at model level, inherited by the cpu variant",
    yaml: servedVariants(["      gpus: 2"], []),
    expect: [
      {
        line: 6,
        col: 13,
        match:
          /^gpus is for cuda variants, but the cpu variant of model 'a' inherits it from the model's serving; move gpus under the cuda variant's serving$/,
      },
    ],
  },
  {
    name: "gpus: in the cpu variant's own serving",
    yaml: model("    variants:", "      - accelerator: cpu", "        serving: {gpus: 1}"),
    expect: [
      {
        line: 7,
        col: 25,
        match: /^gpus is for cuda variants; the cpu variant of model 'a' runs without a GPU/,
      },
    ],
  },
  {
    name: "gpus: zero on cuda",
    yaml: servedVariants([], ["          gpus: 0"]),
    expect: [{ line: 9, col: 17, match: /^gpus must be at least 1 on a cuda variant$/ }],
  },
  {
    name: "gpus: not a whole number",
    yaml: servedVariants([], ["          gpus: 1.5"]),
    expect: [{ line: 9, col: 17, match: /^gpus must be a whole number of GPUs/ }],
  },
  {
    name: "minReplicas above maxReplicas, at minReplicas when both are the model's",
    yaml: served("      minReplicas: 3", "      maxReplicas: 2"),
    expect: [
      {
        line: 6,
        col: 20,
        match:
          /^minReplicas 3 is more than maxReplicas 2 for the cpu variant of model 'a'; minReplicas must be at most maxReplicas$/,
      },
    ],
  },
  {
    name: "maxReplicas of a variant below the model's minReplicas, at the variant's",
    yaml: servedVariants(["      minReplicas: 2"], ["          maxReplicas: 1"]),
    expect: [
      { line: 11, col: 24, match: /^minReplicas 2 is more than maxReplicas 1 for the cuda/ },
    ],
  },
  {
    name: "maxReplicas 0, and minReplicas negative",
    yaml: served("      minReplicas: -1", "      maxReplicas: 0"),
    expect: [
      { line: 6, col: 20, match: /^minReplicas must be 0 or more$/ },
      { line: 7, col: 20, match: /^maxReplicas must be at least 1$/ },
    ],
  },
  {
    name: "runtime: not a Kubernetes object name",
    yaml: served("      runtime: KServe_HF"),
    expect: [{ line: 6, col: 16, match: /^runtime "KServe_HF" is not a Kubernetes object name/ }],
  },
  {
    name: "serviceAccountName: not a Kubernetes object name",
    yaml: served("      serviceAccountName: models reader"),
    expect: [
      { line: 6, col: 27, match: /^serviceAccountName "models reader" is not a Kubernetes object/ },
    ],
  },
  {
    name: "args: a string instead of a list, and a number in a list",
    yaml: served("      args: --max-model-len=8192", "      env: {A: x}"),
    expect: [{ line: 6, col: 13, match: /^args must be a list of strings such as/ }],
  },
  {
    name: "args: a number, at the element",
    yaml: served("      args: [--max-model-len, 8192]"),
    expect: [{ line: 6, col: 31, match: /^each arg must be a string; quote numbers/ }],
  },
  {
    name: "args: a Hub token is refused",
    yaml: served(`      args: ["--hf-token=${TOKEN_LIKE}"]`),
    expect: [
      { line: 6, col: 14, match: /^an arg looks like a Hugging Face token; the token never/ },
    ],
  },
  {
    name: "env: HF_TOKEN is refused at the key",
    yaml: served("      env:", '        VLLM_USE_V1: "1"', "        HF_TOKEN: x"),
    expect: [
      {
        line: 8,
        col: 9,
        match:
          /^env 'HF_TOKEN' would hold the Hub token as plain text; gated downloadAtRuntime models/,
      },
    ],
  },
  {
    name: "env: a bad name, a number value, a token value",
    yaml: served("      env:", "        1X: a", "        N: 1", `        T: ${TOKEN_LIKE}`),
    expect: [
      { line: 7, col: 9, match: /^env name '1X' is not valid/ },
      { line: 8, col: 12, match: /^each env value must be a string; quote numbers/ },
      { line: 9, col: 12, match: /^an env value looks like a Hugging Face token/ },
    ],
  },
  {
    name: "env: a list instead of a mapping",
    yaml: served("      env: [A=1]"),
    expect: [{ line: 6, col: 12, match: /^env must be a mapping such as \{VLLM_USE_V1: "1"\}$/ }],
  },
  {
    name: "labels: a bad key, a bad value, a key model-images sets",
    yaml: served(
      "      labels:",
      "        Team Name: search",
      '        team: "a b"',
      "        model-images/model: other",
    ),
    expect: [
      { line: 7, col: 9, match: /^labels key 'Team Name' is not valid: name 'Team Name' must be/ },
      { line: 8, col: 15, match: /^labels value "a b" is not a Kubernetes label value/ },
      { line: 9, col: 9, match: /^labels key 'model-images\/model' is set by model-images itself/ },
    ],
  },
  {
    name: "labels: a value over 63 characters",
    yaml: served(`      labels: {team: ${"a".repeat(64)}}`),
    expect: [{ line: 6, col: 22, match: /^labels value "a{64}" is not a Kubernetes label value/ }],
  },
  {
    name: "annotations: a prefix that is not a DNS subdomain; values may be any string",
    yaml: served(
      "      annotations:",
      "        Example.com/x: y",
      '        ok.io/note: "free text: fine"',
    ),
    expect: [
      {
        line: 7,
        col: 9,
        match:
          /^annotations key 'Example.com\/x' is not valid: prefix 'Example.com' is not a DNS subdomain/,
      },
    ],
  },
  {
    name: "nodeSelector: a number value",
    yaml: served("      nodeSelector: {gpu-count: 1}"),
    expect: [
      { line: 6, col: 33, match: /^each nodeSelector value must be a string; quote numbers/ },
    ],
  },
  {
    name: "tolerations: bad operator and effect",
    yaml: served("      tolerations:", "        - {key: a, operator: Is, effect: Never}"),
    expect: [
      { line: 7, col: 30, match: /^toleration operator must be Exists or Equal$/ },
      {
        line: 7,
        col: 42,
        match: /^toleration effect must be one of NoSchedule, PreferNoSchedule, NoExecute/,
      },
    ],
  },
  {
    name: "tolerations: an unknown key, listing the toleration fields",
    yaml: served("      tolerations: [{key: a, operator: Exists, when: now}]"),
    expect: [
      {
        line: 6,
        col: 48,
        match:
          /^unknown field 'when'; allowed fields: key, operator, value, effect, tolerationSeconds$/,
      },
    ],
  },
  {
    name: "tolerations: Kubernetes' own rules (Exists with a value, no key without Exists, seconds without NoExecute)",
    yaml: served(
      "      tolerations:",
      "        - {key: a, operator: Exists, value: b}",
      "        - {operator: Equal, value: b}",
      "        - {key: c, effect: NoSchedule, tolerationSeconds: 30}",
    ),
    expect: [
      { line: 7, col: 45, match: /^a toleration with operator: Exists matches any value/ },
      { line: 8, col: 11, match: /^a toleration without a key must say operator: Exists/ },
      { line: 9, col: 59, match: /^tolerationSeconds applies only to effect: NoExecute/ },
    ],
  },
  {
    name: "tolerations: a bad key",
    yaml: served("      tolerations: [{key: nvidia.com/GPU count, operator: Exists}]"),
    expect: [
      {
        line: 6,
        col: 27,
        match: /^toleration key "nvidia.com\/GPU count" is not a Kubernetes label key/,
      },
    ],
  },
  {
    name: "kinds: runtime with llmisvc rendered is refused at runtime",
    yaml: served("      runtime: kserve-huggingfaceserver"),
    rules: BOTH_KINDS,
    expect: [
      {
        line: 6,
        col: 16,
        match:
          /^runtime 'kserve-huggingfaceserver' cannot be expressed by an LLMInferenceService, .*render only isvc .* \(model 'a', cpu variant, LLMInferenceService\)$/,
      },
    ],
  },
  {
    name: "kinds: a replica range with llmisvc rendered is refused at maxReplicas",
    yaml: servedVariants([], ["          minReplicas: 1", "          maxReplicas: 3"]),
    rules: BOTH_KINDS,
    expect: [
      {
        line: 10,
        col: 24,
        match:
          /^minReplicas 1 to maxReplicas 3 cannot be expressed by an LLMInferenceService: it autoscales only through spec.scaling/,
      },
    ],
  },
  {
    name: "kinds: minReplicas 0 with llmisvc rendered",
    yaml: served("      minReplicas: 0"),
    rules: rules({ kserveKinds: ["llmisvc"] }),
    expect: [
      { line: 6, col: 20, match: /^minReplicas 0 cannot be expressed by an LLMInferenceService/ },
    ],
  },
  {
    name: "kinds: the same fields are fine for InferenceService only",
    yaml: served(
      "      runtime: kserve-huggingfaceserver",
      "      minReplicas: 0",
      "      maxReplicas: 3",
    ),
    rules: rules({ kserveKinds: ["isvc"] }),
    valid: (r) => {
      assert.deepEqual(r.images[0].serving, {
        runtime: "kserve-huggingfaceserver",
        minReplicas: 0,
        maxReplicas: 3,
      });
    },
  },
  {
    name: "quantities keep the text written: cpu: 4, cpu: 0.50",
    yaml: servedVariants(["      cpu: 4", "      memory: 24Gi"], ["          cpu: 0.50"]),
    valid: (r) => {
      assert.deepEqual(
        r.images.map((i) => i.serving),
        [
          { cpu: "4", memory: "24Gi" },
          { cpu: "0.50", memory: "24Gi" },
        ],
      );
    },
  },
  {
    name: "a variant's field replaces the model's whole; the rest is inherited",
    yaml: servedVariants(
      [
        "      args: [--max-model-len=8192]",
        '      env: {A: "1", B: "2"}',
        "      labels: {team: search}",
        "      minReplicas: 1",
      ],
      ['          env: {C: "3"}', "          gpus: 2", "          maxReplicas: 3"],
    ),
    valid: (r) => {
      const [cpu, cuda] = r.images;
      assert.deepEqual(cpu.serving, {
        args: ["--max-model-len=8192"],
        env: { A: "1", B: "2" },
        labels: { team: "search" },
        minReplicas: 1,
      });
      assert.deepEqual(cuda.serving, {
        args: ["--max-model-len=8192"],
        env: { C: "3" },
        labels: { team: "search" },
        minReplicas: 1,
        gpus: 2,
        maxReplicas: 3,
      });
      assert.deepEqual(onlyModel(r).serving?.env, { A: "1", B: "2" });
    },
  },
  {
    name: "no serving: images carry an empty block and the model none",
    yaml: model(),
    valid: (r) => {
      assert.deepEqual(r.images[0].serving, {});
      assert.equal("serving" in onlyModel(r), false);
      assert.equal("serving" in onlyModel(r).variants[0], false);
    },
  },
];

describe("manifest serving block (table)", () => {
  for (const c of SERVING_CASES) {
    it(c.name, () => {
      const result = parseManifest(FILE, c.yaml, c.rules);
      const got = result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
      if ("valid" in c) {
        assert.deepEqual(got, [], "expected a valid manifest");
        c.valid(result);
        return;
      }
      assert.deepEqual(
        result.diagnostics.map((d, i) => ({
          line: d.line,
          col: d.col,
          ok: c.expect[i]?.match.test(d.message),
        })),
        c.expect.map((e) => ({ line: e.line, col: e.col, ok: true })),
        `diagnostics:\n${got.join("\n")}`,
      );
      assert.deepEqual(result.images, []);
    });
  }
});
