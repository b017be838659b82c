// Stack settings: every `model-images:*` config key, its type, default and rule, resolved from raw values.

import { KSERVE_KINDS, type KServeKind } from "./manifest/serving";
import { DNS_LABEL_PATTERN, ECR_REPOSITORY_MAX, ECR_REPOSITORY_PATTERN } from "./naming";

export const PROJECT_NAME = "model-images";

export type Builder = "codebuild" | "local";

/** How built images are signed: not at all, or cosign with the stack's AWS KMS key (docs/supply-chain.md). */
export type Signing = "none" | "cosign-kms";

export interface StackSettings {
  /** Stack name (`dev`, `prod`, ...). */
  stack: string;
  manifest: string;
  registryPrefix: string;
  tagSuffix: string;
  imageTagMutability: "MUTABLE" | "IMMUTABLE";
  imageExpiryDays: number;
  untaggedExpiryDays: number;
  buildTimeoutMinutes: number;
  requirePinnedRevisions: boolean;
  scanOnPush: boolean;
  kmsKeyArn: string;
  retainRepositoriesOnDestroy: boolean;
  forceDeleteRepositories: boolean;
  rebuildOnSourceChange: boolean;
  logRetentionDays: number;
  maxLayerBytes: number;
  buildPollSeconds: number;
  builder: Builder;
  registry: string;
  buildxBuilder: string;
  onlyModels: string;
  replicaRegions: string[];
  manageRegistryReplication: boolean;
  pullThroughCache: boolean;
  dockerHubCredentialArn: string;
  notifyEmail: string;
  notifyTopicArn: string;
  signing: Signing;
  /** metadata.namespace of the `kserveManifests` output; empty leaves it to `kubectl apply -n`. */
  kserveNamespace: string;
  /** Which KServe documents `kserveManifests` holds per image. */
  kserveKinds: readonly KServeKind[];
  /** Whether the stack has `huggingface-token` set (its value is never read here). */
  hasHuggingfaceToken: boolean;
}

type Kind = "string" | "integer" | "boolean" | "array";

export interface SettingSpec {
  key: Exclude<keyof StackSettings, "stack" | "hasHuggingfaceToken">;
  kind: Kind;
  /** An `array` setting is a list of strings (Pulumi.yaml: `type: array`, `items: {type: string}`). */
  default: string | number | boolean | readonly string[];
  description: string;
  /** Returns a problem (what is allowed) or undefined. */
  check?: (value: never) => string | undefined;
}

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

function between(min: number, max: number, unit: string) {
  return (v: number) =>
    v >= min && v <= max ? undefined : `must be from ${min} to ${max} ${unit}`;
}

/** The project's own config keys, in the order `Pulumi.yaml` documents them. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    key: "manifest",
    kind: "string",
    default: "models.yaml",
    description: "Path of the models manifest, relative to the project directory.",
    check: (v: string) => (v.trim() === "" ? "must name a file" : undefined),
  },
  {
    key: "registryPrefix",
    kind: "string",
    default: "kserve-models",
    description:
      "ECR repository prefix: each model is stored in <registryPrefix>/<name>. Keep dev and prod apart.",
    check: (v: string) =>
      v === "" || (ECR_REPOSITORY_PATTERN.test(v) && v.length <= ECR_REPOSITORY_MAX - 2)
        ? undefined
        : "must be lowercase path segments of [a-z0-9] separated by '.', '_', '-' or '/' (e.g. kserve-models)",
  },
  {
    key: "tagSuffix",
    kind: "string",
    default: "",
    description:
      "Appended to every image tag (CI sets e.g. -pr-123 so pull requests build into their own tags).",
    check: (v: string) =>
      /^[A-Za-z0-9._-]{0,64}$/.test(v)
        ? undefined
        : "may hold only letters, digits, '.', '_' and '-' (at most 64)",
  },
  {
    key: "imageTagMutability",
    kind: "string",
    default: "IMMUTABLE",
    description:
      "ECR tag mutability: IMMUTABLE (prod: a tag always means the same weights) or MUTABLE.",
    check: (v: string) =>
      v === "MUTABLE" || v === "IMMUTABLE" ? undefined : "must be MUTABLE or IMMUTABLE",
  },
  {
    key: "imageExpiryDays",
    kind: "integer",
    default: 0,
    description: "Expire images older than this many days (dev); 0 keeps images forever.",
    check: between(0, 3650, "days"),
  },
  {
    key: "untaggedExpiryDays",
    kind: "integer",
    default: 1,
    description:
      "Expire untagged images (superseded pushes, build cache leftovers) after this many days.",
    check: between(1, 3650, "days"),
  },
  {
    key: "buildTimeoutMinutes",
    kind: "integer",
    default: 240,
    description: "CodeBuild build timeout in minutes (5 to 2160); large models need hours.",
    check: between(5, 2160, "minutes"),
  },
  {
    key: "requirePinnedRevisions",
    kind: "boolean",
    default: true,
    description:
      "Require every model revision to be a 40-hex commit SHA (branch names allowed when false).",
  },
  {
    key: "scanOnPush",
    kind: "boolean",
    default: true,
    description: "ECR basic scanning of every pushed image.",
  },
  {
    key: "kmsKeyArn",
    kind: "string",
    default: "",
    description: "KMS key ARN for ECR encryption; empty uses AES256.",
    check: (v: string) =>
      v === "" || /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(v)
        ? undefined
        : "must be empty (AES256) or a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<id>",
  },
  {
    key: "retainRepositoriesOnDestroy",
    kind: "boolean",
    default: true,
    description: "Keep the ECR repositories (and their images) when the stack is destroyed.",
  },
  {
    key: "forceDeleteRepositories",
    kind: "boolean",
    default: false,
    description: "Let `pulumi destroy` delete repositories that still hold images (dev only).",
  },
  {
    key: "rebuildOnSourceChange",
    kind: "boolean",
    default: false,
    description:
      "Rebuild an existing tag in place when its build inputs change (docker/, buildspec, revision, include/exclude) but the tag does not; needs MUTABLE tags (dev).",
  },
  {
    key: "logRetentionDays",
    kind: "integer",
    default: 30,
    description:
      "CloudWatch retention of the build logs, in days (a value CloudWatch accepts, e.g. 7, 30, 365).",
    check: (v: number) =>
      LOG_RETENTION_DAYS.includes(v)
        ? undefined
        : `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
  },
  {
    key: "maxLayerBytes",
    kind: "integer",
    default: 10737418240,
    description:
      "Largest image layer the build makes, in bytes (10 GiB: under ECR's layer limit and quick to pull in parallel).",
    check: between(1048576, 54525952000, "bytes (1 MiB to ECR's 52,000 MiB layer limit)"),
  },
  {
    key: "buildPollSeconds",
    kind: "integer",
    default: 15,
    description: "First interval between build status checks, in seconds (backs off from there).",
    check: between(1, 300, "seconds"),
  },
  {
    key: "builder",
    kind: "string",
    default: "codebuild",
    description:
      "Who builds images: codebuild (AWS CodeBuild) or local (docker-build on this machine).",
    check: (v: string) =>
      v === "codebuild" || v === "local" ? undefined : "must be codebuild or local",
  },
  {
    key: "registry",
    kind: "string",
    default: "",
    description:
      "Registry host for the local builder (e.g. localhost:5000); empty uses the stack account's ECR.",
    check: (v: string) =>
      v === "" || /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(v) ? undefined : "must be a host or host:port",
  },
  {
    key: "buildxBuilder",
    kind: "string",
    default: "",
    description:
      "Existing buildx builder for builder: local (e.g. one created with --driver-opt network=host, which can reach a registry on localhost); empty uses docker-build's default.",
    check: (v: string) =>
      v === "" || /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)
        ? undefined
        : "must be a buildx builder name",
  },
  {
    key: "onlyModels",
    kind: "string",
    default: "",
    description:
      "Comma-separated model names this stack builds (e.g. a laptop stack with one small model); empty builds every model.",
    check: (v: string) =>
      v.split(",").every((n) => n.trim() === "" || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n.trim()))
        ? undefined
        : "must be model names separated by commas",
  },
  {
    key: "replicaRegions",
    kind: "array",
    default: [],
    description:
      "AWS regions that receive a copy of every image of this stack (ECR replication of <registryPrefix>/ repositories); needs manageRegistryReplication: true.",
    check: (v: string[]) => {
      const bad = v.filter((r) => !AWS_REGION_PATTERN.test(r));
      if (bad.length > 0) {
        return `must list AWS region names like eu-west-1 (not ${bad.map((r) => JSON.stringify(r)).join(", ")})`;
      }
      if (new Set(v).size !== v.length) {
        return "must not list a region twice";
      }
      // "Destinations ... Maximum: 25" (AWS::ECR::ReplicationConfiguration ReplicationRule).
      return v.length <= 25
        ? undefined
        : "may list at most 25 regions (ECR's destinations per rule)";
    },
  },
  {
    key: "manageRegistryReplication",
    kind: "boolean",
    default: false,
    description:
      "This stack owns the account's ECR replication configuration in its region (there is one per registry, and replicaRegions replaces whatever else is in it).",
  },
  {
    key: "pullThroughCache",
    kind: "boolean",
    default: false,
    description:
      "Pull the build's base and BuildKit images through ECR pull-through cache rules in this account instead of from public registries.",
  },
  {
    key: "dockerHubCredentialArn",
    kind: "string",
    default: "",
    description:
      "Secrets Manager secret (name starting ecr-pullthroughcache/) with Docker Hub credentials; with pullThroughCache, adds a Docker Hub rule so BuildKit's image comes through ECR too.",
    check: (v: string) =>
      v === "" || PTC_SECRET_PATTERN.test(v)
        ? undefined
        : "must be empty or the ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (ECR requires the prefix), like arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
  },
  {
    key: "notifyEmail",
    kind: "string",
    default: "",
    description:
      "Email address told when each build ends (SUCCEEDED, FAILED, STOPPED), through a KMS-encrypted SNS topic this stack creates.",
    check: (v: string) =>
      v === "" || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)
        ? undefined
        : "must be empty or an email address",
  },
  {
    key: "notifyTopicArn",
    kind: "string",
    default: "",
    description:
      "Existing SNS topic told when each build ends, instead of notifyEmail; its policy (and key policy, if encrypted) must let EventBridge publish.",
    check: (v: string) =>
      v === "" || /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(v)
        ? undefined
        : "must be empty or an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:builds",
  },
  {
    key: "signing",
    kind: "string",
    default: "none",
    description:
      "Sign every pushed image: none, or cosign-kms (cosign with a KMS key only this stack's build roles may use; prod).",
    check: (v: string) =>
      v === "none" || v === "cosign-kms" ? undefined : "must be none or cosign-kms",
  },
  {
    key: "kserveNamespace",
    kind: "string",
    default: "",
    description:
      "metadata.namespace of the kserveManifests documents; empty leaves it to kubectl apply -n.",
    check: (v: string) =>
      v === "" || (DNS_LABEL_PATTERN.test(v) && v.length <= 63)
        ? undefined
        : "must be empty or a Kubernetes namespace name (a DNS-1123 label such as models)",
  },
  {
    key: "kserveKinds",
    kind: "array",
    // Frozen: every stack without the key shares this one list.
    default: Object.freeze(["isvc"]),
    description:
      "KServe documents kserveManifests holds per image: isvc (InferenceService), llmisvc (LLMInferenceService), or both.",
    check: (v: string[]) =>
      v.length > 0 &&
      v.every((k) => (KSERVE_KINDS as readonly string[]).includes(k)) &&
      new Set(v).size === v.length
        ? undefined
        : `must be a non-empty list of ${KSERVE_KINDS.join(", ")}, each once`,
  },
];

/** An AWS region name (eu-west-1, us-gov-west-1, ap-southeast-5). */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * credentialArn of a pull-through cache rule, as the ECR API reference gives it: "Pattern:
 * ^arn:aws:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$".
 */
const PTC_SECRET_PATTERN =
  /^arn:aws[a-z-]*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache\/[a-zA-Z0-9/_+=.@-]+$/;

export const SECRET_KEYS = ["huggingface-token"] as const;

/**
 * Settings that existed once and are refused now, with what replaced them: a stack file that
 * still sets one must not be read as if it did what it used to.
 */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  deleteImagesOnDestroy:
    "deleteImagesOnDestroy was removed: ModelImage never deletes an image (a replaced or destroyed resource cannot tell whether an InferenceService still pins the old tag). A dev stack leaves nothing behind through forceDeleteRepositories: true, which deletes its repositories with their images on `pulumi destroy`. Remove the setting (pulumi config rm deleteImagesOnDestroy)",
  waitForBuilds:
    "waitForBuilds was removed: `pulumi up` always waits for a build and records its digest, so modelDigestUris and kserveManifests never hold an image without a digest. Remove the setting (pulumi config rm waitForBuilds)",
};

export interface SettingProblem {
  key: string;
  message: string;
}

function coerce(
  spec: SettingSpec,
  raw: unknown,
): { value?: string | number | boolean | string[]; problem?: string } {
  switch (spec.kind) {
    case "array": {
      // The engine hands a program an array setting as JSON text; a stack file read by the CLI
      // gives the list itself.
      let list: unknown = raw;
      if (typeof raw === "string") {
        try {
          list = JSON.parse(raw);
        } catch {
          list = undefined;
        }
      }
      return Array.isArray(list) && list.every((x) => typeof x === "string")
        ? { value: [...list] }
        : { problem: "must be a list of strings (e.g. [eu-west-1, us-west-2])" };
    }
    case "string":
      return typeof raw === "string" ? { value: raw } : { problem: "must be a string" };
    case "integer": {
      const n =
        typeof raw === "number"
          ? raw
          : typeof raw === "string" && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : NaN;
      return Number.isSafeInteger(n) ? { value: n } : { problem: "must be a whole number" };
    }
    case "boolean":
      if (typeof raw === "boolean") {
        return { value: raw };
      }
      if (raw === "true" || raw === "false") {
        return { value: raw === "true" };
      }
      return { problem: "must be true or false" };
  }
}

/**
 * Resolve settings from raw config values (strings from the Pulumi engine, or typed YAML values
 * from a stack file). Unknown project keys are problems: a typo must not silently use a default.
 */
export function resolveSettings(
  stack: string,
  raw: Readonly<Record<string, unknown>>,
  hasHuggingfaceToken: boolean,
): { settings: StackSettings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const known = new Set<string>([...SETTINGS.map((s) => s.key), ...SECRET_KEYS]);
  for (const key of Object.keys(raw)) {
    if (RETIRED_SETTINGS[key] !== undefined) {
      problems.push({ key, message: RETIRED_SETTINGS[key] });
    } else if (!known.has(key)) {
      problems.push({
        key,
        message: `unknown setting '${key}'; known settings: ${[...known].join(", ")}`,
      });
    }
  }
  const out: Record<string, unknown> = { stack, hasHuggingfaceToken };
  for (const spec of SETTINGS) {
    const given = raw[spec.key];
    if (given === undefined || given === null) {
      out[spec.key] = spec.default;
      continue;
    }
    const { value, problem } = coerce(spec, given);
    const rule = problem ?? (spec.check ? spec.check(value as never) : undefined);
    if (rule !== undefined) {
      problems.push({
        key: spec.key,
        message: `${spec.key} ${rule} (got ${JSON.stringify(given)})`,
      });
      out[spec.key] = spec.default;
    } else {
      out[spec.key] = value;
    }
  }
  if (out.builder === "codebuild" && out.registry !== "") {
    problems.push({
      key: "registry",
      message: `registry is only for builder: local; CodeBuild pushes to the stack's ECR (got ${JSON.stringify(out.registry)})`,
    });
  }
  if (out.builder === "codebuild" && out.buildxBuilder !== "") {
    problems.push({
      key: "buildxBuilder",
      message: `buildxBuilder is only for builder: local; CodeBuild starts its own builder (got ${JSON.stringify(out.buildxBuilder)})`,
    });
  }
  // docker-build pushes the tag again whenever the Image is replaced and the buildcache- tag on every
  // build; ECR refuses both on IMMUTABLE repositories, so the first update after a create would fail.
  if (out.builder === "local" && out.registry === "" && out.imageTagMutability === "IMMUTABLE") {
    problems.push({
      key: "imageTagMutability",
      message:
        "builder: local pushing to the stack's ECR needs imageTagMutability: MUTABLE (docker-build re-pushes the image tag and its buildcache- tag, and ECR refuses a second push of an IMMUTABLE tag); set imageTagMutability to MUTABLE, set registry to a local registry, or use builder: codebuild",
    });
  }
  if (out.rebuildOnSourceChange === true && out.imageTagMutability === "IMMUTABLE") {
    problems.push({
      key: "rebuildOnSourceChange",
      message:
        "rebuildOnSourceChange needs imageTagMutability: MUTABLE (ECR refuses a second push of an IMMUTABLE tag); set imageTagMutability to MUTABLE or rebuildOnSourceChange to false, or bump the tag in models.yaml instead",
    });
  }
  // A value already refused stands at its default, which would only add a misleading second problem.
  const fleetKeys = [
    "replicaRegions",
    "manageRegistryReplication",
    "registryPrefix",
    "builder",
    "registry",
    "pullThroughCache",
    "dockerHubCredentialArn",
    "notifyEmail",
    "notifyTopicArn",
  ];
  if (!problems.some((p) => fleetKeys.includes(p.key))) {
    problems.push(...fleetProblems(out as unknown as StackSettings));
  }
  return { settings: out as unknown as StackSettings, problems };
}

/** Replication, pull-through cache and notifications: settings that only make sense together. */
function fleetProblems(s: StackSettings): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ key, message });
  const ecr = s.builder === "codebuild" || s.registry === "";
  if (s.replicaRegions.length > 0 && !s.manageRegistryReplication) {
    problem(
      "replicaRegions",
      "replicaRegions needs manageRegistryReplication: true. ECR keeps one replication configuration per account and region, and this stack would replace whatever is in it (other stacks' or teams' rules included); set manageRegistryReplication to true if this stack owns it, or add the regions to the configuration's owner",
    );
  }
  if (s.manageRegistryReplication && s.replicaRegions.length === 0) {
    problem(
      "manageRegistryReplication",
      "manageRegistryReplication is true but replicaRegions is empty: the stack would own a replication configuration with nothing in it; list the regions in replicaRegions, or set manageRegistryReplication to false",
    );
  }
  if (s.replicaRegions.length > 0 && s.registryPrefix === "") {
    problem(
      "replicaRegions",
      "replicaRegions needs a registryPrefix: the replication filter is '<registryPrefix>/', and an empty prefix would replicate every repository in the registry",
    );
  }
  if (s.replicaRegions.length > 0 && !ecr) {
    problem(
      "replicaRegions",
      `replicaRegions replicates ECR repositories, but this stack pushes to registry ${JSON.stringify(s.registry)}; clear registry or replicaRegions`,
    );
  }
  if (s.dockerHubCredentialArn !== "" && !s.pullThroughCache) {
    problem(
      "dockerHubCredentialArn",
      "dockerHubCredentialArn is used only by the Docker Hub pull-through cache rule; set pullThroughCache to true, or clear dockerHubCredentialArn",
    );
  }
  if (s.pullThroughCache && s.builder !== "codebuild") {
    problem(
      "pullThroughCache",
      "pullThroughCache serves CodeBuild builds; builder: local pulls its base images with this machine's docker (set pullThroughCache to false)",
    );
  }
  if (s.notifyEmail !== "" && s.notifyTopicArn !== "") {
    problem(
      "notifyTopicArn",
      "set notifyEmail (this stack creates the topic) or notifyTopicArn (an existing topic), not both",
    );
  }
  if ((s.notifyEmail !== "" || s.notifyTopicArn !== "") && s.builder !== "codebuild") {
    problem(
      s.notifyEmail !== "" ? "notifyEmail" : "notifyTopicArn",
      "build notifications report CodeBuild builds; builder: local has none (clear notifyEmail and notifyTopicArn)",
    );
  }
  return problems;
}

/** Settings with every default, for tests and tools that have no stack file. */
export function defaultSettings(
  stack = "dev",
  overrides: Partial<StackSettings> = {},
): StackSettings {
  return { ...resolveSettings(stack, {}, false).settings, ...overrides };
}
