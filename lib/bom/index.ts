// The bill of materials of a model image: CycloneDX ML-BOM from the provenance, and its OCI referrer.
export * from "./provenance";
export * from "./modelCard";
export * from "./cyclonedx";
export * from "./ociClient";
export * from "./referrer";
