// GitHub's own workflow parser and schema (@actions/workflow-parser, the one behind GitHub's Actions
// language service) run over a workflow file's text; returns its errors.

import { execFileSync } from "node:child_process";

/*
 * The package is ESM-only and imports its schema JSON without an import attribute, which only a
 * loader that handles JSON (tsx's) accepts on Node; so it runs in a child node with tsx's ESM hooks.
 */
const SCRIPT = `
import { parseWorkflow, NoOperationTraceWriter } from "@actions/workflow-parser";
let content = "";
for await (const chunk of process.stdin) content += chunk;
const result = parseWorkflow({ name: process.argv[1], content }, new NoOperationTraceWriter());
const errors = result.context.errors.getErrors().map((e) => e.message);
if (!result.value && errors.length === 0) errors.push("the parser returned no workflow");
process.stdout.write(JSON.stringify(errors));
`;

/** Every problem GitHub's parser finds in the workflow (empty when it is valid). */
export function workflowErrors(name: string, content: string): string[] {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx/esm", "--input-type=module", "-e", SCRIPT, name],
    { input: content, encoding: "utf8", cwd: __dirname },
  );
  return JSON.parse(out) as string[];
}
