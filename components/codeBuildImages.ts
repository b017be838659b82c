// The CodeBuild builder: the build source, token, signing key, cache and notifications, then per image
// a CodeBuild project and the ModelImage that starts a build only when the image's tag is missing.

import * as pulumi from "@pulumi/pulumi";
import { type AwsIdentity, identityInputs } from "../lib/awsIdentity";
import { BUILD_SOURCE_ENV, buildInputs } from "../lib/buildEnv";
import { renderImagePolicy } from "../lib/imagePolicy";
import { toYaml } from "../lib/kserve";
import type { ImageSpec } from "../lib/manifest";
import { codeBuildProjectName, ociDigestUri, ociTagUri, WAIT_MARGIN_MINUTES } from "../lib/naming";
import type { StackSettings } from "../lib/settings";
import { BuildNotifications } from "./buildNotifications";
import { BuildSource } from "./buildSource";
import type { BuiltImage } from "./builtImage";
import { HuggingfaceToken } from "./huggingfaceToken";
import { ModelBuildProject } from "./modelBuildProject";
import { ModelImage } from "./modelImage";
import type { ModelRepository } from "./modelRepository";
import { PullThroughCache } from "./pullThroughCache";
import { SigningKey, signingEnvironment, signingStatement } from "./signingKey";

/** The stack settings the CodeBuild builder reads, and no others. */
export type CodeBuildSettings = Pick<
  StackSettings,
  | "stack"
  | "registryPrefix"
  | "forceDeleteRepositories"
  | "retainRepositoriesOnDestroy"
  | "pullThroughCache"
  | "dockerHubCredentialArn"
  | "notifyEmail"
  | "notifyTopicArn"
  | "signing"
  | "buildTimeoutMinutes"
  | "buildPollSeconds"
  | "logRetentionDays"
  | "maxLayerBytes"
  | "rebuildOnSourceChange"
>;

export interface CodeBuildImagesArgs {
  /** The images to build (none of them downloadAtRuntime). */
  images: readonly ImageSpec[];
  /** model -> its ECR repository, where the build pushes. */
  repositories: Record<string, ModelRepository>;
  /** The stack's ECR registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  registry: pulumi.Output<string>;
  /** The account the stack deploys to. */
  accountId: pulumi.Output<string>;
  /** `aws:region` of the stack. */
  region: string;
  /** Directory holding docker/, buildspec/ and the CLI's sources (bundled into the build source). */
  projectDir: string;
  /** The HuggingFace token (a Pulumi secret); without it no secret is created. */
  huggingfaceToken?: pulumi.Input<string>;
  /** The stack's AWS identity (aws:profile, aws:assumeRoles); ModelImage acts as it. */
  awsIdentity?: AwsIdentity;
  /** Tags for every taggable resource. */
  tags: Record<string, string>;
  settings: CodeBuildSettings;
}

/** What the CodeBuild builder made; ModelCatalog exports parts of it. */
export interface CodeBuildImages {
  source: BuildSource;
  token?: HuggingfaceToken;
  pullThrough?: PullThroughCache;
  notifications?: BuildNotifications;
  signingKey?: SigningKey;
  /** The Kyverno ClusterPolicy (YAML) admitting only this stack's signed images. */
  imagePolicy?: pulumi.Output<string>;
  /** image name -> its project (and role). */
  projects: Record<string, ModelBuildProject>;
  /** image name -> CodeBuild project name. */
  projectNames: Record<string, string>;
  /** image name -> the ModelImage that builds or adopts it. */
  modelImages: Record<string, ModelImage>;
  /** image name -> its URIs. */
  built: Record<string, BuiltImage>;
}

/**
 * Build `args.images` with CodeBuild. A function, not a component: its resources stay children of
 * `parent` (the catalogue), so their URNs are the ones existing stacks hold.
 */
export function buildWithCodeBuild(
  name: string,
  args: CodeBuildImagesArgs,
  parent: pulumi.Resource,
): CodeBuildImages {
  const s = args.settings;
  const { tags } = args;
  const opts = { parent };
  const source = new BuildSource(
    `${name}-source`,
    { projectDir: args.projectDir, forceDestroy: s.forceDeleteRepositories, tags },
    opts,
  );
  const pullThrough = s.pullThroughCache
    ? new PullThroughCache(
        `${name}-pull-through`,
        {
          stack: s.stack,
          registryPrefix: s.registryPrefix,
          dockerHubCredentialArn: s.dockerHubCredentialArn || undefined,
          registryHost: args.registry,
          region: args.region,
          accountId: args.accountId,
        },
        opts,
      )
    : undefined;
  // Before any build starts, so that the first build's end is reported too.
  const notifications =
    s.notifyEmail !== "" || s.notifyTopicArn !== ""
      ? new BuildNotifications(
          `${name}-notify`,
          {
            builds: args.images.map((i) => ({
              image: i.name,
              projectName: codeBuildProjectName(s.stack, i.name),
              imageRef: pulumi.interpolate`${args.repositories[i.model].url}:${i.tag}`,
            })),
            email: s.notifyEmail || undefined,
            topicArn: s.notifyTopicArn || undefined,
            region: args.region,
            accountId: args.accountId,
            tags,
          },
          opts,
        )
      : undefined;
  const token =
    args.huggingfaceToken === undefined
      ? undefined
      : new HuggingfaceToken(
          `${name}-hf-token`,
          {
            token: args.huggingfaceToken,
            recoveryWindowInDays: s.retainRepositoriesOnDestroy ? 30 : 0,
            tags,
          },
          opts,
        );
  const signingKey =
    s.signing === "cosign-kms"
      ? new SigningKey(`${name}-signing`, { stack: s.stack, accountId: args.accountId, tags }, opts)
      : undefined;

  const projects: Record<string, ModelBuildProject> = {};
  const projectNames: Record<string, string> = {};
  for (const image of args.images) {
    const repository = args.repositories[image.model];
    const projectName = codeBuildProjectName(s.stack, image.name);
    projects[image.name] = new ModelBuildProject(
      `${name}-${image.name}`,
      {
        image,
        projectName,
        region: args.region,
        repositoryArn: repository.arn,
        repositoryUrl: repository.url,
        sourceBucketName: source.bucketName,
        sourceBucketArn: source.bucketArn,
        sourceObjectKey: source.objectKey,
        // Only gated images get the secret: an ungated build has no reason to read it.
        tokenSecretArn: image.gated ? token?.secretArn : undefined,
        accountId: args.accountId,
        buildTimeoutMinutes: s.buildTimeoutMinutes,
        logRetentionDays: s.logRetentionDays,
        maxLayerBytes: s.maxLayerBytes,
        additionalEnvironment: pulumi
          .all([pullThrough?.environment ?? [], signingKey?.keyArn ?? ""])
          .apply(([cache, keyArn]) => [...cache, ...signingEnvironment(keyArn)]),
        additionalStatements: [
          ...(pullThrough ? [pullThrough.policyStatement] : []),
          ...(signingKey ? [signingKey.keyArn.apply(signingStatement)] : []),
        ],
        tags: { ...tags, Model: image.model, Accelerator: image.accelerator },
      },
      opts,
    );
    projectNames[image.name] = projectName;
  }

  // The key policy names every build role, so it exists only after them, and builds after it.
  const keyPolicy = signingKey?.allowSigners(args.images.map((i) => projects[i.name].role.arn));
  const modelImages: Record<string, ModelImage> = {};
  const built: Record<string, BuiltImage> = {};
  for (const image of args.images) {
    // Checks ECR for the tag during `pulumi up`; starts (or adopts) a build only when it is missing.
    const modelImage = new ModelImage(
      `${name}-${image.name}-image`,
      {
        region: args.region,
        registryId: args.accountId,
        repositoryName: image.repositoryName,
        tag: image.tag,
        projectName: projectNames[image.name],
        // No sourceVersion: the archive key is content-addressed, so the build reads the current
        // object at the project's key, and a new stack's first archive needs no version id that
        // S3 may not have propagated yet (see BuildSource). The key rides along as a build
        // variable, so a changed docker/ or buildspec/ is a changed input.
        // The same values as the project's variables: with rebuildOnSourceChange, a new revision
        // (or include list, base image, build source...) under an unchanged MUTABLE tag rebuilds it.
        environment: {
          ...buildInputs(image, s.maxLayerBytes),
          [BUILD_SOURCE_ENV]: source.objectKey,
        },
        rebuildOnChange: s.rebuildOnSourceChange,
        // An unsigned tag (a build whose signing failed after its push) is signed before adoption.
        requireSignature: s.signing !== "none",
        timeoutMinutes: s.buildTimeoutMinutes + WAIT_MARGIN_MINUTES,
        pollIntervalSeconds: s.buildPollSeconds,
        // The clients act as the stack's aws provider does (names only; no credentials in state).
        ...identityInputs(args.awsIdentity ?? {}),
      },
      {
        parent,
        dependsOn: [
          projects[image.name],
          source.object,
          args.repositories[image.model],
          ...(notifications ? [notifications] : []),
          ...(keyPolicy ? [keyPolicy] : []),
        ],
      },
    );
    modelImages[image.name] = modelImage;
    built[image.name] = {
      uri: args.registry.apply((r) => ociTagUri(r, image.repositoryName, image.tag)),
      digestUri: pulumi
        .all([args.registry, modelImage.imageDigest])
        .apply(([r, digest]) => ociDigestUri(r, image.repositoryName, digest)),
    };
  }

  const imagePolicy = signingKey
    ? pulumi.all([args.registry, signingKey.publicKeyPem]).apply(([registryHost, publicKeyPem]) =>
        toYaml([
          renderImagePolicy({
            stack: s.stack,
            registryHost,
            registryPrefix: s.registryPrefix,
            publicKeyPem,
          }),
        ]),
      )
    : undefined;
  return {
    source,
    token,
    pullThrough,
    notifications,
    signingKey,
    imagePolicy,
    projects,
    projectNames,
    modelImages,
    built,
  };
}
