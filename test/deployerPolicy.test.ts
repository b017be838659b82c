// docs/deployer-policy.json against what the program creates: every resource type the shipped
// stacks, and a stack with every optional setting on, create is covered, on the names the program
// gives it, and nothing more is granted.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { missingGrants, Need, PolicyDocument, unusedActions } from "./support/iamPolicy";
import { ACCOUNT, Recorded, REGION } from "../tools/pulumiMocks";
import { runProgram, stackConfig } from "../tools/programRun";
import { FIXTURE, TOKEN } from "./support/programChecks";
import { SETTINGS } from "../lib/settings";

const POLICY_FILE = path.resolve(__dirname, "../docs/deployer-policy.json");
const policy = JSON.parse(fs.readFileSync(POLICY_FILE, "utf8")) as PolicyDocument;

/** Pulumi auto-names a resource without an explicit name `<logical name>-<7 random hex>`. */
const autoName = (r: Recorded) => `${r.name}-1a2b3c4`;
const str = (r: Recorded, key: string) => String(r.inputs[key]);
const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
const bucketArn = (r: Recorded) => `arn:aws:s3:::${str(r, "bucket")}`;
const repoArn = (name: string) => arn("ecr", `repository/${name}`);
/** The mocks give the key `<logical name>-0000` as its id. */
const kmsKeyArn = (keyResourceName: string) => arn("kms", `key/${keyResourceName}-0000`);
/** A service-linked role, which AWS names and places itself (IAM: role/aws-service-role/<service>/<name>). */
const serviceLinkedRole = (service: string, role: string) =>
  `arn:aws:iam::${ACCOUNT}:role/aws-service-role/${service}/${role}`;
/** An action AWS authorizes only on `Resource: "*"` (its Service Authorization Reference row names no resource type). */
const onAny = (...actions: string[]) => actions.map((action) => ({ action, resource: "*" }));

/** Layer push and pull, what `docker push` to ECR and a CodeBuild push call. */
const ECR_PUSH = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:GetDownloadUrlForLayer",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
];

/** Sub-resources of a bucket: the provider's read and write (delete uses the Put action). */
const bucketPart =
  (...actions: string[]) =>
  (r: Recorded) =>
    actions.map((action) => ({ action, resource: bucketArn(r) }));

/**
 * What the AWS provider (and our own dynamic provider) calls for each resource type over
 * create, read, update and delete: the IAM actions of those API calls. A type the program starts
 * to create must be added here, and its actions to docs/deployer-policy.json.
 */
const NEEDS: Record<string, (r: Recorded) => Omit<Need, "by">[]> = {
  "aws:s3/bucket:Bucket": (r) =>
    [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:ListBucket", // HeadBucket
      "s3:ListBucketVersions", // forceDestroy empties a versioned bucket
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketLocation",
      "s3:GetBucketLogging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketPolicy",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetAccelerateConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
    ].map((action) => ({ action, resource: `arn:aws:s3:::${autoName(r)}` })),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": bucketPart(
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
  ),
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": bucketPart(
    "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
  ),
  "aws:s3/bucketVersioning:BucketVersioning": bucketPart(
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
  ),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    bucketPart("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucketPart(
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
  ),
  "aws:s3/bucketPolicy:BucketPolicy": bucketPart(
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
  ),
  "aws:s3/bucketObjectv2:BucketObjectv2": (r) =>
    [
      "s3:PutObject",
      "s3:GetObject", // HeadObject
      "s3:GetObjectVersion",
      "s3:GetObjectTagging",
      "s3:PutObjectTagging",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion", // a versioned bucket's object is deleted with its versions
    ].map((action) => ({ action, resource: `${bucketArn(r)}/${str(r, "key")}` })),
  // A remote component: aws.ecr.Repository and aws.ecr.LifecyclePolicy.
  "awsx:ecr:Repository": (r) => [
    ...[
      "ecr:CreateRepository",
      "ecr:DeleteRepository",
      "ecr:DescribeRepositories",
      "ecr:ListTagsForResource",
      "ecr:TagResource",
      "ecr:UntagResource",
      "ecr:PutImageTagMutability",
      "ecr:PutImageScanningConfiguration",
      "ecr:GetLifecyclePolicy",
      "ecr:PutLifecyclePolicy",
      "ecr:DeleteLifecyclePolicy",
    ].map((action) => ({ action, resource: repoArn(str(r, "name")) })),
    // kmsKeyArn: ECR user guide, encryption at rest: "The IAM user, IAM role, or AWS account
    // creating your repositories must have the kms:CreateGrant, kms:RetireGrant, and
    // kms:DescribeKey permission in addition to the necessary Amazon ECR permissions."
    ...(r.inputs.encryptionConfigurations as { encryptionType: string; kmsKey?: string }[])
      .filter((e) => e.encryptionType === "KMS")
      .flatMap((e) =>
        ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"].map((action) => ({
          action,
          resource: String(e.kmsKey),
        })),
      ),
  ],
  "aws:cloudwatch/logGroup:LogGroup": (r) => [
    ...[
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:ListTagsForResource",
      "logs:TagResource",
      "logs:UntagResource",
    ].map((action) => ({ action, resource: arn("logs", `log-group:${str(r, "name")}`) })),
    // Read lists log groups by name prefix; IAM evaluates it on every group.
    { action: "logs:DescribeLogGroups", resource: arn("logs", "log-group:*") },
  ],
  "aws:iam/role:Role": (r) =>
    [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:DeleteRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", // checked before DeleteRole
    ].map((action) => ({
      action,
      resource: `arn:aws:iam::${ACCOUNT}:role/${r.inputs.name === undefined ? autoName(r) : str(r, "name")}`,
    })),
  "aws:iam/rolePolicy:RolePolicy": (r) =>
    ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"].map((action) => ({
      action,
      resource: `arn:aws:iam::${ACCOUNT}:role/${str(r, "role")}`,
    })),
  "aws:codebuild/project:Project": (r) => [
    ...[
      "codebuild:CreateProject",
      "codebuild:UpdateProject",
      "codebuild:DeleteProject",
      "codebuild:BatchGetProjects",
    ].map((action) => ({ action, resource: arn("codebuild", `project/${str(r, "name")}`) })),
    // Creating a project that runs as a role passes that role to CodeBuild.
    { action: "iam:PassRole", resource: str(r, "serviceRole") },
  ],
  "aws:secretsmanager/secret:Secret": (r) =>
    [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
    ].map((action) => ({
      action,
      resource: arn("secretsmanager", `secret:${autoName(r)}-AbCdEf`),
    })),
  "aws:secretsmanager/secretVersion:SecretVersion": (r) =>
    [
      "secretsmanager:PutSecretValue",
      "secretsmanager:GetSecretValue",
      "secretsmanager:ListSecretVersionIds",
      "secretsmanager:UpdateSecretVersionStage",
    ].map((action) => ({
      action,
      resource: arn("secretsmanager", `secret:${str(r, "secretId")}`),
    })),
  // The signing key (components/signingKey.ts) and the notification topic's key
  // (components/buildNotifications.ts). CreateKey has no resource to scope to; key ARNs are
  // random ids, so key/* is as narrow as a name can make it.
  "aws:kms/key:Key": (r) => [
    { action: "kms:CreateKey", resource: "*" },
    ...[
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
      "kms:ScheduleKeyDeletion",
      // A key created with its policy: a changed policy is PutKeyPolicy on the key.
      ...(r.inputs.policy === undefined ? [] : ["kms:PutKeyPolicy"]),
      ...(r.inputs.enableKeyRotation === true ? ["kms:EnableKeyRotation"] : []),
    ].map((action) => ({ action, resource: kmsKeyArn(r.name) })),
  ],
  "aws:kms/alias:Alias": (r) => [
    { action: "kms:ListAliases", resource: "*" },
    ...["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"].flatMap((action) => [
      { action, resource: arn("kms", str(r, "name")) },
      { action, resource: kmsKeyArn(r.name.replace(/-alias$/, "-key")) },
    ]),
  ],
  "aws:kms/keyPolicy:KeyPolicy": (r) =>
    ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey"].map((action) => ({
      action,
      resource: kmsKeyArn(r.name.replace(/-policy$/, "-key")),
    })),
  // replicaRegions (components/registryReplication.ts): Put to create, update and delete (an
  // empty rule list), DescribeRegistry to read; registry-wide actions, no resource type. The first
  // Put creates ECR's replication service-linked role ("Dependent actions:
  // iam:CreateServiceLinkedRole").
  "aws:ecr/replicationConfiguration:ReplicationConfiguration": () => [
    ...onAny("ecr:PutReplicationConfiguration", "ecr:DescribeRegistry"),
    {
      action: "iam:CreateServiceLinkedRole",
      resource: serviceLinkedRole(
        "replication.ecr.amazonaws.com",
        "AWSServiceRoleForECRReplication",
      ),
    },
  ],
  // pullThroughCache (components/pullThroughCache.ts): Create, Describe (read), Update (a changed
  // dockerHubCredentialArn), Delete; registry-wide, no resource type. The first rule creates ECR's
  // pull-through service-linked role. The Docker Hub secret is only referenced: ECR reads it with
  // that role, so the deployer needs nothing on it.
  "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": () => [
    ...onAny(
      "ecr:CreatePullThroughCacheRule",
      "ecr:DescribePullThroughCacheRules",
      "ecr:UpdatePullThroughCacheRule",
      "ecr:DeletePullThroughCacheRule",
    ),
    {
      action: "iam:CreateServiceLinkedRole",
      resource: serviceLinkedRole(
        "pullthroughcache.ecr.amazonaws.com",
        "AWSServiceRoleForECRPullThroughCache",
      ),
    },
  ],
  // notifyEmail (components/buildNotifications.ts): the topic, its policy, the subscription.
  "aws:sns/topic:Topic": (r) =>
    [
      "sns:CreateTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:DeleteTopic",
      "sns:ListTagsForResource",
      "sns:TagResource",
      "sns:UntagResource",
    ].map((action) => ({ action, resource: arn("sns", autoName(r)) })),
  // Delete puts the topic's default policy back: SetTopicAttributes again.
  "aws:sns/topicPolicy:TopicPolicy": (r) =>
    ["sns:SetTopicAttributes", "sns:GetTopicAttributes"].map((action) => ({
      action,
      resource: str(r, "arn"),
    })),
  // Subscribe is on the topic; the subscription's own actions have no resource type in SNS.
  "aws:sns/topicSubscription:TopicSubscription": (r) => [
    { action: "sns:Subscribe", resource: str(r, "topic") },
    ...onAny("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"),
  ],
  "aws:cloudwatch/eventRule:EventRule": (r) =>
    [
      "events:PutRule",
      "events:DescribeRule",
      "events:DeleteRule",
      "events:ListTagsForResource",
      "events:TagResource",
      "events:UntagResource",
    ].map((action) => ({ action, resource: arn("events", `rule/${autoName(r)}`) })),
  // Targets are the rule's: PutTargets, ListTargetsByRule (read) and RemoveTargets on the rule.
  "aws:cloudwatch/eventTarget:EventTarget": (r) =>
    ["events:PutTargets", "events:ListTargetsByRule", "events:RemoveTargets"].map((action) => ({
      action,
      resource: arn("events", `rule/${str(r, "rule")}`),
    })),
  // ModelImage (components/modelImage/): the tag lookup and the build; it never deletes an image.
  "pulumi-nodejs:dynamic:Resource": (r) => [
    { action: "ecr:BatchGetImage", resource: repoArn(str(r, "repositoryName")) },
    ...["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"].map(
      (action) => ({ action, resource: arn("codebuild", `project/${str(r, "projectName")}`) }),
    ),
  ],
  // The local builder pushes with Docker; only an ECR registry needs IAM.
  "docker-build:index:Image": (r) => {
    const ref = String((r.inputs.tags as string[])[0]);
    const m = /^\d{12}\.dkr\.ecr\.[^/]+\/(.+):[^:]+$/.exec(ref);
    return m ? ECR_PUSH.map((action) => ({ action, resource: repoArn(m[1]) })) : [];
  },
};

/** Data sources the program calls: the IAM actions behind them. */
const CALL_NEEDS: Record<string, Omit<Need, "by">[]> = {
  "aws:index/getCallerIdentity:getCallerIdentity": [], // sts:GetCallerIdentity needs no permission
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": [
    { action: "ecr:GetAuthorizationToken", resource: "*" },
  ],
  "aws:kms/getPublicKey:getPublicKey": [
    { action: "kms:GetPublicKey", resource: kmsKeyArn("models-signing-key") },
  ],
};

/** Actions AWS authorizes only on `Resource: "*"`. */
const ACCOUNT_LEVEL = [
  "ecr:GetAuthorizationToken",
  "ecr:PutReplicationConfiguration",
  "ecr:DescribeRegistry",
  "ecr:CreatePullThroughCacheRule",
  "ecr:DescribePullThroughCacheRules",
  "ecr:UpdatePullThroughCacheRule",
  "ecr:DeletePullThroughCacheRule",
  "kms:CreateKey",
  "kms:ListAliases",
  "sns:GetSubscriptionAttributes",
  "sns:SetSubscriptionAttributes",
  "sns:Unsubscribe",
];

/** A secret in ECR's required `ecr-pullthroughcache/` namespace, and a customer key for ECR. */
const PTC_SECRET = arn("secretsmanager", "secret:ecr-pullthroughcache/docker-hub-AbCdEf");
const ECR_KEY = arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab");

/**
 * Every optional setting that makes the program create something or ask AWS for something, on at
 * once (on dev, with a token, over the test catalogue with cpu and cuda images). notifyTopicArn is
 * the alternative to notifyEmail, so it has its own run.
 */
const ALL_ON: Record<string, string> = {
  "model-images:manifest": FIXTURE,
  "model-images:replicaRegions": '["eu-west-1","ap-southeast-2"]',
  "model-images:manageRegistryReplication": "true",
  "model-images:pullThroughCache": "true",
  "model-images:dockerHubCredentialArn": PTC_SECRET,
  "model-images:notifyEmail": "ml-team@example.com",
  "model-images:signing": "cosign-kms",
  "model-images:kmsKeyArn": ECR_KEY,
  "model-images:scanOnPush": "true",
};

/**
 * Settings no run needs to turn on, and why: they change names, numbers or documents the
 * statements already cover (the same API calls on the same resource types), or nothing in AWS.
 */
const SAME_CALLS: Record<string, string> = {
  manifest: "which models: more resources of the same types",
  registryPrefix: "names (the statements' patterns follow the shipped prefixes)",
  tagSuffix: "tags",
  imageTagMutability: "PutImageTagMutability, granted for every repository",
  imageExpiryDays: "the lifecycle policy's rules, granted for every repository",
  untaggedExpiryDays: "the lifecycle policy's rules",
  buildTimeoutMinutes: "a project input",
  requirePinnedRevisions: "validation only",
  retainRepositoriesOnDestroy: "fewer calls (no DeleteRepository)",
  forceDeleteRepositories: "DeleteRepository's force flag",
  rebuildOnSourceChange: "ModelImage's diff",
  logRetentionDays: "PutRetentionPolicy, granted for every log group",
  maxLayerBytes: "a build variable",
  buildPollSeconds: "ModelImage's polling",
  buildxBuilder: "the local Docker builder's name",
  onlyModels: "fewer models",
  kserveNamespace: "rendered manifests, no AWS call",
  kserveKinds: "rendered manifests, no AWS call",
};

/** The runs that cover every resource type: each shipped stack, and a local build into ECR. */
const RUNS: [string, string, Record<string, string>, string | undefined][] = [
  ["dev with a token", "dev", stackConfig("dev"), TOKEN],
  ["prod", "prod", stackConfig("prod"), undefined],
  ["local", "local", stackConfig("local"), undefined],
  [
    "local builder into the stack's ECR",
    "local",
    { ...stackConfig("local"), "model-images:registry": "", "aws:region": REGION },
    undefined,
  ],
  ["every optional setting on", "dev", { ...stackConfig("dev"), ...ALL_ON }, TOKEN],
  [
    "notifications to an existing topic",
    "dev",
    {
      ...stackConfig("dev"),
      "model-images:manifest": FIXTURE,
      "model-images:notifyTopicArn": arn("sns", "platform-builds"),
    },
    TOKEN,
  ],
];

function needsOf(recorded: Recorded[], calls: string[]): { needs: Need[]; uncovered: string[] } {
  const needs: Need[] = [];
  const uncovered = new Set<string>();
  for (const r of recorded) {
    if (r.type.startsWith("model-images:")) {
      continue; // our components: their children are recorded themselves
    }
    const need = NEEDS[r.type];
    if (need === undefined) {
      uncovered.add(r.type);
      continue;
    }
    needs.push(...need(r).map((n) => ({ ...n, by: `${r.type} ${r.name}` })));
  }
  for (const call of calls) {
    const actions = CALL_NEEDS[call];
    if (actions === undefined) {
      uncovered.add(call);
      continue;
    }
    needs.push(...actions.map((n) => ({ ...n, by: call })));
  }
  return { needs, uncovered: [...uncovered] };
}

describe("docs/deployer-policy.json", () => {
  const all: Need[] = [];

  it("is an IAM policy of Allow statements, each with a Sid", () => {
    assert.equal(policy.Version, "2012-10-17");
    for (const s of policy.Statement) {
      assert.equal(s.Effect, "Allow", JSON.stringify(s));
      assert.match(s.Sid ?? "", /^[A-Za-z0-9]+$/);
    }
  });

  it('grants on Resource "*" only what AWS authorizes nowhere else', () => {
    for (const s of policy.Statement) {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (resources.includes("*")) {
        assert.deepEqual(
          actions.filter((a) => !ACCOUNT_LEVEL.includes(a)),
          [],
          `${s.Sid}: scope these to the program's resource names`,
        );
      }
      assert.ok(!actions.some((a) => a.includes("*")), `${s.Sid}: name each action`);
    }
  });

  it("the runs turn on every setting that could need another permission", () => {
    const turnedOn = new Set(
      RUNS.flatMap(([, , config]) => Object.keys(config))
        .filter((k) => k.startsWith("model-images:"))
        .map((k) => k.slice("model-images:".length)),
    );
    assert.deepEqual(
      SETTINGS.map((s) => s.key).filter((k) => !turnedOn.has(k) && !(k in SAME_CALLS)),
      [],
      "a setting no run turns on: add it to ALL_ON (or a run of its own) in test/deployerPolicy.test.ts, " +
        "or to SAME_CALLS with the reason it asks AWS for nothing new",
    );
  });

  for (const [label, stack, config, token] of RUNS) {
    it(`covers every resource ${label} creates, on the names it gives them`, async () => {
      const run = await runProgram(stack, config, token);
      const { needs, uncovered } = needsOf(run.recorded, run.calls);
      assert.deepEqual(
        uncovered,
        [],
        "the program creates (or calls) these, and test/deployerPolicy.test.ts NEEDS does not say " +
          "which IAM actions they take: add them there and to docs/deployer-policy.json",
      );
      assert.deepEqual(missingGrants(policy, needs), [], "docs/deployer-policy.json lacks these");
      all.push(...needs);
    });
  }

  it("`plan` against ECR: BatchGetImage on the repositories, the account from the ECR login", () => {
    const needs: Need[] = [
      {
        action: "ecr:BatchGetImage",
        resource: repoArn("kserve-models/qwen2-5-0-5b-instruct"),
        by: "plan",
      },
      { action: "ecr:GetAuthorizationToken", resource: "*", by: "plan" },
    ];
    assert.deepEqual(missingGrants(policy, needs), []);
  });

  it("grants nothing the program does not use (least privilege)", () => {
    assert.ok(all.length > 0, "run the coverage tests first");
    assert.deepEqual(unusedActions(policy, all), []);
  });

  it("the check has teeth: a dropped action, a renamed resource and an extra grant are caught", () => {
    const need: Need = {
      action: "codebuild:StartBuild",
      resource: arn("codebuild", "project/model-images-dev-x"),
      by: "test",
    };
    assert.deepEqual(missingGrants(policy, [need]), []);
    const dropped = {
      ...policy,
      Statement: policy.Statement.map((s) => ({
        ...s,
        Action: (s.Action as string[]).filter((a) => a !== "codebuild:StartBuild"),
      })),
    };
    assert.equal(missingGrants(dropped, [need]).length, 1);
    const renamed = { ...need, resource: arn("codebuild", "project/other-x") };
    assert.match(
      missingGrants(policy, [renamed])[0],
      /^codebuild:StartBuild on .*project\/other-x \(for test\)$/,
    );
    const extra = {
      ...policy,
      Statement: [
        ...policy.Statement,
        {
          Sid: "Extra",
          Effect: "Allow" as const,
          Action: ["s3:PutBucketAcl"],
          Resource: "arn:aws:s3:::x",
        },
      ],
    };
    assert.deepEqual(unusedActions(extra, [need]).slice(-1), ["Extra: s3:PutBucketAcl"]);
  });
});
