// What the ECR-mode `plan` suites start from: the ECR emulator the AWS SDK talks to, and a manifest file.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type AwsEmulator, startAwsEmulator } from "./awsEmulator";

export interface EcrPlanFixture {
  emu: AwsEmulator;
  /** The temporary directory, removed by close(). */
  dir: string;
  /** Path of the temporary models.yaml. */
  manifest: string;
  /** Give the SDK back its endpoints, stop the emulator and remove the temporary directory. */
  close(): Promise<void>;
}

/** Start the emulator, point the SDK at it, and write `manifestText` to a fresh `dirPrefix`* dir. */
export async function startEcrPlanFixture(
  manifestText: string,
  dirPrefix: string,
): Promise<EcrPlanFixture> {
  const emu = await startAwsEmulator();
  const restore = emu.useForSdk();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const manifest = path.join(dir, "models.yaml");
  fs.writeFileSync(manifest, manifestText);
  return {
    emu,
    dir,
    manifest,
    async close() {
      restore();
      await emu.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
