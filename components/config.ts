// Reads the stack's config and manifest inside the Pulumi program; bad input stops `pulumi up` with positions, not a trace.

import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { formatDiagnostic } from "../lib/diagnostics";
import { ImageSpec, parseManifest } from "../lib/manifest";
import { selectImages } from "../lib/selection";
import { PROJECT_NAME, resolveSettings, SETTINGS, StackSettings } from "../lib/settings";

export interface StackInputs {
  settings: StackSettings;
  images: ImageSpec[];
  /** The HuggingFace token as a Pulumi secret, when the stack has one. */
  huggingfaceToken?: pulumi.Output<string>;
  /** `aws:region`; empty when the stack builds locally into a non-ECR registry. */
  region: string;
}

/** Settings, token and the validated manifest; throws a RunError listing every problem. */
export function readStackInputs(projectDir: string): StackInputs {
  const config = new pulumi.Config(PROJECT_NAME);
  const raw: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const value = config.get(spec.key);
    if (value !== undefined) {
      raw[spec.key] = value;
    }
  }
  const huggingfaceToken = config.getSecret("huggingface-token");
  const { settings, problems } = resolveSettings(
    pulumi.getStack(),
    raw,
    huggingfaceToken !== undefined,
  );
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
  const result = parseManifest(shown, text, settings);
  if (result.diagnostics.length > 0) {
    throw new pulumi.RunError(
      `${shown} is not valid for stack '${settings.stack}':\n${result.diagnostics.map(formatDiagnostic).join("\n")}`,
    );
  }
  const selected = selectImages(result.images, settings.onlyModels);
  if (selected.problems.length > 0) {
    throw new pulumi.RunError(`stack '${settings.stack}': ${selected.problems.join("; ")}`);
  }
  const region = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? "";
  return { settings, images: selected.images, huggingfaceToken, region };
}
