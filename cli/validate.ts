// `validate <file|-> [--stack S] [--json]`: checks a manifest, printing every problem as file:line:col.

import type { Diagnostic } from "../lib/diagnostics";
import { summarize } from "../lib/manifest";
import { command, EXIT } from "./args";
import { readManifest, STDIN_NAME, writeProblems } from "./manifestInput";
import { loadStack } from "./stack";

export const VALIDATE_FLAGS = {
  stack: {
    type: "string",
    arg: "S",
    help: "apply the stack's rules too, from Pulumi.<stack>.yaml",
  },
  json: {
    type: "boolean",
    help: "print the problems as a JSON array of {file, line, column, message}\n(line and column 0: the file itself); [] when valid",
  },
} as const;

/** A problem as `validate --json` prints it. */
export function problemJson(d: Diagnostic) {
  return { file: d.file, line: d.line, column: d.col, message: d.message };
}

export const validateCommand = command(
  {
    name: "validate",
    synopsis: "<manifest.yaml|-> [options]",
    summary: "check a manifest (and a stack's rules): the pre-flight for 'pulumi up'",
    description: `Checks a models manifest ('-' reads it from standard input). With --stack, the stack's rules apply
too (pinned revisions, registry prefix, tag suffix, a huggingface-token for gated models), read
from Pulumi.<stack>.yaml.`,
    groups: [{ title: "options", flags: VALIDATE_FLAGS }],
    positionals: { min: 1, max: 1, name: "manifest file" },
    exitCodes: `Exit codes: 0 valid, 1 problems found (each printed as file:line:col: message), 2 usage.`,
  },
  async ({ values, positionals }, io) => {
    const file = positionals[0];
    const report = (problems: Diagnostic[]): number => {
      if (values.json) {
        io.out.write(JSON.stringify(problems.map(problemJson), null, 2) + "\n");
      } else {
        writeProblems(problems, io.err);
      }
      return problems.length > 0 ? EXIT.failed : EXIT.ok;
    };
    let rules;
    if (values.stack !== undefined) {
      const stack = await loadStack(values.stack, io);
      if (stack.diagnostics.length > 0) {
        return report(stack.diagnostics);
      }
      // The region decides where CodeBuild has GPU compute for cuda variants.
      rules = { ...stack.settings, region: stack.region };
    }
    const { result, diagnostics } = await readManifest(file, rules, io);
    if (result === undefined) {
      return report(diagnostics);
    }
    if (values.json) {
      return report([]);
    }
    const where = rules ? ` (stack ${rules.stack})` : "";
    io.out.write(`${file === "-" ? STDIN_NAME : file}: ok${where}: ${summarize(result)}\n`);
    return EXIT.ok;
  },
);
