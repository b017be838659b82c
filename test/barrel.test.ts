// components/index.ts re-exports every component module, so `import ... from "./components"` is complete.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as barrel from "../components";

const DIR = path.resolve(__dirname, "../components");

describe("components/index.ts (the barrel)", () => {
  it("re-exports every module of components/, each once", () => {
    const modules = fs
      .readdirSync(DIR, { withFileTypes: true })
      .filter(
        (e) => (e.isFile() && e.name.endsWith(".ts") && e.name !== "index.ts") || e.isDirectory(),
      )
      .map((e) => `./${e.name.replace(/\.ts$/, "")}`)
      .sort();
    const exported = [
      ...fs
        .readFileSync(path.join(DIR, "index.ts"), "utf8")
        .matchAll(/^export \* from "([^"]+)";$/gm),
    ].map((m) => m[1]);
    assert.deepEqual([...exported].sort(), modules);
    assert.equal(new Set(exported).size, exported.length);
  });

  it("loads, and offers the components by name", () => {
    for (const name of [
      "ModelCatalog",
      "ModelImage",
      "LocalModelImage",
      "ModelBuildProject",
      "readStackInputs",
    ]) {
      assert.equal(typeof (barrel as Record<string, unknown>)[name], "function", name);
    }
  });
});
