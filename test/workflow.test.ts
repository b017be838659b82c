// .github/workflows/models.yml: valid for GitHub (its own parser and schema), doing what the docs
// promise (PR: validate, dev build with -pr-<number>, plan gate; merge: up prod), with command lines
// the CLI accepts and every secret and variable documented in its header.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { runCli } from "./support/cli";
import { GITHUB_WORKFLOW_SCHEMA } from "./support/referenceSchemas";
import { workflowErrors } from "./support/workflowSchema";

const FILE = path.resolve(__dirname, "../.github/workflows/models.yml");
const text = fs.readFileSync(FILE, "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(text) as {
  on: Record<string, { branches?: string[] }>;
  jobs: Record<string, Job>;
};

/** The job that runs on this event (its `if` names it). */
function jobFor(event: "pull_request" | "push"): Job {
  const jobs = Object.values(workflow.jobs).filter((j) => j.if?.includes(`'${event}'`));
  assert.equal(jobs.length, 1, `one job for ${event}`);
  return jobs[0];
}

/** `npm run --silent <command> -- <args>` lines, with the job's env variables and `${{ }}` filled in. */
function cliLines(job: Job): string[][] {
  const env: Record<string, string> = { ...job.env };
  return job.steps
    .filter((s) => s.run?.startsWith("npm run --silent "))
    .map((s) => {
      const line = (s.run as string)
        .replace(/\$\{\{\s*github\.event\.pull_request\.number\s*\}\}/g, "123")
        .replace(/"?\$([A-Z_]+)"?/g, (_, v: string) =>
          (env[v] ?? "").replace(/\$\{\{[^}]*\}\}/g, "123"),
        );
      const [, command, rest] = /^npm run --silent (\S+) -- (.*)$/.exec(line) ?? [];
      assert.ok(command, `not an npm run line: ${s.run}`);
      return [command, ...rest.split(/\s+/)];
    });
}

describe(".github/workflows/models.yml", () => {
  it("is a valid workflow for GitHub's own parser and schema (@actions/workflow-parser)", () => {
    assert.deepEqual(workflowErrors("models.yml", text), []);
  });

  it("the schema check has teeth: misspelt keys and bad values are errors", () => {
    const broken = text
      .replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest")
      .replace("cancel-in-progress: false", "cancel-in-progress: maybe");
    const errors = workflowErrors("models.yml", broken);
    assert.ok(
      errors.some((e) => /Unexpected value 'runs-onn'/.test(e)),
      errors.join("\n"),
    );
    assert.ok(
      errors.some((e) => /Unexpected value 'maybe'/.test(e)),
      errors.join("\n"),
    );
  });

  // SchemaStore's published schema (vendored, see test/fixtures/reference/README.md): what editors
  // and most workflow linters check against. Draft-07, so ajv's default class reads it.
  const schemaErrors = (yamlText: string): string[] => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(GITHUB_WORKFLOW_SCHEMA, "utf8")));
    return validate(parse(yamlText))
      ? []
      : (validate.errors ?? []).map(
          (e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
        );
  };

  it("is valid against SchemaStore's published GitHub workflow JSON schema (vendored)", () => {
    assert.deepEqual(schemaErrors(text), []);
  });

  it("the published schema has teeth too: a misspelt job key and a bad trigger are errors", () => {
    const errors = schemaErrors(
      text
        .replace("runs-on: ubuntu-latest", "runs-onn: ubuntu-latest")
        .replace("pull_request:", "pull_requests:"),
    );
    assert.ok(
      errors.some((e) => e.includes('"additionalProperty":"runs-onn"')),
      errors.join("\n"),
    );
    assert.ok(
      errors.some((e) => e.includes('"additionalProperty":"pull_requests"')),
      errors.join("\n"),
    );
  });

  it("runs on pull requests and on pushes to main", () => {
    assert.deepEqual(workflow.on.pull_request.branches, ["main"]);
    assert.deepEqual(workflow.on.push.branches, ["main"]);
  });

  it("every job runs the tests and validates against prod's rules first", () => {
    const check = workflow.jobs.check;
    assert.ok(check.steps.some((s) => s.run === "bash .ci/run"));
    assert.ok(
      check.steps.some((s) => s.run === "npm run --silent validate -- models.yaml --stack prod"),
    );
    for (const [name, job] of Object.entries(workflow.jobs)) {
      if (name !== "check") {
        assert.equal(job.needs, "check", name);
      }
    }
  });

  it("pull requests: pulumi up on dev with tagSuffix -pr-<number>, then plan --fail-on-missing", () => {
    const job = jobFor("pull_request");
    const up = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.ok(up >= 0, "uses pulumi/actions");
    const step = job.steps[up];
    assert.equal(step.with?.command, "up");
    assert.equal(step.with?.["stack-name"], "dev");
    const configMap = parse(String(step.with?.["config-map"])) as Record<string, { value: string }>;
    assert.equal(configMap["model-images:tagSuffix"].value, "${{ env.TAG_SUFFIX }}");
    assert.equal(job.env?.TAG_SUFFIX, "-pr-${{ github.event.pull_request.number }}");
    const gate = cliLines({ ...job, steps: job.steps.slice(up + 1) });
    assert.deepEqual(gate, [
      ["plan", "--stack", "dev", "--tag-suffix", "-pr-123", "--fail-on-missing"],
    ]);
  });

  it("merges: pulumi up --stack prod with Pulumi's action", () => {
    const job = jobFor("push");
    const up = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    assert.equal(up?.with?.command, "up");
    assert.equal(up?.with?.["stack-name"], "prod");
  });

  it("every action is pinned to a major version", () => {
    const uses = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.uses));
    for (const u of uses.filter((x): x is string => x !== undefined)) {
      assert.match(u, /^[\w-]+\/[\w-]+@v\d+$/, u);
    }
  });

  it("every secret and variable it reads is documented in its header", () => {
    const header = text.slice(0, text.indexOf("\nname:"));
    const used = new Set(
      [...text.matchAll(/\$\{\{\s*((?:secrets|vars)\.\w+)\s*\}\}/g)].map((m) => m[1]),
    );
    assert.ok(used.size > 0);
    for (const name of used) {
      assert.ok(header.includes(name), `${name} is used but not described in the header`);
    }
  });

  it("its CLI command lines are ones the CLI accepts (no usage error)", async function () {
    this.timeout(60_000);
    const lines = Object.values(workflow.jobs).flatMap(cliLines);
    assert.ok(lines.length >= 3);
    for (const argv of lines) {
      // plan against an address where nothing listens: no AWS call, and a fast exit 1.
      const run = await runCli(argv[0] === "plan" ? [...argv, "--registry", "127.0.0.1:9"] : argv);
      assert.notEqual(run.code, 2, `${argv.join(" ")}: ${run.err}`);
      if (argv[0] === "validate") {
        assert.equal(run.code, 0, run.err);
      }
    }
  });
});
