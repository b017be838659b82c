// The fleet settings under mocks: each on and off, with the exact resources, inputs, IAM documents and refusals.

import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { eventRuleName } from "../components/buildNotifications";
import { pullThroughPrefix } from "../lib/pullThrough";
import { ACCOUNT, byType, mockDigest } from "../tools/pulumiMocks";
import { Run, runProgram, stackConfig } from "../tools/programRun";
import { countByType, FIXTURE, one, TOKEN } from "./support/programChecks";

const IMAGES = ["small", "both", "both-cuda", "gated-gpu-cuda"];
const FLEET_TYPES = [
  "aws:ecr/replicationConfiguration:ReplicationConfiguration",
  "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
  "aws:kms/key:Key",
  "aws:sns/topic:Topic",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/eventTarget:EventTarget",
];
const PTC_SECRET =
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";

type Statement = { Sid?: string; Action: string | string[]; Resource: string | string[] };

function dev(extra: Record<string, string>): Promise<Run> {
  return runProgram(
    "dev",
    { ...stackConfig("dev"), "model-images:manifest": FIXTURE, ...extra },
    TOKEN,
  );
}

function envOf(run: Run, image: string): { name: string; value: string; type: string }[] {
  const project = one(run.recorded, "aws:codebuild/project:Project", `models-${image}-project`);
  return (project.inputs.environment as { environmentVariables: never[] }).environmentVariables;
}

function statementsOf(run: Run, image: string): Statement[] {
  const policy = one(run.recorded, "aws:iam/rolePolicy:RolePolicy", `models-${image}-policy`);
  return JSON.parse(policy.inputs.policy as string).Statement as Statement[];
}

describe("fleet settings in the program (mocks)", function () {
  this.timeout(60_000);

  describe("all off (the default)", () => {
    let run: Run;
    before(async () => {
      run = await dev({});
    });

    it("creates none of their resources, no extra variables or statements, empty outputs", () => {
      const counts = countByType(run.recorded);
      for (const t of FLEET_TYPES) {
        assert.equal(counts[t], undefined, t);
      }
      for (const image of IMAGES) {
        assert.ok(
          envOf(run, image).every((v) => !v.name.startsWith("PULL_THROUGH_")),
          image,
        );
        assert.ok(!statementsOf(run, image).some((s) => s.Sid === "PullThroughCache"), image);
      }
      assert.deepEqual(run.outputs.replicaModelUris, {});
      assert.equal(run.outputs.buildEventsTopicArn, undefined);
    });
  });

  describe("replicaRegions with manageRegistryReplication", () => {
    let run: Run;
    before(async () => {
      run = await dev({
        "model-images:replicaRegions": '["eu-west-1","ap-southeast-2"]',
        "model-images:manageRegistryReplication": "true",
      });
    });

    it("one replication configuration: both regions, this account, only <registryPrefix>/", () => {
      const configs = byType(
        run.recorded,
        "aws:ecr/replicationConfiguration:ReplicationConfiguration",
      );
      assert.equal(configs.length, 1);
      assert.equal(configs[0].name, "models-replication-configuration");
      assert.deepEqual(configs[0].inputs, {
        replicationConfiguration: {
          rules: [
            {
              destinations: [
                { region: "eu-west-1", registryId: ACCOUNT },
                { region: "ap-southeast-2", registryId: ACCOUNT },
              ],
              repositoryFilters: [{ filter: "kserve-models-dev/", filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      });
    });

    it("exports replicaModelUris: region -> image -> tag and digest URIs in that region", () => {
      const uris = run.outputs.replicaModelUris as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(uris), ["eu-west-1", "ap-southeast-2"]);
      assert.deepEqual(Object.keys(uris["eu-west-1"]), IMAGES);
      const host = `${ACCOUNT}.dkr.ecr.ap-southeast-2.amazonaws.com`;
      assert.deepEqual(uris["ap-southeast-2"]["both-cuda"], {
        uri: `oci://${host}/kserve-models-dev/both:2.1-cuda`,
        digestUri: `oci://${host}/kserve-models-dev/both@${mockDigest("kserve-models-dev/both", "2.1-cuda")}`,
      });
    });

    it("refuses the stack's own region as a replica", async () => {
      await assert.rejects(
        dev({
          "model-images:replicaRegions": '["us-east-1"]',
          "model-images:manageRegistryReplication": "true",
        }),
        (err: Error) =>
          err instanceof pulumi.RunError &&
          /replicaRegions lists us-east-1, the stack's own region \(aws:region\).*remove it from replicaRegions/.test(
            err.message,
          ),
      );
    });

    it("refuses replicas without manageRegistryReplication, saying why", async () => {
      await assert.rejects(
        dev({ "model-images:replicaRegions": '["eu-west-1"]' }),
        (err: Error) =>
          err instanceof pulumi.RunError &&
          /model-images:replicaRegions: replicaRegions needs manageRegistryReplication: true\. ECR keeps one replication configuration per account and region/.test(
            err.message,
          ),
      );
    });
  });

  describe("pullThroughCache", () => {
    const ecrPublic = pullThroughPrefix("dev", "kserve-models-dev", "ecr-public");
    const dockerHub = pullThroughPrefix("dev", "kserve-models-dev", "docker-hub");
    const host = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;

    describe("without Docker Hub credentials", () => {
      let run: Run;
      before(async () => {
        run = await dev({ "model-images:pullThroughCache": "true" });
      });

      it("one ECR Public rule under the stack's own prefix", () => {
        const rules = byType(run.recorded, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule");
        assert.deepEqual(
          rules.map((r) => [r.name, r.inputs]),
          [
            [
              "models-pull-through-ecr-public",
              { ecrRepositoryPrefix: ecrPublic, upstreamRegistryUrl: "public.ecr.aws" },
            ],
          ],
        );
      });

      it("every project names the cache for the buildspec, and its role may pull through it only", () => {
        for (const image of IMAGES) {
          assert.deepEqual(
            envOf(run, image).filter((v) => v.name.startsWith("PULL_THROUGH_")),
            [{ name: "PULL_THROUGH_ECR_PUBLIC", value: `${host}/${ecrPublic}`, type: "PLAINTEXT" }],
          );
          const ptc = statementsOf(run, image).filter((s) => s.Sid === "PullThroughCache");
          assert.deepEqual(ptc, [
            {
              Sid: "PullThroughCache",
              Effect: "Allow",
              Action: [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:BatchImportUpstreamImage",
                "ecr:CreateRepository",
                "ecr:GetDownloadUrlForLayer",
              ],
              Resource: [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${ecrPublic}/*`],
            },
          ]);
        }
      });

      it("the ModelImage inputs do not change: a cache is not a reason to rebuild", async () => {
        const off = await dev({});
        const on = await dev({ "model-images:pullThroughCache": "true" });
        for (const image of IMAGES) {
          const name = `models-${image}-image`;
          assert.deepEqual(
            one(on.recorded, "pulumi-nodejs:dynamic:Resource", name).inputs.environment,
            one(off.recorded, "pulumi-nodejs:dynamic:Resource", name).inputs.environment,
          );
        }
      });
    });

    describe("with Docker Hub credentials", () => {
      let run: Run;
      before(async () => {
        run = await dev({
          "model-images:pullThroughCache": "true",
          "model-images:dockerHubCredentialArn": PTC_SECRET,
        });
      });

      it("adds the Docker Hub rule with the secret, the variable, and its prefix in the statement", () => {
        const rule = one(
          run.recorded,
          "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
          "models-pull-through-docker-hub",
        );
        assert.deepEqual(rule.inputs, {
          ecrRepositoryPrefix: dockerHub,
          upstreamRegistryUrl: "registry-1.docker.io",
          credentialArn: PTC_SECRET,
        });
        assert.deepEqual(
          envOf(run, "small")
            .filter((v) => v.name.startsWith("PULL_THROUGH_"))
            .map((v) => [v.name, v.value]),
          [
            ["PULL_THROUGH_ECR_PUBLIC", `${host}/${ecrPublic}`],
            ["PULL_THROUGH_DOCKER_HUB", `${host}/${dockerHub}`],
          ],
        );
        const ptc = statementsOf(run, "small").find((s) => s.Sid === "PullThroughCache");
        assert.deepEqual(ptc?.Resource, [
          `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${ecrPublic}/*`,
          `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${dockerHub}/*`,
        ]);
      });
    });
  });

  describe("notifyEmail", () => {
    let run: Run;
    before(async () => {
      run = await dev({ "model-images:notifyEmail": "ml-team@example.com" });
    });

    it("an encrypted topic, the email subscription, one rule and target per image", () => {
      const counts = countByType(run.recorded);
      assert.equal(counts["model-images:notify:BuildNotifications"], 1);
      assert.equal(counts["aws:kms/key:Key"], 1);
      assert.equal(counts["aws:sns/topic:Topic"], 1);
      assert.equal(counts["aws:sns/topicSubscription:TopicSubscription"], 1);
      assert.equal(counts["aws:sns/topicPolicy:TopicPolicy"], 1);
      assert.equal(counts["aws:cloudwatch/eventRule:EventRule"], IMAGES.length);
      assert.equal(counts["aws:cloudwatch/eventTarget:EventTarget"], IMAGES.length);
      const topic = one(run.recorded, "aws:sns/topic:Topic", "models-notify-topic");
      assert.equal(
        topic.inputs.kmsMasterKeyId,
        `arn:aws:kms:us-east-1:${ACCOUNT}:key/models-notify-key-0000`,
      );
      assert.deepEqual(
        one(run.recorded, "aws:sns/topicSubscription:TopicSubscription", "models-notify-email")
          .inputs,
        {
          topic: `arn:aws:sns:us-east-1:${ACCOUNT}:models-notify-topic`,
          protocol: "email",
          endpoint: "ml-team@example.com",
        },
      );
      assert.equal(
        run.outputs.buildEventsTopicArn,
        `arn:aws:sns:us-east-1:${ACCOUNT}:models-notify-topic`,
      );
    });

    it("each rule matches the end of its own project's builds only", () => {
      for (const image of IMAGES) {
        const rule = one(
          run.recorded,
          "aws:cloudwatch/eventRule:EventRule",
          `models-notify-${image}`,
        );
        assert.deepEqual(JSON.parse(rule.inputs.eventPattern as string), {
          source: ["aws.codebuild"],
          "detail-type": ["CodeBuild Build State Change"],
          detail: {
            "build-status": ["SUCCEEDED", "FAILED", "STOPPED"],
            "project-name": [`model-images-dev-${image}`],
          },
        });
      }
    });

    it("the message names the image, its tag, the status, the build and the logs", () => {
      const target = one(
        run.recorded,
        "aws:cloudwatch/eventTarget:EventTarget",
        "models-notify-both-cuda-target",
      );
      assert.equal(
        target.inputs.rule,
        eventRuleName("models-notify-both-cuda", "model-images-dev-both-cuda", "us-east-1"),
      );
      assert.equal(target.inputs.arn, `arn:aws:sns:us-east-1:${ACCOUNT}:models-notify-topic`);
      const t = target.inputs.inputTransformer as { inputPaths: object; inputTemplate: string };
      assert.deepEqual(t.inputPaths, {
        status: "$.detail.build-status",
        build: "$.detail.build-id",
        logs: "$.detail.additional-information.logs.deep-link",
      });
      assert.equal(
        JSON.parse(t.inputTemplate),
        `model-images: both-cuda (${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/kserve-models-dev/both:2.1-cuda) build <status>. Build: <build>. Logs: <logs>`,
      );
    });

    it("EventBridge may publish to the topic (no condition, as its guide requires), and the key lets it encrypt", () => {
      const policy = JSON.parse(
        one(run.recorded, "aws:sns/topicPolicy:TopicPolicy", "models-notify-topic-policy").inputs
          .policy as string,
      );
      assert.deepEqual(policy.Statement, [
        {
          Sid: "BuildEventsToThisTopic",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sns:Publish",
          Resource: `arn:aws:sns:us-east-1:${ACCOUNT}:models-notify-topic`,
        },
      ]);
      const key = one(run.recorded, "aws:kms/key:Key", "models-notify-key").inputs;
      assert.equal(key.enableKeyRotation, true);
      assert.deepEqual(JSON.parse(key.policy as string).Statement, [
        {
          Sid: "AccountAdministersKey",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        // The section the EventBridge user guide says an encrypted target topic's key policy must
        // include ("If your SNS topic is encrypted, you must include the following section in
        // your KMS key policy."), word for word: no wildcard action, no condition.
        {
          Sid: "Allow EventBridge to use the key",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: "*",
        },
      ]);
    });
  });

  describe("notifyTopicArn", () => {
    let run: Run;
    const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:platform-builds`;
    before(async () => {
      run = await dev({ "model-images:notifyTopicArn": TOPIC });
    });

    it("rules and targets for the existing topic; no key, topic, subscription or topic policy", () => {
      const counts = countByType(run.recorded);
      for (const t of [
        "aws:kms/key:Key",
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:sns/topicPolicy:TopicPolicy",
      ]) {
        assert.equal(counts[t], undefined, t);
      }
      const targets = byType(run.recorded, "aws:cloudwatch/eventTarget:EventTarget");
      assert.equal(targets.length, IMAGES.length);
      assert.ok(targets.every((t) => t.inputs.arn === TOPIC));
      assert.equal(run.outputs.buildEventsTopicArn, TOPIC);
    });

    it("refuses notifyEmail and notifyTopicArn together", async () => {
      await assert.rejects(
        dev({ "model-images:notifyTopicArn": TOPIC, "model-images:notifyEmail": "a@example.com" }),
        (err: Error) =>
          err instanceof pulumi.RunError &&
          /model-images:notifyTopicArn: set notifyEmail \(this stack creates the topic\) or notifyTopicArn/.test(
            err.message,
          ),
      );
    });
  });
});
