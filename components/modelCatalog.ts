// The whole catalogue: a repository per model and, per image, a CodeBuild build or a local docker build.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_SOURCE_ENV, buildInputs } from "../lib/buildEnv";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderImagePolicy } from "../lib/imagePolicy";
import { renderKServe, toYaml } from "../lib/kserve";
import type { ImageSpec } from "../lib/manifest";
import { type AwsIdentity, identityInputs } from "../lib/awsIdentity";
import {
  codeBuildProjectName,
  ecrRegistryHost,
  ociDigestUri,
  ociTagUri,
  WAIT_MARGIN_MINUTES,
} from "../lib/naming";
import { type ReplicaUris, replicaUris } from "../lib/replicas";
import type { StackSettings } from "../lib/settings";
import { BuildNotifications } from "./buildNotifications";
import { BuildSource } from "./buildSource";
import { HuggingfaceToken } from "./huggingfaceToken";
import { LocalModelImage, RegistryAuth } from "./localModelImage";
import { ModelBuildProject } from "./modelBuildProject";
import { ModelImage } from "./modelImage";
import { ModelRepository } from "./modelRepository";
import { PullThroughCache } from "./pullThroughCache";
import { RegistryReplication } from "./registryReplication";
import { SigningKey, signingEnvironment, signingStatement } from "./signingKey";
import { CLI_BUNDLE } from "../lib/sourceFiles";

export interface ModelCatalogArgs {
  /** Expanded images from the validated manifest. */
  images: ImageSpec[];
  settings: StackSettings;
  /** The HuggingFace token (a Pulumi secret); without it no secret is created. */
  huggingfaceToken?: pulumi.Input<string>;
  /** Directory holding docker/ and buildspec/. */
  projectDir: string;
  /** `aws:region` of the stack (unused when a local build pushes to a non-ECR registry). */
  region: string;
  /** The stack's AWS identity (aws:profile, aws:assumeRoles); ModelImage acts as it. */
  awsIdentity?: AwsIdentity;
}

/** What every builder yields per image. */
interface BuiltImage {
  /** `oci://<registry>/<repo>:<tag>`. */
  uri: pulumi.Output<string>;
  /** `oci://<registry>/<repo>@sha256:…`. */
  digestUri: pulumi.Output<string>;
}

export class ModelCatalog extends pulumi.ComponentResource {
  readonly source?: BuildSource;
  readonly token?: HuggingfaceToken;
  readonly repositories: Record<string, ModelRepository> = {};
  readonly projects: Record<string, ModelBuildProject> = {};
  readonly modelImages: Record<string, ModelImage> = {};
  readonly localImages: Record<string, LocalModelImage> = {};
  /** image name -> `oci://<registry>/<repo>:<tag>`. */
  readonly modelUris: pulumi.Output<Record<string, string>>;
  /** image name -> `oci://<registry>/<repo>@sha256:…`, from the built or adopted image. */
  readonly modelDigestUris: pulumi.Output<Record<string, string>>;
  /** image name -> KServe YAML of the stack's kserveKinds (digest-pinned; `hf://` for downloadAtRuntime images). */
  readonly kserveManifests: pulumi.Output<Record<string, string>>;
  /** model -> repository URL. */
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** image name -> CodeBuild project name (empty with the local builder). */
  readonly codeBuildProjects: Record<string, string> = {};
  /** Images not built (downloadAtRuntime), with the Hub URI KServe downloads from. */
  readonly skippedImages: Record<string, string>;
  /** The build source bucket (CodeBuild only). */
  readonly sourceBucket?: pulumi.Output<string>;
  readonly pullThrough?: PullThroughCache;
  readonly notifications?: BuildNotifications;
  readonly replication?: RegistryReplication;
  /** region -> image name -> URIs of the replica (replicaRegions; empty without). */
  readonly replicaModelUris: pulumi.Output<Record<string, Record<string, ReplicaUris>>>;
  /** The SNS topic told of each build's end (notifyEmail / notifyTopicArn). */
  readonly buildEventsTopicArn?: pulumi.Output<string>;
  /** The signing key (signing: cosign-kms). */
  readonly signingKey?: SigningKey;
  /** The Kyverno ClusterPolicy (YAML) admitting only this stack's signed images; `kserve --policy` prints the same. */
  readonly imagePolicy?: pulumi.Output<string>;

  constructor(name: string, args: ModelCatalogArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:index:ModelCatalog", name, {}, opts);
    const s = args.settings;
    const tags = { Project: "model-images", Stack: s.stack, ManagedBy: "pulumi" };
    const built = args.images.filter((i) => !i.skipped);
    if (args.huggingfaceToken === undefined && built.some((i) => i.gated)) {
      // parseManifest already rejects this; the check keeps the component safe on its own.
      throw new pulumi.RunError(
        `gated models need the huggingface-token config on stack '${s.stack}'`,
      );
    }
    // A local build into a non-ECR registry must not touch AWS at all: no resource, no call.
    if (s.signing !== "none" && s.builder !== "codebuild") {
      throw new pulumi.RunError(
        `signing: ${s.signing} on stack '${s.stack}' needs builder: codebuild (the CodeBuild build signs what it pushes); set signing: none for builder: ${s.builder}`,
      );
    }
    const usesAws = s.builder === "codebuild" || s.registry === "";
    const identity = usesAws ? aws.getCallerIdentityOutput({}, { parent: this }) : undefined;
    const registry: pulumi.Output<string> = identity
      ? identity.accountId.apply((id) => ecrRegistryHost(id, args.region))
      : pulumi.output(s.registry);

    const repoUrls: Record<string, pulumi.Output<string>> = {};
    for (const model of [...new Set(built.map((i) => i.model))]) {
      const image = built.find((i) => i.model === model) as ImageSpec;
      if (usesAws) {
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
        repoUrls[model] = this.repositories[model].url;
      } else {
        repoUrls[model] = pulumi.interpolate`${registry}/${image.repositoryName}`;
      }
    }

    const results: Record<string, BuiltImage> = {};
    if (s.builder === "codebuild") {
      const account = identity as pulumi.Output<aws.GetCallerIdentityResult>;
      this.source = new BuildSource(
        `${name}-source`,
        { projectDir: args.projectDir, forceDestroy: s.forceDeleteRepositories, tags },
        { parent: this },
      );
      this.sourceBucket = this.source.bucketName;
      if (s.pullThroughCache) {
        this.pullThrough = new PullThroughCache(
          `${name}-pull-through`,
          {
            stack: s.stack,
            registryPrefix: s.registryPrefix,
            dockerHubCredentialArn: s.dockerHubCredentialArn || undefined,
            registryHost: registry,
            region: args.region,
            accountId: account.accountId,
          },
          { parent: this },
        );
      }
      if (s.notifyEmail !== "" || s.notifyTopicArn !== "") {
        // Before any build starts, so that the first build's end is reported too.
        this.notifications = new BuildNotifications(
          `${name}-notify`,
          {
            builds: built.map((i) => ({
              image: i.name,
              projectName: codeBuildProjectName(s.stack, i.name),
              imageRef: pulumi.interpolate`${this.repositories[i.model].url}:${i.tag}`,
            })),
            email: s.notifyEmail || undefined,
            topicArn: s.notifyTopicArn || undefined,
            region: args.region,
            accountId: account.accountId,
            tags,
          },
          { parent: this },
        );
        this.buildEventsTopicArn = this.notifications.topicArn;
      }
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
      }
      if (s.signing === "cosign-kms") {
        this.signingKey = new SigningKey(
          `${name}-signing`,
          { stack: s.stack, accountId: account.accountId, tags },
          { parent: this },
        );
      }
      const attachBom = fs.existsSync(path.join(args.projectDir, CLI_BUNDLE));
      if (!attachBom) {
        pulumi.log.warn(
          `${CLI_BUNDLE} is missing, so builds attach no BOM to their images: run npm run build:cli before pulumi up`,
          this,
        );
      }
      for (const image of built) {
        this.addProject(name, image, args, account, tags, attachBom);
      }
      // The key policy names every build role, so it exists only after them, and builds after it.
      const keyPolicy = this.signingKey?.allowSigners(
        built.map((i) => this.projects[i.name].role.arn),
      );
      for (const image of built) {
        results[image.name] = this.buildWithCodeBuild(
          name,
          image,
          args,
          account,
          registry,
          keyPolicy,
        );
      }
      if (this.signingKey) {
        this.imagePolicy = pulumi
          .all([registry, this.signingKey.publicKeyPem])
          .apply(([registryHost, publicKeyPem]) =>
            toYaml([
              renderImagePolicy({
                stack: s.stack,
                registryHost,
                registryPrefix: s.registryPrefix,
                publicKeyPem,
              }),
            ]),
          );
      }
    } else {
      const auth = usesAws ? ecrAuth(this, registry) : undefined;
      for (const image of built) {
        const local = new LocalModelImage(
          `${name}-${image.name}`,
          {
            image,
            registry,
            projectDir: args.projectDir,
            maxLayerBytes: s.maxLayerBytes,
            huggingfaceToken: args.huggingfaceToken,
            auth,
            builderName: s.buildxBuilder,
          },
          // The push needs the repository (ECR does not create repositories on push).
          { parent: this, dependsOn: usesAws ? [this.repositories[image.model]] : [] },
        );
        this.localImages[image.name] = local;
        results[image.name] = {
          uri: pulumi.interpolate`oci://${local.ref}`,
          digestUri: pulumi.interpolate`oci://${local.digestRef}`,
        };
      }
    }

    if (identity && s.replicaRegions.length > 0) {
      this.replication = new RegistryReplication(
        `${name}-replication`,
        {
          registryPrefix: s.registryPrefix,
          regions: s.replicaRegions,
          sourceRegion: args.region,
          accountId: identity.accountId,
        },
        { parent: this },
      );
    }

    this.modelUris = pulumi.all(
      Object.fromEntries(Object.entries(results).map(([n, r]) => [n, r.uri])),
    );
    this.modelDigestUris = pulumi.all(
      Object.fromEntries(Object.entries(results).map(([n, r]) => [n, r.digestUri])),
    );
    this.kserveManifests = this.modelDigestUris.apply((digests) =>
      renderManifests(args.images, digests, s, this),
    );
    this.replicaModelUris = pulumi
      .all([identity?.accountId ?? "", this.modelDigestUris])
      .apply(([account, digests]) => replicaUris(s.replicaRegions, account, built, digests));
    this.repositoryUrls = pulumi.all(repoUrls);
    this.skippedImages = Object.fromEntries(
      args.images.filter((i) => i.skipped).map((i) => [i.name, `hf://${i.source}`]),
    );
    this.registerOutputs({
      modelUris: this.modelUris,
      modelDigestUris: this.modelDigestUris,
      kserveManifests: this.kserveManifests,
      repositories: this.repositoryUrls,
      codeBuildProjects: this.codeBuildProjects,
      skippedImages: this.skippedImages,
      sourceBucket: this.sourceBucket,
      replicaModelUris: this.replicaModelUris,
      buildEventsTopicArn: this.buildEventsTopicArn,
      imagePolicy: this.imagePolicy,
    });
  }

  /** The CodeBuild project (and role) that builds the image. */
  private addProject(
    name: string,
    image: ImageSpec,
    args: ModelCatalogArgs,
    identity: pulumi.Output<aws.GetCallerIdentityResult>,
    tags: Record<string, string>,
    attachBom: boolean,
  ): void {
    const s = args.settings;
    const source = this.source as BuildSource;
    const repository = this.repositories[image.model];
    const projectName = codeBuildProjectName(s.stack, image.name);
    this.projects[image.name] = new ModelBuildProject(
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
        tokenSecretArn: image.gated ? this.token?.secretArn : undefined,
        accountId: identity.accountId,
        buildTimeoutMinutes: s.buildTimeoutMinutes,
        logRetentionDays: s.logRetentionDays,
        maxLayerBytes: s.maxLayerBytes,
        additionalEnvironment: pulumi
          .all([this.pullThrough?.environment ?? [], this.signingKey?.keyArn ?? ""])
          .apply(([pullThrough, keyArn]) => [
            ...pullThrough,
            ...signingEnvironment(keyArn, attachBom),
          ]),
        additionalStatements: [
          ...(this.pullThrough ? [this.pullThrough.policyStatement] : []),
          ...(this.signingKey ? [this.signingKey.keyArn.apply(signingStatement)] : []),
        ],
        tags: { ...tags, Model: image.model, Accelerator: image.accelerator },
      },
      { parent: this },
    );
    this.codeBuildProjects[image.name] = projectName;
  }

  /** The ModelImage that builds the image with its project only when its tag is missing. */
  private buildWithCodeBuild(
    name: string,
    image: ImageSpec,
    args: ModelCatalogArgs,
    identity: pulumi.Output<aws.GetCallerIdentityResult>,
    registry: pulumi.Output<string>,
    keyPolicy?: pulumi.Resource,
  ): BuiltImage {
    const s = args.settings;
    const source = this.source as BuildSource;
    const repository = this.repositories[image.model];
    const project = this.projects[image.name];
    const projectName = this.codeBuildProjects[image.name];
    // Checks ECR for the tag during `pulumi up`; starts (or adopts) a build only when it is missing.
    const modelImage = new ModelImage(
      `${name}-${image.name}-image`,
      {
        region: args.region,
        registryId: identity.accountId,
        repositoryName: image.repositoryName,
        tag: image.tag,
        projectName,
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
        timeoutMinutes: s.buildTimeoutMinutes + WAIT_MARGIN_MINUTES,
        pollIntervalSeconds: s.buildPollSeconds,
        // The clients act as the stack's aws provider does (names only; no credentials in state).
        ...identityInputs(args.awsIdentity ?? {}),
      },
      {
        parent: this,
        dependsOn: [
          project,
          source.object,
          repository,
          ...(this.notifications ? [this.notifications] : []),
          ...(keyPolicy ? [keyPolicy] : []),
        ],
      },
    );
    this.modelImages[image.name] = modelImage;
    return {
      uri: registry.apply((r) => ociTagUri(r, image.repositoryName, image.tag)),
      digestUri: pulumi
        .all([registry, modelImage.imageDigest])
        .apply(([r, digest]) => ociDigestUri(r, image.repositoryName, digest)),
    };
  }
}

/** Docker credentials for the stack's ECR registry; the password stays a Pulumi secret. */
function ecrAuth(parent: pulumi.Resource, registry: pulumi.Output<string>): RegistryAuth {
  const token = aws.ecr.getAuthorizationTokenOutput({}, { parent });
  return { address: registry, username: token.userName, password: pulumi.secret(token.password) };
}

/**
 * The same documents `npm run kserve -- --pin-digest --stack <stack>` prints: the stack's
 * kserveKinds in its kserveNamespace. An image KServe cannot name (a model name starting with a
 * digit) gets a warning instead of failing the update.
 */
function renderManifests(
  images: readonly ImageSpec[],
  digestUris: Record<string, string>,
  settings: Pick<StackSettings, "kserveKinds" | "kserveNamespace">,
  parent: pulumi.Resource,
): Record<string, string> {
  const options = {
    kinds: settings.kserveKinds,
    namespace: settings.kserveNamespace === "" ? undefined : settings.kserveNamespace,
  };
  const out: Record<string, string> = {};
  for (const image of images) {
    const uri = image.skipped ? undefined : digestUris[image.name];
    if (!image.skipped && uri === undefined) {
      continue;
    }
    try {
      out[image.name] = toYaml(renderKServe(image, uri, options));
    } catch (err) {
      pulumi.log.warn(`no KServe manifest for ${image.name}: ${(err as Error).message}`, parent);
    }
  }
  return out;
}
