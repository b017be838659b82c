// Reads Pulumi.<stack>.yaml without the Pulumi engine: the CLI's view of a stack's settings.

import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isPair, isScalar, isSeq } from "yaml";
import { type AwsIdentity, identityFromAwsConfig } from "./awsIdentity";
import type { Diagnostic } from "./diagnostics";
import { positionAt, readYaml } from "./manifest/yamlSource";
import { type StackSettings } from "./settings";
import { type ConfigEntry, settingsFromConfig, splitKey } from "./stackConfig";

export interface StackFile {
  settings: StackSettings;
  /** `aws:region`, when the stack sets it. */
  region?: string;
  /** `aws:profile` and `aws:assumeRoles` (or `aws:assumeRole`): the identity `plan` uses for ECR. */
  awsIdentity: AwsIdentity;
  file: string;
  diagnostics: Diagnostic[];
  /**
   * The Pulumi ESC environments the file imports (`environment: [...]`): their values reach the
   * stack only through Pulumi, so `settings` from the file alone are incomplete when this is set.
   */
  environments: string[];
  /** The config entries as written (secrets without values), for a caller that merges more. */
  entries: ConfigEntry[];
  /** Where each project key (and `environment`) is in the file, as a position. */
  positions: Map<string, { line: number; col: number }>;
}

/** Stacks that have a `Pulumi.<stack>.yaml` in the project directory. */
export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * Settings of a stack from its file. Secrets stay encrypted: a `secure:` value is only known to
 * exist; a `huggingface-token` written in plaintext is a problem.
 */
export function readStackFile(projectDir: string, stack: string, cwd = process.cwd()): StackFile {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const shown = path.relative(cwd, file) || file;
  const text = fs.readFileSync(file);
  const { source, diagnostics } = readYaml(shown, text);
  const entries: ConfigEntry[] = [];
  const positions = new Map<string, { line: number; col: number }>();
  const environments: string[] = [];
  if (source && diagnostics.length === 0) {
    const at = (offset: number | undefined) => positionAt(source.lineCounter, offset ?? 0);
    const contents = source.doc.contents;
    const config = isMap(contents) ? contents.get("config", true) : undefined;
    if (isMap(config)) {
      for (const pair of config.items) {
        if (!isPair(pair) || !isScalar(pair.key)) {
          continue;
        }
        const key = String(pair.key.value);
        const secret = isMap(pair.value) && pair.value.has("secure");
        const value = secret
          ? undefined
          : isScalar(pair.value)
            ? pair.value.value
            : isSeq(pair.value)
              ? pair.value.toJSON()
              : pair.value;
        entries.push({ key, value, secret });
        positions.set(splitKey(key).name, at(pair.key.range?.[0]));
      }
    }
    const env = isMap(contents) ? contents.get("environment", true) : undefined;
    if (env !== undefined && env !== null) {
      const pair = isMap(contents)
        ? contents.items.find((p) => isScalar(p.key) && p.key.value === "environment")
        : undefined;
      positions.set("environment", at((pair?.key as { range?: number[] })?.range?.[0]));
      // A list of environment names; a single name is accepted as well.
      const items = isSeq(env) ? env.items : [env];
      for (const item of items) {
        if (isScalar(item) && typeof item.value === "string" && item.value.trim() !== "") {
          environments.push(item.value);
        }
      }
    }
  }
  const { settings, region, problems } = settingsFromConfig(stack, entries);
  for (const p of problems) {
    diagnostics.push({
      file: shown,
      ...(positions.get(p.key) ?? { line: 1, col: 1 }),
      message: p.message,
    });
  }
  const identity = identityFromAwsConfig((k) => entries.find((e) => e.key === `aws:${k}`)?.value);
  for (const message of identity.problems) {
    const name = /^aws:(\w+)/.exec(message)?.[1] ?? "";
    diagnostics.push({ file: shown, ...(positions.get(name) ?? { line: 1, col: 1 }), message });
  }
  return {
    settings,
    region,
    awsIdentity: identity.identity,
    file: shown,
    diagnostics,
    environments,
    entries,
    positions,
  };
}
