// `validate <file> [--stack S]`: checks a manifest, printing every problem as file:line:col.

import { formatDiagnostic } from "../lib/diagnostics";
import { summarize } from "../lib/manifest";
import { listStacks, readStackFile } from "../lib/stackFile";
import { EXIT, parse, PROJECT_DIR, UsageError } from "./args";
import { loadManifest } from "./manifestInput";

export const VALIDATE_USAGE = `usage: validate <manifest.yaml> [--stack <stack>]

Checks a models manifest. With --stack, the stack's rules apply too (pinned revisions,
registry prefix, tag suffix, a huggingface-token for gated models), read from Pulumi.<stack>.yaml.
Exit codes: 0 valid, 1 problems found (each printed as file:line:col: message), 2 usage.`;

export function validate(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  const { values, positionals } = parse(argv, {
    stack: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    out.write(VALIDATE_USAGE + "\n");
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "a manifest file is required"
        : `one manifest file, got ${positionals.length}`,
    );
  }
  const file = positionals[0];
  let rules;
  if (values.stack !== undefined) {
    const stacks = listStacks(PROJECT_DIR);
    if (!stacks.includes(values.stack)) {
      throw new UsageError(
        `unknown stack '${values.stack}': no Pulumi.${values.stack}.yaml (stacks: ${stacks.join(", ")})`,
      );
    }
    const stack = readStackFile(PROJECT_DIR, values.stack);
    if (stack.diagnostics.length > 0) {
      stack.diagnostics.forEach((d) => err.write(formatDiagnostic(d) + "\n"));
      return EXIT.failed;
    }
    rules = stack.settings;
  }
  const result = loadManifest(file, rules, err);
  if (result === undefined) {
    return EXIT.failed;
  }
  const where = rules ? ` (stack ${rules.stack})` : "";
  out.write(`${file}: ok${where}: ${summarize(result)}\n`);
  return EXIT.ok;
}
