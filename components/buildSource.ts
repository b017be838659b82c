// The build source: one hardened S3 bucket per stack and the docker/ + buildspec/ archive, keyed by content.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { sourceFiles, sourceHash } from "../lib/sourceFiles";

export interface BuildSourceArgs {
  /** Project directory holding docker/ and buildspec/. */
  projectDir: string;
  /** Let `pulumi destroy` empty the bucket (dev); prod keeps build sources for audits. */
  forceDestroy: boolean;
  /** Days an old (non-current) archive version is kept. */
  noncurrentVersionDays?: number;
  tags?: Record<string, string>;
}

export class BuildSource extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly object: aws.s3.BucketObjectv2;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** `sources/<sha256>.zip`: a content change is a new key, so CodeBuild never builds a stale source. */
  readonly objectKey: string;
  /** S3 version id of the archive, passed to StartBuild as the source version. */
  readonly objectVersion: pulumi.Output<string>;
  readonly contentHash: string;

  constructor(name: string, args: BuildSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:source:BuildSource", name, {}, opts);
    const child = { parent: this };
    const files = sourceFiles(args.projectDir);
    this.contentHash = sourceHash(files);
    this.objectKey = `sources/${this.contentHash}.zip`;

    this.bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { forceDestroy: args.forceDestroy, tags: args.tags },
      child,
    );
    const bucket = this.bucket.id;
    const access = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        rules: [
          {
            id: "expire-old-source-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { ...child, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      // A bucket policy put while the public-access block is still being applied can be rejected.
      { ...child, dependsOn: [access] },
    );
    const archive = new pulumi.asset.AssetArchive(
      Object.fromEntries(Object.entries(files).map(([k, f]) => [k, new pulumi.asset.FileAsset(f)])),
    );
    this.object = new aws.s3.BucketObjectv2(
      `${name}-archive`,
      {
        bucket,
        key: this.objectKey,
        source: archive,
        contentType: "application/zip",
        tags: args.tags,
      },
      { ...child, dependsOn: [versioning] },
    );
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.objectVersion = this.object.versionId;
    this.registerOutputs({
      bucketName: this.bucketName,
      objectKey: this.objectKey,
      objectVersion: this.objectVersion,
    });
  }
}
