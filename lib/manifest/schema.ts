// The manifest's shape as zod schemas, with messages that say what is wrong and what is allowed.

// zod/mini: the same engine as classic zod, but tree-shakable, so the CLI bundle loads a fraction of it.
import * as z from "zod/mini";
import { DNS_LABEL_MAX, DNS_LABEL_PATTERN, TAG_PATTERN } from "../naming";
import { servingSchema } from "./serving";

/** huggingface_hub's repo-id rule: `namespace/name`, [A-Za-z0-9_.-], no `--`/`..`, no leading or trailing `-`/`.`. */
export const HF_REPO_PATTERN =
  /^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9_.-]{1,96}(?<![-.])\/(?![-.])[A-Za-z0-9_.-]{1,96}(?<![-.])$/;
export const COMMIT_SHA_PATTERN = /^[0-9a-f]{40}$/;
/** A branch, tag or ref (e.g. `main`, `refs/pr/1`) as the Hub accepts for an unpinned revision. */
export const REF_PATTERN = /^(?!.*\.\.)(?!\/)[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}(?<![/.])$/;
/** An image reference: `registry/path:tag` or `registry/path@sha256:...`. */
export const IMAGE_REF_PATTERN =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
export const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;

const bool = (field: string) => z.boolean({ error: `${field} must be true or false` });

const pattern = (field: string, p: RegExp, allowed: string) =>
  z.string({ error: `${field} must be a string: ${allowed}` }).check(
    z.regex(p, {
      error: (iss) => `${field} ${JSON.stringify(iss.input)} is not valid: ${allowed}`,
    }),
  );

const globList = (field: string) =>
  z.array(
    z
      .string({ error: `each ${field} pattern must be a string (a glob such as "*.safetensors")` })
      .check(
        z.minLength(1, { error: `${field} patterns may not be empty` }),
        z.maxLength(256, { error: `${field} patterns are at most 256 characters` }),
        z.refine((s) => !/[\r\n]/.test(s), {
          error: `${field} patterns may not contain line breaks`,
        }),
      ),
    { error: `${field} must be a list of glob patterns, e.g. ["*.safetensors", "*.json"]` },
  );

export const variantSchema = z.strictObject(
  {
    accelerator: z.enum(["cpu", "cuda"], { error: "accelerator must be cpu or cuda" }),
    baseImage: z.optional(
      pattern(
        "baseImage",
        IMAGE_REF_PATTERN,
        "an image reference like public.ecr.aws/docker/library/busybox:1.37.0 (lowercase repository, optional :tag or @sha256:digest)",
      ),
    ),
    computeType: z.optional(
      z.string({ error: "computeType must be a string such as BUILD_GENERAL1_MEDIUM" }),
    ),
    platforms: z.optional(
      z
        .array(
          z.enum(PLATFORMS, { error: `each platform must be one of ${PLATFORMS.join(", ")}` }),
          { error: `platforms must be a list, e.g. [${PLATFORMS.join(", ")}]` },
        )
        .check(z.minLength(1, { error: "platforms may not be empty; omit it for the default" })),
    ),
    serving: z.optional(servingSchema),
  },
  { error: "each variant must be a mapping such as {accelerator: cuda}" },
);

export const modelSchema = z.strictObject(
  {
    name: z
      .string({ error: "name must be a string: a DNS-1123 label such as qwen2-5-0-5b-instruct" })
      .check(
        z.regex(DNS_LABEL_PATTERN, {
          error: (iss) =>
            `name ${JSON.stringify(iss.input)} is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit`,
        }),
        z.maxLength(DNS_LABEL_MAX, {
          error: `name may be at most ${DNS_LABEL_MAX} characters (a DNS-1123 label)`,
        }),
      ),
    source: pattern(
      "source",
      HF_REPO_PATTERN,
      "a HuggingFace repo id 'org/name' of letters, digits, '_', '.', '-' (e.g. Qwen/Qwen2.5-0.5B-Instruct)",
    ),
    revision: z.optional(
      z.string({
        error:
          "revision must be a commit SHA (40 lowercase hex characters) or, where the stack allows, a branch name",
      }),
    ),
    tag: z.string({ error: 'tag must be a string: an image tag such as "0.1.0" (quote it)' }).check(
      z.regex(TAG_PATTERN, {
        error: (iss) =>
          `tag ${JSON.stringify(iss.input)} is not a valid image tag: use letters, digits, '_', '.', '-' (up to 128, not starting with '.' or '-')`,
      }),
      z.refine((t) => t.toLowerCase() !== "latest", {
        error:
          "tag 'latest' is not allowed: KServe re-pulls it on every start and it never pins weights; use a version such as \"0.1.0\"",
      }),
    ),
    description: z.optional(z.string({ error: "description must be a string" })),
    gated: z.optional(bool("gated")),
    downloadAtRuntime: z.optional(bool("downloadAtRuntime")),
    sizeGB: z.optional(
      z
        .number({ error: "sizeGB must be a number: the approximate size of the weights in GB" })
        .check(
          z.positive({ error: "sizeGB must be greater than 0" }),
          z.lte(10000, { error: "sizeGB must be at most 10000" }),
        ),
    ),
    include: z.optional(globList("include")),
    exclude: z.optional(globList("exclude")),
    variants: z.optional(
      z
        .array(variantSchema, {
          error: "variants must be a list such as [{accelerator: cpu}, {accelerator: cuda}]",
        })
        .check(
          z.minLength(1, {
            error: "variants may not be empty; omit it for the default [{accelerator: cpu}]",
          }),
        ),
    ),
    serving: z.optional(servingSchema),
  },
  { error: "each model must be a mapping with name, source, revision, tag" },
);

export type ModelInput = z.infer<typeof modelSchema>;
export type VariantInput = z.infer<typeof variantSchema>;

/** Fields allowed per level, listed in "unknown field" messages. */
export const MODEL_FIELDS = Object.keys(modelSchema.shape);
export const VARIANT_FIELDS = Object.keys(variantSchema.shape);
export const TOP_FIELDS = ["models"];
