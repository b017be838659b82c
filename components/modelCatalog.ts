// The whole catalogue: a repository per model and, per image, a build by one of the two builders (codeBuildImages, localImages).

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsIdentity } from "../lib/awsIdentity";
import { renderKServe, toYaml } from "../lib/kserve";
import type { ImageSpec } from "../lib/manifest";
import { ecrRegistryHost } from "../lib/naming";
import { type ReplicaUris, replicaUris } from "../lib/replicas";
import type { StackSettings } from "../lib/settings";
import type { BuildNotifications } from "./buildNotifications";
import type { BuildSource } from "./buildSource";
import type { BuiltImage } from "./builtImage";
import { buildWithCodeBuild } from "./codeBuildImages";
import type { HuggingfaceToken } from "./huggingfaceToken";
import { buildLocally } from "./localImages";
import type { LocalModelImage } from "./localModelImage";
import type { ModelBuildProject } from "./modelBuildProject";
import type { ModelImage } from "./modelImage";
import { ModelRepository } from "./modelRepository";
import type { PullThroughCache } from "./pullThroughCache";
import { RegistryReplication } from "./registryReplication";
import type { SigningKey } from "./signingKey";

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

    let results: Record<string, BuiltImage>;
    if (s.builder === "codebuild") {
      const codeBuild = buildWithCodeBuild(
        name,
        {
          images: built,
          repositories: this.repositories,
          registry,
          accountId: (identity as pulumi.Output<aws.GetCallerIdentityResult>).accountId,
          region: args.region,
          projectDir: args.projectDir,
          huggingfaceToken: args.huggingfaceToken,
          awsIdentity: args.awsIdentity,
          tags,
          settings: s,
        },
        this,
      );
      this.source = codeBuild.source;
      this.sourceBucket = codeBuild.source.bucketName;
      this.token = codeBuild.token;
      this.pullThrough = codeBuild.pullThrough;
      this.notifications = codeBuild.notifications;
      this.buildEventsTopicArn = codeBuild.notifications?.topicArn;
      this.signingKey = codeBuild.signingKey;
      this.imagePolicy = codeBuild.imagePolicy;
      this.projects = codeBuild.projects;
      this.codeBuildProjects = codeBuild.projectNames;
      this.modelImages = codeBuild.modelImages;
      results = codeBuild.built;
    } else {
      const local = buildLocally(
        name,
        {
          images: built,
          registry,
          repositories: usesAws ? this.repositories : undefined,
          projectDir: args.projectDir,
          huggingfaceToken: args.huggingfaceToken,
          settings: s,
        },
        this,
      );
      this.localImages = local.images;
      results = local.built;
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
