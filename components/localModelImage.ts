// Builds one image on the machine running `pulumi up` with docker-build (BuildKit), no CodeBuild involved.

import * as path from "node:path";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { dockerBuildArgs } from "../lib/buildEnv";
import type { ImageSpec } from "../lib/manifest";
import { buildCacheTag } from "../lib/naming";

export interface RegistryAuth {
  address: pulumi.Input<string>;
  username: pulumi.Input<string>;
  /** A Pulumi secret (e.g. an ECR authorization token). */
  password: pulumi.Input<string>;
}

export interface LocalModelImageArgs {
  image: ImageSpec;
  /** Registry host (`<account>.dkr.ecr.<region>.amazonaws.com`, `localhost:5000`). */
  registry: pulumi.Input<string>;
  /** Project directory holding docker/. */
  projectDir: string;
  maxLayerBytes: number;
  /** The HuggingFace token (a Pulumi secret), sent only to gated builds as the BuildKit secret `hf_token`. */
  huggingfaceToken?: pulumi.Input<string>;
  /** Credentials for the registry; none for an open local registry. */
  auth?: RegistryAuth;
  /** An existing buildx builder (`buildxBuilder` setting); empty or absent uses docker-build's default. */
  builderName?: string;
}

export class LocalModelImage extends pulumi.ComponentResource {
  readonly image: dockerbuild.Image;
  /** `<registry>/<repo>:<tag>`. */
  readonly ref: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;
  /** `<registry>/<repo>@sha256:…`. */
  readonly digestRef: pulumi.Output<string>;

  constructor(name: string, args: LocalModelImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:build:LocalModelImage", name, {}, opts);
    const { image } = args;
    const repo = pulumi.interpolate`${args.registry}/${image.repositoryName}`;
    this.ref = pulumi.interpolate`${repo}:${image.tag}`;
    const cacheRef = pulumi.interpolate`${repo}:${buildCacheTag(image.accelerator, image.revision)}`;
    const secrets =
      image.gated && args.huggingfaceToken !== undefined
        ? { hf_token: pulumi.secret(args.huggingfaceToken) }
        : undefined;
    this.image = new dockerbuild.Image(
      `${name}-image`,
      {
        context: { location: path.join(args.projectDir, "docker") },
        dockerfile: { location: path.join(args.projectDir, "docker", "Dockerfile") },
        buildArgs: dockerBuildArgs(image, args.maxLayerBytes),
        secrets,
        platforms: image.platforms as dockerbuild.Platform[],
        tags: [this.ref],
        push: true,
        // docker-build's docs: "Defaults to true as a safeguard against broken images merging as part
        // of CI pipelines." Here a preview would download the whole model just to show a diff.
        buildOnPreview: false,
        // The default docker-container builder runs in its own network namespace, where localhost:5000
        // is not the host's registry; a builder created with `--driver-opt network=host` shares it.
        builder: args.builderName ? { name: args.builderName } : undefined,
        // Re-tagging the same revision reuses the downloaded layers instead of fetching again.
        cacheFrom: [{ registry: { ref: cacheRef } }],
        cacheTo: [
          {
            registry: {
              ref: cacheRef,
              // min, as in buildspec/buildspec.yml (which quotes Docker's cache-backend docs): max would
              // also export the download stage, a second copy of the weights in every push. The final
              // stage's COPY layers are still cached, so a re-tag of the same revision skips the download.
              mode: dockerbuild.CacheMode.Min,
              imageManifest: true,
              ociMediaTypes: true,
            },
          },
        ],
        registries: args.auth ? [args.auth] : undefined,
      },
      // docker-build's docs: "When a `Image` is deleted, it will _attempt_ to also delete any pushed
      // tags." and "Use the `retainOnDelete: true` option if you do not want tags deleted." Images
      // outlive the stack: an InferenceService may still pull them.
      { parent: this, retainOnDelete: true },
    );
    this.digest = this.image.digest;
    this.digestRef = pulumi.interpolate`${repo}@${this.image.digest}`;
    this.registerOutputs({ ref: this.ref, digest: this.digest });
  }
}
