// Parses and validates models.yaml against the schema, the cross-model rules and the stack's rules.

import type * as z from "zod/mini";
import {
  computeOption,
  computeTypeFor,
  COMPUTE_OPTIONS,
  DISK_FACTOR,
  ENVIRONMENT_TYPES,
  cpuComputeRegionProblem,
  gpuRegionProblem,
  maxModelGB,
} from "../compute";
import { Diagnostic, sortDiagnostics } from "../diagnostics";
import {
  BUILD_CACHE_TAG_PREFIX,
  DNS_LABEL_MAX,
  ECR_REPOSITORY_MAX,
  imageName,
  imageTag,
  repositoryName,
  TAG_PATTERN,
} from "../naming";
import type { StackSettings } from "../settings";
import { DEFAULT_BASE_IMAGES, DEFAULT_PLATFORMS, ImageSpec, ModelSpec } from "./model";
import { mergeServing, QUANTITY_FIELDS, SERVING_FIELDS, TOLERATION_FIELDS } from "./serving";
import { checkMergedServing, checkServingBlock } from "./servingRules";
import {
  COMMIT_SHA_PATTERN,
  MODEL_FIELDS,
  modelSchema,
  ModelInput,
  variantSchema,
  REF_PATTERN,
  TOP_FIELDS,
  VARIANT_FIELDS,
} from "./schema";
import {
  keyNodeAt,
  MAX_DIAGNOSTICS,
  oneLine,
  Path,
  positionAt,
  positionOf,
  readYaml,
  scalarSource,
  seqLength,
  toPlain,
  YamlSource,
} from "./yamlSource";

export interface ManifestResult {
  models: ModelSpec[];
  images: ImageSpec[];
  /** Empty when the manifest is valid; otherwise every problem found, sorted by position. */
  diagnostics: Diagnostic[];
}

/** What the stack decides; without it only stack-independent rules apply (e.g. `validate` without --stack). */
export type ManifestRules = Pick<
  StackSettings,
  "stack" | "registryPrefix" | "tagSuffix" | "requirePinnedRevisions" | "hasHuggingfaceToken"
> &
  /** The KServe kinds rendered: a `serving` field one of them cannot express is a problem. */
  Partial<Pick<StackSettings, "kserveKinds" | "builder">> & {
    /** `aws:region` of the stack: CodeBuild offers GPU compute in some regions only. */
    region?: string;
  };

const REQUIRED_HELP: Record<string, string> = {
  name: "a DNS-1123 label such as qwen2-5-0-5b-instruct",
  source: "a HuggingFace repo id such as Qwen/Qwen2.5-0.5B-Instruct",
  tag: 'an image tag such as "0.1.0"',
  accelerator: "cpu or cuda",
  models: "a list of models",
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

class Reporter {
  readonly list: Diagnostic[] = [];
  constructor(readonly src: YamlSource) {}
  at(path: Path, message: string): void {
    this.list.push({
      file: this.src.file,
      ...positionOf(this.src, path),
      message: oneLine(message),
    });
  }
  atKey(path: Path, key: string, message: string): void {
    const node = keyNodeAt(this.src, path, key);
    const pos = node?.range
      ? positionAt(this.src.lineCounter, node.range[0])
      : positionOf(this.src, path);
    this.list.push({ file: this.src.file, ...pos, message: oneLine(message) });
  }
}

function fieldsFor(path: readonly PropertyKey[]): string[] {
  if (path.includes("tolerations")) {
    return TOLERATION_FIELDS;
  }
  if (path.includes("serving")) {
    return SERVING_FIELDS;
  }
  return path.includes("variants") ? VARIANT_FIELDS : MODEL_FIELDS;
}

function reportZodIssue(r: Reporter, base: Path, raw: unknown, issue: z.core.$ZodIssue): void {
  const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const path = [...base, ...rel];
  if (issue.code === "unrecognized_keys") {
    for (const key of issue.keys) {
      r.atKey(path, key, `unknown field '${key}'; allowed fields: ${fieldsFor(rel).join(", ")}`);
    }
    return;
  }
  const last = rel[rel.length - 1];
  let value: unknown = raw;
  for (const p of rel) {
    value =
      isObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[p] : undefined;
  }
  // A missing enum (accelerator) fails as invalid_value, a missing string as invalid_type.
  const missingKinds = ["invalid_type", "invalid_value"];
  if (missingKinds.includes(issue.code) && value === undefined && typeof last === "string") {
    r.at(path, `missing required field '${last}': ${REQUIRED_HELP[last] ?? issue.message}`);
    return;
  }
  r.at(path, issue.message);
}

function revisionProblem(rev: string, rules: ManifestRules | undefined): string | undefined {
  if (COMMIT_SHA_PATTERN.test(rev)) {
    return undefined;
  }
  if (/^[0-9a-fA-F]{40}$/.test(rev)) {
    return `revision ${JSON.stringify(rev)} has uppercase letters: write the commit SHA in lowercase hex`;
  }
  if (rules?.requirePinnedRevisions) {
    return `revision ${JSON.stringify(rev)} is not a commit SHA: stack '${rules.stack}' requires pinned revisions (40 lowercase hex characters, from the model's "Files and versions" history)`;
  }
  return REF_PATTERN.test(rev)
    ? undefined
    : `revision ${JSON.stringify(rev)} is neither a commit SHA (40 lowercase hex characters) nor a branch name`;
}

/**
 * Cross-field and stack rules for one model. `m` holds only the fields that passed the schema
 * (a model with schema problems is still checked here, so every problem shows at once); a spec
 * comes back only when the model is wholly valid.
 */
function checkModel(
  r: Reporter,
  i: number,
  m: Partial<ModelInput>,
  schemaValid: boolean,
  rules: ManifestRules | undefined,
): ModelSpec | undefined {
  const base: Path = ["models", i];
  const label = m.name ?? `#${i + 1}`;
  const before = r.list.length;
  const revisionGiven = m.revision !== undefined || !schemaValid;
  const revision = m.revision ?? (rules?.requirePinnedRevisions ? undefined : "main");
  if (revision === undefined) {
    if (!revisionGiven || keyNodeAt(r.src, base, "revision") === undefined) {
      r.at(
        base,
        `missing required field 'revision': stack '${rules?.stack}' requires a pinned commit SHA (40 lowercase hex characters)`,
      );
    }
  } else {
    const problem = revisionProblem(revision, rules);
    if (problem) {
      r.at([...base, "revision"], problem);
    }
  }
  const gated = m.gated ?? false;
  const skipped = m.downloadAtRuntime ?? false;
  if (gated && !skipped && rules && !rules.hasHuggingfaceToken) {
    r.at(
      [...base, "gated"],
      `model '${label}' is gated but stack '${rules.stack}' has no huggingface-token: run 'pulumi config set --secret huggingface-token <token> --stack ${rules.stack}', or set downloadAtRuntime: true`,
    );
  }
  if (m.tag?.startsWith(BUILD_CACHE_TAG_PREFIX)) {
    r.at(
      [...base, "tag"],
      `tag '${m.tag}' starts with '${BUILD_CACHE_TAG_PREFIX}', the prefix reserved for the build cache (the repository's lifecycle rule expires those tags); choose another tag`,
    );
  }
  const variants = m.variants ?? [{ accelerator: "cpu" as const }];
  const seen = new Map<string, number>();
  variants.forEach((v, j) => {
    if (v === undefined) {
      return; // this variant failed the schema; already reported
    }
    const vpath: Path = [...base, "variants", j];
    checkMergedServing(
      r,
      base,
      m.variants === undefined ? undefined : vpath,
      m.serving,
      v.serving,
      v.accelerator,
      label,
      rules?.kserveKinds,
    );
    const first = seen.get(v.accelerator);
    if (first !== undefined) {
      r.at(
        [...vpath, "accelerator"],
        `accelerator '${v.accelerator}' is listed twice for model '${label}' (also variant ${first + 1}); each accelerator once`,
      );
    }
    seen.set(v.accelerator, j);
    // The local builder builds on the machine running Pulumi; only CodeBuild needs GPU compute.
    const gpuProblem =
      v.accelerator === "cuda" && !skipped && (rules?.builder ?? "codebuild") === "codebuild"
        ? gpuRegionProblem(rules?.region)
        : undefined;
    if (gpuProblem) {
      r.at([...vpath, "accelerator"], `model '${label}' (stack '${rules?.stack}'): ${gpuProblem}`);
    }
    // The largest cpu compute, chosen by sizeGB or named, also exists in some regions only.
    const cpuProblem =
      v.accelerator === "cpu" && !skipped && (rules?.builder ?? "codebuild") === "codebuild"
        ? cpuComputeRegionProblem(v.computeType ?? computeTypeFor("cpu", m.sizeGB), rules?.region)
        : undefined;
    if (cpuProblem) {
      r.at(
        v.computeType !== undefined ? [...vpath, "computeType"] : [...base, "sizeGB"],
        `model '${label}' (stack '${rules?.stack}'): ${cpuProblem}`,
      );
    }
    const allowed = COMPUTE_OPTIONS[v.accelerator];
    const list = allowed.map((o) => `${o.computeType} (${o.diskGB} GB disk)`).join(", ");
    if (v.computeType !== undefined) {
      const opt = computeOption(v.accelerator, v.computeType);
      if (!opt) {
        r.at(
          [...vpath, "computeType"],
          `computeType '${v.computeType}' is not available for ${v.accelerator} builds (${ENVIRONMENT_TYPES[v.accelerator]}); allowed: ${list}`,
        );
      } else if (m.sizeGB !== undefined && m.sizeGB * DISK_FACTOR > opt.diskGB) {
        r.at(
          [...vpath, "computeType"],
          `computeType ${opt.computeType} has ${opt.diskGB} GB disk, too little for a ${m.sizeGB} GB model (a build needs about ${DISK_FACTOR}x); choose one of: ${list}`,
        );
      }
    } else if (!skipped && computeTypeFor(v.accelerator, m.sizeGB) === undefined) {
      const biggest = Math.max(...allowed.map(maxModelGB));
      r.at(
        [...base, "sizeGB"],
        `a ${m.sizeGB} GB model is too large for any ${v.accelerator} CodeBuild compute (at most ${biggest} GB); set downloadAtRuntime: true`,
      );
    }
    if (m.name !== undefined) {
      const name = imageName(m.name, v.accelerator);
      if (name.length > DNS_LABEL_MAX) {
        r.at(
          [...base, "name"],
          `image name '${name}' is longer than ${DNS_LABEL_MAX} characters; shorten the model name`,
        );
      }
    }
    if (m.tag !== undefined) {
      const tag = imageTag(m.tag, v.accelerator, rules?.tagSuffix ?? "");
      if (!TAG_PATTERN.test(tag)) {
        r.at(
          [...base, "tag"],
          `image tag '${tag}' (with the ${v.accelerator} suffix and the stack's tagSuffix) is longer than 128 characters; shorten the tag`,
        );
      }
    }
  });
  if (m.name !== undefined) {
    const repo = repositoryName(rules?.registryPrefix ?? "", m.name);
    if (repo.length > ECR_REPOSITORY_MAX) {
      r.at(
        [...base, "name"],
        `repository name '${repo}' is longer than ${ECR_REPOSITORY_MAX} characters`,
      );
    }
  }
  if (!schemaValid || r.list.length > before || revision === undefined) {
    return undefined;
  }
  const valid = m as ModelInput;
  return {
    name: valid.name,
    source: valid.source,
    revision,
    pinned: COMMIT_SHA_PATTERN.test(revision),
    tag: valid.tag,
    description: valid.description,
    gated,
    downloadAtRuntime: skipped,
    sizeGB: valid.sizeGB,
    include: valid.include ?? [],
    exclude: valid.exclude ?? [],
    variants: variants as ModelSpec["variants"],
    ...(valid.serving !== undefined ? { serving: valid.serving } : {}),
    line: positionOf(r.src, base).line,
  };
}

/**
 * The fields of a model that pass the schema on their own: what the cross-field rules may use
 * when the model as a whole does not.
 */
function validFields(entry: unknown): Partial<ModelInput> {
  if (!isObject(entry)) {
    return {};
  }
  const out: Record<string, unknown> = {};
  const shape = modelSchema.shape as Record<string, z.ZodMiniType>;
  for (const [key, schema] of Object.entries(shape)) {
    if (key === "variants" || entry[key] === undefined) {
      continue;
    }
    const res = schema.safeParse(entry[key]);
    if (res.success) {
      out[key] = res.data;
    }
  }
  if (Array.isArray(entry.variants)) {
    out.variants = entry.variants.map((v) => {
      const res = variantSchema.safeParse(v);
      return res.success ? res.data : undefined;
    });
  }
  return out as Partial<ModelInput>;
}

/** A `serving` block with its numeric quantities as the text the user wrote; anything else unchanged. */
function quantitiesAsWritten(
  source: YamlSource,
  path: Path,
  serving: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...serving };
  for (const key of QUANTITY_FIELDS) {
    if (typeof out[key] === "number") {
      out[key] = scalarSource(source, [...path, key]) ?? out[key];
    }
  }
  return out;
}

/** Expand models into images with the stack's prefix and suffix. */
export function expandImages(
  models: readonly ModelSpec[],
  rules: ManifestRules | undefined,
): ImageSpec[] {
  return models.flatMap((m) =>
    m.variants.map((v) => ({
      name: imageName(m.name, v.accelerator),
      model: m.name,
      accelerator: v.accelerator,
      source: m.source,
      revision: m.revision,
      pinned: m.pinned,
      tag: imageTag(m.tag, v.accelerator, rules?.tagSuffix ?? ""),
      repositoryName: repositoryName(rules?.registryPrefix ?? "", m.name),
      baseImage: v.baseImage ?? DEFAULT_BASE_IMAGES[v.accelerator],
      environmentType: ENVIRONMENT_TYPES[v.accelerator],
      computeType: v.computeType ?? computeTypeFor(v.accelerator, m.sizeGB) ?? "",
      platforms: v.platforms ?? DEFAULT_PLATFORMS[v.accelerator],
      include: m.include,
      exclude: m.exclude,
      gated: m.gated,
      skipped: m.downloadAtRuntime,
      sizeGB: m.sizeGB,
      description: m.description,
      serving: mergeServing(m.serving, v.serving),
    })),
  );
}

/** Checking stops once this many problems are known: a file that broken needs fixing first, not a full list. */
export const MAX_COLLECTED = 1000;

function truncate(list: Diagnostic[]): Diagnostic[] {
  const sorted = sortDiagnostics(list);
  if (sorted.length <= MAX_DIAGNOSTICS) {
    return sorted;
  }
  const last = sorted[MAX_DIAGNOSTICS - 1];
  const more =
    list.length >= MAX_COLLECTED
      ? `and more problems (checking stopped after ${MAX_COLLECTED}); fix these first`
      : `and ${sorted.length - MAX_DIAGNOSTICS} more problems (fix these first)`;
  return [...sorted.slice(0, MAX_DIAGNOSTICS), { ...last, message: more }];
}

/**
 * Validate manifest text. Never throws for any input: every problem comes back positioned.
 * With `rules`, the stack's rules apply too (pinning, token for gated models, prefix and suffix).
 */
export function parseManifest(
  file: string,
  text: string | Buffer,
  rules?: ManifestRules,
): ManifestResult {
  const fail = (diagnostics: Diagnostic[]): ManifestResult => ({
    models: [],
    images: [],
    diagnostics: truncate(diagnostics),
  });
  const { source, diagnostics, sound } = readYaml(file, text);
  if (!source || !sound) {
    return fail(diagnostics);
  }
  const plain = toPlain(source);
  if (plain.diagnostics.length > 0) {
    return fail([...diagnostics, ...plain.diagnostics]);
  }
  const r = new Reporter(source);
  r.list.push(...diagnostics);
  const top = plain.value;
  if (top === null || top === undefined) {
    r.at(
      [],
      "the manifest is empty; expected a mapping with a 'models' list, e.g. models: [{name: ..., source: org/name, revision: <sha>, tag: \"0.1.0\"}]",
    );
    return fail(r.list);
  }
  if (!isObject(top)) {
    r.at(
      [],
      `the manifest's top level is a ${Array.isArray(top) ? "list" : typeof top}; expected a mapping with a 'models' list`,
    );
    return fail(r.list);
  }
  for (const key of Object.keys(top)) {
    if (!TOP_FIELDS.includes(key)) {
      r.atKey([], key, `unknown top-level field '${key}'; allowed: ${TOP_FIELDS.join(", ")}`);
    }
  }
  const list = top.models;
  if (!Array.isArray(list)) {
    r.at(
      list === undefined ? [] : ["models"],
      list === undefined
        ? "missing required field 'models': a list of models"
        : "models must be a list of models",
    );
    return fail(r.list);
  }
  if (list.length === 0 || seqLength(source, ["models"]) === 0) {
    r.at(["models"], "models is empty: list at least one model");
    return fail(r.list);
  }
  const models: ModelSpec[] = [];
  const names = new Map<string, number>();
  list.forEach((raw, i) => {
    if (r.list.length >= MAX_COLLECTED) {
      return;
    }
    // tag and revision keep the user's text: `tag: 1.10` is "1.10", never the number 1.1.
    const entry = isObject(raw) ? { ...raw } : raw;
    if (isObject(entry)) {
      for (const key of ["tag", "revision"]) {
        if (entry[key] !== undefined && typeof entry[key] !== "object") {
          entry[key] = scalarSource(source, ["models", i, key]) ?? entry[key];
        }
      }
      // Quantities too: `cpu: 0.50` is the quantity "0.50", as Kubernetes reads it.
      if (isObject(entry.serving)) {
        entry.serving = quantitiesAsWritten(source, ["models", i, "serving"], entry.serving);
      }
      if (Array.isArray(entry.variants)) {
        entry.variants = entry.variants.map((v: unknown, j) =>
          isObject(v) && isObject(v.serving)
            ? {
                ...v,
                serving: quantitiesAsWritten(
                  source,
                  ["models", i, "variants", j, "serving"],
                  v.serving,
                ),
              }
            : v,
        );
      }
      checkServingBlock(r, ["models", i, "serving"], entry.serving);
      (Array.isArray(entry.variants) ? entry.variants : []).forEach((v, j) => {
        checkServingBlock(r, ["models", i, "variants", j, "serving"], isObject(v) && v.serving);
      });
    }
    const parsed = modelSchema.safeParse(entry);
    if (!parsed.success) {
      parsed.error.issues.forEach((iss) => reportZodIssue(r, ["models", i], entry, iss));
    }
    const m = parsed.success ? parsed.data : validFields(entry);
    const first = m.name === undefined ? undefined : names.get(m.name);
    if (first !== undefined) {
      r.at(
        ["models", i, "name"],
        `duplicate model name '${m.name}' (first at line ${positionOf(source, ["models", first]).line}); names must be unique`,
      );
    } else if (m.name !== undefined) {
      names.set(m.name, i);
    }
    const spec = checkModel(r, i, m, parsed.success, rules);
    if (spec && first === undefined) {
      models.push(spec);
    }
  });
  const images = expandImages(models, rules);
  const owners = new Map<string, ImageSpec>();
  for (const img of images) {
    const other = owners.get(img.name);
    if (other && other.model !== img.model) {
      const i = list.findIndex((m) => isObject(m) && m.name === img.model);
      r.at(
        ["models", i, "name"],
        `image name '${img.name}' (${img.accelerator} variant of '${img.model}') collides with the image of model '${other.model}'; rename one model`,
      );
    }
    owners.set(img.name, img);
  }
  if (r.list.length > 0) {
    return fail(r.list);
  }
  return { models, images, diagnostics: [] };
}

/** One line for a valid manifest: models, variants, images to build, skipped. */
export function summarize(result: ManifestResult): string {
  const skipped = result.images.filter((i) => i.skipped).length;
  const build = result.images.length - skipped;
  return `${result.models.length} models, ${result.images.length} variants: ${build} images to build, ${skipped} skipped (downloadAtRuntime)`;
}
