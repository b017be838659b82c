// The ModelImage resource: one ECR tag that exists after `pulumi up`, adopted when present, else built once by its CodeBuild project.

import * as pulumi from "@pulumi/pulumi";
import type { AwsIdentity } from "../../lib/awsIdentity";
import { modelImageProvider } from "./provider";

/** Arguments of the ModelImage resource (see ModelImageInputs for each field). */
export interface ModelImageArgs extends AwsIdentity {
  /** AWS region of the repository and the CodeBuild project. */
  region: pulumi.Input<string>;
  /** Registry (account) id of the repository. */
  registryId: pulumi.Input<string>;
  /** ECR repository name; it must already exist. */
  repositoryName: pulumi.Input<string>;
  /** Image tag to make exist; a change replaces the resource (and so builds the new tag). */
  tag: pulumi.Input<string>;
  /** CodeBuild project that builds and pushes the image. */
  projectName: pulumi.Input<string>;
  /** S3 object version of the build source, when the key is not content-addressed; a change rebuilds an existing tag only with `rebuildOnChange`. */
  sourceVersion?: pulumi.Input<string>;
  /** Non-secret environment overrides for StartBuild (the build's inputs). Never put the HF token here. */
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** How long to wait for a build, queue included, in minutes. */
  timeoutMinutes: pulumi.Input<number>;
  /** First poll interval in seconds. */
  pollIntervalSeconds: pulumi.Input<number>;
  /** Rebuild the (MUTABLE) tag in place when sourceVersion or environment changes. */
  rebuildOnChange: pulumi.Input<boolean>;
  /** Adopt a tag only once its digest is signed (cosign's `sha256-<hex>.sig` tag); sign it with a build if not. */
  requireSignature?: pulumi.Input<boolean>;
}

/**
 * An image tag in ECR that exists after `pulumi up`: adopted when already pushed, else built once
 * by the CodeBuild project. Outputs `imageDigest` for KServe; never deletes an image.
 */
export class ModelImage extends pulumi.dynamic.Resource {
  /** `sha256:…` of the tag's manifest or index. */
  declare readonly imageDigest: pulumi.Output<string>;
  /** The CodeBuild build that made the image, when this resource ran one. */
  declare readonly buildId: pulumi.Output<string | undefined>;

  constructor(name: string, args: ModelImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      modelImageProvider,
      name,
      {
        ...args,
        // Outputs must be named here (as undefined) to be readable on the resource.
        imageDigest: undefined,
        buildId: undefined,
      },
      opts,
    );
  }
}
