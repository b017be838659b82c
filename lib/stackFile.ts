// Reads Pulumi.<stack>.yaml without the Pulumi engine: the CLI's view of a stack's settings.

import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isPair, isScalar, isSeq } from "yaml";
import type { Diagnostic } from "./diagnostics";
import { positionAt, readYaml } from "./manifest/yamlSource";
import { PROJECT_NAME, resolveSettings, StackSettings } from "./settings";

export interface StackFile {
  settings: StackSettings;
  /** `aws:region`, when the stack sets it. */
  region?: string;
  file: string;
  diagnostics: Diagnostic[];
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
 * Settings of a stack from its file. Secrets stay encrypted: only whether `huggingface-token`
 * is set is read, never its value.
 */
export function readStackFile(projectDir: string, stack: string): StackFile {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const shown = path.relative(process.cwd(), file) || file;
  const text = fs.readFileSync(file);
  const { source, diagnostics } = readYaml(shown, text);
  const raw: Record<string, unknown> = {};
  const where = new Map<string, number>();
  let region: string | undefined;
  let hasToken = false;
  if (source && diagnostics.length === 0) {
    const contents = source.doc.contents;
    const config = isMap(contents) ? contents.get("config", true) : undefined;
    if (isMap(config)) {
      for (const pair of config.items) {
        if (!isPair(pair) || !isScalar(pair.key)) {
          continue;
        }
        const fullKey = String(pair.key.value);
        const [ns, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s) : [PROJECT_NAME, fullKey];
        if (ns === "aws" && key === "region" && isScalar(pair.value)) {
          region = String(pair.value.value);
        }
        if (ns !== PROJECT_NAME) {
          continue;
        }
        if (key === "huggingface-token") {
          hasToken = pair.value !== null && pair.value !== undefined;
          continue;
        }
        raw[key] = isScalar(pair.value)
          ? pair.value.value
          : isSeq(pair.value)
            ? pair.value.toJSON()
            : pair.value;
        where.set(key, pair.key.range?.[0] ?? 0);
      }
    }
  }
  const { settings, problems } = resolveSettings(stack, raw, hasToken);
  for (const p of problems) {
    const pos = source
      ? positionAt(source.lineCounter, where.get(p.key) ?? 0)
      : { line: 1, col: 1 };
    diagnostics.push({ file: shown, ...pos, message: p.message });
  }
  return { settings, region, file: shown, diagnostics };
}
