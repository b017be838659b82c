// The shared flag parser and the CLI's conventions: values that look like flags, repeatable flags,
// generated --help, `help`, --version, and one-line usage errors.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  command,
  type FlagGroup,
  helpText,
  parse,
  parseCommand,
  secondsFlag,
  UsageError,
} from "../cli/args";
import { COMMANDS } from "../cli/main";
import { runCli } from "./support/cli";

const OPTIONS = {
  "tag-suffix": { type: "string", help: "" },
  stack: { type: "string", help: "" },
  json: { type: "boolean", help: "" },
  model: { type: "string", multiple: true, help: "" },
} as const;

describe("cli flag parsing", () => {
  const cases: {
    argv: string[];
    values?: Record<string, unknown>;
    positionals?: string[];
    error?: string;
  }[] = [
    {
      argv: ["--tag-suffix", "-pr-123", "--json"],
      values: { "tag-suffix": "-pr-123", json: true },
    },
    { argv: ["--tag-suffix=-pr-7"], values: { "tag-suffix": "-pr-7" } },
    {
      argv: ["--stack", "prod", "file.yaml"],
      values: { stack: "prod" },
      positionals: ["file.yaml"],
    },
    { argv: ["--model", "a", "--json", "--model=b"], values: { model: ["a", "b"], json: true } },
    { argv: ["--", "--stack"], values: {}, positionals: ["--stack"] },
    { argv: ["--stack"], error: "option '--stack' needs a value" },
    { argv: ["--json", "--nope"], error: "unknown option '--nope'" },
    { argv: ["-x"], error: "unknown option '-x'" },
  ];
  for (const c of cases) {
    it(c.argv.join(" ") || "(none)", () => {
      if (c.error) {
        assert.throws(
          () => parse(c.argv, OPTIONS),
          (e: Error) => e instanceof UsageError && e.message === c.error,
        );
        return;
      }
      const { values, positionals } = parse(c.argv, OPTIONS);
      assert.deepEqual({ ...values }, c.values);
      assert.deepEqual(positionals, c.positionals ?? []);
    });
  }

  it("--timeout-style seconds: positive numbers only", () => {
    assert.equal(secondsFlag("timeout", undefined, 120), 120);
    assert.equal(secondsFlag("timeout", "0.5", 120), 0.5);
    for (const bad of ["0", "-1", "soon", "1e3", ""]) {
      assert.throws(() => secondsFlag("timeout", bad, 120), /--timeout .* must be a positive/);
    }
  });
});

describe("commands declared as flag tables", () => {
  const groups = [
    { title: "inputs", flags: { stack: { type: "string", arg: "S", help: "the stack" } } },
    {
      title: "output",
      flags: {
        json: { type: "boolean", help: "JSON\nnot a table" },
        "a-very-long-flag-name": { type: "string", arg: "VALUE", help: "wraps" },
      },
    },
  ] as const satisfies readonly FlagGroup[];
  const demo = command(
    {
      name: "demo",
      synopsis: "<file> [options]",
      summary: "a demo",
      description: "Does a demo.",
      groups,
      positionals: { min: 1, max: 1, name: "a file" },
      exitCodes: "Exit codes: 0 ok.",
    },
    () => 0,
  );

  it("--help text comes from the table: groups, placeholders, continuation lines, exit codes", () => {
    assert.equal(
      helpText(demo.spec),
      [
        "usage: model-images demo <file> [options]",
        "",
        "Does a demo.",
        "",
        "inputs:",
        "  --stack S               the stack",
        "",
        "output:",
        "  --json                  JSON",
        "                          not a table",
        "  --a-very-long-flag-name VALUE",
        "                          wraps",
        "",
        "other:",
        "  -h, --help              show this help",
        "",
        "Exit codes: 0 ok.",
        "",
      ].join("\n"),
    );
  });

  it("positional counts are checked, except with --help", () => {
    assert.throws(() => parseCommand(demo.spec, []), /^Error: a file is required$/);
    assert.throws(() => parseCommand(demo.spec, ["a", "b"]), /^Error: one a file, got 2$/);
    assert.equal(parseCommand(demo.spec, ["--help"]).values.help, true);
  });

  it("every command's flags appear in its --help, and every command in the top-level help", async () => {
    const top = await runCli(["--help"]);
    assert.equal(top.code, 0);
    for (const [name, c] of Object.entries(COMMANDS)) {
      assert.ok(top.out.includes(`\n  ${name.padEnd(10)}${c.spec.summary}\n`), name);
      const text = helpText(c.spec);
      for (const g of c.spec.groups) {
        for (const flag of Object.keys(g.flags)) {
          assert.match(text, new RegExp(`\\n  --${flag}[ \\n]`), `${name} --${flag}`);
        }
      }
    }
  });
});

describe("model-images conventions", () => {
  it("--help, -h and help print the command list on stdout, exit 0", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const r = await runCli(argv);
      assert.equal(r.code, 0);
      assert.equal(r.err, "");
      assert.match(r.out, /^usage: model-images <command> \[options\]\n\ncommands:\n  validate /);
      assert.match(r.out, /\n  --version +print the version\n/);
    }
  });

  it("--version prints package.json's version", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.out, `model-images ${pkg.version}\n`);
  });

  it("help COMMAND equals COMMAND --help", async () => {
    for (const name of Object.keys(COMMANDS)) {
      const a = await runCli(["help", name]);
      const b = await runCli([name, "--help"]);
      assert.equal(a.code, 0);
      assert.equal(a.out, b.out);
      assert.match(a.out, new RegExp(`^usage: model-images ${name} `));
    }
  });

  it("usage errors: one line naming the fault and where the help is, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--bogus"], "error: unknown option '--bogus'; see 'model-images --help'"],
      [["plan", "--bogus"], "error: unknown option '--bogus'; see 'model-images plan --help'"],
      [["plan", "extra"], "error: unexpected argument 'extra'; see 'model-images plan --help'"],
      [
        ["kserve", "--kind", "pod"],
        `error: --kind "pod" must be isvc, llmisvc or all; see 'model-images kserve --help'`,
      ],
    ];
    for (const [argv, line] of cases) {
      const r = await runCli(argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.equal(r.out, "");
      assert.equal(r.err, line + "\n");
    }
  });
});
