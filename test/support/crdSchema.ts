// Validating rendered Kubernetes objects against a CRD's openAPIV3Schema the way the API server prunes them.
/* eslint-disable @typescript-eslint/no-explicit-any -- CRD schemas and rendered documents are untyped JSON here */

/**
 * Kubernetes keeps unknown fields out silently (or rejects them with kubectl's strict field
 * validation); JSON Schema lets them through. Close every object that lists its properties, and
 * keep only the branches the documents use: the full PodSpec-heavy schemas take seconds to compile.
 */
export function strictPruned(schema: any, values: unknown[]): any {
  if (schema === null || typeof schema !== "object") {
    return schema;
  }
  const objects = values.filter(
    (v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v),
  );
  const out: any = { ...schema };
  if (schema.properties) {
    const used = new Set(objects.flatMap((o) => Object.keys(o)));
    out.properties = {};
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (used.has(key)) {
        out.properties[key] = strictPruned(
          sub,
          objects.map((o) => o[key]).filter((v) => v !== undefined),
        );
      }
    }
    if (
      schema.additionalProperties === undefined &&
      !schema["x-kubernetes-preserve-unknown-fields"]
    ) {
      out.additionalProperties = false;
    }
  }
  if (schema.items) {
    out.items = strictPruned(schema.items, values.filter(Array.isArray).flat());
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    out.additionalProperties = strictPruned(
      schema.additionalProperties,
      objects.flatMap((o) => Object.values(o)),
    );
  }
  return out;
}
