// The validate command end to end: exit codes, the summary line, positioned problems, usage errors, never a trace.

import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseManifest, summarize } from "../lib/manifest";
import { readStackFile } from "../lib/stackFile";
import { Readable } from "node:stream";
import { runCli } from "./support/cli";

const PROJECT_DIR = path.resolve(__dirname, "..");
const MODELS = path.join(PROJECT_DIR, "models.yaml");
const SHA = "0123456789abcdef0123456789abcdef01234567";
const POSITIONED = /^[^:]+:\d+:\d+: .+/;
const TRACE = /^\s+at /m;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in this process: the same `main` the binary runs, with its streams captured. */
async function runInProcess(args: string[]): Promise<Run> {
  const { code, out, err } = await runCli(args);
  return { code, stdout: out, stderr: err };
}

/** The real process, as CI and users run it. */
function runProcess(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_DIR });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
const cli = (...args: string[]) =>
  runProcess(process.execPath, ["-r", "tsx/cjs", "cli/main.ts", "validate", ...args]);

const linesOf = (text: string) => text.split("\n").filter((l) => l !== "");

/** Exit 1, nothing on stdout, and every stderr line `file:line:col: message` for this file. */
function assertProblems(r: Run, file: string, match?: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr:\n${r.stderr}`);
  assert.equal(r.stdout, "");
  assert.doesNotMatch(r.stderr, TRACE, "a stack trace");
  const ls = linesOf(r.stderr);
  assert.ok(ls.length > 0, "no problem printed");
  for (const l of ls) {
    assert.match(l, POSITIONED);
    assert.ok(l.startsWith(`${file}:`), `names another file: ${l}`);
  }
  if (match) {
    assert.ok(
      ls.some((l) => match.test(l)),
      `no line matches ${match}:\n${r.stderr}`,
    );
  }
}

const model = (...extra: string[]) =>
  ["models:", "  - name: a", "    source: org/a", `    revision: ${SHA}`, '    tag: "1"', ...extra]
    .join("\n")
    .concat("\n");

/** Each bad input of the contract, with what the output must say about it. */
const BAD: {
  file: string;
  text: string | Buffer;
  stack?: string;
  match: RegExp;
  count?: number;
}[] = [
  { file: "empty.yaml", text: "", match: /:1:1: the manifest is empty/ },
  { file: "blank.yaml", text: "\n\n   \n", match: /:1:1: the manifest is empty/ },
  {
    file: "binary.bin",
    text: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xd8]),
    match: /:3:1: the file is not text/,
  },
  {
    file: "junk.bin",
    text: Buffer.from(
      Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 256).filter((b) => b !== 0),
    ),
    match: /.*/,
  },
  { file: "list.yaml", text: "- name: a\n- name: b\n", match: /:1:1: .*top level is a list/ },
  { file: "scalar.yaml", text: "hello\n", match: /:1:1: .*top level is a string/ },
  {
    file: "huge.yaml",
    text: "models: " + "[".repeat(10 * 1024 * 1024),
    match: /:1:1: the file is 10\.0 MiB; a manifest may be at most 4 MiB/,
  },
  { file: "deep.yaml", text: "models: " + "[".repeat(100), match: /:1:73: YAML nests deeper/ },
  {
    file: "deep-block.yaml",
    text: "models:\n" + "- ".repeat(100_000) + "x\n",
    match: /:2:129: YAML nests deeper/,
  },
  {
    file: "bomb.yaml",
    text: [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "models: *d",
    ].join("\n"),
    match: /:1:1: aliases expand to too much data/,
  },
  { file: "dupkey.yaml", text: model('    tag: "2"'), match: /:6:5: .*each key may appear once/ },
  {
    file: "types.yaml",
    text: model("    sizeGB: big", "    gated: yes", "    include: '*.json'"),
    match: /:6:13: sizeGB must be a number/,
    count: 3,
  },
  {
    file: "unknown.yaml",
    text: model("    colour: red"),
    match: /:6:5: unknown field 'colour'; allowed fields: name/,
  },
  {
    file: "dupname.yaml",
    text:
      model() +
      ["  - name: a", "    source: org/b", `    revision: ${SHA}`, '    tag: "1"'].join("\n"),
    match: /:6:11: duplicate model name 'a' \(first at line 2\)/,
  },
  {
    file: "latest.yaml",
    text: model().replace('tag: "1"', "tag: latest"),
    match: /:5:10: tag 'latest' is not allowed/,
  },
  {
    file: "space-tag.yaml",
    text: model().replace('tag: "1"', "tag: a b"),
    match: /:5:10: tag "a b" is not a valid image tag/,
  },
  {
    file: "repo.yaml",
    text: model().replace("org/a", "not-a-repo-id"),
    match: /:3:13: source "not-a-repo-id" is not valid: a HuggingFace repo id 'org\/name'/,
  },
  {
    file: "branch.yaml",
    text: model().replace(SHA, "main"),
    stack: "prod",
    match: /:4:15: revision "main" is not a commit SHA: stack 'prod' requires pinned revisions/,
  },
  {
    file: "gated.yaml",
    text: model("    gated: true"),
    stack: "prod",
    match: /:6:12: model 'a' is gated but stack 'prod' has no huggingface-token/,
  },
  { file: "nul.yaml", text: "models:\n  - name: a\u0000\n", match: /:2:12: the file is not text/ },
  { file: "syntax.yaml", text: "models:\n\t- name: a\n", match: /:2:1: invalid YAML: Tabs/ },
  {
    file: "complex-key.yaml",
    text: "? [a,\n   b]\n: 1\n" + model(),
    match: /:1:1: unknown top-level field '\[ a, b \]'/,
  },
  {
    file: "many.yaml",
    text: "models:\n" + "  - name: A\n    source: x\n".repeat(30),
    match: /and \d+ more problems \(fix these first\)$/,
    count: 51,
  },
];

describe("validate command (in process)", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-images-validate-"));
    for (const b of BAD) {
      fs.writeFileSync(path.join(dir, b.file), b.text);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const stack of [undefined, "dev", "prod"]) {
    it(`models.yaml${stack ? ` --stack ${stack}` : ""}: exit 0 and one summary line`, async () => {
      const r = await runInProcess(["validate", MODELS, ...(stack ? ["--stack", stack] : [])]);
      const rules = stack ? readStackFile(PROJECT_DIR, stack).settings : undefined;
      const expected = summarize(parseManifest(MODELS, fs.readFileSync(MODELS), rules));
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${MODELS}: ok${stack ? ` (stack ${stack})` : ""}: ${expected}\n`);
      assert.match(expected, /^\d+ models, \d+ variants: \d+ images to build, \d+ skipped/);
    });
  }

  for (const b of BAD) {
    it(`${b.file}${b.stack ? ` --stack ${b.stack}` : ""}: exit 1, every line file:line:col`, async () => {
      const file = path.join(dir, b.file);
      const r = await runInProcess(["validate", file, ...(b.stack ? ["--stack", b.stack] : [])]);
      assertProblems(r, file, b.match);
      if (b.count !== undefined) {
        assert.equal(linesOf(r.stderr).length, b.count, r.stderr);
      }
    });
  }

  it("a valid manifest for dev is invalid for prod when a revision is a branch", async () => {
    const file = path.join(dir, "branch.yaml");
    const dev = await runInProcess(["validate", file, "--stack", "dev"]);
    assert.equal(dev.code, 0, dev.stderr);
    assert.match(
      dev.stdout,
      /: ok \(stack dev\): 1 models, 1 variants: 1 images to build, 0 skipped/,
    );
  });

  it("missing file: exit 1 with a clear message", async () => {
    const file = path.join(dir, "nope.yaml");
    const r = await runInProcess(["validate", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `${file}: cannot read the manifest: no such file\n`);
  });

  it("a directory: exit 1 with a clear message", async () => {
    const r = await runInProcess(["validate", dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${dir}: cannot read the manifest: is a directory\n`);
  });

  const USAGE_CASES: [string, string[], RegExp][] = [
    [
      "no command",
      [],
      /^error: a command is required \(validate, plan, kserve, bom\); see 'model-images --help'$/,
    ],
    [
      "unknown command",
      ["frobnicate"],
      /^error: unknown command 'frobnicate'; see 'model-images --help'$/,
    ],
    [
      "no file",
      ["validate"],
      /^error: manifest file is required; see 'model-images validate --help'$/,
    ],
    ["two files", ["validate", "a.yaml", "b.yaml"], /^error: one manifest file, got 2; see/],
    [
      "unknown flag",
      ["validate", "models.yaml", "--frobnicate"],
      /^error: unknown option '--frobnicate'; see 'model-images validate --help'$/,
    ],
    [
      "--stack without a value",
      ["validate", "models.yaml", "--stack"],
      /^error: option '--stack' needs a value; see/,
    ],
    [
      "unknown stack",
      ["validate", "models.yaml", "--stack", "staging"],
      /^error: unknown stack 'staging': no Pulumi\.staging\.yaml in .* \(stacks: .*dev.*prod.*\); see 'model-images validate --help'$/,
    ],
    [
      "help for no such command",
      ["help", "nope"],
      /^error: no command 'nope' to show help for; see/,
    ],
  ];
  for (const [name, args, line] of USAGE_CASES) {
    it(`usage error, ${name}: exit 2, one line and where the help is`, async () => {
      const r = await runInProcess(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(linesOf(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr.trimEnd(), line);
    });
  }

  it("--help, -h and 'help validate': exit 0 and the generated usage on stdout", async () => {
    for (const argv of [
      ["validate", "--help"],
      ["validate", "-h"],
      ["help", "validate"],
    ]) {
      const r = await runInProcess(argv);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: model-images validate <manifest\.yaml\|-> \[options\]\n/);
      assert.match(r.stdout, /\n  --stack S {15}apply the stack's rules/);
      assert.match(r.stdout, /\n  --json {18}print the problems as a JSON array/);
      assert.match(r.stdout, /\nExit codes: 0 valid, 1 problems found/);
      assert.equal(r.stderr, "");
    }
  });

  it("--json: [] when valid; {file, line, column, message} per problem, exit 1", async () => {
    const ok = await runInProcess(["validate", MODELS, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), []);
    const file = path.join(dir, "json-bad.yaml");
    fs.writeFileSync(file, model("    gated: maybe", "    colour: red"));
    const bad = await runInProcess(["validate", file, "--json"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "");
    const problems = JSON.parse(bad.stdout);
    assert.ok(problems.length >= 2, bad.stdout);
    for (const p of problems) {
      assert.deepEqual(Object.keys(p), ["file", "line", "column", "message"]);
      assert.equal(p.file, file);
    }
    assert.ok(
      problems.some((p: { line: number; column: number }) => p.line === 7 && p.column === 5),
    );
    const none = await runInProcess(["validate", path.join(dir, "none.yaml"), "--json"]);
    assert.equal(none.code, 1);
    assert.deepEqual(JSON.parse(none.stdout), [
      {
        file: path.join(dir, "none.yaml"),
        line: 0,
        column: 0,
        message: "cannot read the manifest: no such file",
      },
    ]);
  });

  it("'-' reads the manifest from standard input; problems name <stdin>", async () => {
    const input = (text: string) => Readable.from([Buffer.from(text)]);
    const ok = await runCli(["validate", "-", "--stack", "prod"], { stdin: input(model()) });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^<stdin>: ok \(stack prod\): 1 models?, 1 variants?/);
    const bad = await runCli(["validate", "-"], { stdin: input(model("    tag: again")) });
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^<stdin>:6:5: /);
  });
});

describe("validate command (real process)", function () {
  // Seven node processes at once: slow on a busy two-core machine.
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-images-validate-proc-"));
    for (const b of BAD) {
      fs.writeFileSync(path.join(dir, b.file), b.text);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("exit codes 0, 1 and 2, positioned problems, no trace or process warning", async () => {
    const started = Date.now();
    const bad = ["huge.yaml", "bomb.yaml", "complex-key.yaml", "many.yaml"].map((f) =>
      path.join(dir, f),
    );
    const runs = [
      cli("models.yaml", "--stack", "prod"),
      ...bad.map((f) => cli(f)),
      cli(),
      cli("models.yaml", "--stack", "staging"),
    ];
    const [ok, ...rest] = await Promise.all(runs);
    const problems = rest.slice(0, bad.length);
    const usage = rest.slice(bad.length);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, "");
    assert.equal(linesOf(ok.stdout).length, 1);
    assert.match(ok.stdout, /^models\.yaml: ok \(stack prod\): \d+ models, \d+ variants: /);
    problems.forEach((r, i) => assertProblems(r, bad[i]));
    for (const r of usage) {
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: .*; see 'model-images validate --help'\n$/);
      assert.doesNotMatch(r.stderr, TRACE);
    }
    console.log(`      ${runs.length} processes in ${Date.now() - started} ms`);
  });

  it("npm run --silent validate -- models.yaml (the documented entry point)", async () => {
    const r = await runProcess("npm", [
      "run",
      "--silent",
      "validate",
      "--",
      "models.yaml",
      "--stack",
      "dev",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(linesOf(r.stdout).length, 1);
    assert.match(r.stdout, /^models\.yaml: ok \(stack dev\): /);
    assert.doesNotMatch(r.stderr, TRACE);
  });
});
