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
 * The topic's policy: EventBridge may publish to this topic. Same-account IAM principals keep their
 * identity-policy access, so no other statement is needed.
 *
 * No Condition, although a rule-scoped `aws:SourceArn` would be tighter: the EventBridge user guide
 * ("Using resource-based policies for Amazon EventBridge", Amazon SNS permissions) says "You can't
 * use Condition blocks in Amazon SNS topic policies for EventBridge.", and the AWS CDK's SnsTopic
 * target (aws-events-targets/lib/sns.ts) grants `events.amazonaws.com` publish with no condition,
 * citing that page. A condition EventBridge's publish does not satisfy denies it silently: the rule
 * counts a FailedInvocation and no one is told a build failed. What bounds the grant: the topic is
 * this stack's own (only its rules target it), and its key encrypts nothing else.
 */
export function topicPolicy(topicArn: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BuildEventsToThisTopic",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
      },
    ],
  };
}

/**
 * What EventBridge needs in the key policy of an encrypted target topic, exactly as the EventBridge
 * user guide gives it ("Troubleshooting Amazon EventBridge", "My rule runs, but I don't see any
 * messages published into my Amazon SNS topic", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html):
 * "If your SNS topic is encrypted, you must include the following section in your KMS key policy."
 * The section is this statement, with no Condition. The SNS guide's generic recipe for AWS event
 * sources ("kms:GenerateDataKey*", "kms:Decrypt", optional aws:SourceAccount / aws:SourceArn
 * conditions) defers to "service specific documentation ... for exact details", and EventBridge's
 * names kms:GenerateDataKey only and no condition. A condition the service's guide does not give
 * is not added: if EventBridge's calls did not carry it, every notification would be dropped and
 * no test here could tell. The same guide allows no condition in the topic policy either
 * (topicPolicy); this key encrypts nothing but this stack's topic.
 */
export const EVENTBRIDGE_KEY_STATEMENT = {
  Sid: "Allow EventBridge to use the key",
  Effect: "Allow",
  Principal: { Service: "events.amazonaws.com" },
  Action: ["kms:Decrypt", "kms:GenerateDataKey"],
  Resource: "*",
} as const;

/**
 * The topic key's policy. The account keeps administering it (KMS's default key policy statement;
 * without it the key could not be managed, and KMS refuses a policy that locks the caller out),
 * and EventBridge may use it for the topic (EVENTBRIDGE_KEY_STATEMENT).
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
      EVENTBRIDGE_KEY_STATEMENT,
    ],
  };
}
