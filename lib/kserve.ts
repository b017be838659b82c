// Renders KServe InferenceService and LLMInferenceService documents for built images: plain objects, no Pulumi types.
//
// Modelcar images are referenced as `oci://…` (KServe mounts the image's /models at /mnt/models);
// `downloadAtRuntime` models, which have no image, as `hf://<source>[:<revision>]`, which KServe's
// storage initializer downloads from the Hub at start-up.

import { stringify } from "yaml";
import type { ImageSpec } from "./manifest";

export type KServeKind = "isvc" | "llmisvc";
export const KSERVE_KINDS: readonly KServeKind[] = ["isvc", "llmisvc"];

export const INFERENCE_SERVICE_API_VERSION = "serving.kserve.io/v1beta1";
/** v1alpha2 is the storage version of LLMInferenceService; v1alpha1 is still served, for older clusters. */
export type LLMApiVersion = "v1alpha1" | "v1alpha2";
export const DEFAULT_LLM_API_VERSION: LLMApiVersion = "v1alpha2";

/** KServe's webhook rule for InferenceService names (DNS-1035: must start with a letter). */
export const ISVC_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE_PATTERN = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_PREFIX = "model-images";

export interface KServeOptions {
  /** Which documents per image (default both). */
  kinds?: readonly KServeKind[];
  /** metadata.namespace; omitted when unset, so `kubectl apply -n` decides. */
  namespace?: string;
  llmApiVersion?: LLMApiVersion;
  /** Secret (key HF_TOKEN) that gated `hf://` models read their Hub token from (default `hf-token`). */
  hfTokenSecret?: string;
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

/** Container resources sized from the manifest's `sizeGB`: the weights pass through host memory on load. */
export function resourcesFor(image: Pick<ImageSpec, "accelerator" | "sizeGB">): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  const gpu = image.accelerator === "cuda";
  const memoryGi =
    image.sizeGB === undefined ? (gpu ? 16 : 8) : Math.max(4, Math.ceil(image.sizeGB * 1.25) + 2);
  // Memory requests equal limits, so a loaded model is never the first thing evicted.
  const requests: Record<string, string> = { cpu: gpu ? "4" : "2", memory: `${memoryGi}Gi` };
  const limits: Record<string, string> = { cpu: gpu ? "8" : "4", memory: `${memoryGi}Gi` };
  if (gpu) {
    // An extended resource given only as a limit gets an equal request.
    limits["nvidia.com/gpu"] = "1";
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
  const labels: Record<string, string> = {
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
      [`${LABEL_PREFIX}/source`]: image.source,
      [`${LABEL_PREFIX}/revision`]: image.revision,
      [`${LABEL_PREFIX}/tag`]: image.tag,
    },
  };
}

function hfTokenEnv(image: ImageSpec, options: KServeOptions) {
  return image.skipped && image.gated
    ? [
        {
          name: "HF_TOKEN",
          valueFrom: {
            secretKeyRef: { name: options.hfTokenSecret ?? "hf-token", key: "HF_TOKEN" },
          },
        },
      ]
    : undefined;
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

/** An InferenceService on KServe's Hugging Face runtime (modelFormat huggingface). */
export function renderInferenceService(
  image: ImageSpec,
  ociUri: string | undefined,
  options: KServeOptions = {},
): KubeObject {
  checkName(image);
  const storageUri = storageUriFor(image, ociUri);
  const env = hfTokenEnv(image, options);
  const gpu = image.accelerator === "cuda";
  return {
    apiVersion: INFERENCE_SERVICE_API_VERSION,
    kind: "InferenceService",
    metadata: metadataFor(image, options),
    spec: {
      predictor: {
        model: {
          modelFormat: { name: "huggingface" },
          storageUri,
          resources: resourcesFor(image),
          ...(env ? { env } : {}),
        },
        ...(gpu ? { tolerations: GPU_TOLERATIONS } : {}),
      },
    },
  };
}

/** An LLMInferenceService (llm-d vLLM stack); `spec.model.name` is the name clients ask the OpenAI API for. */
export function renderLLMInferenceService(
  image: ImageSpec,
  ociUri: string | undefined,
  options: KServeOptions = {},
): KubeObject {
  checkName(image);
  const storageUri = storageUriFor(image, ociUri);
  const env = hfTokenEnv(image, options);
  const gpu = image.accelerator === "cuda";
  const cpuImage = !gpu ? options.llmCpuImage : undefined;
  return {
    apiVersion: `serving.kserve.io/${options.llmApiVersion ?? DEFAULT_LLM_API_VERSION}`,
    kind: "LLMInferenceService",
    metadata: metadataFor(image, options),
    spec: {
      model: { uri: storageUri, name: image.source },
      replicas: 1,
      router: { route: {} },
      template: {
        containers: [
          {
            name: "main",
            ...(cpuImage ? { image: cpuImage } : {}),
            resources: resourcesFor(image),
            ...(env ? { env } : {}),
          },
        ],
        ...(gpu ? { tolerations: GPU_TOLERATIONS } : {}),
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
