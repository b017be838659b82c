// The shared flag parser: values that look like flags, missing values, and `--`.

import { strict as assert } from "node:assert";
import { parse, UsageError } from "../cli/args";

const OPTIONS = {
  "tag-suffix": { type: "string" },
  stack: { type: "string" },
  json: { type: "boolean" },
} as const;

describe("cli flag parsing", () => {
  const cases: {
    argv: string[];
    values?: Record<string, unknown>;
    positionals?: string[];
    error?: RegExp;
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
    { argv: ["--", "--stack"], values: {}, positionals: ["--stack"] },
    { argv: ["--stack"], error: /argument missing/ },
    { argv: ["--json", "--nope"], error: /Unknown option '--nope'/ },
  ];
  for (const c of cases) {
    it(c.argv.join(" ") || "(none)", () => {
      if (c.error) {
        assert.throws(
          () => parse(c.argv, OPTIONS),
          (e: Error) => e instanceof UsageError && (c.error as RegExp).test(e.message),
        );
        return;
      }
      const { values, positionals } = parse(c.argv, OPTIONS);
      assert.deepEqual({ ...values }, c.values);
      assert.deepEqual(positionals, c.positionals ?? []);
    });
  }
});
