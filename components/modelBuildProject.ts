// One CodeBuild project per model x variant, with its own role, a policy scoped to its resources, and logs.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildEnvironment, HF_TOKEN_ENV, type PlainEnv } from "../lib/buildEnv";
import type { ImageSpec } from "../lib/manifest";
import { fitName } from "../lib/naming";

/** Curated CodeBuild image with Docker and buildx (Ubuntu 22.04); the build itself runs in docker. */
export const CODEBUILD_IMAGE = "aws/codebuild/standard:7.0";

export interface ModelBuildProjectArgs {
  /** The image this project builds. */
  image: ImageSpec;
  /** CodeBuild project name (also names its log group). */
  projectName: string;
  /** AWS region of the project: IAM role names are global to the account, project names are not. */
  region: string;
  repositoryArn: pulumi.Input<string>;
  repositoryUrl: pulumi.Input<string>;
  sourceBucketName: pulumi.Input<string>;
  sourceBucketArn: pulumi.Input<string>;
  sourceObjectKey: pulumi.Input<string>;
  /** ARN of the Secrets Manager secret with the HF token; the role may read only this one. */
  tokenSecretArn?: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  buildTimeoutMinutes: number;
  logRetentionDays: number;
  maxLayerBytes: number;
  /** More PLAINTEXT build variables (e.g. the pull-through cache names), after the image's own. */
  additionalEnvironment?: pulumi.Input<PlainEnv[]>;
  /** More statements for the role's policy (e.g. pull-through cache), each on its own resources. */
  additionalStatements?: pulumi.Input<object>[];
  tags?: Record<string, string>;
}

/**
 * IAM quotas ("IAM and AWS STS quotas", names): a role name is at most 64 characters of
 * `[\w+=,.@-]`, unique within the account (all regions), case-insensitively. Pulumi's auto-name
 * (`<resource>-role-` plus 7 random characters) passes 64 once an image name is about 44
 * characters, and only IAM notices. So the name is the project name, cut to fit, plus 8 hex
 * characters of a hash of region and project name: deterministic, unique per region and project.
 */
export const IAM_ROLE_NAME_MAX = 64;

export function buildRoleName(projectName: string, region: string): string {
  return fitName(
    projectName.replace(/[^\w+=,.@-]/g, "-"),
    IAM_ROLE_NAME_MAX,
    `${region}/${projectName}`,
  );
}

/** Inline policy name: unique per role is enough (at most 128 characters). */
export const BUILD_POLICY_NAME = "model-image-build";

/** CodeBuild's project description is at most 255 characters. */
export const PROJECT_DESCRIPTION_MAX = 255;

export function projectDescription(image: ImageSpec): string {
  const text = `Builds ${image.repositoryName}:${image.tag} (${image.source}@${image.revision})`;
  return text.length <= PROJECT_DESCRIPTION_MAX
    ? text
    : `${text.slice(0, PROJECT_DESCRIPTION_MAX - 3)}...`;
}

/** The inline policy: exactly what one build needs, on its own resources. */
export function buildPolicy(a: {
  repositoryArn: string;
  sourceBucketArn: string;
  sourceObjectKey: string;
  logGroupArn: string;
  tokenSecretArn?: string;
  additionalStatements?: object[];
}): object {
  const statements: object[] = [
    {
      Sid: "EcrLogin",
      Effect: "Allow",
      Action: ["ecr:GetAuthorizationToken"],
      // GetAuthorizationToken has no resource-level permissions: AWS requires "*".
      Resource: "*",
    },
    {
      Sid: "PushOwnRepository",
      Effect: "Allow",
      Action: [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ],
      Resource: a.repositoryArn,
    },
    {
      Sid: "ReadBuildSource",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: `${a.sourceBucketArn}/${a.sourceObjectKey}`,
    },
    {
      Sid: "LocateSourceBucket",
      Effect: "Allow",
      Action: ["s3:GetBucketAcl", "s3:GetBucketLocation"],
      Resource: a.sourceBucketArn,
    },
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${a.logGroupArn}:*`,
    },
  ];
  if (a.tokenSecretArn !== undefined) {
    statements.push({
      Sid: "ReadHuggingfaceToken",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: a.tokenSecretArn,
    });
  }
  statements.push(...(a.additionalStatements ?? []));
  return { Version: "2012-10-17", Statement: statements };
}

export class ModelBuildProject extends pulumi.ComponentResource {
  readonly project: aws.codebuild.Project;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly projectName: pulumi.Output<string>;

  constructor(name: string, args: ModelBuildProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:build:ModelBuildProject", name, {}, opts);
    const child = { parent: this };
    const { image } = args;

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/codebuild/${args.projectName}`,
        retentionInDays: args.logRetentionDays,
        tags: args.tags,
      },
      child,
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: buildRoleName(args.projectName, args.region),
        description: `CodeBuild service role for ${args.projectName}`,
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "codebuild.amazonaws.com" },
              Action: "sts:AssumeRole",
              // Confused-deputy guard: only CodeBuild acting for this account may assume the role.
              Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
            },
          ],
        }),
        tags: args.tags,
      },
      child,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        name: BUILD_POLICY_NAME,
        // The role's name (which is also its id in the provider).
        role: this.role.name,
        policy: pulumi
          .output({
            repositoryArn: args.repositoryArn,
            sourceBucketArn: args.sourceBucketArn,
            sourceObjectKey: args.sourceObjectKey,
            logGroupArn: this.logGroup.arn,
            tokenSecretArn: args.tokenSecretArn,
            additionalStatements: args.additionalStatements ?? [],
          })
          .apply((a) => JSON.stringify(buildPolicy(a))),
      },
      child,
    );
    const plain = pulumi
      .all([args.repositoryUrl, args.additionalEnvironment ?? []])
      .apply(([url, additional]) =>
        [...buildEnvironment(image, url, args.maxLayerBytes), ...additional].map((e) => ({
          ...e,
          type: "PLAINTEXT",
        })),
      );
    const environmentVariables =
      args.tokenSecretArn === undefined
        ? plain
        : pulumi.all([plain, args.tokenSecretArn]).apply(([vars, arn]) => [
            ...vars,
            // The build reads the token from Secrets Manager itself; the project only names the secret.
            { name: HF_TOKEN_ENV, type: "SECRETS_MANAGER", value: arn },
          ]);
    this.project = new aws.codebuild.Project(
      `${name}-project`,
      {
        name: args.projectName,
        description: projectDescription(image),
        serviceRole: this.role.arn,
        buildTimeout: args.buildTimeoutMinutes,
        // One build at a time per image: a second concurrent build of the same tag is never useful.
        concurrentBuildLimit: 1,
        source: {
          type: "S3",
          location: pulumi.interpolate`${args.sourceBucketName}/${args.sourceObjectKey}`,
          buildspec: "buildspec.yml",
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: image.environmentType,
          computeType: image.computeType,
          image: CODEBUILD_IMAGE,
          imagePullCredentialsType: "CODEBUILD",
          // Docker builds need the Docker daemon, which CodeBuild runs only in privileged mode;
          // it is the one documented use of it, and the build runs no untrusted code.
          privilegedMode: true,
          environmentVariables,
        },
        logsConfig: {
          cloudwatchLogs: { status: "ENABLED", groupName: this.logGroup.name },
          s3Logs: { status: "DISABLED" },
        },
        tags: args.tags,
      },
      // The role must be able to read the source and write logs before the first build starts.
      { ...child, dependsOn: [policy] },
    );
    this.projectName = this.project.name;
    this.registerOutputs({ projectName: this.projectName });
  }
}
