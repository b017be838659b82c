// Builds the real docker/Dockerfile offline with buildah from a synthetic model staged by download_model.py, then checks the layers, files, modes, provenance, KServe's modelcar check and a push to a local registry.
import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildah,
  BuildahStorage,
  createBuildahStorage,
  exportOciImage,
  makeBusyboxImage,
  OciImage,
  TarEntry,
  modelcarBudArgs,
} from "../tools/images";
import { dockerBuildArgs } from "../lib/buildEnv";
import { DEFAULT_BASE_IMAGES, ImageSpec, parseManifest } from "../lib/manifest";
import { startRegistry } from "../tools/registry";
import { requireTools } from "./support/tools";

const ROOT = path.resolve(__dirname, "..");
const SCRIPT = path.join(ROOT, "docker", "download_model.py");
const SLOTS = 16;
// Small enough to split three shards into three layers; shard 1 is larger than the cap.
const CAP = 1_600_000;
const SHA = "89abcdef0123456789abcdef0123456789abcdef";
const IMAGE = "localhost/modelcar-test/tiny-llama:1.0";
const CUDA_IMAGE = "localhost/modelcar-test/tiny-llama:1.0-cuda";
// One model with both variants, expanded by the real manifest code: the build args each variant's
// build gets are the ones the program passes (lib/buildEnv).
const MANIFEST = [
  "models:",
  "  - name: tiny-llama",
  "    source: acme/tiny-llama",
  `    revision: ${SHA}`,
  '    tag: "1.0"',
  "    variants: [{ accelerator: cpu }, { accelerator: cuda }]",
  "",
].join("\n");
const SHARDS = [
  "model-00001-of-00003.safetensors",
  "model-00002-of-00003.safetensors",
  "model-00003-of-00003.safetensors",
];
// KServe's modelcar check, with /tmp standing in for the pod's shared /mnt volume.
const MODELCAR_CHECK =
  '[ -d /models ] && [ "$(ls -A /models)" ] && ln -sf /proc/$$/root/models /tmp/modelcar-check && sleep 0';

interface Provenance {
  source: { type: string; repo: string; revision: string; commit: string };
  maxLayerBytes: number;
  totalBytes: number;
  layers: { slot: string; bytes: number; files: number }[];
  files: { path: string; size: number; sha256: string; layer: string }[];
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function syntheticModel(): Record<string, Buffer> {
  const weightMap: Record<string, string> = {};
  SHARDS.forEach((s, i) => {
    weightMap[`model.layers.${i}.mlp.weight`] = s;
    weightMap[`model.layers.${i}.attn.weight`] = s;
  });
  const vocab = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`tok${i}`, i]));
  return {
    "config.json": Buffer.from(JSON.stringify({ model_type: "llama", hidden_size: 64 })),
    "generation_config.json": Buffer.from(JSON.stringify({ do_sample: false })),
    "tokenizer.json": Buffer.from(JSON.stringify({ version: "1.0", model: { vocab } })),
    [SHARDS[0]]: randomBytes(2_500_000),
    [SHARDS[1]]: randomBytes(1_500_000),
    [SHARDS[2]]: randomBytes(400_000),
    "model.safetensors.index.json": Buffer.from(
      JSON.stringify({ metadata: { total_size: 4_400_000 }, weight_map: weightMap }),
    ),
    "original/params.json": Buffer.from(JSON.stringify({ dim: 64, n_layers: 3 })),
  };
}

function regularFiles(layer: TarEntry[]): TarEntry[] {
  return layer.filter((e) => e.type === "0" || e.type === "\0");
}

function timed<T>(label: string, timings: string[], fn: () => T): T {
  const start = Date.now();
  const out = fn();
  timings.push(`${label} ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return out;
}

describe("modelcar image built with buildah from docker/Dockerfile", function () {
  this.timeout(180_000);

  const model = syntheticModel();
  const timings: string[] = [];
  let storage: BuildahStorage | undefined;
  let work = "";
  let oci: OciImage;
  let provenance: Provenance;
  let cpuSpec: ImageSpec;
  let cudaSpec: ImageSpec;
  /** Rebuilds the image for a spec from the same staged model (set up in `before`). */
  let rebuild: (spec: ImageSpec, tag: string, store?: string[]) => void;
  /** Manifest layer index of the first slot: the base image's layers come first. */
  let firstSlot = 0;

  before(function () {
    requireTools(this, ["buildah", "skopeo", "docker-registry", "python3", "busybox"]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "modelcar-image-"));
    storage = createBuildahStorage("modelcar-buildah-");
    const store = storage.args;
    const base = timed("busybox base", timings, () => makeBusyboxImage(store));

    const src = path.join(work, "model");
    for (const [rel, data] of Object.entries(model)) {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), data);
    }
    // The build context given for `downloader` holds `staging/`, as the real stage's filesystem does.
    const ctx = path.join(work, "ctx");
    timed("staging", timings, () =>
      execFileSync(
        "python3",
        [
          SCRIPT,
          "--local-dir",
          src,
          "--output",
          path.join(ctx, "staging"),
          "--max-layer-bytes",
          String(CAP),
          "--model-id",
          "acme/tiny-llama",
          "--revision",
          SHA,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      ),
    );
    provenance = JSON.parse(
      fs.readFileSync(path.join(ctx, "staging", "meta", "models", ".provenance.json"), "utf8"),
    ) as Provenance;

    const variants = parseManifest("models.yaml", MANIFEST).images;
    [cpuSpec, cudaSpec] = ["cpu", "cuda"].map(
      (a) => variants.find((i) => i.accelerator === a) as ImageSpec,
    );
    const bud = (spec: ImageSpec, tag: string, into = store) => {
      const args = dockerBuildArgs(spec, CAP);
      // Only the default busybox base has an offline stand-in; any other base (a CUDA image)
      // cannot be built here, and must not be what a variant gets by default.
      assert.equal(
        args.BASE_IMAGE,
        DEFAULT_BASE_IMAGES.cpu,
        `the ${spec.accelerator} variant's default base is ${args.BASE_IMAGE}, not the plain modelcar base`,
      );
      args.BASE_IMAGE = into === store ? base : makeBusyboxImage(into);
      buildah(into, modelcarBudArgs(ctx, args, tag));
    };
    timed(`buildah bud (${storage.driver})`, timings, () => bud(cpuSpec, IMAGE));
    rebuild = bud;
    oci = timed("export", timings, () => exportOciImage(store, IMAGE, path.join(work, "oci")));
    const baseLayers = JSON.parse(buildah(store, ["inspect", "--type", "image", base])) as {
      OCIv1: { rootfs: { diff_ids: string[] } };
    };
    firstSlot = baseLayers.OCIv1.rootfs.diff_ids.length;
  });

  after(function () {
    if (timings.length > 0) {
      console.log(`      timings: ${timings.join(", ")}`);
    }
    storage?.remove();
    if (work) {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it("has exactly one layer per slot: the planned groups within the cap, empty unused slots, then provenance", () => {
    assert.equal(
      oci.layers.length,
      firstSlot + SLOTS + 1,
      "base layers + 16 slot layers + the provenance layer",
    );
    assert.equal(oci.config.rootfs.diff_ids.length, oci.layers.length);

    // The plan for these sizes: shard 1 (2.5 MB > cap) alone; shard 2; shard 3 with the small files.
    const small = Object.keys(model)
      .filter((p) => !SHARDS.includes(p))
      .sort();
    const expectedGroups = [[SHARDS[0]], [SHARDS[1]], [SHARDS[2], ...small].sort()];
    assert.deepEqual(
      provenance.layers.map((l) => l.slot),
      ["g00", "g01", "g02"],
    );

    const summary: string[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const files = regularFiles(oci.layers[firstSlot + slot]);
      const names = files.map((f) => f.name.replace(/^models\//, "")).sort();
      const bytes = files.reduce((n, f) => n + f.size, 0);
      if (slot < expectedGroups.length) {
        assert.deepEqual(names, expectedGroups[slot], `slot g${slot} files`);
        assert.ok(
          bytes <= CAP || files.length === 1,
          `slot ${slot} holds ${bytes} bytes in ${files.length} files, over the cap ${CAP}`,
        );
        assert.equal(bytes, provenance.layers[slot].bytes);
        summary.push(`g0${slot}: ${files.length} files ${bytes} B`);
      } else {
        assert.deepEqual(names, [], `unused slot ${slot} must hold no file`);
      }
      for (const f of files) {
        assert.ok(f.name.startsWith("models/"), `${f.name} outside /models`);
      }
    }
    const meta = regularFiles(oci.layers[firstSlot + SLOTS]).map((f) => f.name);
    assert.deepEqual(meta, ["models/.provenance.json"]);
    const nonEmpty = oci.layers.slice(firstSlot).filter((l) => regularFiles(l).length > 0).length;
    assert.equal(nonEmpty, expectedGroups.length + 1);
    console.log(
      `      layers: ${oci.layers.length} (${firstSlot} base, ${nonEmpty - 1} model groups [${summary.join("; ")}], ${SLOTS - expectedGroups.length} empty slots, 1 provenance)`,
    );
  });

  it("holds every source file byte-identical under /models, owned by root and readable by any UID", () => {
    const merged = new Map<string, TarEntry>();
    for (const layer of oci.layers.slice(firstSlot)) {
      for (const e of layer) {
        assert.ok(!path.basename(e.name).startsWith(".wh."), `whiteout ${e.name} in a model layer`);
        merged.set(e.name, e);
      }
    }
    const files = [...merged.values()].filter(
      (e) => e.type === "0" && e.name.startsWith("models/"),
    );
    assert.deepEqual(
      files.map((f) => f.name).sort(),
      [...Object.keys(model).map((p) => `models/${p}`), "models/.provenance.json"].sort(),
    );
    for (const f of files) {
      const rel = f.name.slice("models/".length);
      if (rel !== ".provenance.json") {
        assert.equal(sha256(f.data), sha256(model[rel]), `${rel} differs from the source`);
      }
      assert.equal(
        f.mode & 0o444,
        0o444,
        `${f.name} mode ${f.mode.toString(8)} is not readable by all`,
      );
      assert.equal(f.uid, 0);
      assert.equal(f.gid, 0);
    }
    const dirs = [...merged.values()].filter((e) => e.type === "5" && e.name.startsWith("models"));
    assert.ok(dirs.some((d) => d.name === "models/original"));
    for (const d of dirs) {
      assert.equal(
        d.mode & 0o555,
        0o555,
        `${d.name} mode ${d.mode.toString(8)} is not searchable by all`,
      );
    }
  });

  it("records the source, commit and every file's size and sha256 in /models/.provenance.json", () => {
    const entry = regularFiles(oci.layers[firstSlot + SLOTS])[0];
    const inImage = JSON.parse(entry.data.toString("utf8")) as Provenance;
    assert.deepEqual(inImage, provenance);
    assert.deepEqual(inImage.source, {
      type: "local",
      repo: "acme/tiny-llama",
      revision: SHA,
      commit: SHA,
    });
    assert.equal(inImage.maxLayerBytes, CAP);
    assert.equal(
      inImage.totalBytes,
      Object.values(model).reduce((n, b) => n + b.length, 0),
    );
    assert.deepEqual(
      inImage.files.map((f) => [f.path, f.size, f.sha256]),
      Object.keys(model)
        .sort()
        .map((p) => [p, model[p].length, sha256(model[p])]),
    );
  });

  it("carries the OCI labels", () => {
    const labels = oci.config.config?.Labels ?? {};
    assert.equal(labels["org.opencontainers.image.title"], "tiny-llama");
    assert.equal(
      labels["org.opencontainers.image.source"],
      "https://huggingface.co/acme/tiny-llama",
    );
    assert.equal(labels["org.opencontainers.image.revision"], SHA);
    assert.equal(labels["org.opencontainers.image.version"], "1.0");
  });

  it("passes KServe's modelcar check, and a non-root user reads every file intact", () => {
    const store = storage!.args;
    const ctr = buildah(store, ["from", IMAGE]).trim();
    try {
      buildah(store, ["run", "--isolation", "chroot", ctr, "--", "sh", "-c", MODELCAR_CHECK]);
      const sums = buildah(store, [
        "run",
        "--isolation",
        "chroot",
        "--user",
        "65534:65534",
        ctr,
        "--",
        "sh",
        "-c",
        "cd /models && find . -type f ! -name .provenance.json -exec sha256sum {} +",
      ]);
      const seen = Object.fromEntries(
        sums
          .trim()
          .split("\n")
          .map((l) => l.split(/\s+\.\//))
          .map(([sum, rel]) => [rel, sum]),
      );
      assert.deepEqual(
        seen,
        Object.fromEntries(Object.entries(model).map(([p, b]) => [p, sha256(b)])),
      );
    } finally {
      buildah(store, ["rm", ctr]);
    }
  });

  it("builds the cuda variant as the same plain modelcar: identical model layers, no NVIDIA_* in either config", () => {
    // Its own storage and no cache, as a separate CodeBuild build would be: identical layers must
    // come from identical content (the staged files' fixed mtimes), not from a shared cache.
    const own = createBuildahStorage("modelcar-cuda-");
    let cuda: OciImage;
    try {
      timed("cuda variant", timings, () => rebuild(cudaSpec, CUDA_IMAGE, own.args));
      cuda = exportOciImage(own.args, CUDA_IMAGE, path.join(work, "oci-cuda"));
    } finally {
      own.remove();
    }
    // Same COPYs of the same staged files: every model layer is the same blob, so ECR stores the
    // weights once for both tags. The configs differ only in labels (the -cuda version).
    const modelLayers = (i: OciImage) => i.manifest.layers.slice(firstSlot).map((l) => l.digest);
    assert.equal(modelLayers(cuda).length, SLOTS + 1);
    assert.deepEqual(modelLayers(cuda), modelLayers(oci));
    assert.equal(cuda.config.config?.Labels?.["org.opencontainers.image.version"], "1.0-cuda");
    for (const [label, image] of [
      ["cpu", oci],
      ["cuda", cuda],
    ] as const) {
      const env = image.config.config?.Env ?? [];
      assert.deepEqual(
        env.filter((e) => e.startsWith("NVIDIA_")),
        [],
        `${label} config sets ${env.join(" ")}`,
      );
    }
  });

  it("pushes to a registry on 127.0.0.1 where the tag is listed with the same layers", async () => {
    const registry = await startRegistry();
    try {
      const ref = `${registry.host}/kserve-models/tiny-llama`;
      timed("push", timings, () =>
        buildah(storage!.args, ["push", "--tls-verify=false", IMAGE, `docker://${ref}:1.0`]),
      );
      const tags = JSON.parse(
        execFileSync("skopeo", ["list-tags", "--tls-verify=false", `docker://${ref}`], {
          encoding: "utf8",
        }),
      ) as {
        Tags: string[];
      };
      assert.deepEqual(tags.Tags, ["1.0"]);
      const manifest = JSON.parse(
        execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}:1.0`], {
          encoding: "utf8",
        }),
      ) as { layers: unknown[] };
      assert.equal(manifest.layers.length, oci.layers.length);
    } finally {
      await registry.stop();
    }
  });
});
