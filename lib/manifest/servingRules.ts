// The `serving:` rules a schema cannot state: map keys, tolerations, and what the merged block means per variant and kind.

import type { Accelerator } from "../naming";
import type { Path } from "./yamlSource";
import {
  DEFAULT_MIN_REPLICAS,
  envNameProblem,
  KEYED_FIELDS,
  KIND_NAMES,
  kindProblems,
  type KServeKind,
  mergeServing,
  qualifiedNameProblem,
  quantityValue,
  reservedMetadataKey,
  type ServingSpec,
  type Toleration,
} from "./serving";

/** Where problems go: at a node, or at a mapping's key. */
export interface ServingReporter {
  at(path: Path, message: string): void;
  atKey(path: Path, key: string, message: string): void;
}

/** Below this a `memory` value is a unit slip (`24` bytes, `24m` milli-bytes), never a model server. */
const MIN_MEMORY_BYTES = 128 * 2 ** 20;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Rules on one `serving` block as written (model or variant level), on the raw value so a block
 * with a schema problem elsewhere still gets its keys checked. `path` is the block's own path.
 */
export function checkServingBlock(r: ServingReporter, path: Path, raw: unknown): void {
  if (!isObject(raw)) {
    return;
  }
  for (const field of KEYED_FIELDS) {
    const map = raw[field];
    if (!isObject(map)) {
      continue;
    }
    for (const key of Object.keys(map)) {
      const problem = qualifiedNameProblem(key);
      if (problem !== undefined) {
        r.atKey([...path, field], key, `${field} key '${key}' is not valid: ${problem}`);
      } else if (field !== "nodeSelector" && reservedMetadataKey(key)) {
        r.atKey(
          [...path, field],
          key,
          `${field} key '${key}' is set by model-images itself (app.kubernetes.io/name, app.kubernetes.io/managed-by, model-images/*); use another key`,
        );
      }
    }
  }
  if (isObject(raw.env)) {
    for (const name of Object.keys(raw.env)) {
      const problem = envNameProblem(name);
      if (problem !== undefined) {
        r.atKey([...path, "env"], name, problem);
      }
    }
  }
  if (typeof raw.memory === "string") {
    const bytes = quantityValue(raw.memory);
    if (bytes !== undefined && bytes > 0 && bytes < MIN_MEMORY_BYTES) {
      r.at(
        [...path, "memory"],
        `memory ${JSON.stringify(raw.memory)} is under 128Mi, too little for any model server; write the unit, e.g. 24Gi`,
      );
    }
  }
  if (Array.isArray(raw.tolerations)) {
    raw.tolerations.forEach((t, k) => {
      if (isObject(t)) {
        checkToleration(r, [...path, "tolerations", k], t as Toleration);
      }
    });
  }
}

/** Kubernetes' own toleration rules (core validation), which the CRD schema does not carry. */
function checkToleration(r: ServingReporter, path: Path, t: Toleration): void {
  const operator = t.operator ?? "Equal";
  if (t.key === undefined && operator !== "Exists") {
    r.at(
      path,
      "a toleration without a key must say operator: Exists (it then tolerates every taint); add a key such as nvidia.com/gpu",
    );
  }
  if (operator === "Exists" && typeof t.value === "string" && t.value !== "") {
    r.at(
      [...path, "value"],
      "a toleration with operator: Exists matches any value; remove value or use operator: Equal",
    );
  }
  if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
    r.at(
      [...path, "tolerationSeconds"],
      "tolerationSeconds applies only to effect: NoExecute; set that effect or remove tolerationSeconds",
    );
  }
}

/** Default cpu request per accelerator, when `serving` gives none (see lib/kserve resourcesFor). */
export const DEFAULT_CPU: Record<Accelerator, { request: string; limit: string }> = {
  cpu: { request: "2", limit: "4" },
  cuda: { request: "4", limit: "8" },
};

/**
 * Rules on the merged block of one variant. Each problem is reported where the deciding field is
 * written: the variant's own `serving` when it gives the field, else the model's.
 */
export function checkMergedServing(
  r: ServingReporter,
  modelPath: Path,
  variantPath: Path | undefined,
  model: ServingSpec | undefined,
  variant: ServingSpec | undefined,
  accelerator: Accelerator,
  label: string,
  kinds: readonly KServeKind[] | undefined,
): void {
  const merged = mergeServing(model, variant);
  const from = (field: keyof ServingSpec): Path =>
    variantPath !== undefined && variant?.[field] !== undefined
      ? [...variantPath, "serving", field]
      : [...modelPath, "serving", field];
  if (merged.gpus !== undefined && accelerator === "cpu") {
    r.at(
      from("gpus"),
      variantPath === undefined
        ? `gpus is for cuda variants, and model '${label}' has only the default cpu variant: remove gpus, or add variants: [{accelerator: cuda}]`
        : variant?.gpus !== undefined
          ? `gpus is for cuda variants; the cpu variant of model '${label}' runs without a GPU: remove gpus here`
          : `gpus is for cuda variants, but the cpu variant of model '${label}' inherits it from the model's serving; move gpus under the cuda variant's serving`,
    );
  }
  const min = merged.minReplicas ?? DEFAULT_MIN_REPLICAS;
  if (merged.maxReplicas !== undefined && min > merged.maxReplicas) {
    r.at(
      from(variant?.maxReplicas !== undefined ? "maxReplicas" : "minReplicas"),
      `minReplicas ${min}${merged.minReplicas === undefined ? " (the default)" : ""} is more than maxReplicas ${merged.maxReplicas} for the ${accelerator} variant of model '${label}'; minReplicas must be at most maxReplicas`,
    );
  }
  if (merged.cpuLimit !== undefined) {
    const request = merged.cpu ?? DEFAULT_CPU[accelerator].request;
    const [req, lim] = [quantityValue(request), quantityValue(merged.cpuLimit)];
    if (req !== undefined && lim !== undefined && req > lim) {
      r.at(
        from("cpuLimit"),
        `cpuLimit ${merged.cpuLimit} is below the cpu request ${request}${merged.cpu === undefined ? ` (the ${accelerator} default)` : ""} for the ${accelerator} variant of model '${label}'; Kubernetes requires request <= limit: raise cpuLimit or set cpu`,
      );
    }
  }
  for (const kind of kinds ?? []) {
    for (const p of kindProblems(merged, kind)) {
      r.at(
        from(p.field),
        `${p.message} (model '${label}', ${accelerator} variant, ${KIND_NAMES[kind]})`,
      );
    }
  }
}
