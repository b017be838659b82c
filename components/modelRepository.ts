// One ECR repository per model, with the stack's mutability, scanning, encryption and lifecycle rules.

import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_CACHE_TAG_PREFIX } from "../lib/naming";

export interface ModelRepositoryArgs {
  /** `<registryPrefix>/<model>`. */
  repositoryName: string;
  imageTagMutability: "MUTABLE" | "IMMUTABLE";
  scanOnPush: boolean;
  /** KMS key ARN; empty or undefined uses AES256. */
  kmsKeyArn?: string;
  /** Delete the repository even when it holds images (dev). */
  forceDelete: boolean;
  /** Keep the repository in AWS when it leaves the stack (prod). */
  retainOnDelete: boolean;
  /** Expire any image older than this many days; 0 keeps images. */
  imageExpiryDays: number;
  /** Expire untagged images after this many days. */
  untaggedExpiryDays: number;
  tags?: Record<string, string>;
}

export type LifecycleRule = {
  tagStatus: "untagged" | "tagged" | "any";
  tagPrefixList?: string[];
  maximumAgeLimit: number;
  description: string;
};

const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;

/** Build-cache tags older than this are expired: a new revision writes a new cache tag anyway. */
export const BUILD_CACHE_EXPIRY_DAYS = 30;

/**
 * Build-cache tags and untagged leftovers always expire; dev also expires everything past its age
 * (ECR requires the `any` rule to come last).
 */
export function lifecycleRules(
  args: Pick<ModelRepositoryArgs, "imageExpiryDays" | "untaggedExpiryDays">,
): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    {
      tagStatus: "tagged",
      tagPrefixList: [BUILD_CACHE_TAG_PREFIX],
      maximumAgeLimit: BUILD_CACHE_EXPIRY_DAYS,
      description: `Expire build-cache tags after ${days(BUILD_CACHE_EXPIRY_DAYS)}`,
    },
    {
      tagStatus: "untagged",
      maximumAgeLimit: args.untaggedExpiryDays,
      description: `Expire untagged images after ${days(args.untaggedExpiryDays)}`,
    },
  ];
  if (args.imageExpiryDays > 0) {
    rules.push({
      tagStatus: "any",
      maximumAgeLimit: args.imageExpiryDays,
      description: `Expire images older than ${days(args.imageExpiryDays)}`,
    });
  }
  return rules;
}

export class ModelRepository extends pulumi.ComponentResource {
  readonly repository: awsx.ecr.Repository;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repositoryName>`. */
  readonly url: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly repositoryName: string;

  constructor(name: string, args: ModelRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:registry:ModelRepository", name, {}, opts);
    const kms = args.kmsKeyArn ?? "";
    this.repositoryName = args.repositoryName;
    this.repository = new awsx.ecr.Repository(
      `${name}-ecr`,
      {
        name: args.repositoryName,
        imageTagMutability: args.imageTagMutability,
        imageScanningConfiguration: { scanOnPush: args.scanOnPush },
        encryptionConfigurations: [
          kms === "" ? { encryptionType: "AES256" } : { encryptionType: "KMS", kmsKey: kms },
        ],
        forceDelete: args.forceDelete,
        lifecyclePolicy: { rules: lifecycleRules(args) },
        tags: args.tags,
      },
      { parent: this, retainOnDelete: args.retainOnDelete },
    );
    this.url = this.repository.url;
    this.arn = this.repository.repository.apply((r) => r.arn);
    this.registerOutputs({ url: this.url, arn: this.arn });
  }
}
