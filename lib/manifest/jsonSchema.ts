// The JSON Schema of models.yaml, generated from the zod schema, for editors (yaml-language-server).

import * as z from "zod/mini";
import { modelSchema, REF_PATTERN } from "./schema";
import { QUANTITY_FIELDS, QUANTITY_PATTERN } from "./serving";

/** Where the generated schema is checked in, relative to the project directory. */
export const MANIFEST_JSON_SCHEMA_PATH = "schema/models.schema.json";

/** Hover text per field; the rules themselves come from the zod schema. */
const MODEL_DOCS: Record<string, string> = {
  name: "DNS-1123 label, unique: the repository is <registryPrefix>/<name>, the images <name> (cpu) and <name>-cuda.",
  source: "HuggingFace repo id org/name, e.g. Qwen/Qwen2.5-0.5B-Instruct.",
  revision:
    "40-hex commit SHA (required where the stack pins revisions, e.g. prod); a branch such as main elsewhere.",
  tag: 'Image tag, quoted ("0.1.0"): letters, digits, _ . -, never latest. A new tag is what makes a build happen.',
  description: "Free text.",
  gated: "Needs the stack's huggingface-token to be built.",
  downloadAtRuntime: "Build no image: KServe downloads the model from the Hub at start-up (hf://).",
  sizeGB: "Approximate size of the weights in GB: picks the CodeBuild compute with enough disk.",
  include: "Glob patterns of the files to download (default: all).",
  exclude: 'Glob patterns of files to skip, e.g. ["original/*", "*.pth"].',
  variants: "Images to build, default [{accelerator: cpu}]; each accelerator at most once.",
};
const VARIANT_DOCS: Record<string, string> = {
  accelerator: "cpu (tag as is) or cuda (tag <tag>-cuda, built on GPU compute with a smoke check).",
  baseImage: "Base image of the final stage (default: the small busybox modelcar base).",
  computeType: "CodeBuild compute type the build environment accepts, e.g. BUILD_GENERAL1_MEDIUM.",
  platforms: "Target platforms, e.g. [linux/amd64, linux/arm64].",
};

const SERVING_DOC =
  "How KServe serves the model (docs/manifest.md#serving); a variant's block is merged over the model's, field by field.";

type Node = {
  properties?: Record<string, Node>;
  items?: Node;
  description?: string;
  [k: string]: unknown;
};

function describe(node: Node, docs: Record<string, string>): void {
  for (const [key, text] of Object.entries(docs)) {
    const prop = node.properties?.[key];
    if (prop === undefined) {
      throw new Error(
        `the manifest schema has no field '${key}' to describe; update jsonSchema.ts`,
      );
    }
    prop.description = text;
  }
}

/**
 * The manifest file's schema: `{models: [model, ...]}`, from `modelSchema`. Rules zod expresses as
 * refinements (not `latest`) or that depend on the stack (pinned revisions, the token for gated
 * models, compute types per accelerator) are added here or left to `validate`.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const file = z.strictObject({ models: z.array(modelSchema).check(z.minLength(1)) });
  const schema = z.toJSONSchema(file, { io: "input" }) as Node;
  const models = schema.properties?.models as Node;
  const model = models.items as Node;
  describe(model, MODEL_DOCS);
  describe(model.properties?.variants?.items as Node, VARIANT_DOCS);
  const props = model.properties as Record<string, Node>;
  props.tag.not = { pattern: "^[Ll][Aa][Tt][Ee][Ss][Tt]$" };
  props.revision.pattern = REF_PATTERN.source;
  for (const serving of [props.serving, model.properties?.variants?.items?.properties?.serving]) {
    servingQuantities(serving as Node);
  }
  models.description =
    "One entry per model; a new entry or a tag bump is what makes a build happen.";
  return {
    $schema: schema.$schema,
    title: "model-images manifest (models.yaml)",
    description:
      "Generated from lib/manifest/schema.ts by `npm run schema`; do not edit. `validate` adds the stack's rules.",
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}

/** `cpu: 4` is read as the quantity "4", so a quantity may be a positive number or a quantity string. */
function servingQuantities(serving: Node): void {
  serving.description = SERVING_DOC;
  for (const field of QUANTITY_FIELDS) {
    (serving.properties as Record<string, Node>)[field] = {
      anyOf: [
        { type: "string", pattern: QUANTITY_PATTERN.source },
        { type: "number", exclusiveMinimum: 0 },
      ],
    };
  }
}

/** The file's text: stable key order, two-space indent, trailing newline. */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
