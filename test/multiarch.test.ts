// Builds the real docker/Dockerfile for linux/amd64 and linux/arm64 with buildah (no emulation: the final stage has no RUN), pushes the index to a local registry and reads back each platform's config, /bin/busybox ELF machine and model layers.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ARM64_BUSYBOX_BINARY,
  BUSYBOX_BINARY,
  buildah,
  BuildahStorage,
  createBuildahStorage,
  ELF_MACHINE,
  elfMachine,
  makeBusyboxImage,
  readTar,
  stageLocalModel,
  modelcarBudArgs,
} from "../tools/images";
import { dockerBuildArgs } from "../lib/buildEnv";
import { parseManifest } from "../lib/manifest";
import { LocalRegistry, startRegistry } from "../tools/registry";
import { requireTools } from "./support/tools";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const CAP = 1_000_000;
const PLATFORMS = ["amd64", "arm64"] as const;
const LIST = "localhost/modelcar-test/tiny-multi:list";
const REPO = "kserve-models/tiny-multi";
const MANIFEST = [
  "models:",
  "  - name: tiny-multi",
  "    source: acme/tiny-multi",
  `    revision: ${SHA}`,
  '    tag: "1.0"',
  "",
].join("\n");

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}

/** The arm64 busybox binary .ci/run unpacks; skips with the reason when absent, fails in CI. */
function requireArm64Busybox(ctx: Mocha.Context): void {
  if (fs.existsSync(ARM64_BUSYBOX_BINARY)) {
    return;
  }
  const reason = `${ARM64_BUSYBOX_BINARY} is missing (the arm64 base's busybox): run .ci/run, or apt-get download busybox-static:arm64 and dpkg-deb -x it there (BUSYBOX_ARM64 overrides the path)`;
  if (process.env.CI === "true") {
    throw new Error(`${reason}; CI=true, so this is a failure, not a skip`);
  }
  console.log(`      SKIPPED: ${reason}`);
  ctx.skip();
}

describe("multi-arch modelcar index (linux/amd64 + linux/arm64) built with buildah from docker/Dockerfile", function () {
  this.timeout(300_000);

  let storage: BuildahStorage | undefined;
  let registry: LocalRegistry | undefined;
  let work = "";
  let index: { mediaType?: string; manifests: Descriptor[] };
  /** Per architecture: how many layers its busybox base has (they come first). */
  const baseLayers = new Map<string, number>();
  /** Per architecture: the platform manifest, its config and the base layer count. */
  const images = new Map<
    string,
    {
      manifest: { config: Descriptor; layers: Descriptor[] };
      config: { architecture: string; os: string };
      baseLayers: number;
    }
  >();

  const blob = async (digest: string): Promise<Buffer> => {
    const res = await fetch(`http://${registry!.host}/v2/${REPO}/blobs/${digest}`);
    assert.equal(res.status, 200, `GET blob ${digest}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const rawManifest = (ref: string): unknown =>
    JSON.parse(
      execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], {
        encoding: "utf8",
      }),
    );

  before(async function () {
    requireTools(this, ["buildah", "skopeo", "docker-registry", "python3", "busybox"]);
    requireArm64Busybox(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "modelcar-multiarch-"));
    storage = createBuildahStorage("modelcar-multiarch-");
    const store = storage.args;

    // A tiny model: the figures here are platforms and digests, not throughput.
    const src = path.join(work, "model");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "config.json"), JSON.stringify({ model_type: "llama" }));
    fs.writeFileSync(path.join(src, "model.safetensors"), randomBytes(200_000));
    const ctx = path.join(work, "ctx");
    stageLocalModel(src, ctx, { maxLayerBytes: CAP, modelId: "acme/tiny-multi", revision: SHA });

    const spec = parseManifest("models.yaml", MANIFEST).images[0];
    buildah(store, ["manifest", "create", LIST]);
    for (const arch of PLATFORMS) {
      // Each platform's base is its own busybox-static build; the image's arch is set to match.
      const base = makeBusyboxImage(store, {
        name: `localhost/modelcar-test/busybox-${arch}:latest`,
        binary: arch === "arm64" ? ARM64_BUSYBOX_BINARY : BUSYBOX_BINARY,
        arch,
      });
      const args = { ...dockerBuildArgs(spec, CAP), BASE_IMAGE: base };
      const tag = `localhost/modelcar-test/tiny-multi:${arch}`;
      buildah(store, modelcarBudArgs(ctx, args, tag, `linux/${arch}`), 180_000);
      buildah(store, ["manifest", "add", LIST, tag]);
      const baseInfo = JSON.parse(buildah(store, ["inspect", "--type", "image", base])) as {
        OCIv1: { rootfs: { diff_ids: string[] } };
      };
      baseLayers.set(arch, baseInfo.OCIv1.rootfs.diff_ids.length);
    }

    registry = await startRegistry();
    const ref = `${registry.host}/${REPO}:1.0`;
    buildah(store, ["manifest", "push", "--all", "--tls-verify=false", LIST, `docker://${ref}`]);
    index = rawManifest(ref) as typeof index;
    for (const d of index.manifests) {
      const arch = d.platform?.architecture ?? "";
      const base = baseLayers.get(arch);
      assert.ok(base, `index lists an unexpected platform ${JSON.stringify(d.platform)}`);
      const manifest = rawManifest(`${registry.host}/${REPO}@${d.digest}`) as {
        config: Descriptor;
        layers: Descriptor[];
      };
      const config = JSON.parse((await blob(manifest.config.digest)).toString("utf8")) as {
        architecture: string;
        os: string;
      };
      images.set(arch, { manifest, config, baseLayers: base });
    }
  });

  after(async function () {
    await registry?.stop();
    storage?.remove();
    if (work) {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it("pushes one index listing exactly linux/amd64 and linux/arm64", () => {
    assert.match(index.mediaType ?? "", /manifest\.list|image\.index/);
    assert.deepEqual(
      index.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).sort(),
      ["linux/amd64", "linux/arm64"],
    );
    assert.equal(new Set(index.manifests.map((d) => d.digest)).size, 2);
  });

  it("gives each platform manifest a config of its own architecture", () => {
    for (const arch of PLATFORMS) {
      const img = images.get(arch)!;
      assert.ok(img.config, `no ${arch} manifest in the index`);
      assert.equal(img.config.architecture, arch);
      assert.equal(img.config.os, "linux");
    }
  });

  it("has each platform's /bin/busybox built for that machine (ELF e_machine x86-64 62, aarch64 183)", async () => {
    const seen: Record<string, number> = {};
    for (const arch of PLATFORMS) {
      const img = images.get(arch)!;
      let busybox: Buffer | undefined;
      for (const layer of img.manifest.layers.slice(0, img.baseLayers)) {
        const entry = readTar(await blob(layer.digest)).find(
          (e) => e.name === "bin/busybox" && e.type === "0",
        );
        busybox = entry?.data ?? busybox;
      }
      assert.ok(busybox, `no regular file /bin/busybox in the ${arch} image's base layers`);
      seen[arch] = elfMachine(busybox);
    }
    assert.deepEqual(seen, { amd64: ELF_MACHINE.amd64, arm64: ELF_MACHINE.arm64 });
    assert.deepEqual(seen, { amd64: 62, arm64: 183 });
  });

  it("shares every model layer across platforms: identical digests, so the weights are stored once", () => {
    const [amd, arm] = PLATFORMS.map((a) => images.get(a)!);
    const modelLayers = (img: typeof amd) =>
      img.manifest.layers.slice(img.baseLayers).map((l) => l.digest);
    // 16 slots + provenance, after the base.
    assert.equal(modelLayers(amd).length, 17);
    assert.deepEqual(modelLayers(arm), modelLayers(amd));
    // The bases differ (different binaries), so identical model layers are not a copied manifest.
    assert.notDeepEqual(
      arm.manifest.layers.slice(0, arm.baseLayers).map((l) => l.digest),
      amd.manifest.layers.slice(0, amd.baseLayers).map((l) => l.digest),
    );
  });
});
