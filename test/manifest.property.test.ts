// Property test: whatever the bytes, parseManifest returns a valid result or positioned problems, never an exception.

import * as assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { ManifestResult, ManifestRules, parseManifest } from "../lib/manifest";

const FILE = "fuzz.yaml";
/** Fixed for reproducible CI runs; FC_SEED=<n> replays or explores another sequence. */
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20250611;
const SHA = "0123456789abcdef0123456789abcdef01234567";

const STACKS: (ManifestRules | undefined)[] = [
  undefined,
  {
    stack: "dev",
    registryPrefix: "kserve-models-dev",
    tagSuffix: "-pr-1",
    requirePinnedRevisions: false,
    hasHuggingfaceToken: false,
  },
  {
    stack: "prod",
    registryPrefix: "kserve-models",
    tagSuffix: "",
    requirePinnedRevisions: true,
    hasHuggingfaceToken: true,
  },
];

/** A valid manifest as data: the starting point of the mutations. */
const VALID = {
  models: [
    {
      name: "small",
      source: "org/small",
      revision: SHA,
      tag: "0.1.0",
      sizeGB: 1,
      exclude: ["*.bin"],
    },
    {
      name: "both",
      source: "org/both",
      revision: SHA,
      tag: "1.10",
      description: "cpu and cuda",
      variants: [
        { accelerator: "cpu" },
        { accelerator: "cuda", computeType: "BUILD_GENERAL1_SMALL" },
      ],
    },
    {
      name: "gated",
      source: "meta/gated",
      revision: SHA,
      tag: "2",
      gated: true,
      downloadAtRuntime: true,
      include: ["*.safetensors"],
    },
  ],
};

/** Pieces of YAML syntax, so random text reaches the parser's corners, not just its first check. */
const YAML_BITS = [
  "models:",
  "\n",
  "\r\n",
  "  ",
  "    ",
  "- ",
  "? ",
  ": ",
  "name: ",
  "source: ",
  "tag: ",
  "revision: ",
  "variants: ",
  "accelerator: ",
  "cuda",
  "cpu",
  "gated: ",
  "true",
  "null",
  "~",
  "1.10",
  "0x1F",
  "-1",
  "latest",
  "org/name",
  SHA,
  "[",
  "]",
  "{",
  "}",
  ",",
  "&a ",
  "*a",
  "<<: ",
  "!!str ",
  "!!binary ",
  "!foo ",
  "'",
  '"',
  "''",
  "\\",
  "#",
  "|",
  ">-",
  "---",
  "...",
  "%YAML 1.2",
  "\t",
  "\u0000",
  "\ufeff",
  "é",
  "😀",
  "\u2028",
];

const yamlish = fc
  .array(fc.constantFrom(...YAML_BITS), { maxLength: 60 })
  .map((parts) => parts.join(""));

/** Random JS values dumped as YAML, bare or under `models`. */
const dumped = fc.tuple(fc.anything({ maxDepth: 4 }), fc.boolean()).map(([value, wrap]) => {
  try {
    return stringify(wrap ? { models: value } : value) ?? "";
  } catch {
    return String(value);
  }
});

const SCALARS = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "latest",
    "LATEST",
    "a b",
    ".x",
    "1.10",
    "main",
    SHA.toUpperCase(),
    "x".repeat(130),
  ),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }),
);

type Mutation =
  | { kind: "delete"; model: number; field: number }
  | { kind: "replace"; model: number; field: number; value: unknown }
  | { kind: "add"; model: number; key: string; value: unknown }
  | { kind: "variant"; model: number; value: unknown }
  | { kind: "duplicateModel"; model: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), model: fc.nat(2), field: fc.nat(8) }),
  fc.record({
    kind: fc.constant("replace" as const),
    model: fc.nat(2),
    field: fc.nat(8),
    value: SCALARS,
  }),
  fc.record({
    kind: fc.constant("add" as const),
    model: fc.nat(2),
    key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("sizeGB", "gated", "variants")),
    value: SCALARS,
  }),
  fc.record({
    kind: fc.constant("variant" as const),
    model: fc.nat(2),
    value: fc.oneof(
      SCALARS,
      fc.record({
        accelerator: fc.constantFrom("cpu", "cuda", "tpu"),
        computeType: fc.constantFrom("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_LARGE", "X"),
      }),
    ),
  }),
  fc.record({ kind: fc.constant("duplicateModel" as const), model: fc.nat(2) }),
);

function applyData(m: Mutation): unknown {
  const doc = structuredClone(VALID) as { models: Record<string, unknown>[] };
  const target = doc.models[m.model];
  const keys = Object.keys(target);
  switch (m.kind) {
    case "delete":
      delete target[keys[m.field % keys.length]];
      break;
    case "replace":
      target[keys[m.field % keys.length]] = m.value;
      break;
    case "add":
      target[m.key] = m.value;
      break;
    case "variant":
      target.variants = [...((target.variants as unknown[]) ?? []), m.value];
      break;
    case "duplicateModel":
      doc.models.push(structuredClone(target));
      break;
  }
  return doc;
}

/** Line-level edits: duplicated lines make duplicate keys, junk lines break the structure. */
const textEdit = fc.record({
  line: fc.nat(40),
  op: fc.constantFrom("duplicate", "delete", "insert", "indent", "dedent"),
  junk: fc.oneof(yamlish, fc.string({ unit: "binary", maxLength: 20 })),
});

function applyText(text: string, edits: { line: number; op: string; junk: string }[]): string {
  const ls = text.split("\n");
  for (const e of edits) {
    const i = e.line % ls.length;
    if (e.op === "duplicate") {
      ls.splice(i, 0, ls[i]);
    } else if (e.op === "delete") {
      ls.splice(i, 1);
    } else if (e.op === "insert") {
      ls.splice(i, 0, e.junk);
    } else if (e.op === "indent") {
      ls[i] = "  " + ls[i];
    } else {
      ls[i] = ls[i].replace(/^ {1,2}/, "");
    }
  }
  return ls.join("\n");
}

const mutated = fc
  .tuple(fc.array(mutation, { maxLength: 3 }), fc.array(textEdit, { maxLength: 3 }), fc.boolean())
  .map(([ms, edits, flow]) => {
    let data: unknown = VALID;
    for (const m of ms) {
      data = applyData(m);
    }
    const text = stringify(data, flow ? { collectionStyle: "flow" } : undefined);
    return applyText(text, edits);
  });

/** Every kind of input, with the byte form (Buffer) for the binary one. */
const input: fc.Arbitrary<string | Buffer> = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", maxLength: 200 }), weight: 2 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), weight: 1 },
  { arbitrary: yamlish, weight: 3 },
  { arbitrary: dumped, weight: 2 },
  { arbitrary: mutated, weight: 5 },
);

function checkResult(text: string | Buffer, result: ManifestResult): void {
  if (result.diagnostics.length === 0) {
    assert.ok(result.images.length > 0, "a valid result has images");
    assert.ok(result.models.length > 0, "a valid result has models");
    return;
  }
  assert.deepEqual(result.images, [], "an invalid result has no images");
  const lineCount = String(text).split("\n").length;
  for (const d of result.diagnostics) {
    assert.equal(d.file, FILE);
    assert.ok(Number.isInteger(d.line) && d.line >= 1, `line ${d.line}`);
    assert.ok(Number.isInteger(d.col) && d.col >= 1, `col ${d.col}`);
    assert.ok(d.line <= lineCount, `line ${d.line} is past the end (${lineCount} lines)`);
    assert.equal(typeof d.message, "string");
    assert.ok(d.message.trim().length > 0, "empty message");
    assert.doesNotMatch(d.message, /[\r\n\u2028\u2029]/, "one line per problem");
    // zod/mini has no locale loaded: its fallback would be a bare "Invalid input" naming nothing.
    assert.doesNotMatch(d.message, /^Invalid input/, "every schema check carries its own message");
  }
}

describe("manifest property: no input gets past parseManifest as an exception", function () {
  this.timeout(30_000);
  let runs = 0;
  let valid = 0;
  const started = Date.now();

  after(() => {
    console.log(
      `      fast-check: ${runs} inputs (${valid} valid) in ${Date.now() - started} ms, seed ${SEED}`,
    );
  });

  const property = (name: string, arb: fc.Arbitrary<string | Buffer>, numRuns: number) =>
    it(`${name} (${numRuns} runs)`, () => {
      fc.assert(
        fc.property(arb, fc.nat(STACKS.length - 1), (text, s) => {
          runs++;
          const result = parseManifest(FILE, text, STACKS[s]);
          checkResult(text, result);
          if (result.diagnostics.length === 0) {
            valid++;
          }
        }),
        { seed: SEED, numRuns },
      );
    });

  property("random text, bytes, YAML fragments, dumped values and mutations", input, 1000);
  property("mutations of a valid manifest", mutated, 400);

  it("the mutation generator reaches valid manifests too (it is not all noise)", () => {
    assert.ok(valid > 0, "no generated input was valid");
  });
});
