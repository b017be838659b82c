// EventBridge and SNS documents for build notifications: which events, what the message says, who may publish.

/** The terminal states a user is told about (CodeBuild also sends IN_PROGRESS, which is not an end). */
export const NOTIFIED_STATUSES = ["SUCCEEDED", "FAILED", "STOPPED"] as const;

/** The rule's pattern: the end of a build of exactly this project. */
export function buildEndPattern(projectName: string): object {
  return {
    source: ["aws.codebuild"],
    "detail-type": ["CodeBuild Build State Change"],
    detail: {
      "build-status": [...NOTIFIED_STATUSES],
      "project-name": [projectName],
    },
  };
}

/**
 * The input transformer: a readable one-line message. Input paths "must use JSON dot notation, not
 * bracket notation" (EventBridge InputTransformer), so the build's variables (an array) cannot be
 * read from the event; image and tag are this rule's own constants, one rule per image. The
 * template "must be valid JSON. To send a string value, the string value must include double
 * quotes": JSON.stringify makes the text one JSON string with the placeholders inside.
 */
export function buildEndTransformer(
  image: string,
  imageRef: string,
): {
  inputPaths: Record<string, string>;
  inputTemplate: string;
} {
  return {
    inputPaths: {
      status: "$.detail.build-status",
      build: "$.detail.build-id",
      logs: "$.detail.additional-information.logs.deep-link",
    },
    inputTemplate: JSON.stringify(
      `model-images: ${image} (${imageRef}) build <status>. Build: <build>. Logs: <logs>`,
    ),
  };
}

/**
 * The topic's policy: EventBridge may publish, and only for this stack's rules. Same-account IAM
 * principals keep their identity-policy access, so no other statement is needed.
 */
export function topicPolicy(topicArn: string, ruleArns: readonly string[]): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BuildEventsFromThisStack",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
      },
    ],
  };
}

/**
 * The topic key's policy. The account keeps administering it (KMS's default key policy statement;
 * without it the key could not be managed, and KMS refuses a policy that locks the caller out).
 * EventBridge publishing to an encrypted topic needs the key: the SNS guide's "compatibility
 * between event sources from AWS services and encrypted topics" gives the service principal
 * "kms:GenerateDataKey*" and "kms:Decrypt" on the key; the key serves this topic only.
 */
export function topicKeyPolicy(partition: string, accountId: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "EventBridgePublishesToTopic",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
      },
    ],
  };
}
