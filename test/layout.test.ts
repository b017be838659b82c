// The code outside test/ never imports from test/: test/support is for the suites, and what scripts/,
// bench/ or the program need lives in lib/ (product) or tools/ (developer tooling).

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
/** Not walked: packages and git anywhere; the suites themselves and the build output at the top. */
const SKIP_ANYWHERE = new Set(["node_modules", ".git"]);
const SKIP_AT_ROOT = new Set(["test", "dist"]);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Every module specifier of a file: static and dynamic imports, re-exports, require(.resolve). */
export function specifiers(text: string): string[] {
  const found = [
    ...text.matchAll(/\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...text.matchAll(/\b(?:import|require|require\.resolve)\s*\(\s*["']([^"']+)["']\s*\)/g),
  ];
  return found.map((m) => m[1]);
}

/** The specifiers of `file` (absolute) that resolve into `<root>/test/`. */
export function importsIntoTest(root: string, file: string, text: string): string[] {
  const testDir = path.join(root, "test") + path.sep;
  return specifiers(text).filter(
    (s) => s.startsWith(".") && path.resolve(path.dirname(file), s).startsWith(testDir),
  );
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const skipped = SKIP_ANYWHERE.has(e.name) || (dir === ROOT && SKIP_AT_ROOT.has(e.name));
      return skipped ? [] : sourceFiles(full);
    }
    return SOURCE.test(e.name) ? [full] : [];
  });
}

describe("layout: nothing outside test/ imports from test/", () => {
  describe("the import finder (table)", () => {
    const cases: { file: string; text: string; want: string[] }[] = [
      {
        file: "bench/x.ts",
        text: 'import { startRegistry } from "../test/support/registry";',
        want: ["../test/support/registry"],
      },
      {
        file: "scripts/x.ts",
        text: 'import {\n  a,\n  b,\n} from "../test/support/images";\nimport * as fs from "node:fs";',
        want: ["../test/support/images"],
      },
      { file: "tools/x.ts", text: 'const m = await import("../test/a");', want: ["../test/a"] },
      {
        file: "lib/x.ts",
        text: 'require.resolve("../test/fixtures/m")',
        want: ["../test/fixtures/m"],
      },
      {
        file: "lib/x.ts",
        text: 'export * from "../test/support/cli";',
        want: ["../test/support/cli"],
      },
      { file: "lib/x.ts", text: 'import "../test/setup";', want: ["../test/setup"] },
      // Not test/: the product's own folders, tools/, packages, a folder merely named like it.
      { file: "bench/x.ts", text: 'import { run } from "../tools/programRun";', want: [] },
      { file: "lib/x.ts", text: 'import { a } from "./test";', want: [] },
      { file: "lib/x.ts", text: 'import { a } from "../testing/a";', want: [] },
      { file: "cli/x.ts", text: 'import { parse } from "yaml";', want: [] },
    ];
    for (const c of cases) {
      it(`${c.file}: ${c.text.split("\n").pop()}`, () => {
        assert.deepEqual(importsIntoTest(ROOT, path.join(ROOT, c.file), c.text), c.want);
      });
    }
  });

  it("holds for every source file of the repository", () => {
    const files = sourceFiles(ROOT);
    assert.ok(files.some((f) => f.endsWith(path.join("bench", "tagCheck.ts"))));
    const offenders = files.flatMap((f) =>
      importsIntoTest(ROOT, f, fs.readFileSync(f, "utf8")).map(
        (s) => `${path.relative(ROOT, f)} imports ${s}: move it to tools/ (or lib/)`,
      ),
    );
    assert.deepEqual(offenders, []);
  });
});
