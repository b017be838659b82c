// The vendored reference schemas are the unchanged upstream files the README lists.

import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  GITHUB_WORKFLOW_SCHEMA,
  KSERVE_CRD_DIR,
  KYVERNO_CLUSTER_POLICY_CRD,
  PULUMI_PROJECT_SCHEMA,
  REFERENCE_DIR,
} from "./support/referenceSchemas";

/** `| \`file\` | upstream | path | commit | \`sha256\` |` rows of the README. */
function listed(): Map<string, string> {
  const readme = fs.readFileSync(path.join(REFERENCE_DIR, "README.md"), "utf8");
  return new Map(
    readme
      .split("\n")
      .map((l) => /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

describe("vendored reference schemas (test/fixtures/reference)", () => {
  const files = listed();

  it("the README lists every file there, and the paths the tests read", () => {
    const present = fs
      .readdirSync(REFERENCE_DIR, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== "README.md")
      .map((e) => path.relative(REFERENCE_DIR, path.join(e.parentPath, e.name)))
      .sort();
    assert.deepEqual([...files.keys()].sort(), present);
    for (const used of [
      PULUMI_PROJECT_SCHEMA,
      KYVERNO_CLUSTER_POLICY_CRD,
      GITHUB_WORKFLOW_SCHEMA,
    ]) {
      assert.ok(files.has(path.relative(REFERENCE_DIR, used)), used);
    }
    assert.ok(
      [...files.keys()].some((f) => path.dirname(path.join(REFERENCE_DIR, f)) === KSERVE_CRD_DIR),
    );
  });

  for (const [file, sha256] of files) {
    it(`${file} is the upstream file (sha256 ${sha256.slice(0, 12)}…)`, () => {
      const got = createHash("sha256")
        .update(fs.readFileSync(path.join(REFERENCE_DIR, file)))
        .digest("hex");
      assert.equal(
        got,
        sha256,
        `${file} changed; restore the upstream copy or update the README row`,
      );
    });
  }
});
