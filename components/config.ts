// Reads the stack's config and manifest inside the Pulumi program; bad input stops `pulumi up` with positions, not a trace.

import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { formatDiagnostic } from "../lib/diagnostics";
import { stackImages } from "../lib/images";
import type { ImageSpec } from "../lib/manifest";
import { type AwsIdentity, identityFromAwsConfig } from "../lib/awsIdentity";
import { PROJECT_NAME, StackSettings } from "../lib/settings";
import { type ConfigEntry, settingsFromConfig, splitKey, TOKEN_KEY } from "../lib/stackConfig";

export interface StackInputs {
  settings: StackSettings;
  images: ImageSpec[];
  /** The HuggingFace token as a Pulumi secret, when the stack has one. */
  huggingfaceToken?: pulumi.Output<string>;
  /** `aws:region`; empty when the stack builds locally into a non-ECR registry. */
  region: string;
  /** The identity of the stack's `aws` provider (aws:profile, aws:assumeRoles), for ModelImage. */
  awsIdentity: AwsIdentity;
}

/**
 * Whether Pulumi holds a config key as a secret. The engine passes the list of secret keys to the
 * program (PULUMI_CONFIG_SECRET_KEYS, read by the SDK's runtime.isConfigSecret); without that list
 * nothing can be told, and a key is taken to be secret rather than refusing a good stack.
 */
export function isSecretKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret === "function") {
    return runtime.isConfigSecret(fullKey);
  }
  const listed = process.env.PULUMI_CONFIG_SECRET_KEYS;
  return listed === undefined || (JSON.parse(listed) as string[]).includes(fullKey);
}

/**
 * The stack's config as the loader's entries: every key the engine passed (so a misspelt key is
 * caught, as the CLI catches it), the token by presence and secrecy only.
 */
export function programConfigEntries(): ConfigEntry[] {
  return Object.entries(pulumi.runtime.allConfig()).map(([key, value]): ConfigEntry => {
    const secret = isSecretKey(key);
    const { namespace, name } = splitKey(key);
    return namespace === PROJECT_NAME && name === TOKEN_KEY
      ? { key, secret }
      : { key, value, secret };
  });
}

/** Settings, token and the validated manifest; throws a RunError listing every problem. */
export function readStackInputs(projectDir: string): StackInputs {
  const config = new pulumi.Config(PROJECT_NAME);
  const { settings, problems } = settingsFromConfig(pulumi.getStack(), programConfigEntries());
  const huggingfaceToken = settings.hasHuggingfaceToken ? config.getSecret(TOKEN_KEY) : undefined;
  if (problems.length > 0) {
    const lines = problems.map((p) => `  ${PROJECT_NAME}:${p.key}: ${p.message}`);
    throw new pulumi.RunError(
      `stack '${settings.stack}' has invalid config (fix with 'pulumi config set <key> <value>'):\n${lines.join("\n")}`,
    );
  }
  const file = path.resolve(projectDir, settings.manifest);
  let text: Buffer;
  try {
    text = fs.readFileSync(file);
  } catch (err) {
    throw new pulumi.RunError(
      `cannot read the manifest ${file} (config ${PROJECT_NAME}:manifest): ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  const shown = path.relative(projectDir, file) || file;
  // The region decides where CodeBuild has GPU compute for cuda variants.
  const region = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? "";
  const found = stackImages({ file: shown, text, settings, region });
  if (found.diagnostics.length > 0) {
    throw new pulumi.RunError(
      `${shown} is not valid for stack '${settings.stack}':\n${found.diagnostics.map(formatDiagnostic).join("\n")}`,
    );
  }
  if (found.problems.length > 0) {
    throw new pulumi.RunError(`stack '${settings.stack}': ${found.problems.join("; ")}`);
  }
  const aws = new pulumi.Config("aws");
  const identity = identityFromAwsConfig((key) => aws.get(key));
  if (identity.problems.length > 0) {
    throw new pulumi.RunError(
      `stack '${settings.stack}': the ModelImage builds act as the stack's aws provider, and cannot:\n${identity.problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  return {
    settings,
    images: found.images,
    huggingfaceToken,
    region,
    awsIdentity: identity.identity,
  };
}
