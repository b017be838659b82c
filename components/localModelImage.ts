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
        // Re-tagging the same revision reuses the downloaded layers instead of fetching again.
        cacheFrom: [{ registry: { ref: cacheRef } }],
        cacheTo: [
          {
            registry: {
              ref: cacheRef,
              mode: dockerbuild.CacheMode.Max,
              imageManifest: true,
              ociMediaTypes: true,
            },
          },
        ],
        registries: args.auth ? [args.auth] : undefined,
      },
      { parent: this },
    );
    this.digest = this.image.digest;
    this.digestRef = pulumi.interpolate`${repo}@${this.image.digest}`;
    this.registerOutputs({ ref: this.ref, digest: this.digest });
  }
}
