// The image tests' layer reader (node-tar underneath): what it returns for the tar forms layers use.

import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readTar } from "../tools/images";

/** A tar of a small tree made by GNU tar in `format`, gzipped or not. */
function makeTar(format: string, gzip: boolean): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tar-"));
  try {
    fs.mkdirSync(path.join(dir, "models", "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "models", "config.json"), '{"a":1}');
    fs.writeFileSync(path.join(dir, "models", "sub", `${"w".repeat(120)}.safetensors`), "weights");
    fs.symlinkSync("config.json", path.join(dir, "models", "link.json"));
    fs.chmodSync(path.join(dir, "models", "config.json"), 0o644);
    const args = ["-C", dir, `--format=${format}`, "--owner=0", "--group=0", "--sort=name"];
    return execFileSync("tar", [...args, gzip ? "-czf" : "-cf", "-", "models"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("readTar (layer reader)", () => {
  for (const [format, gzip] of [
    ["pax", false],
    ["pax", true],
    ["gnu", false],
  ] as const) {
    it(`${format}${gzip ? ", gzipped" : ""}: names, types, modes, owners, link targets and data`, () => {
      const entries = readTar(makeTar(format, gzip));
      const long = `models/sub/${"w".repeat(120)}.safetensors`;
      assert.deepEqual(
        entries.map((e) => [e.name, e.type]),
        [
          ["models", "5"],
          ["models/config.json", "0"],
          ["models/link.json", "2"],
          ["models/sub", "5"],
          [long, "0"],
        ],
      );
      const config = entries.find((e) => e.name === "models/config.json");
      assert.equal(config?.mode, 0o644);
      assert.equal(config?.uid, 0);
      assert.equal(config?.gid, 0);
      assert.equal(config?.size, 7);
      assert.equal(config?.data.toString(), '{"a":1}');
      assert.equal(entries.find((e) => e.name === "models/link.json")?.linkname, "config.json");
      assert.equal(entries.find((e) => e.name === long)?.data.toString(), "weights");
    });
  }

  it("an empty tar (two zero blocks) has no entries", () => {
    assert.deepEqual(readTar(Buffer.alloc(1024)), []);
  });
});
