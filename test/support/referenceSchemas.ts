// Where the vendored reference schemas live (test/fixtures/reference, see its README).

import * as path from "node:path";

export const REFERENCE_DIR = path.resolve(__dirname, "../fixtures/reference");
/** Pulumi's JSON Schema for Pulumi.yaml. */
export const PULUMI_PROJECT_SCHEMA = path.join(REFERENCE_DIR, "pulumi", "project.schema.json");
/** KServe's InferenceService and LLMInferenceService CRDs. */
export const KSERVE_CRD_DIR = path.join(REFERENCE_DIR, "kserve");
/** Kyverno's ClusterPolicy CRD. */
export const KYVERNO_CLUSTER_POLICY_CRD = path.join(
  REFERENCE_DIR,
  "kyverno",
  "kyverno.io_clusterpolicies.yaml",
);
/** SchemaStore's published JSON Schema for GitHub Actions workflow files. */
export const GITHUB_WORKFLOW_SCHEMA = path.join(REFERENCE_DIR, "github", "github-workflow.json");
