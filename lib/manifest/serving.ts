// The `serving:` block: how a model is served on KServe, as a zod schema plus the Kubernetes rules a schema cannot say.

import * as z from "zod/mini";

/** Kubernetes' quantity grammar (resource.Quantity), as the KServe CRDs state it, without a sign. */
export const QUANTITY_PATTERN =
  /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const SUFFIX_FACTORS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity ("500m" is 0.5, "24Gi" is 24·2^30), or undefined when it is not one. */
export function quantityValue(q: string): number | undefined {
  if (!QUANTITY_PATTERN.test(q)) {
    return undefined;
  }
  const m = /^([0-9.]+)(.*)$/.exec(q) as RegExpExecArray;
  const suffix = m[2];
  if (/^[eE]/.test(suffix)) {
    return Number(q);
  }
  return Number(m[1]) * SUFFIX_FACTORS[suffix];
}

/** DNS-1123 subdomain: Kubernetes object names (ServiceAccount, ServingRuntime) and label-key prefixes. */
export const DNS_SUBDOMAIN_PATTERN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PATTERN = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A label value: at most 63 characters, empty or alphanumeric at both ends. */
export const LABEL_VALUE_PATTERN = /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Kubernetes' rule for environment variable names. */
const ENV_NAME_PATTERN = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** A Hugging Face user access token as the Hub issues them. */
const HF_TOKEN_PATTERN = /hf_[A-Za-z0-9]{30,}/;
/** Variables huggingface_hub and older clients read a token from. */
export const TOKEN_ENV_NAMES = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_TOKEN"];

/** Why a label or annotation key breaks Kubernetes' qualified-name rule, or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !DNS_SUBDOMAIN_PATTERN.test(prefix)) {
    return `prefix '${prefix}' is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253)`;
  }
  if (!QUALIFIED_NAME_PATTERN.test(name)) {
    return `name '${name}' must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

const noToken = (what: string) =>
  z.refine<string>((s) => !HF_TOKEN_PATTERN.test(s), {
    error: `${what} looks like a Hugging Face token; the token never goes into models.yaml (the stack's huggingface-token secret builds gated models; KServe reads it from a Secret at runtime)`,
  });

const quantity = (field: string, example: string) =>
  z.string({ error: `${field} must be a Kubernetes quantity such as ${example}` }).check(
    z.refine((s) => (quantityValue(s) ?? 0) > 0, {
      error: (iss) =>
        `${field} ${JSON.stringify(iss.input)} is not a positive Kubernetes quantity: write e.g. ${example}`,
    }),
  );

const stringMap = (field: string, value: z.ZodMiniType<string>, example: string) =>
  z.record(z.string(), value, { error: `${field} must be a mapping such as ${example}` });

const stringValue = (field: string) =>
  z.string({ error: `each ${field} value must be a string; quote numbers and booleans ("1")` });

const labelValue = (field: string) =>
  stringValue(field).check(
    z.regex(LABEL_VALUE_PATTERN, {
      error: (iss) =>
        `${field} value ${JSON.stringify(iss.input)} is not a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
    }),
  );

const objectName = (field: string, example: string) =>
  z.string({ error: `${field} must be a string such as ${example}` }).check(
    z.regex(DNS_SUBDOMAIN_PATTERN, {
      error: (iss) =>
        `${field} ${JSON.stringify(iss.input)} is not a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. ${example})`,
    }),
  );

export const TOLERATION_OPERATORS = ["Exists", "Equal"] as const;
export const TOLERATION_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

export const tolerationSchema = z.strictObject(
  {
    key: z.optional(
      z.string({ error: "toleration key must be a string such as nvidia.com/gpu" }).check(
        z.refine((k) => qualifiedNameProblem(k) === undefined, {
          error: (iss) =>
            `toleration key ${JSON.stringify(iss.input)} is not a Kubernetes label key: ${qualifiedNameProblem(iss.input as string)}`,
        }),
      ),
    ),
    operator: z.optional(
      z.enum(TOLERATION_OPERATORS, {
        error: `toleration operator must be ${TOLERATION_OPERATORS.join(" or ")}`,
      }),
    ),
    value: z.optional(labelValue("toleration")),
    effect: z.optional(
      z.enum(TOLERATION_EFFECTS, {
        error: `toleration effect must be one of ${TOLERATION_EFFECTS.join(", ")} (omit it to tolerate every effect)`,
      }),
    ),
    tolerationSeconds: z.optional(
      z
        .int({ error: "tolerationSeconds must be a whole number of seconds" })
        .check(z.gte(0, { error: "tolerationSeconds must be 0 or more" })),
    ),
  },
  {
    error:
      "each toleration must be a mapping such as {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}",
  },
);

export const servingSchema = z.strictObject(
  {
    runtime: z.optional(objectName("runtime", "kserve-huggingfaceserver")),
    args: z.optional(
      z.array(
        z
          .string({ error: 'each arg must be a string; quote numbers ("--max-model-len=8192")' })
          .check(noToken("an arg")),
        { error: 'args must be a list of strings such as ["--max-model-len=8192"]' },
      ),
    ),
    env: z.optional(
      stringMap("env", stringValue("env").check(noToken("an env value")), '{VLLM_USE_V1: "1"}'),
    ),
    gpus: z.optional(
      z
        .int({ error: "gpus must be a whole number of GPUs (the nvidia.com/gpu limit)" })
        .check(z.gte(1, { error: "gpus must be at least 1 on a cuda variant" })),
    ),
    cpu: z.optional(quantity("cpu", '"4" or "500m"')),
    cpuLimit: z.optional(quantity("cpuLimit", '"8"')),
    memory: z.optional(quantity("memory", "24Gi")),
    minReplicas: z.optional(
      z
        .int({ error: "minReplicas must be a whole number" })
        .check(z.gte(0, { error: "minReplicas must be 0 or more" })),
    ),
    maxReplicas: z.optional(
      z
        .int({ error: "maxReplicas must be a whole number" })
        .check(z.gte(1, { error: "maxReplicas must be at least 1" })),
    ),
    nodeSelector: z.optional(
      stringMap(
        "nodeSelector",
        labelValue("nodeSelector"),
        "{node.kubernetes.io/instance-type: g5.xlarge}",
      ),
    ),
    tolerations: z.optional(
      z.array(tolerationSchema, {
        error:
          "tolerations must be a list such as [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]",
      }),
    ),
    serviceAccountName: z.optional(objectName("serviceAccountName", "models-reader")),
    labels: z.optional(stringMap("labels", labelValue("labels"), "{team: search}")),
    annotations: z.optional(
      stringMap(
        "annotations",
        stringValue("annotations"),
        "{serving.kserve.io/deploymentMode: RawDeployment}",
      ),
    ),
  },
  {
    error:
      "serving must be a mapping such as {args: [--max-model-len=8192], memory: 24Gi, minReplicas: 1}",
  },
);

export type ServingSpec = z.infer<typeof servingSchema>;
export type Toleration = z.infer<typeof tolerationSchema>;

export const SERVING_FIELDS = Object.keys(servingSchema.shape);
export const TOLERATION_FIELDS = Object.keys(tolerationSchema.shape);
/** Fields whose YAML numbers (`cpu: 4`) are read as the text the user wrote. */
export const QUANTITY_FIELDS = ["cpu", "cpuLimit", "memory"] as const;
/** Fields whose keys follow the label-key rule (env names have their own). */
export const KEYED_FIELDS = ["nodeSelector", "labels", "annotations"] as const;

/** A variant's `serving` over the model's, field by field: a field the variant gives replaces the model's whole. */
export function mergeServing(model?: ServingSpec, variant?: ServingSpec): ServingSpec {
  return { ...model, ...variant };
}

/** Why an env name is refused, or undefined. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) {
    return `env name '${name}' is not valid: letters, digits, '_', '-' and '.', not starting with a digit`;
  }
  if (TOKEN_ENV_NAMES.includes(name.toUpperCase())) {
    return `env '${name}' would hold the Hub token as plain text; gated downloadAtRuntime models get it through a service account and Secret instead (see docs/manifest.md, serving)`;
  }
  return undefined;
}

/** `isvc`: InferenceService (serving.kserve.io/v1beta1); `llmisvc`: LLMInferenceService (v1alpha1/v1alpha2). */
export type KServeKind = "isvc" | "llmisvc";
export const KSERVE_KINDS: readonly KServeKind[] = ["isvc", "llmisvc"];
export const KIND_NAMES: Record<KServeKind, string> = {
  isvc: "InferenceService",
  llmisvc: "LLMInferenceService",
};

/** Labels and annotations the renderer sets itself; a manifest may not override them. */
export function reservedMetadataKey(key: string): boolean {
  return (
    key.startsWith("model-images/") ||
    key === "app.kubernetes.io/name" ||
    key === "app.kubernetes.io/managed-by"
  );
}

/** KServe's default minReplicas when a manifest gives none. */
export const DEFAULT_MIN_REPLICAS = 1;

/**
 * The fields of a merged `serving` one kind has no place for: each is refused, never dropped.
 * InferenceService has a place for every field. LLMInferenceService has no `runtime` (its server
 * comes from LLMInferenceServiceConfig presets via spec.baseRefs), and without an autoscaler
 * backend (spec.scaling needs WVA or KEDA: "either wva or keda must be specified when scaling is
 * configured", CRD rule) it runs a fixed `spec.replicas` (CRD minimum 0, where 0 serves nothing).
 */
export function kindProblems(
  serving: ServingSpec,
  kind: KServeKind,
): { field: keyof ServingSpec; message: string }[] {
  if (kind === "isvc") {
    return [];
  }
  const out: { field: keyof ServingSpec; message: string }[] = [];
  const fix = "or render only isvc (kserveKinds / --kind isvc)";
  if (serving.runtime !== undefined) {
    out.push({
      field: "runtime",
      message: `runtime '${serving.runtime}' cannot be expressed by an LLMInferenceService, which has no runtime field (its vLLM server comes from LLMInferenceServiceConfig presets); remove runtime ${fix}`,
    });
  }
  const min = serving.minReplicas ?? DEFAULT_MIN_REPLICAS;
  if (serving.maxReplicas !== undefined && serving.maxReplicas !== min) {
    out.push({
      field: "maxReplicas",
      message: `minReplicas ${min} to maxReplicas ${serving.maxReplicas} cannot be expressed by an LLMInferenceService: it autoscales only through spec.scaling with a WVA or KEDA backend, so it runs a fixed spec.replicas here; set minReplicas and maxReplicas equal ${fix}`,
    });
  }
  if (serving.minReplicas === 0) {
    out.push({
      field: "minReplicas",
      message: `minReplicas 0 cannot be expressed by an LLMInferenceService: it has no scale-to-zero, and a fixed spec.replicas of 0 serves nothing; use at least 1 ${fix}`,
    });
  }
  return out;
}
