// package.json's engines tells the truth: its lowest Node version satisfies the engines of every
// installed package (from package-lock.json), and .ci/run brings that Node where the machine's is older.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
type Version = [number, number, number];

function version(text: string): Version {
  const [a, b = "0", c = "0"] = text.replace(/^[v=]/, "").split(".");
  return [Number(a), Number(b), Number(c)];
}
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The npm range forms packages use for engines: `||` of `>=x`, `^x`, `~x`, `x` (a major) and `x - y`. */
export function satisfies(v: Version, range: string): boolean {
  return range.split("||").some((alt) =>
    alt
      .trim()
      .replace(/(>=|<=|>|<|\^|~)\s+/g, "$1")
      .split(/\s+/)
      .filter((t) => t !== "")
      .every((term) => {
        const m = /^(>=|>|<=|<|\^|~)?v?(\d+(?:\.(?:\d+|x)){0,2}|\*|x)$/.exec(
          term.replace(/\.[x*]/g, ""),
        );
        if (!m) {
          throw new Error(`range form not understood: ${range}`);
        }
        if (m[2] === "*" || m[2] === "x") {
          return true;
        }
        const w = version(m[2]);
        const parts = m[2].split(".").length;
        switch (m[1]) {
          case ">=":
            return cmp(v, w) >= 0;
          case ">":
            return cmp(v, w) > 0;
          case "<=":
            return cmp(v, w) <= 0;
          case "<":
            return cmp(v, w) < 0;
          case "^":
            return cmp(v, w) >= 0 && v[0] === w[0];
          case "~":
            return cmp(v, w) >= 0 && v[0] === w[0] && v[1] === w[1];
          default:
            return parts === 1 ? v[0] === w[0] : cmp(v, w) === 0;
        }
      }),
  );
}

describe("package.json engines", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
  const m = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.engines?.node ?? "");

  it("names a lowest version (>=X.Y.Z), the same in package-lock.json", () => {
    assert.ok(m, `engines.node ${pkg.engines?.node} is not >=X.Y.Z`);
    assert.deepEqual(lock.packages[""].engines, pkg.engines);
  });

  it("that version satisfies every locked package's engines.node", () => {
    const lowest = version(m![1]);
    const unmet = Object.entries(
      lock.packages as Record<string, { engines?: { node?: string }; dev?: boolean }>,
    )
      .filter(([name, p]) => name !== "" && typeof p.engines?.node === "string")
      .filter(([, p]) => !satisfies(lowest, p.engines!.node!))
      .map(([name, p]) => `${name.replace(/^.*node_modules\//, "")} (${p.engines!.node})`);
    assert.deepEqual(unmet, [], `node ${m![1]} is below what these need`);
  });

  it("the range reader itself", () => {
    assert.equal(satisfies([22, 9, 0], "^20.17.0 || >=22.9.0"), true);
    assert.equal(satisfies([22, 8, 0], "^20.17.0 || >=22.9.0"), false);
    assert.equal(satisfies([20, 20, 2], ">=22"), false);
    assert.equal(satisfies([22, 1, 0], "18 || 20 || >=22"), true);
    assert.equal(satisfies([21, 0, 0], "18 || 20 || >=22"), false);
  });

  it(".ci/run installs Node 22 where the machine's is older than engines", () => {
    const run = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    const lowest = version(m![1]);
    assert.match(run, new RegExp(`"\\$node_major" -lt ${lowest[0]}\\b`));
    assert.match(run, new RegExp(`"\\$node_minor" -lt ${lowest[1]}\\b`));
    assert.match(run, new RegExp(`"\\$pkg@${lowest[0]}"`));
  });
});
