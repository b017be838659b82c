// The local builder: per image a docker-build (BuildKit) build on the machine running `pulumi up`,
// pushed to the stack's ECR repositories or to another registry (e.g. localhost:5000), no CodeBuild.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ImageSpec } from "../lib/manifest";
import type { StackSettings } from "../lib/settings";
import type { BuiltImage } from "./builtImage";
import { LocalModelImage, type RegistryAuth } from "./localModelImage";
import type { ModelRepository } from "./modelRepository";

/** The stack settings the local builder reads, and no others. */
export type LocalBuildSettings = Pick<StackSettings, "maxLayerBytes" | "buildxBuilder">;

export interface LocalImagesArgs {
  /** The images to build (none of them downloadAtRuntime). */
  images: readonly ImageSpec[];
  /** Registry host: the stack's ECR registry, or the `registry` setting (e.g. `localhost:5000`). */
  registry: pulumi.Output<string>;
  /**
   * ECR only: model -> its repository. Each push waits for its repository (ECR does not create
   * repositories on push) and logs in with an ECR authorization token. Absent for another registry.
   */
  repositories?: Record<string, ModelRepository>;
  /** Directory holding docker/. */
  projectDir: string;
  /** The HuggingFace token (a Pulumi secret), for gated builds only. */
  huggingfaceToken?: pulumi.Input<string>;
  settings: LocalBuildSettings;
}

/** What the local builder made. */
export interface LocalImages {
  /** image name -> its docker-build image. */
  images: Record<string, LocalModelImage>;
  /** image name -> its URIs. */
  built: Record<string, BuiltImage>;
}

/**
 * Build `args.images` with docker-build. A function, not a component: its resources stay children
 * of `parent` (the catalogue), so their URNs are the ones existing stacks hold.
 */
export function buildLocally(
  name: string,
  args: LocalImagesArgs,
  parent: pulumi.Resource,
): LocalImages {
  const repositories = args.repositories;
  const auth = repositories ? ecrAuth(parent, args.registry) : undefined;
  const images: Record<string, LocalModelImage> = {};
  const built: Record<string, BuiltImage> = {};
  for (const image of args.images) {
    const local = new LocalModelImage(
      `${name}-${image.name}`,
      {
        image,
        registry: args.registry,
        projectDir: args.projectDir,
        maxLayerBytes: args.settings.maxLayerBytes,
        huggingfaceToken: args.huggingfaceToken,
        auth,
        builderName: args.settings.buildxBuilder,
      },
      { parent, dependsOn: repositories ? [repositories[image.model]] : [] },
    );
    images[image.name] = local;
    built[image.name] = {
      uri: pulumi.interpolate`oci://${local.ref}`,
      digestUri: pulumi.interpolate`oci://${local.digestRef}`,
    };
  }
  return { images, built };
}

/** Docker credentials for the stack's ECR registry; the password stays a Pulumi secret. */
function ecrAuth(parent: pulumi.Resource, registry: pulumi.Output<string>): RegistryAuth {
  const token = aws.ecr.getAuthorizationTokenOutput({}, { parent });
  return { address: registry, username: token.userName, password: pulumi.secret(token.password) };
}
