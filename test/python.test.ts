// Runs the docker/ Python unittest suite (download_model.py) as part of `npm test`.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { requireTools } from "./support/tools";

const ROOT = path.resolve(__dirname, "..");

describe("docker/download_model.py unittest suite", function () {
  this.timeout(120_000);

  before(function () {
    requireTools(this, ["python3"]);
  });

  it("passes python3 -m unittest discover -s docker -p 'test_*.py'", () => {
    const res = spawnSync(
      "python3",
      ["-m", "unittest", "discover", "-s", "docker", "-p", "test_*.py"],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        timeout: 110_000,
      },
    );
    const output = `${res.stdout}${res.stderr}`;
    assert.equal(
      res.status,
      0,
      `python unittest failed (exit ${res.status}${res.error ? `, ${res.error.message}` : ""}):\n${output}`,
    );
    // unittest exits 0 with "Ran 0 tests" when discovery finds nothing; that is not a pass.
    const ran = /Ran (\d+) tests?/.exec(output);
    assert.ok(ran && Number(ran[1]) > 0, `no Python tests ran:\n${output}`);
  });
});
