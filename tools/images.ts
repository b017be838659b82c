// Builds and reads small OCI images offline with buildah in throwaway storage: a busybox base image from Debian's busybox-static, and layer inspection of an exported OCI layout.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Parser as TarParser, ReadEntry } from "tar";

/** Debian's busybox-static: one static binary, so the image needs no libraries. */
export const BUSYBOX_BINARY = "/bin/busybox";
export const DEFAULT_BUSYBOX_IMAGE = "localhost/modelcar-test/busybox:latest";
/**
 * The arm64 build of the same Debian package, unpacked by .ci/run from Debian's arm64 archive
 * (`apt-get download busybox-static:arm64`, `dpkg-deb -x`); BUSYBOX_ARM64 overrides the path.
 */
export const ARM64_BUSYBOX_BINARY =
  process.env.BUSYBOX_ARM64 ?? "/opt/model-images-test/arm64/bin/busybox";

export type StorageDriver = "overlay" | "vfs";

/** A buildah storage root of its own, so tests neither see nor disturb other images. */
export interface BuildahStorage {
  /** Global buildah flags selecting this storage (`--root`, `--runroot`, `--storage-driver`). */
  args: string[];
  /** Directory holding the storage; `remove()` deletes it. */
  dir: string;
  driver: StorageDriver;
  remove(): void;
}

function storageArgs(dir: string, driver: StorageDriver): string[] {
  return [
    "--root",
    path.join(dir, "root"),
    "--runroot",
    path.join(dir, "runroot"),
    "--storage-driver",
    driver,
  ];
}

function removeStorage(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // Rootless buildah leaves files owned by sub-UIDs that only its user namespace may delete.
    execFileSync("buildah", ["unshare", "rm", "-rf", dir], { stdio: "ignore" });
  }
}

let overlayWorks: boolean | undefined;

/**
 * Whether buildah's overlay driver works here: it needs a kernel (or fuse-overlayfs) that lets
 * this user mount overlays, which many CI containers do not. Probed once by mounting a container.
 */
export function overlaySupported(): boolean {
  if (overlayWorks === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "buildah-probe-"));
    const args = storageArgs(dir, "overlay");
    try {
      const ctr = buildah(args, ["from", "scratch"], 30_000).trim();
      buildah(args, ["mount", ctr], 30_000);
      buildah(args, ["rm", ctr], 30_000);
      overlayWorks = true;
    } catch {
      overlayWorks = false;
    } finally {
      removeStorage(dir);
    }
  }
  return overlayWorks;
}

/**
 * Overlay where the kernel allows it, vfs otherwise. vfs copies the whole root filesystem at
 * every step (a COPY of the model writes the model again per layer), so it is several times
 * slower and its disk figures measure vfs, not the build; MODELCAR_STORAGE_DRIVER forces one.
 */
export function createBuildahStorage(prefix = "buildah-"): BuildahStorage {
  const forced = process.env.MODELCAR_STORAGE_DRIVER as StorageDriver | undefined;
  const driver: StorageDriver = forced ?? (overlaySupported() ? "overlay" : "vfs");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { args: storageArgs(dir, driver), dir, driver, remove: () => removeStorage(dir) };
}

/** Runs buildah with the given storage flags; returns stdout, or throws with the command and its stderr. */
export function buildah(storageArgs: string[], args: string[], timeoutMs = 120_000): string {
  try {
    return execFileSync("buildah", [...storageArgs, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `buildah ${args.join(" ")} failed: ${e.stderr || e.message}\n${(e.stdout ?? "").slice(-2000)}`,
    );
  }
}

/** What a busybox base image is made of; the defaults are the host's own busybox. */
export interface BusyboxOptions {
  /** Image name to commit. */
  name?: string;
  /** Static busybox binary to copy to /bin/busybox. */
  binary?: string;
  /** OCI architecture of the image (`amd64`, `arm64`); default: the host's. */
  arch?: string;
}

/**
 * Commits a busybox image (every applet symlinked in /bin, a world-writable /tmp) into the given
 * storage and returns its name. It stands in for public.ecr.aws/docker/library/busybox offline:
 * it has the `sh`, `ln` and `sleep` that KServe's modelcar runs. The applet list comes from the
 * host's busybox (a foreign binary cannot run here); Debian builds both from the same source.
 */
export function makeBusyboxImage(
  storageArgs: string[],
  opts: BusyboxOptions | string = {},
): string {
  const o = typeof opts === "string" ? { name: opts } : opts;
  const name = o.name ?? DEFAULT_BUSYBOX_IMAGE;
  const binary = o.binary ?? BUSYBOX_BINARY;
  for (const file of new Set([binary, BUSYBOX_BINARY])) {
    if (!fs.existsSync(file)) {
      throw new Error(
        file === BUSYBOX_BINARY
          ? `${file} is missing: apt-get install busybox-static`
          : `${file} is missing: run .ci/run, or unpack Debian's busybox-static:arm64 there (apt-get download busybox-static:arm64; dpkg-deb -x)`,
      );
    }
  }
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), "busybox-rootfs-"));
  try {
    const bin = path.join(rootfs, "bin");
    fs.mkdirSync(bin);
    fs.copyFileSync(binary, path.join(bin, "busybox"));
    fs.chmodSync(path.join(bin, "busybox"), 0o755);
    const applets = execFileSync(BUSYBOX_BINARY, ["--list"], { encoding: "utf8" })
      .split("\n")
      .filter((a) => /^[a-z0-9_.-]+$/.test(a) && a !== "busybox");
    for (const applet of applets) {
      fs.symlinkSync("busybox", path.join(bin, applet));
    }
    for (const required of ["sh", "ln", "sleep", "ls"]) {
      if (!applets.includes(required)) {
        throw new Error(`${BUSYBOX_BINARY} has no ${required} applet; KServe's modelcar needs it`);
      }
    }
    fs.mkdirSync(path.join(rootfs, "tmp"));
    fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
    const ctr = buildah(storageArgs, ["from", "scratch"]).trim();
    try {
      buildah(storageArgs, ["copy", ctr, `${rootfs}/`, "/"]);
      const arch = o.arch ? ["--arch", o.arch, "--os", "linux"] : [];
      buildah(storageArgs, ["config", "--env", "PATH=/bin", "--cmd", "sh", ...arch, ctr]);
      buildah(storageArgs, ["commit", "--rm", ctr, name]);
    } catch (err) {
      buildah(storageArgs, ["rm", ctr]);
      throw err;
    }
    return name;
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
}

/** ELF e_machine of a static binary: 62 is x86-64, 183 is AArch64. */
export const ELF_MACHINE: Record<string, number> = { amd64: 62, arm64: 183 };

export function elfMachine(data: Buffer): number {
  if (data.length < 20 || data.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error("not an ELF file");
  }
  // EI_DATA (byte 5): 1 little-endian, 2 big-endian; e_machine is the half-word at 18.
  return data[5] === 2 ? data.readUInt16BE(18) : data.readUInt16LE(18);
}

/** One entry of a layer tarball. */
export interface TarEntry {
  /** Path without a leading `./` or `/`. */
  name: string;
  /** `0` regular file, `5` directory, `2` symlink, ... (ustar typeflag). */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  data: Buffer;
}

/** node-tar's entry type names, back to the ustar typeflag the tests compare. */
const TYPEFLAG: Record<string, string> = {
  File: "0",
  OldFile: "0",
  ContiguousFile: "7",
  Link: "1",
  SymbolicLink: "2",
  CharacterDevice: "3",
  BlockDevice: "4",
  Directory: "5",
  FIFO: "6",
};

/**
 * Reads an uncompressed or gzip-compressed tar with node-tar (ustar, PAX and GNU long names).
 * node-tar's Parser is synchronous when fed one buffer, so the entries are complete on return.
 */
export function readTar(blob: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  const parser = new TarParser({
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      entry.on("end", () =>
        entries.push({
          name: entry.path.replace(/^\.?\/+/, "").replace(/\/+$/, ""),
          type: TYPEFLAG[entry.type] ?? entry.type,
          mode: (entry.mode ?? 0) & 0o7777,
          uid: entry.uid ?? 0,
          gid: entry.gid ?? 0,
          size: entry.size ?? 0,
          linkname: entry.linkpath ?? "",
          data: Buffer.concat(chunks),
        }),
      );
    },
  });
  parser.end(blob);
  return entries;
}

/** An image read back from an OCI layout directory. */
export interface OciImage {
  manifest: { layers: { digest: string; size: number; mediaType: string }[] };
  config: {
    config?: { Labels?: Record<string, string>; Env?: string[] };
    rootfs: { diff_ids: string[] };
  };
  /** Entries of each layer, in manifest order. */
  layers: TarEntry[][];
}

/** Exports `image` from buildah storage to an OCI layout under `dir` and reads it back. */
export function exportOciImage(storageArgs: string[], image: string, dir: string): OciImage {
  buildah(storageArgs, ["push", image, `oci:${dir}:export`]);
  const blob = (digest: string) => fs.readFileSync(path.join(dir, "blobs", ...digest.split(":")));
  const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === "export",
  );
  if (!entry) {
    throw new Error(`no manifest tagged "export" in ${dir}/index.json`);
  }
  const manifest = JSON.parse(blob(entry.digest).toString("utf8")) as OciImage["manifest"] & {
    config: { digest: string };
  };
  const config = JSON.parse(blob(manifest.config.digest).toString("utf8")) as OciImage["config"];
  return { manifest, config, layers: manifest.layers.map((l) => readTar(blob(l.digest))) };
}

const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * Stages a model directory with `download_model.py --local-dir` under `<ctx>/staging`, as the
 * Dockerfile's `downloader` stage would; `ctx` is then the `downloader` build context.
 */
export function stageLocalModel(
  src: string,
  ctx: string,
  opts: {
    maxLayerBytes: string | number;
    modelId: string;
    revision: string;
    stderr?: "pipe" | "inherit";
  },
): void {
  execFileSync(
    "python3",
    [
      path.join(PROJECT_ROOT, "docker", "download_model.py"),
      "--local-dir",
      src,
      "--output",
      path.join(ctx, "staging"),
      "--max-layer-bytes",
      String(opts.maxLayerBytes),
      "--model-id",
      opts.modelId,
      "--revision",
      opts.revision,
    ],
    { stdio: ["ignore", "ignore", opts.stderr ?? "pipe"] },
  );
}

/** `buildah bud` arguments building the real docker/Dockerfile with a staged `downloader` context. */
export function modelcarBudArgs(
  ctx: string,
  buildArgs: Record<string, string>,
  tag: string,
  platform?: string,
): string[] {
  return [
    "bud",
    "--layers",
    "--isolation",
    "chroot",
    ...(platform ? ["--platform", platform] : []),
    "--build-context",
    `downloader=${ctx}`,
    ...Object.entries(buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    "-t",
    tag,
    "-f",
    path.join(PROJECT_ROOT, "docker", "Dockerfile"),
    path.join(PROJECT_ROOT, "docker"),
  ];
}
