// `kserve --region R` for a replica region: the same repositories and digests, under that region's registry.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { AwsEmulator, startAwsEmulator } from "./support/awsEmulator";
import { runCli } from "./support/cli";
import { SHA } from "./support/planCatalog";

const PREFIX = "replica-test";
const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("kserve --region: a replica region's registry", function () {
  this.timeout(30_000);
  let emu: AwsEmulator;
  let restore: () => void;
  let dir: string;

  before(async () => {
    emu = await startAwsEmulator();
    restore = emu.useForSdk();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kserve-replica-"));
    fs.writeFileSync(
      path.join(dir, "models.yaml"),
      `models:\n  - name: alpha\n    source: org/alpha\n    revision: ${SHA}\n    tag: "0.1.0"\n`,
    );
  });
  after(async () => {
    restore?.();
    await emu?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("--pin-digest --region eu-west-1 pins the replica's digest in eu-west-1's registry", async () => {
    emu.reset();
    emu.addRepository(`${PREFIX}/alpha`, { "0.1.0": DIGEST });
    const r = await runCli([
      "kserve",
      "--manifest",
      path.join(dir, "models.yaml"),
      "--registry-prefix",
      PREFIX,
      "--tag-suffix",
      "",
      "--region",
      "eu-west-1",
      "--account",
      emu.accountId,
      "--pin-digest",
    ]);
    assert.equal(r.code, 0, r.err);
    const [doc] = parseAllDocuments(r.out).map((d) => d.toJS());
    assert.equal(
      doc.spec.predictor.model.storageUri,
      `oci://${emu.accountId}.dkr.ecr.eu-west-1.amazonaws.com/${PREFIX}/alpha@${DIGEST}`,
    );
  });
});
