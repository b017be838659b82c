// The whole catalogue: build source, token secret, a repository per model and a build project per image.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ImageSpec } from "../lib/manifest";
import type { StackSettings } from "../lib/settings";
import { BuildSource } from "./buildSource";
import { HuggingfaceToken } from "./huggingfaceToken";
import { ModelBuildProject } from "./modelBuildProject";
import { ModelImage } from "./modelImage";
import { ModelRepository } from "./modelRepository";

export interface ModelCatalogArgs {
  /** Expanded images from the validated manifest. */
  images: ImageSpec[];
  settings: StackSettings;
  /** The HuggingFace token (a Pulumi secret); without it no secret is created. */
  huggingfaceToken?: pulumi.Input<string>;
  /** Directory holding docker/ and buildspec/. */
  projectDir: string;
  /** `aws:region` of the stack. */
  region: string;
}

/** One built image: its spec, the project that builds it, and the tag check that drives the build. */
export interface ImageBuildTarget {
  image: ImageSpec;
  projectName: string;
  project: ModelBuildProject;
  repository: ModelRepository;
  modelImage: ModelImage;
}

/** Our own wait outlasts CodeBuild's build timeout by this much (queueing, provisioning). */
export const WAIT_MARGIN_MINUTES = 30;

/** CodeBuild project names: `[A-Za-z0-9][A-Za-z0-9-_]*`, unique per stack and image. */
export function codeBuildProjectName(stack: string, imageName: string): string {
  return `model-images-${stack}-${imageName}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

export class ModelCatalog extends pulumi.ComponentResource {
  readonly source: BuildSource;
  readonly token?: HuggingfaceToken;
  readonly repositories: Record<string, ModelRepository> = {};
  readonly targets: Record<string, ImageBuildTarget> = {};
  /** image name -> `oci://<registry>/<repo>:<tag>`. */
  readonly modelUris: pulumi.Output<Record<string, string>>;
  /** image name -> `oci://<registry>/<repo>@sha256:…`, from the built or adopted image. */
  readonly modelDigestUris: pulumi.Output<Record<string, string>>;
  /** model -> repository URL. */
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** image name -> CodeBuild project name. */
  readonly codeBuildProjects: Record<string, string>;
  /** Images not built (downloadAtRuntime), with the Hub URI KServe downloads from. */
  readonly skippedImages: Record<string, string>;
  readonly sourceBucket: pulumi.Output<string>;

  constructor(name: string, args: ModelCatalogArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:index:ModelCatalog", name, {}, opts);
    const s = args.settings;
    const tags = { Project: "model-images", Stack: s.stack, ManagedBy: "pulumi" };
    const built = args.images.filter((i) => !i.skipped);

    this.source = new BuildSource(
      `${name}-source`,
      { projectDir: args.projectDir, forceDestroy: s.forceDeleteRepositories, tags },
      { parent: this },
    );
    this.sourceBucket = this.source.bucketName;
    const needsToken = built.some((i) => i.gated);
    if (args.huggingfaceToken !== undefined) {
      this.token = new HuggingfaceToken(
        `${name}-hf-token`,
        {
          token: args.huggingfaceToken,
          recoveryWindowInDays: s.retainRepositoriesOnDestroy ? 30 : 0,
          tags,
        },
        { parent: this },
      );
    } else if (needsToken) {
      // parseManifest already rejects this; the check keeps the component safe on its own.
      throw new pulumi.RunError(
        `gated models need the huggingface-token config on stack '${s.stack}'`,
      );
    }

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    for (const model of [...new Set(built.map((i) => i.model))]) {
      const image = built.find((i) => i.model === model) as ImageSpec;
      this.repositories[model] = new ModelRepository(
        `${name}-${model}`,
        {
          repositoryName: image.repositoryName,
          imageTagMutability: s.imageTagMutability,
          scanOnPush: s.scanOnPush,
          kmsKeyArn: s.kmsKeyArn,
          forceDelete: s.forceDeleteRepositories,
          retainOnDelete: s.retainRepositoriesOnDestroy,
          imageExpiryDays: s.imageExpiryDays,
          untaggedExpiryDays: s.untaggedExpiryDays,
          tags: { ...tags, Model: model },
        },
        { parent: this },
      );
    }
    for (const image of built) {
      const repository = this.repositories[image.model];
      const projectName = codeBuildProjectName(s.stack, image.name);
      const project = new ModelBuildProject(
        `${name}-${image.name}`,
        {
          image,
          projectName,
          repositoryArn: repository.arn,
          repositoryUrl: repository.url,
          sourceBucketName: this.source.bucketName,
          sourceBucketArn: this.source.bucketArn,
          sourceObjectKey: this.source.objectKey,
          // Only gated images get the secret: an ungated build has no reason to read it.
          tokenSecretArn: image.gated ? this.token?.secretArn : undefined,
          accountId: identity.accountId,
          partition: partition.partition,
          buildTimeoutMinutes: s.buildTimeoutMinutes,
          logRetentionDays: s.logRetentionDays,
          maxLayerBytes: s.maxLayerBytes,
          tags: { ...tags, Model: image.model, Accelerator: image.accelerator },
        },
        { parent: this },
      );
      // Checks ECR for the tag during `pulumi up`; starts (or adopts) a build only when it is missing.
      const modelImage = new ModelImage(
        `${name}-${image.name}-image`,
        {
          region: args.region,
          registryId: identity.accountId,
          repositoryName: image.repositoryName,
          tag: image.tag,
          projectName,
          sourceVersion: this.source.objectVersion,
          waitForBuild: s.waitForBuilds,
          timeoutMinutes: s.buildTimeoutMinutes + WAIT_MARGIN_MINUTES,
          pollIntervalSeconds: s.buildPollSeconds,
          deleteImageOnDestroy: s.deleteImagesOnDestroy,
        },
        { parent: this, dependsOn: [project, this.source.object, repository] },
      );
      this.targets[image.name] = { image, projectName, project, repository, modelImage };
    }

    this.modelUris = pulumi.all(
      Object.fromEntries(
        built.map((i) => [
          i.name,
          pulumi.interpolate`oci://${this.repositories[i.model].url}:${i.tag}`,
        ]),
      ),
    );
    this.modelDigestUris = pulumi.all(
      Object.fromEntries(
        Object.entries(this.targets).map(([n, t]) => [
          n,
          pulumi.interpolate`oci://${t.modelImage.digestUri}`,
        ]),
      ),
    );
    this.repositoryUrls = pulumi.all(
      Object.fromEntries(Object.entries(this.repositories).map(([m, r]) => [m, r.url])),
    );
    this.codeBuildProjects = Object.fromEntries(
      Object.entries(this.targets).map(([n, t]) => [n, t.projectName]),
    );
    this.skippedImages = Object.fromEntries(
      args.images.filter((i) => i.skipped).map((i) => [i.name, `hf://${i.source}`]),
    );
    this.registerOutputs({
      modelUris: this.modelUris,
      modelDigestUris: this.modelDigestUris,
      repositories: this.repositoryUrls,
      codeBuildProjects: this.codeBuildProjects,
      skippedImages: this.skippedImages,
      sourceBucket: this.sourceBucket,
    });
  }
}
