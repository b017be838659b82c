// Pulumi.yaml and the stack files against Pulumi's project schema and rules, and against SETTINGS, so code and docs never drift.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parseDocument } from "yaml";
import {
  defaultSettings,
  PROJECT_NAME,
  resolveSettings,
  SECRET_KEYS,
  SETTINGS,
  StackSettings,
} from "../lib/settings";
import { listStacks, readStackFile } from "../lib/stackFile";
import { PULUMI_PROJECT_SCHEMA } from "./support/referenceSchemas";

const PROJECT_DIR = path.resolve(__dirname, "..");
const SCHEMA = PULUMI_PROJECT_SCHEMA;

/** A YAML file as plain data; any parse problem (duplicate keys included) fails the test. */
function readYamlFile(file: string): Record<string, unknown> {
  const doc = parseDocument(fs.readFileSync(path.join(PROJECT_DIR, file), "utf8"), {
    uniqueKeys: true,
  });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
    `${file} does not parse`,
  );
  return doc.toJS() as Record<string, unknown>;
}

type Declaration = {
  type?: string;
  items?: unknown;
  description?: string;
  secret?: boolean;
  default?: unknown;
  value?: unknown;
};

const project = readYamlFile("Pulumi.yaml");
const config = (project.config ?? {}) as Record<string, unknown>;

/** `key`, `model-images:key` → the project's own key; anything else is another namespace. */
function ownKey(key: string): string | undefined {
  if (!key.includes(":")) {
    return key;
  }
  return key.startsWith(`${PROJECT_NAME}:`) ? key.slice(PROJECT_NAME.length + 1) : undefined;
}

function ofType(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

describe("Pulumi.yaml", () => {
  describe("against Pulumi's project schema (test/fixtures/reference/pulumi)", () => {
    it("validates against project.schema.json (draft 2020-12)", () => {
      const schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8"));
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      const validate = ajv.compile(schema);
      const ok = validate(project);
      assert.ok(ok, ajv.errorsText(validate.errors, { separator: "\n" }));
    });

    it("the schema rejects what the CLI rejects (the check has teeth)", () => {
      const schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8"));
      const validate = new Ajv2020({ strict: false }).compile(schema);
      assert.equal(validate({ ...project, name: "" }), false);
      assert.equal(
        validate({ ...project, config: { x: { type: "string", colour: "red" } } }),
        false,
      );
      assert.equal(validate({ ...project, config: { x: { type: "float" } } }), false);
    });
  });

  describe("the rules the Pulumi CLI adds to the schema (test/fixtures/reference/README.md)", () => {
    for (const [key, raw] of Object.entries(config)) {
      it(`config '${key}'`, () => {
        const decl: Declaration =
          typeof raw === "object" && raw !== null && !Array.isArray(raw)
            ? (raw as Declaration)
            : { value: raw };
        assert.ok(
          !("default" in decl && "value" in decl),
          `${key}: both default and value; give one`,
        );
        if (ownKey(key) !== undefined) {
          const allowed = ["type", "items", "description", "secret", "default"];
          const extra = Object.keys(decl).filter((k) => !allowed.includes(k));
          assert.deepEqual(
            extra,
            [],
            `${key}: a project key may declare only ${allowed.join(", ")}`,
          );
          assert.ok(decl.type !== undefined, `${key}: declare a type`);
          if (decl.type === "array") {
            assert.ok(decl.items !== undefined, `${key}: an array declares items`);
          }
          if ("default" in decl) {
            assert.ok(
              ofType(decl.type, decl.default),
              `${key}: default ${JSON.stringify(decl.default)} is not of type ${decl.type}`,
            );
          }
        } else {
          assert.ok(!("type" in decl), `${key}: another namespace's key may not declare a type`);
          assert.ok(
            !("default" in decl),
            `${key}: another namespace's key may not declare a default`,
          );
          assert.ok("value" in decl, `${key}: another namespace's key must give a value`);
        }
      });
    }

    it("every key has a description, and every key but the secret token a default", () => {
      for (const [key, raw] of Object.entries(config)) {
        const decl = raw as Declaration;
        assert.equal(typeof decl.description, "string", `${key}: no description`);
        assert.ok((decl.description ?? "").trim().length > 10, `${key}: description too short`);
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
          assert.equal(decl.secret, true, `${key} must be declared secret`);
          assert.ok(!("default" in decl), `${key}: a secret has no default`);
        } else {
          assert.ok("default" in decl, `${key}: no default`);
        }
      }
    });
  });

  describe("matches lib/settings.ts SETTINGS exactly", () => {
    const documented = Object.keys(config).filter(
      (k) => !(SECRET_KEYS as readonly string[]).includes(k),
    );

    it("the same keys, in the same order", () => {
      assert.deepEqual(
        documented,
        SETTINGS.map((s) => s.key),
      );
      for (const secret of SECRET_KEYS) {
        assert.ok(secret in config, `${secret} is documented`);
      }
    });

    for (const spec of SETTINGS) {
      it(`${spec.key}: type, default and description`, () => {
        const decl = config[spec.key] as Declaration | undefined;
        assert.ok(decl, `${spec.key} is not in Pulumi.yaml`);
        assert.deepEqual(
          { type: decl.type, default: decl.default, description: decl.description },
          { type: spec.kind, default: spec.default, description: spec.description },
        );
        // The documented default passes the code's own rule.
        assert.equal(spec.check?.(spec.default as never), undefined);
      });
    }
  });
});

describe("docs/configuration.md's settings table", () => {
  const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "configuration.md"), "utf8");
  const lines = doc.split("\n");
  const header = (lines.find((l) => l.startsWith("| key |")) ?? "").split("|").map((c) => c.trim());
  const rows = new Map(
    lines
      .filter((l) => /^\| `[^`]+` \| /.test(l))
      .map((l) => [l.split("`")[1], l.split("|").map((c) => c.trim())] as const),
  );

  it("has a column per shipped stack", () => {
    assert.deepEqual(header.slice(4, -2), listStacks(PROJECT_DIR).sort(sortStacks));
  });

  for (const spec of SETTINGS) {
    it(`${spec.key}: a row with its type, default, per-stack values and description`, () => {
      const row = rows.get(spec.key);
      assert.ok(row, `docs/configuration.md has no row for ${spec.key}`);
      assert.equal(row[2], spec.kind);
      assert.equal(row[3], `\`${JSON.stringify(spec.default)}\``);
      assert.equal(row[row.length - 2], spec.description);
      for (const [i, stack] of header.entries()) {
        if (i < 4 || i >= header.length - 2) {
          continue;
        }
        const values = (readYamlFile(`Pulumi.${stack}.yaml`).config ?? {}) as Record<
          string,
          unknown
        >;
        const key = `${PROJECT_NAME}:${spec.key}`;
        const expected = key in values ? `\`${JSON.stringify(values[key])}\`` : "·";
        assert.equal(
          row[i],
          expected,
          `${spec.key}, column ${stack}: Pulumi.${stack}.yaml has ${expected}`,
        );
      }
    });
  }
});

/** dev, prod, then the other stacks by name: the table's column order. */
function sortStacks(a: string, b: string): number {
  const rank = (s: string) => ["dev", "prod"].indexOf(s) >>> 0;
  return rank(a) - rank(b) || a.localeCompare(b);
}

describe("stack files", () => {
  const stacks = listStacks(PROJECT_DIR);

  it("dev and prod exist", () => {
    assert.ok(stacks.includes("dev") && stacks.includes("prod"), stacks.join(", "));
  });

  for (const stack of stacks) {
    describe(`Pulumi.${stack}.yaml`, () => {
      const file = `Pulumi.${stack}.yaml`;
      const data = readYamlFile(file);
      const values = (data.config ?? {}) as Record<string, unknown>;

      it("reads without problems (known keys, values of the declared type)", () => {
        const s = readStackFile(PROJECT_DIR, stack);
        assert.deepEqual(
          s.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`),
          [],
        );
        assert.equal(s.settings.stack, stack);
      });

      it("uses only keys Pulumi.yaml declares, each with a value of the declared type", () => {
        for (const [key, value] of Object.entries(values)) {
          const own = ownKey(key);
          if (own === undefined) {
            assert.match(key, /^aws:/, `${file}: unexpected namespace in '${key}'`);
            continue;
          }
          assert.ok(
            key.startsWith(`${PROJECT_NAME}:`),
            `${file}: '${key}' needs the ${PROJECT_NAME}: prefix`,
          );
          const decl = config[own] as Declaration | undefined;
          assert.ok(decl, `${file}: '${key}' is not declared in Pulumi.yaml`);
          if (decl.secret) {
            assert.equal(
              typeof (value as { secure?: unknown })?.secure,
              "string",
              `${key} must be encrypted`,
            );
          } else {
            assert.ok(
              ofType(decl.type, value),
              `${file}: ${key}: ${JSON.stringify(value)} is not ${decl.type}`,
            );
          }
        }
      });

      if (stack === "dev" || stack === "prod") {
        it("sets aws:region", () => {
          assert.match(String(values["aws:region"]), /^[a-z]{2}(-[a-z]+)+-\d$/);
          assert.equal(readStackFile(PROJECT_DIR, stack).region, values["aws:region"]);
        });
      }
    });
  }

  it("prod: immutable tags, pinned revisions, repositories retained on destroy", () => {
    const { settings } = readStackFile(PROJECT_DIR, "prod");
    assert.equal(settings.imageTagMutability, "IMMUTABLE");
    assert.equal(settings.requirePinnedRevisions, true);
    assert.equal(settings.retainRepositoriesOnDestroy, true);
    assert.equal(settings.hasHuggingfaceToken, false);
  });

  it("dev builds into a registry prefix apart from prod's", () => {
    const dev = readStackFile(PROJECT_DIR, "dev").settings;
    const prod = readStackFile(PROJECT_DIR, "prod").settings;
    assert.notEqual(dev.registryPrefix, prod.registryPrefix);
  });
});

describe("resolveSettings", () => {
  const BAD: [string, unknown, RegExp][] = [
    [
      "imageTagMutability",
      "mutable",
      /^imageTagMutability must be MUTABLE or IMMUTABLE \(got "mutable"\)$/,
    ],
    ["buildTimeoutMinutes", 1, /^buildTimeoutMinutes must be from 5 to 2160 minutes \(got 1\)$/],
    ["buildTimeoutMinutes", "abc", /^buildTimeoutMinutes must be a whole number \(got "abc"\)$/],
    ["imageExpiryDays", 1.5, /^imageExpiryDays must be a whole number \(got 1\.5\)$/],
    ["imageExpiryDays", -1, /^imageExpiryDays must be from 0 to 3650 days/],
    ["logRetentionDays", 8, /^logRetentionDays must be one of 1, 3, 5, 7, 14, 30,/],
    [
      "requirePinnedRevisions",
      "yes",
      /^requirePinnedRevisions must be true or false \(got "yes"\)$/,
    ],
    ["scanOnPush", 1, /^scanOnPush must be true or false/],
    ["registryPrefix", "Bad Prefix", /^registryPrefix must be lowercase path segments/],
    ["registryPrefix", 42, /^registryPrefix must be a string \(got 42\)$/],
    ["tagSuffix", "pr 1", /^tagSuffix may hold only letters, digits/],
    ["kmsKeyArn", "arn:bad", /^kmsKeyArn must be empty \(AES256\) or a KMS key ARN/],
    ["builder", "docker", /^builder must be codebuild or local/],
    ["registry", "http://localhost:5000", /^registry must be a host or host:port/],
    ["manifest", "", /^manifest must name a file/],
    ["maxLayerBytes", 100, /^maxLayerBytes must be from 1048576 to 54525952000 bytes/],
    ["buildPollSeconds", 0, /^buildPollSeconds must be from 1 to 300 seconds/],
  ];
  for (const [key, value, message] of BAD) {
    it(`${key}: ${JSON.stringify(value)} is a problem naming the key and what is allowed`, () => {
      const { settings, problems } = resolveSettings("dev", { [key]: value }, false);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0].key, key);
      assert.match(problems[0].message, message);
      const spec = SETTINGS.find((s) => s.key === key);
      assert.equal(
        settings[key as keyof StackSettings],
        spec?.default,
        "falls back to the default",
      );
    });
  }

  it("an unknown key is a problem listing the known ones", () => {
    const { problems } = resolveSettings("dev", { registryPrefx: "x" }, false);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "registryPrefx");
    assert.match(
      problems[0].message,
      /^unknown setting 'registryPrefx'; known settings: manifest, registryPrefix,/,
    );
  });

  it("retired settings are refused, saying what replaced them", () => {
    const { problems } = resolveSettings(
      "dev",
      { deleteImagesOnDestroy: "true", waitForBuilds: "false" },
      false,
    );
    assert.deepEqual(
      problems.map((p) => p.key),
      ["deleteImagesOnDestroy", "waitForBuilds"],
    );
    assert.match(
      problems[0].message,
      /ModelImage never deletes an image.*forceDeleteRepositories: true/,
    );
    assert.match(problems[1].message, /always waits for a build and records its digest/);
    for (const p of problems) {
      assert.match(p.message, /pulumi config rm /);
    }
  });

  /** key, raw value, resolved value, other keys the value depends on. */
  const GOOD: [string, unknown, unknown, Record<string, unknown>?][] = [
    ["registryPrefix", "", ""],
    ["tagSuffix", "0", "0"],
    ["imageExpiryDays", "0", 0],
    ["imageExpiryDays", 0, 0],
    ["imageExpiryDays", "14", 14],
    ["buildTimeoutMinutes", " 480 ", 480],
    ["maxLayerBytes", "1048576", 1048576],
    ["requirePinnedRevisions", "false", false],
    ["requirePinnedRevisions", false, false],
    ["scanOnPush", "true", true],
    ["imageTagMutability", "MUTABLE", "MUTABLE"],
    [
      "kmsKeyArn",
      "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
      "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
    ],
    ["registry", "localhost:5000", "localhost:5000", { builder: "local" }],
    ["builder", "local", "local", { imageTagMutability: "MUTABLE" }],
    ["builder", "local", "local", { registry: "localhost:5000" }],
    [
      "buildxBuilder",
      "model-images-host",
      "model-images-host",
      { builder: "local", registry: "localhost:5000" },
    ],
    ["logRetentionDays", "365", 365],
    ["registryPrefix", null, "kserve-models"],
  ];
  for (const [key, value, expected, others] of GOOD) {
    it(`${key}: ${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => {
      const { settings, problems } = resolveSettings("dev", { ...others, [key]: value }, false);
      assert.deepEqual(problems, []);
      assert.equal(settings[key as keyof StackSettings], expected);
    });
  }

  it("the token key is known, and only its presence is passed on", () => {
    const { settings, problems } = resolveSettings("prod", { "huggingface-token": "x" }, true);
    assert.deepEqual(problems, []);
    assert.equal(settings.stack, "prod");
    assert.equal(settings.hasHuggingfaceToken, true);
    assert.ok(!JSON.stringify(settings).includes('"x"'));
  });

  it("with nothing set, every default", () => {
    const settings = defaultSettings("dev");
    for (const spec of SETTINGS) {
      assert.equal(settings[spec.key], spec.default, spec.key);
    }
    assert.equal(settings.hasHuggingfaceToken, false);
  });

  it("rebuildOnSourceChange needs MUTABLE tags: a problem saying what to change", () => {
    const mutable = resolveSettings(
      "dev",
      { imageTagMutability: "MUTABLE", rebuildOnSourceChange: true },
      false,
    );
    assert.deepEqual(mutable.problems, []);
    assert.equal(mutable.settings.rebuildOnSourceChange, true);
    const { problems } = resolveSettings("prod", { rebuildOnSourceChange: "true" }, false);
    assert.deepEqual(
      problems.map((p) => p.key),
      ["rebuildOnSourceChange"],
    );
    assert.match(
      problems[0].message,
      /needs imageTagMutability: MUTABLE .*set imageTagMutability to MUTABLE or rebuildOnSourceChange to false/,
    );
  });

  it("every problem at once", () => {
    const { problems } = resolveSettings(
      "dev",
      { builder: "x", tagSuffix: "a b", nope: 1, logRetentionDays: 2 },
      false,
    );
    assert.deepEqual(problems.map((p) => p.key).sort(), [
      "builder",
      "logRetentionDays",
      "nope",
      "tagSuffix",
    ]);
  });
});
