// The fleet settings (replication, pull-through cache, notifications): values, lists and the combinations refused.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  PTC_PREFIX_MAX,
  PTC_PREFIX_PATTERN,
  pullThroughPrefix,
  pullThroughStatement,
} from "../lib/pullThrough";
import { resolveSettings } from "../lib/settings";
import { readStackFile } from "../lib/stackFile";

const PTC_SECRET =
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";

describe("fleet settings", () => {
  /** raw config, the problems' keys, a pattern every problem message matches (in order). */
  const REFUSED: [string, Record<string, unknown>, string[], RegExp[]][] = [
    [
      "replicas without owning the registry's replication",
      { replicaRegions: ["eu-west-1"] },
      ["replicaRegions"],
      [
        /^replicaRegions needs manageRegistryReplication: true\. ECR keeps one replication configuration per account and region, and this stack would replace whatever is in it/,
      ],
    ],
    [
      "owning replication with no regions",
      { manageRegistryReplication: true },
      ["manageRegistryReplication"],
      [
        /replicaRegions is empty: .*list the regions in replicaRegions, or set manageRegistryReplication to false/,
      ],
    ],
    [
      "replicas of an empty prefix",
      { replicaRegions: '["eu-west-1"]', manageRegistryReplication: "true", registryPrefix: "" },
      ["replicaRegions"],
      [/an empty prefix would replicate every repository in the registry/],
    ],
    [
      "replicas of a non-ECR registry",
      {
        replicaRegions: ["eu-west-1"],
        manageRegistryReplication: true,
        builder: "local",
        registry: "localhost:5000",
      },
      ["replicaRegions"],
      [/this stack pushes to registry "localhost:5000"; clear registry or replicaRegions/],
    ],
    [
      "a bad region name",
      { replicaRegions: ["eu-west-1", "Europe"], manageRegistryReplication: true },
      ["replicaRegions"],
      [/^replicaRegions must list AWS region names like eu-west-1 \(not "Europe"\)/],
    ],
    [
      "a region twice",
      { replicaRegions: ["eu-west-1", "eu-west-1"], manageRegistryReplication: true },
      ["replicaRegions"],
      [/^replicaRegions must not list a region twice/],
    ],
    [
      "more than ECR's 25 destinations",
      {
        replicaRegions: Array.from({ length: 26 }, (_, i) => `eu-west-${i + 1}`),
        manageRegistryReplication: true,
      },
      ["replicaRegions"],
      [/at most 25 regions/],
    ],
    [
      "a region list that is not a list",
      { replicaRegions: "eu-west-1", manageRegistryReplication: true },
      ["replicaRegions"],
      [
        /^replicaRegions must be a list of strings \(e\.g\. \[eu-west-1, us-west-2\]\) \(got "eu-west-1"\)$/,
      ],
    ],
    [
      "a Docker Hub secret without the cache",
      { dockerHubCredentialArn: PTC_SECRET },
      ["dockerHubCredentialArn"],
      [
        /^dockerHubCredentialArn is used only by the Docker Hub pull-through cache rule; set pullThroughCache to true/,
      ],
    ],
    [
      "a Docker Hub secret without ECR's name prefix",
      {
        pullThroughCache: true,
        dockerHubCredentialArn:
          "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf",
      },
      ["dockerHubCredentialArn"],
      [/whose name starts with ecr-pullthroughcache\/ \(ECR requires the prefix\)/],
    ],
    [
      "the cache with the local builder",
      { pullThroughCache: true, builder: "local", imageTagMutability: "MUTABLE" },
      ["pullThroughCache"],
      [/^pullThroughCache serves CodeBuild builds/],
    ],
    [
      "both an email and a topic",
      {
        notifyEmail: "ml@example.com",
        notifyTopicArn: "arn:aws:sns:us-east-1:123456789012:builds",
      },
      ["notifyTopicArn"],
      [
        /^set notifyEmail \(this stack creates the topic\) or notifyTopicArn \(an existing topic\), not both$/,
      ],
    ],
    [
      "notifications with the local builder",
      { notifyEmail: "ml@example.com", builder: "local", imageTagMutability: "MUTABLE" },
      ["notifyEmail"],
      [/builder: local has none/],
    ],
    [
      "a bad email",
      { notifyEmail: "ml" },
      ["notifyEmail"],
      [/^notifyEmail must be empty or an email address/],
    ],
    [
      "a bad topic ARN",
      { notifyTopicArn: "builds" },
      ["notifyTopicArn"],
      [/^notifyTopicArn must be empty or an SNS topic ARN/],
    ],
  ];
  for (const [what, raw, keys, messages] of REFUSED) {
    it(`refuses ${what}`, () => {
      const { problems } = resolveSettings("dev", raw, false);
      assert.deepEqual(
        problems.map((p) => p.key),
        keys,
        JSON.stringify(problems),
      );
      problems.forEach((p, i) => assert.match(p.message, messages[i]));
    });
  }

  const ACCEPTED: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "nothing: every feature off",
      {},
      { replicaRegions: [], pullThroughCache: false, notifyEmail: "" },
    ],
    [
      "replicas as the engine passes them (JSON text)",
      { replicaRegions: '["eu-west-1","ap-southeast-2"]', manageRegistryReplication: "true" },
      { replicaRegions: ["eu-west-1", "ap-southeast-2"], manageRegistryReplication: true },
    ],
    [
      "replicas as a stack file lists them",
      { replicaRegions: ["us-gov-west-1"], manageRegistryReplication: true },
      { replicaRegions: ["us-gov-west-1"] },
    ],
    [
      "the cache with a Docker Hub secret",
      { pullThroughCache: "true", dockerHubCredentialArn: PTC_SECRET },
      { pullThroughCache: true, dockerHubCredentialArn: PTC_SECRET },
    ],
    ["an email", { notifyEmail: "ml-team@example.com" }, { notifyEmail: "ml-team@example.com" }],
  ];
  for (const [what, raw, expected] of ACCEPTED) {
    it(`accepts ${what}`, () => {
      const { settings, problems } = resolveSettings("dev", raw, false);
      assert.deepEqual(problems, []);
      for (const [k, v] of Object.entries(expected)) {
        assert.deepEqual(settings[k as keyof typeof settings], v, k);
      }
    });
  }

  it("a stack file's YAML list reaches the settings, and a problem points at its line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.ok.yaml"),
      "config:\n  model-images:replicaRegions:\n    - eu-west-1\n    - us-west-2\n  model-images:manageRegistryReplication: true\n",
    );
    fs.writeFileSync(
      path.join(dir, "Pulumi.bad.yaml"),
      "config:\n  aws:region: us-east-1\n  model-images:replicaRegions: [eu-west-1]\n",
    );
    const ok = readStackFile(dir, "ok");
    assert.deepEqual(ok.diagnostics, []);
    assert.deepEqual(ok.settings.replicaRegions, ["eu-west-1", "us-west-2"]);
    const bad = readStackFile(dir, "bad");
    assert.deepEqual(
      bad.diagnostics.map((d) => [d.line, d.col]),
      [[3, 3]],
    );
    assert.match(bad.diagnostics[0].message, /needs manageRegistryReplication: true/);
  });
});

describe("pull-through cache rule prefixes", () => {
  const CASES: [string, string][] = [
    ["dev", "kserve-models-dev"],
    ["prod", "kserve-models"],
    ["My_Very.Long-Stack-Name-For-Team-Search", "team/search/models"],
    ["---", ""],
  ];
  for (const [stack, prefix] of CASES) {
    it(`${stack} / ${JSON.stringify(prefix)}: ECR's pattern, 2 to 30 characters, outside <registryPrefix>/`, () => {
      for (const upstream of ["ecr-public", "docker-hub"] as const) {
        const p = pullThroughPrefix(stack, prefix, upstream);
        assert.match(p, PTC_PREFIX_PATTERN);
        assert.ok(p.length >= 2 && p.length <= PTC_PREFIX_MAX, p);
        assert.ok(p.endsWith(`/${upstream}`), p);
        assert.ok(prefix === "" || !p.startsWith(`${prefix}/`), p);
      }
    });
  }

  it("differs between stacks, and between prefixes of one stack name", () => {
    const all = [
      pullThroughPrefix("dev", "kserve-models-dev", "ecr-public"),
      pullThroughPrefix("prod", "kserve-models", "ecr-public"),
      pullThroughPrefix("dev", "other-team-models", "ecr-public"),
    ];
    assert.equal(new Set(all).size, all.length);
    assert.match(all[0], /^dev-[0-9a-f]{6}\/ecr-public$/);
  });

  it("the role's statement names only the rules' repositories, in the region's partition", () => {
    assert.deepEqual(
      (
        pullThroughStatement("cn-north-1", "123456789012", ["a-1/ecr-public"]) as {
          Resource: string[];
        }
      ).Resource,
      ["arn:aws-cn:ecr:cn-north-1:123456789012:repository/a-1/ecr-public/*"],
    );
  });
});
