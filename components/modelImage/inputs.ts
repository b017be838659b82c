// ModelImage inputs and outputs: their shapes, defaults, and the validation `check` runs.

import type { AwsIdentity } from "../../lib/awsIdentity";
import { ECR_REPOSITORY_MAX, ECR_REPOSITORY_PATTERN, TAG_PATTERN } from "../../lib/naming";

/** Provider inputs (plain values, defaults applied by `check`). */
export interface ModelImageInputs extends AwsIdentity {
  /** AWS region of the repository and the CodeBuild project. */
  region: string;
  /** ECR repository name (it must exist; this resource never creates it). */
  repositoryName: string;
  /** Image tag to make exist. */
  tag: string;
  /** CodeBuild project that builds and pushes `<repository>:<IMAGE_TAG>`. */
  projectName: string;
  /** Registry (account) id. */
  registryId: string;
  /**
   * S3 object version of the build source archive, passed to StartBuild. Absent when the source
   * object's key is content-addressed (the catalogue's case): the project's location is the build.
   */
  sourceVersion?: string;
  /** Non-secret environment overrides for StartBuild (IMAGE_TAG is set by the provider). */
  environment: Record<string, string>;
  /** How long to wait for a build (queue included), in minutes (fractions allowed). */
  timeoutMinutes: number;
  /** First poll interval in seconds (fractions allowed); grows ×1.5 up to 4×. */
  pollIntervalSeconds: number;
  /**
   * Rebuild the tag in place when `sourceVersion` or `environment` changes (default false: an
   * update never rebuilds). Only for MUTABLE tags: ECR refuses a second push of an IMMUTABLE one.
   */
  rebuildOnChange: boolean;
  /**
   * The stack signs its images (signing: cosign-kms): a tag is adopted only when its digest has a
   * cosign signature, else a build signs that digest first (default false). Not a secret: a flag.
   */
  requireSignature: boolean;
}

/** Provider outputs: the inputs plus what the provider found or built (only what is read). */
export interface ModelImageOutputs extends ModelImageInputs {
  /** `sha256:…` of the tag's manifest or index. */
  imageDigest: string;
  /** The build started or adopted, when one ran (for people reading the state). */
  buildId?: string;
}

/** Inputs whose change replaces the resource (a different image). */
export const REPLACE_KEYS = ["region", "registryId", "repositoryName", "tag"] as const;
/** Inputs whose change updates it in place (rebuilds only with rebuildOnChange). */
export const UPDATE_KEYS = [
  "projectName",
  "sourceVersion",
  "environment",
  "timeoutMinutes",
  "pollIntervalSeconds",
  "rebuildOnChange",
  "requireSignature",
  "profile",
  "roleArn",
  "roleSessionName",
  "externalId",
] as const;

/** Defaults for state written before these inputs were required. */
export const MODEL_IMAGE_DEFAULTS = {
  environment: {},
  timeoutMinutes: 120,
  pollIntervalSeconds: 15,
  rebuildOnChange: false,
  requireSignature: false,
} as const;

/** The build variable that makes the buildspec sign an existing digest instead of building. */
export const SIGN_ONLY_DIGEST = "SIGN_ONLY_DIGEST";

// Pulumi's marker for a value not known during preview (runtime/rpc unknownValue).
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Pulumi's marker key on a secret value (runtime/rpc specialSigKey).
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The provider's own inputs from a property bag (drops `__provider`, outputs and retired inputs). */
export function pickInputs(bag: Record<string, unknown>): ModelImageInputs {
  const out: Record<string, unknown> = {};
  for (const k of [...REPLACE_KEYS, ...UPDATE_KEYS]) {
    if (bag[k] !== undefined) {
      out[k] = bag[k];
    }
  }
  return withDefaults(out as unknown as ModelImageInputs);
}

/** Fill in defaults; `check` stores the result, so state and diffs see explicit values. */
export function withDefaults(inputs: ModelImageInputs): ModelImageInputs {
  return {
    ...inputs,
    environment: inputs.environment ?? MODEL_IMAGE_DEFAULTS.environment,
    timeoutMinutes: inputs.timeoutMinutes ?? MODEL_IMAGE_DEFAULTS.timeoutMinutes,
    pollIntervalSeconds: inputs.pollIntervalSeconds ?? MODEL_IMAGE_DEFAULTS.pollIntervalSeconds,
    rebuildOnChange: inputs.rebuildOnChange ?? MODEL_IMAGE_DEFAULTS.rebuildOnChange,
    requireSignature: inputs.requireSignature ?? MODEL_IMAGE_DEFAULTS.requireSignature,
  };
}

/** The AWS identity the provider's clients act as. */
export function identityOf(inputs: AwsIdentity): AwsIdentity {
  return {
    ...(inputs.profile ? { profile: inputs.profile } : {}),
    ...(inputs.roleArn ? { roleArn: inputs.roleArn } : {}),
    ...(inputs.roleSessionName ? { roleSessionName: inputs.roleSessionName } : {}),
    ...(inputs.externalId ? { externalId: inputs.externalId } : {}),
  };
}

type Failure = { property: string; reason: string };

/** Validation of provider inputs; [] when valid. Unknown (preview) values are not judged. */
export function validateInputs(news: Record<string, unknown>): Failure[] {
  const failures: Failure[] = [];
  const known = (v: unknown) => v !== undefined && v !== UNKNOWN;
  const rules: [string, (v: string) => boolean, string][] = [
    ["region", (v) => /^[a-z]{2}(-[a-z]+)+-\d+$/.test(v), "an AWS region such as us-east-1"],
    [
      "repositoryName",
      (v) => v.length >= 2 && v.length <= ECR_REPOSITORY_MAX && ECR_REPOSITORY_PATTERN.test(v),
      "an ECR repository name (lowercase letters, digits, . _ - and / between parts, 2-256 characters)",
    ],
    ["tag", (v) => TAG_PATTERN.test(v), "an OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"],
    [
      "projectName",
      (v) => /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/.test(v),
      "a CodeBuild project name ([A-Za-z0-9][A-Za-z0-9_-]{1,254})",
    ],
    ["registryId", (v) => /^\d{12}$/.test(v), "a 12-digit AWS account id"],
  ];
  for (const [key, ok, what] of rules) {
    const v = news[key];
    if (v === UNKNOWN) {
      continue;
    }
    if (typeof v !== "string" || v === "") {
      failures.push({ property: key, reason: `${key} is required and must be a non-empty string` });
    } else if (!ok(v)) {
      failures.push({ property: key, reason: `${key} ${JSON.stringify(v)} is not ${what}` });
    }
  }
  for (const key of ["sourceVersion", "profile", "roleArn", "roleSessionName", "externalId"]) {
    if (known(news[key]) && (typeof news[key] !== "string" || news[key] === "")) {
      failures.push({ property: key, reason: `${key} must be a non-empty string when set` });
    }
  }
  for (const key of ["rebuildOnChange", "requireSignature"]) {
    if (known(news[key]) && typeof news[key] !== "boolean") {
      failures.push({ property: key, reason: `${key} must be true or false` });
    }
  }
  for (const key of ["timeoutMinutes", "pollIntervalSeconds"]) {
    const v = news[key];
    if (known(v) && !(typeof v === "number" && Number.isFinite(v) && v > 0)) {
      failures.push({
        property: key,
        reason: `${key} must be a positive number (fractions allowed)`,
      });
    }
  }
  failures.push(...validateEnvironment(news.environment));
  return failures;
}

function validateEnvironment(env: unknown): Failure[] {
  if (env === undefined || env === UNKNOWN) {
    return [];
  }
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    return [{ property: "environment", reason: "environment must be a map of names to strings" }];
  }
  const failures: Failure[] = [];
  for (const [name, value] of Object.entries(env)) {
    const property = `environment.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      failures.push({ property, reason: `${JSON.stringify(name)} is not a variable name` });
    } else if (name === "IMAGE_TAG" || name === SIGN_ONLY_DIGEST) {
      failures.push({
        property,
        reason: `${name} is set by ModelImage itself (${name === "IMAGE_TAG" ? "from `tag`" : "to sign an unsigned image"}); remove it from environment`,
      });
    } else if (/TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(name)) {
      failures.push({
        property,
        reason: `${name} looks like a secret; StartBuild overrides are plaintext and end up in state and build metadata. Give the CodeBuild project a Secrets Manager variable instead`,
      });
    } else if (typeof value === "object" && value !== null && SECRET_SIG in value) {
      failures.push({
        property,
        reason: `environment.${name} is a Pulumi secret; environment takes non-secret values only. Give the CodeBuild project a Secrets Manager variable instead`,
      });
    } else if (value !== UNKNOWN && typeof value !== "string") {
      failures.push({ property, reason: `environment.${name} must be a string` });
    }
  }
  return failures;
}
