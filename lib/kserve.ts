// Renders KServe InferenceService and LLMInferenceService documents for built images: plain objects, no Pulumi types.
//
// Modelcar images are referenced as `oci://…` (KServe mounts the image's /models at /mnt/models);
// `downloadAtRuntime` models, which have no image, as `hf://<source>[:<revision>]`, which KServe's
// storage initializer downloads from the Hub at start-up.

import { stringify } from "yaml";
import type { ImageSpec } from "./manifest";
import {
  DEFAULT_MIN_REPLICAS,
  KIND_NAMES,
  kindProblems,
  KSERVE_KINDS,
  type KServeKind,
  type ServingSpec,
} from "./manifest/serving";

export { KSERVE_KINDS, type KServeKind };

export const INFERENCE_SERVICE_API_VERSION = "serving.kserve.io/v1beta1";
/** v1alpha2 is the storage version of LLMInferenceService; v1alpha1 is still served, for older clusters. */
export type LLMApiVersion = "v1alpha1" | "v1alpha2";
export const DEFAULT_LLM_API_VERSION: LLMApiVersion = "v1alpha2";

/** KServe's webhook rule for InferenceService names (DNS-1035: must start with a letter). */
export const ISVC_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE_PATTERN = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** The default ServiceAccount gated `hf://` models run under. */
export const DEFAULT_HF_SERVICE_ACCOUNT = "hf-token";
const LABEL_PREFIX = "model-images";

export interface KServeOptions {
  /** Which documents per image (default both). */
  kinds?: readonly KServeKind[];
  /** metadata.namespace; omitted when unset, so `kubectl apply -n` decides. */
  namespace?: string;
  llmApiVersion?: LLMApiVersion;
  /**
   * ServiceAccount whose Secret (key HF_TOKEN) gives KServe's storage initializer the Hub token of
   * gated `hf://` models (default `hf-token`); a model's `serving.serviceAccountName` wins.
   */
  hfServiceAccount?: string;
  /** Container image of LLMInferenceService's `main` container for cpu images (the default config is GPU vLLM). */
  llmCpuImage?: string;
}

/** A Kubernetes object as plain data, ready for YAML or a Pulumi `kubernetes.yaml` resource. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

/** `hf://org/name[:sha]`: KServe's Hugging Face URI; only a commit SHA pins it (a branch would move). */
export function hfUri(image: Pick<ImageSpec, "source" | "revision" | "pinned">): string {
  return image.pinned ? `hf://${image.source}:${image.revision}` : `hf://${image.source}`;
}

/**
 * Container resources: `serving` when it says, else sized from `sizeGB` (the weights pass through
 * host memory on load). Memory requests equal limits, so a loaded model is never the first thing
 * evicted; cpu request equals limit unless `cpuLimit` is given.
 */
export function resourcesFor(
  image: Pick<ImageSpec, "accelerator" | "sizeGB"> & { serving?: ServingSpec },
): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  const serving = image.serving ?? {};
  const gpu = image.accelerator === "cuda";
  const memoryGi =
    image.sizeGB === undefined ? (gpu ? 16 : 8) : Math.max(4, Math.ceil(image.sizeGB * 1.25) + 2);
  const memory = serving.memory ?? `${memoryGi}Gi`;
  const cpuRequest = serving.cpu ?? (gpu ? "4" : "2");
  const cpuLimit = serving.cpuLimit ?? serving.cpu ?? (gpu ? "8" : "4");
  const requests: Record<string, string> = { cpu: cpuRequest, memory };
  const limits: Record<string, string> = { cpu: cpuLimit, memory };
  if (gpu) {
    // An extended resource given only as a limit gets an equal request.
    limits["nvidia.com/gpu"] = String(serving.gpus ?? 1);
  }
  return { requests, limits };
}

function checkName(image: ImageSpec): void {
  if (!ISVC_NAME_PATTERN.test(image.name)) {
    throw new Error(
      `image '${image.name}' (model '${image.model}') cannot name a KServe service: KServe requires names that start with a letter (${ISVC_NAME_PATTERN.source}); rename the model in the manifest`,
    );
  }
}

function metadataFor(image: ImageSpec, options: KServeOptions): KubeObject["metadata"] {
  // The manifest's own labels first: the validator refuses the keys set below, and ours win anyway.
  const labels: Record<string, string> = {
    ...image.serving.labels,
    "app.kubernetes.io/name": image.name,
    "app.kubernetes.io/managed-by": "model-images",
    [`${LABEL_PREFIX}/model`]: image.model,
    [`${LABEL_PREFIX}/accelerator`]: image.accelerator,
  };
  // Tags may be up to 128 characters; a label value only 63. The annotation always has it.
  if (image.tag.length <= 63 && LABEL_VALUE_PATTERN.test(image.tag)) {
    labels[`${LABEL_PREFIX}/tag`] = image.tag;
  }
  return {
    name: image.name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels,
    annotations: {
      ...image.serving.annotations,
      [`${LABEL_PREFIX}/source`]: image.source,
      [`${LABEL_PREFIX}/revision`]: image.revision,
      [`${LABEL_PREFIX}/tag`]: image.tag,
    },
  };
}

/**
 * The pod's service account. A gated `hf://` model needs the Hub token in KServe's storage
 * initializer, which KServe documents as a service account, not an env entry on the model container
 * (kserve.github.io/website/docs/model-serving/storage/providers/hf, "Private Hugging Face Models"):
 * "KServe supports authenticating with HF_TOKEN for downloading the model and create a Kubernetes
 * secret to store the HF token." ... "Option 1: Use Service Account with Secret Ref. Create a
 * Kubernetes ServiceAccount with the HF token secret name reference and specify the
 * ServiceAccountName in the InferenceService Spec." An LLMInferenceService takes the same name as
 * its pod template's serviceAccountName.
 */
function serviceAccountFor(image: ImageSpec, options: KServeOptions): string | undefined {
  if (image.serving.serviceAccountName !== undefined) {
    return image.serving.serviceAccountName;
  }
  return image.skipped && image.gated
    ? (options.hfServiceAccount ?? DEFAULT_HF_SERVICE_ACCOUNT)
    : undefined;
}

/** `serving.env` as container env entries (non-secret values only; the validator refuses token names). */
function envFor(serving: ServingSpec): { name: string; value: string }[] | undefined {
  const entries = Object.entries(serving.env ?? {});
  return entries.length > 0 ? entries.map(([name, value]) => ({ name, value })) : undefined;
}

/** A field one kind cannot express is an error naming the model, field and fix, never dropped. */
function checkKind(image: ImageSpec, kind: KServeKind): void {
  const problems = kindProblems(image.serving, kind);
  if (problems.length > 0) {
    throw new Error(
      `image '${image.name}' (model '${image.model}') cannot be rendered as ${KIND_NAMES[kind]}: ${problems
        .map((p) => `serving.${p.field}: ${p.message}`)
        .join("; ")}`,
    );
  }
}

/** Pod-level placement shared by both kinds; the manifest's tolerations replace the GPU default. */
function placementFor(image: ImageSpec, options: KServeOptions): Record<string, unknown> {
  const { serving } = image;
  const tolerations =
    serving.tolerations ?? (image.accelerator === "cuda" ? GPU_TOLERATIONS : undefined);
  const serviceAccountName = serviceAccountFor(image, options);
  return {
    ...(serving.nodeSelector ? { nodeSelector: serving.nodeSelector } : {}),
    ...(tolerations ? { tolerations } : {}),
    ...(serviceAccountName ? { serviceAccountName } : {}),
  };
}

const GPU_TOLERATIONS = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];

/** The storage URI of an image: its `oci://` URI, or `hf://` for a `downloadAtRuntime` model. */
export function storageUriFor(image: ImageSpec, ociUri: string | undefined): string {
  if (image.skipped) {
    return hfUri(image);
  }
  if (ociUri === undefined || !ociUri.startsWith("oci://")) {
    throw new Error(
      `image '${image.name}' needs an oci:// URI to render KServe manifests (got ${ociUri === undefined ? "none" : JSON.stringify(ociUri)})`,
    );
  }
  return ociUri;
}

/** An InferenceService on KServe's Hugging Face runtime (modelFormat huggingface), or `serving.runtime`. */
export function renderInferenceService(
  image: ImageSpec,
  ociUri: string | undefined,
  options: KServeOptions = {},
): KubeObject {
  checkName(image);
  checkKind(image, "isvc");
  const storageUri = storageUriFor(image, ociUri);
  const { serving } = image;
  const env = envFor(serving);
  return {
    apiVersion: INFERENCE_SERVICE_API_VERSION,
    kind: "InferenceService",
    metadata: metadataFor(image, options),
    spec: {
      predictor: {
        model: {
          modelFormat: { name: "huggingface" },
          ...(serving.runtime ? { runtime: serving.runtime } : {}),
          storageUri,
          ...(serving.args ? { args: serving.args } : {}),
          ...(env ? { env } : {}),
          resources: resourcesFor(image),
        },
        ...(serving.minReplicas !== undefined ? { minReplicas: serving.minReplicas } : {}),
        ...(serving.maxReplicas !== undefined ? { maxReplicas: serving.maxReplicas } : {}),
        ...placementFor(image, options),
      },
    },
  };
}

/**
 * The `main` container's args of KServe's default LLMInferenceServiceConfig
 * (config/llmisvcconfig/config-llm-template.yaml: `vllm serve /mnt/models` with these args). KServe
 * merges a service's spec over its configs as a strategic merge patch ("mergeSpecs performs a
 * strategic merge", pkg/controller/v1alpha1/llmisvc/config_merge.go), and a container's `args`
 * list has no merge key, so args given here replace the config's whole: they are restated first.
 */
function llmArgs(image: ImageSpec): string[] | undefined {
  const extra = image.serving.args;
  return extra ? ["--served-model-name", image.source, "--port", "8000", ...extra] : undefined;
}

/** An LLMInferenceService (llm-d vLLM stack); `spec.model.name` is the name clients ask the OpenAI API for. */
export function renderLLMInferenceService(
  image: ImageSpec,
  ociUri: string | undefined,
  options: KServeOptions = {},
): KubeObject {
  checkName(image);
  checkKind(image, "llmisvc");
  const storageUri = storageUriFor(image, ociUri);
  const { serving } = image;
  const env = envFor(serving);
  const args = llmArgs(image);
  const gpu = image.accelerator === "cuda";
  const cpuImage = !gpu ? options.llmCpuImage : undefined;
  return {
    apiVersion: `serving.kserve.io/${options.llmApiVersion ?? DEFAULT_LLM_API_VERSION}`,
    kind: "LLMInferenceService",
    metadata: metadataFor(image, options),
    spec: {
      model: { uri: storageUri, name: image.source },
      // kindProblems refused a range: min and max agree here, or max is unset.
      replicas: serving.minReplicas ?? serving.maxReplicas ?? DEFAULT_MIN_REPLICAS,
      router: { route: {} },
      template: {
        containers: [
          {
            name: "main",
            ...(cpuImage ? { image: cpuImage } : {}),
            ...(args ? { args } : {}),
            ...(env ? { env } : {}),
            resources: resourcesFor(image),
          },
        ],
        ...placementFor(image, options),
      },
    },
  };
}

/**
 * The KServe documents of one image. `ociUri` is `oci://host/repo:tag` or `oci://host/repo@sha256:…`;
 * it is ignored for a `downloadAtRuntime` image, which gets `hf://` instead.
 */
export function renderKServe(
  image: ImageSpec,
  ociUri: string | undefined,
  options: KServeOptions = {},
): KubeObject[] {
  const kinds = options.kinds ?? KSERVE_KINDS;
  return [
    ...(kinds.includes("isvc") ? [renderInferenceService(image, ociUri, options)] : []),
    ...(kinds.includes("llmisvc") ? [renderLLMInferenceService(image, ociUri, options)] : []),
  ];
}

/** Multi-document YAML (`---` between documents), as `kubectl apply -f -` takes it. */
export function toYaml(docs: readonly KubeObject[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
