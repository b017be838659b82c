// Benchmark: bytes pushed, written and held on disk per model byte when docker/Dockerfile builds a modelcar.
// Stages a synthetic model (random safetensors-like shards + small json files) with download_model.py,
// builds the real Dockerfile with buildah (overlay storage where the kernel allows it, vfs otherwise),
// pushes it to a local docker-registry and prints the figures that size DISK_FACTOR (lib/compute.ts).
// Usage: npx tsx bench/buildBytes.ts [modelMB]   (default 200; needs buildah, docker-registry, python3, busybox-static)

import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerBuildArgs } from "../lib/buildEnv";
import { parseManifest } from "../lib/manifest";
import {
  createBuildahStorage,
  makeBusyboxImage,
  buildah,
  modelcarBudArgs,
  stageLocalModel,
} from "../tools/images";
import { startRegistry } from "../tools/registry";

const SHARDS = 4;
const SHA = "89abcdef0123456789abcdef0123456789abcdef";
const MANIFEST = `models:\n  - name: bench-model\n    source: acme/bench-model\n    revision: ${SHA}\n    tag: "1.0"\n`;

/**
 * Bytes under a directory as `du -sbx` counts them (apparent sizes; hard links once). `-x` stays on
 * this filesystem: a running step mounts its container's overlay (merged/) inside the storage,
 * and walking it would count every lower layer again (4.7 GB "held" for a 200 MB model).
 */
function duBytes(dir: string): number {
  // Run as root (as .ci/run does): rootless buildah storage holds files only its namespace may read.
  const out = execFileSync("du", ["-sbx", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return Number(out.split(/\s/)[0]);
}

/**
 * This process's storage-layer write counter. Linux adds a reaped child's counters (and those it
 * reaped in turn) to its parent's (kernel/exit.c, wait_task_zombie: `task_io_accounting_add(&psig->ioac,
 * &p->signal->ioac)`), so the delta across a waited-for `buildah bud` is what buildah and every
 * process it started wrote. write_bytes counts the bytes a process dirtied in the page cache for
 * the block layer (tmpfs does not count); cancelled_write_bytes those truncated or deleted before
 * writeback. The cancelled share depends on when the kernel flushes (a step's container layer is
 * deleted after its commit), so write_bytes, the bytes the build asked the disk to take, is the figure.
 */
function ioCounters(): { writeBytes: number; cancelled: number; wchar: number } {
  const text = fs.readFileSync("/proc/self/io", "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(text)?.[1]);
  return {
    writeBytes: field("write_bytes"),
    cancelled: field("cancelled_write_bytes"),
    wchar: field("wchar"),
  };
}

/** Runs buildah asynchronously, sampling the storage's size every 200 ms; resolves with the peak. */
function budSampled(storageArgs: string[], args: string[], storageDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let peak = 0;
    const child = spawn("buildah", [...storageArgs, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const sample = () => {
      try {
        peak = Math.max(peak, duBytes(storageDir));
      } catch {
        // a file vanished mid-walk; the next sample counts
      }
    };
    const timer = setInterval(sample, 200);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(timer);
      sample();
      if (code === 0) {
        resolve(peak);
      } else {
        reject(new Error(`buildah ${args.join(" ")} exited with ${code}: ${stderr}`));
      }
    });
  });
}

/** Sum of the sizes of the files under a directory tree. */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
    }
  }
  return total;
}

/** Writes `modelBytes` of random weights in SHARDS files plus config/tokenizer/index json. */
function writeModel(dir: string, modelBytes: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const shardBytes = Math.floor(modelBytes / SHARDS);
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < SHARDS; i++) {
    const name = `model-0000${i + 1}-of-0000${SHARDS}.safetensors`;
    weightMap[`model.layers.${i}.mlp.weight`] = name;
    const fd = fs.openSync(path.join(dir, name), "w");
    for (let left = shardBytes; left > 0; left -= 1 << 24) {
      fs.writeSync(fd, randomBytes(Math.min(left, 1 << 24)));
    }
    fs.closeSync(fd);
  }
  const json = (file: string, value: unknown) =>
    fs.writeFileSync(path.join(dir, file), JSON.stringify(value));
  json("config.json", { model_type: "llama", hidden_size: 4096 });
  json("generation_config.json", { do_sample: false });
  json("tokenizer.json", {
    model: { vocab: Object.fromEntries([...Array(3000).keys()].map((i) => [`t${i}`, i])) },
  });
  json("model.safetensors.index.json", {
    metadata: { total_size: shardBytes * SHARDS },
    weight_map: weightMap,
  });
}

const fmt = (n: number) => (n / 1e6).toFixed(1).padStart(9);
const per = (n: number, model: number) => (n / model).toFixed(3).padStart(7);

async function main(): Promise<void> {
  const modelMB = Number(process.argv[2] ?? 200);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-build-bytes-"));
  const storage = createBuildahStorage("bench-buildah-");
  const registry = await startRegistry();
  try {
    const src = path.join(work, "model");
    writeModel(src, modelMB * 1e6);
    const modelBytes = treeBytes(src);
    const ctx = path.join(work, "ctx");
    const spec = parseManifest("models.yaml", MANIFEST).images[0];
    // Two shards per layer group, as an 8B model's ~4 GiB shards fill the default 10 GiB cap.
    const args = dockerBuildArgs(spec, Math.ceil(modelBytes / 2) + 1_000_000);
    // The staging download_model.py produces in the `downloader` stage; given here as a named
    // build context, so it sits outside buildah's storage and is counted on its own.
    stageLocalModel(src, ctx, {
      maxLayerBytes: args.MAX_LAYER_BYTES,
      modelId: spec.source,
      revision: SHA,
      stderr: "inherit",
    });
    const stagedBytes = treeBytes(ctx);

    args.BASE_IMAGE = makeBusyboxImage(storage.args);
    const before = duBytes(storage.dir);
    const io0 = ioCounters();
    const start = Date.now();
    const peak = await budSampled(
      storage.args,
      modelcarBudArgs(ctx, args, "localhost/bench/model:1.0"),
      storage.dir,
    );
    const seconds = (Date.now() - start) / 1000;
    const io1 = ioCounters();
    const after = duBytes(storage.dir);
    const written = io1.writeBytes - io0.writeBytes;

    // zstd level 1, as the buildspec pushes; random weights do not compress, as real ones barely do.
    buildah(
      storage.args,
      [
        "push",
        "--tls-verify=false",
        "--compression-format",
        "zstd",
        "--compression-level",
        "1",
        "localhost/bench/model:1.0",
        `docker://${registry.host}/bench/model:1.0`,
      ],
      600_000,
    );
    const blobsDir = path.join(registry.root, "data", "docker", "registry", "v2", "blobs");
    const pushed = treeBytes(blobsDir);
    const baseBlobs = JSON.parse(
      buildah(storage.args, ["inspect", "--type", "image", args.BASE_IMAGE]),
    ) as {
      OCIv1: { rootfs: { diff_ids: string[] } };
    };

    console.log(
      `model ${fmt(modelBytes)} MB in ${SHARDS} shards + 4 json files; buildah ${storage.driver} storage; ` +
        `bud ${seconds.toFixed(1)} s; base image ${baseBlobs.OCIv1.rootfs.diff_ids.length} layer (busybox-static)`,
    );
    console.log("figure                                              MB   per model byte");
    const row = (label: string, n: number) =>
      console.log(`${label.padEnd(44)}${fmt(n)} ${per(n, modelBytes)}`);
    row("pushed: registry blob store (layers+config+mf)", pushed);
    row("written during bud (write_bytes)", written);
    row("  of it deleted before writeback (cancelled)", io1.cancelled - io0.cancelled);
    row("  syscall writes during bud (wchar)", io1.wchar - io0.wchar);
    row("held: buildah storage growth, peak", peak - before);
    row("held: buildah storage growth, after bud", after - before);
    row("held: staged download output (build context)", stagedBytes);
    row("held: staged + storage peak", stagedBytes + peak - before);
  } finally {
    await registry.stop();
    storage.remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
