// The build source: one hardened S3 bucket per stack and the docker/ + buildspec/ + bundled-CLI archive, keyed by content.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLI_BUNDLE, cliBundleText } from "../lib/cliBundle";
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
  /**
   * `sources/<sha256>.zip`: a content change is a new key, so the key alone names the source and
   * builds pass no S3 version id (see the archive below for why).
   */
  readonly objectKey: string;
  readonly contentHash: string;

  constructor(name: string, args: BuildSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:source:BuildSource", name, {}, opts);
    const child = { parent: this };
    const files = sourceFiles(args.projectDir);
    // Built here, not taken from dist/: every build attaches its BOM with the CLI of this checkout.
    let bundle: string;
    try {
      bundle = cliBundleText(args.projectDir);
    } catch (e) {
      throw new pulumi.RunError((e as Error).message);
    }
    const generated = { [CLI_BUNDLE]: bundle };
    this.contentHash = sourceHash(files, generated);
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
    const archive = new pulumi.asset.AssetArchive({
      ...Object.fromEntries(
        Object.entries(files).map(([k, f]) => [k, new pulumi.asset.FileAsset(f)]),
      ),
      ...Object.fromEntries(
        Object.entries(generated).map(([k, text]) => [k, new pulumi.asset.StringAsset(text)]),
      ),
    });
    // The first archive is written before versioning is enabled, and builds read it by key, not by
    // version. S3's PutBucketVersioning reference: "When you enable versioning on a bucket for the
    // first time, it might take a short amount of time for the change to be fully propagated.
    // While this change is propagating, you might encounter intermittent HTTP 404 NoSuchKey
    // errors for requests to objects created or updated after enabling versioning. We recommend
    // that you wait for 15 minutes after enabling versioning before issuing write operations."
    // Written seconds after versioning, a new stack's archive could be unreadable by its first
    // build, and its versionId empty or not yet readable. Written before, it is an ordinary
    // (null-version) object. Later archives get new keys long after versioning has settled; the
    // key is content-addressed, so the current object at a key is always the same source.
    this.object = new aws.s3.BucketObjectv2(
      `${name}-archive`,
      {
        bucket,
        key: this.objectKey,
        source: archive,
        contentType: "application/zip",
        tags: args.tags,
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      { ...child, dependsOn: [this.object] },
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
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, objectKey: this.objectKey });
  }
}
