// Build notifications: the end of each of this stack's builds goes to an SNS topic (encrypted, publishable only by its rules).

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  buildEndPattern,
  buildEndTransformer,
  topicKeyPolicy,
  topicPolicy,
} from "../lib/buildEvents";
import { EVENT_RULE_NAME_MAX, fitName } from "../lib/naming";
import { partitionOf } from "../lib/pullThrough";

export interface NotifiedBuild {
  /** Output key of the image (`small`, `both-cuda`). */
  image: string;
  /** Its CodeBuild project. */
  projectName: string;
  /** `<repository url>:<tag>`, for the message. */
  imageRef: pulumi.Input<string>;
}

export interface BuildNotificationsArgs {
  builds: NotifiedBuild[];
  /** Subscribe this address to a topic the component creates (with its own KMS key). */
  email?: string;
  /** Or publish to this existing topic (its owner grants EventBridge; nothing is created for it). */
  topicArn?: string;
  region: string;
  accountId: pulumi.Input<string>;
  tags?: Record<string, string>;
}

export class BuildNotifications extends pulumi.ComponentResource {
  readonly key?: aws.kms.Key;
  readonly topic?: aws.sns.Topic;
  readonly rules: Record<string, aws.cloudwatch.EventRule> = {};
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: BuildNotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:notify:BuildNotifications", name, {}, opts);
    const child = { parent: this };
    if ((args.email === undefined) === (args.topicArn === undefined)) {
      throw new pulumi.RunError(
        `${name}: give exactly one of email (a topic is created) or topicArn (an existing topic)`,
      );
    }
    if (args.email !== undefined) {
      // EventBridge user guide (eb-troubleshooting): "If your SNS topic is encrypted, you must
      // include the following section in your KMS key policy." topicKeyPolicy carries that section
      // verbatim (lib/buildEvents.ts EVENTBRIDGE_KEY_STATEMENT: events.amazonaws.com,
      // kms:Decrypt and kms:GenerateDataKey, Resource "*", no condition).
      this.key = new aws.kms.Key(
        `${name}-key`,
        {
          description: "Encrypts the model-images build notification topic",
          enableKeyRotation: true,
          deletionWindowInDays: 7,
          policy: pulumi
            .output(args.accountId)
            .apply((id) => JSON.stringify(topicKeyPolicy(partitionOf(args.region), id))),
          tags: args.tags,
        },
        child,
      );
      this.topic = new aws.sns.Topic(
        `${name}-topic`,
        { kmsMasterKeyId: this.key.arn, tags: args.tags },
        child,
      );
      // Email subscriptions wait for the recipient to confirm (SNS sends the link).
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.email },
        child,
      );
    }
    this.topicArn = this.topic ? this.topic.arn : pulumi.output(args.topicArn as string);

    for (const build of args.builds) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${build.image}`,
        {
          // Named, not auto-named: `<logical name>-` + 7 random characters passes EventBridge's
          // 64 once an image name is about 40 characters. The logical name stays the prefix (the
          // deployer policy's `rule/models-notify-*`), the stack's project seeds the suffix.
          name: eventRuleName(`${name}-${build.image}`, build.projectName, args.region),
          description: `End of each build of ${build.projectName} (model-images)`,
          eventPattern: JSON.stringify(buildEndPattern(build.projectName)),
          tags: args.tags,
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${build.image}-target`,
        {
          rule: rule.name,
          arn: this.topicArn,
          inputTransformer: pulumi
            .output(build.imageRef)
            .apply((ref) => buildEndTransformer(build.image, ref)),
        },
        child,
      );
      this.rules[build.image] = rule;
    }
    if (this.topic) {
      new aws.sns.TopicPolicy(
        `${name}-topic-policy`,
        {
          arn: this.topic.arn,
          policy: this.topic.arn.apply((topic) => JSON.stringify(topicPolicy(topic))),
        },
        child,
      );
    }
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

/** The rule's name: its logical name within EventBridge's limit, unique per stack and region. */
export function eventRuleName(logicalName: string, projectName: string, region: string): string {
  return fitName(logicalName, EVENT_RULE_NAME_MAX, `${region}/${projectName}`);
}
