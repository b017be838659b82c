// The Pulumi program: models.yaml + stack config -> ECR repositories, CodeBuild projects, oci:// URIs.

import { ModelCatalog } from "./components";
import { readStackInputs } from "./components/config";

const inputs = readStackInputs(__dirname);

const catalog = new ModelCatalog("models", {
  images: inputs.images,
  settings: inputs.settings,
  huggingfaceToken: inputs.huggingfaceToken,
  projectDir: __dirname,
  region: inputs.region,
  awsIdentity: inputs.awsIdentity,
});

/** image name -> `oci://<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<model>:<tag>`, for KServe storageUri. */
export const modelUris = catalog.modelUris;
/** image name -> `oci://…@sha256:…`: the exact weights, immune to a re-pushed tag. */
export const modelDigestUris = catalog.modelDigestUris;
/** image name -> InferenceService YAML pinned to the digest (`hf://` for downloadAtRuntime images). */
export const kserveManifests = catalog.kserveManifests;
/** model -> ECR repository URL. */
export const repositories = catalog.repositoryUrls;
/** image name -> CodeBuild project name (`aws codebuild list-builds-for-project --project-name ...`). */
export const codeBuildProjects = catalog.codeBuildProjects;
/** Images not built (downloadAtRuntime) -> the Hub URI KServe downloads at start-up. */
export const skippedImages = catalog.skippedImages;
/** The S3 bucket holding the build source (CodeBuild builder only). */
export const sourceBucket = catalog.sourceBucket;
/** region -> image name -> {uri, digestUri} of the copies ECR replicates there (replicaRegions). */
export const replicaModelUris = catalog.replicaModelUris;
/** The SNS topic that hears of each build's end (notifyEmail / notifyTopicArn). */
export const buildEventsTopicArn = catalog.buildEventsTopicArn;
/** signing: cosign-kms: the Kyverno ClusterPolicy (YAML) that admits only this stack's signed images; apply it once per cluster. */
export const imagePolicy = catalog.imagePolicy;
/** signing: cosign-kms: the signing key's public half (PEM), for `cosign verify --key` and `kserve --policy --public-key`. */
export const signingPublicKey = catalog.signingKey?.publicKeyPem;
/** signing: cosign-kms: ARN of the KMS signing key. */
export const signingKeyArn = catalog.signingKey?.keyArn;
