// The one settings loader: a stack's config entries, wherever they were read (the stack file, `pulumi
// config --json` with ESC environments, the Pulumi engine inside the program), become StackSettings.

import { PROJECT_NAME, resolveSettings, type SettingProblem, type StackSettings } from "./settings";

/** The config key that holds the HuggingFace token; it must be a Pulumi secret. */
export const TOKEN_KEY = "huggingface-token";

/** One config value as Pulumi knows it. */
export interface ConfigEntry {
  /** As written: `model-images:registryPrefix`, `registryPrefix` (the project's), `aws:region`. */
  key: string;
  /**
   * The value of a non-secret key (a string from the engine, a typed value from YAML); left out
   * for secrets and the token (an entry's presence is what counts for it).
   */
  value?: unknown;
  /** Pulumi holds it encrypted (`secure:` in the file, `secret: true` from the CLI or engine). */
  secret: boolean;
}

export interface StackConfig {
  settings: StackSettings;
  /** `aws:region`, when the stack sets it. */
  region?: string;
  /** Problems by project key (without namespace), each saying what is allowed. */
  problems: SettingProblem[];
}

/** `namespace` and `name` of a config key; a bare key is the project's. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf(":");
  return i < 0
    ? { namespace: PROJECT_NAME, name: key }
    : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The refusal of a token stored in plaintext: where it sits and the command that stores it encrypted. */
export function plaintextTokenProblem(stack: string): SettingProblem {
  return {
    key: TOKEN_KEY,
    message: `${TOKEN_KEY} is stored in plaintext (anyone who can read the stack's configuration or its git history has it): delete it, run 'pulumi config set --secret ${TOKEN_KEY} <token> --stack ${stack}', and revoke the exposed token on huggingface.co`,
  };
}

/**
 * Settings of `stack` from its config entries: the project's keys are resolved and checked (an
 * unknown key is a problem), `aws:region` is picked up, and the token only counts as present: its
 * value is never read, and one that is not a secret is refused.
 */
export function settingsFromConfig(stack: string, entries: readonly ConfigEntry[]): StackConfig {
  const raw: Record<string, unknown> = {};
  let region: string | undefined;
  let hasToken = false;
  let plaintextToken = false;
  const secretSettings: string[] = [];
  for (const entry of entries) {
    const { namespace, name } = splitKey(entry.key);
    if (namespace === "aws" && name === "region" && typeof entry.value === "string") {
      region = entry.value;
    }
    if (namespace !== PROJECT_NAME) {
      continue;
    }
    if (name === TOKEN_KEY) {
      // Present unless written empty (`huggingface-token:`); the entry is there, its value may not be.
      hasToken = entry.secret || entry.value !== null;
      plaintextToken = !entry.secret && hasToken;
      continue;
    }
    if (entry.secret && entry.value === undefined) {
      secretSettings.push(name);
      continue;
    }
    raw[name] = entry.value;
  }
  const { settings, problems } = resolveSettings(stack, raw, hasToken && !plaintextToken);
  if (plaintextToken) {
    problems.unshift(plaintextTokenProblem(stack));
  }
  for (const name of secretSettings) {
    problems.push({
      key: name,
      message: `${name} is a secret here, and secrets are never read outside 'pulumi up': store it as plain config (pulumi config set ${name} <value> --stack ${stack})`,
    });
  }
  return { settings, region, problems };
}
