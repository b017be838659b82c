// Benchmark: how much provider code each ModelImage puts into the Pulumi state, per resource and for a catalogue.
// Registers N ModelImage resources under setMocks and measures the `__provider` text each one records.
// Usage: npx tsx bench/providerSize.ts [images]   (default 500)

import * as pulumi from "@pulumi/pulumi";

/** What the state holds per resource: the provider text in its inputs and again in its outputs. */
export const COPIES_IN_STATE = 2;

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 500);
  const sizes: number[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type === "pulumi-nodejs:dynamic:Resource") {
          sizes.push(Buffer.byteLength(String(args.inputs.__provider)));
        }
        return { id: `${args.name}-id`, state: { ...args.inputs, imageDigest: "sha256:0" } };
      },
      call: (args) => {
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "model-images",
    "bench",
    false,
  );
  // Loaded after setMocks, as the program is.
  const { ModelImage } = await import("../components/modelImage/resource");
  const images = Array.from(
    { length: count },
    (_, i) =>
      new ModelImage(`image-${i}`, {
        region: "us-east-1",
        registryId: "123456789012",
        repositoryName: `kserve-models/model-${i}`,
        tag: `1.0.${i}`,
        projectName: `model-images-bench-model-${i}`,
        sourceVersion: "v1",
        environment: { MODEL_REVISION: i.toString(16).padStart(40, "0") },
        timeoutMinutes: 270,
        pollIntervalSeconds: 15,
        rebuildOnChange: false,
      }),
  );
  await new Promise<void>((resolve) => pulumi.all(images.map((i) => i.urn)).apply(() => resolve()));
  const each = sizes[0];
  const total = sizes.reduce((a, b) => a + b, 0);
  const kib = (n: number) => (n / 1024).toFixed(1);
  console.log(`resources              ${sizes.length}`);
  console.log(
    `__provider per image   ${each} bytes (${kib(each)} KiB), identical for all: ${sizes.every((s) => s === each)}`,
  );
  console.log(
    `state per image        ${COPIES_IN_STATE * each} bytes (${kib(COPIES_IN_STATE * each)} KiB: inputs and outputs)`,
  );
  console.log(
    `state for ${sizes.length} images    ${kib(COPIES_IN_STATE * total)} KiB of provider code`,
  );
  console.log(
    `budget: ${each <= 4096 ? "ok" : "OVER"} (at most 4096 bytes of provider per resource)`,
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
