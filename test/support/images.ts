// Builds and reads small OCI images offline with buildah in throwaway storage: a busybox base image from Debian's busybox-static, and layer inspection of an exported OCI layout.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

/** Debian's busybox-static: one static binary, so the image needs no libraries. */
export const BUSYBOX_BINARY = "/bin/busybox";
export const DEFAULT_BUSYBOX_IMAGE = "localhost/modelcar-test/busybox:latest";

/** A buildah storage root of its own, so tests neither see nor disturb other images. */
export interface BuildahStorage {
  /** Global buildah flags selecting this storage (`--root`, `--runroot`, `--storage-driver vfs`). */
  args: string[];
  /** Directory holding the storage; `remove()` deletes it. */
  dir: string;
  remove(): void;
}

/** vfs needs no kernel overlay support, which CI containers often lack. */
export function createBuildahStorage(prefix = "buildah-"): BuildahStorage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const args = [
    "--root",
    path.join(dir, "root"),
    "--runroot",
    path.join(dir, "runroot"),
    "--storage-driver",
    "vfs",
  ];
  return {
    args,
    dir,
    remove: () => {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // Rootless buildah leaves files owned by sub-UIDs that only its user namespace may delete.
        execFileSync("buildah", ["unshare", "rm", "-rf", dir], { stdio: "ignore" });
      }
    },
  };
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

/**
 * Commits a busybox image (every applet symlinked in /bin, a world-writable /tmp) into the given
 * storage and returns its name. It stands in for public.ecr.aws/docker/library/busybox offline:
 * it has the `sh`, `ln` and `sleep` that KServe's modelcar runs.
 */
export function makeBusyboxImage(storageArgs: string[], name = DEFAULT_BUSYBOX_IMAGE): string {
  if (!fs.existsSync(BUSYBOX_BINARY)) {
    throw new Error(`${BUSYBOX_BINARY} is missing: apt-get install busybox-static`);
  }
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), "busybox-rootfs-"));
  try {
    const bin = path.join(rootfs, "bin");
    fs.mkdirSync(bin);
    fs.copyFileSync(BUSYBOX_BINARY, path.join(bin, "busybox"));
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
      buildah(storageArgs, ["config", "--env", "PATH=/bin", "--cmd", "sh", ctr]);
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

function tarString(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString("utf8");
}

function tarNumber(buf: Buffer, start: number, len: number): number {
  if (buf[start] & 0x80) {
    // GNU base-256 for values that do not fit in octal.
    let n = 0;
    for (let i = start + 1; i < start + len; i++) {
      n = n * 256 + buf[i];
    }
    return n;
  }
  const text = tarString(buf, start, len).trim();
  return text ? parseInt(text, 8) : 0;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = parseInt(data.subarray(pos, space).toString("utf8"), 10);
    if (!(len > 0)) {
      break;
    }
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Parses an uncompressed or gzip-compressed tar (ustar, PAX and GNU long names). */
export function readTar(blob: Buffer): TarEntry[] {
  const buf = blob[0] === 0x1f && blob[1] === 0x8b ? zlib.gunzipSync(blob) : blob;
  const entries: TarEntry[] = [];
  let pos = 0;
  let pending: Record<string, string> = {};
  while (pos + 512 <= buf.length) {
    const header = buf.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) {
      break;
    }
    const type = String.fromCharCode(header[156] || 0x30);
    const isMeta = type === "x" || type === "L" || type === "g";
    const size =
      !isMeta && pending.size !== undefined ? Number(pending.size) : tarNumber(header, 124, 12);
    const dataStart = pos + 512;
    pos = dataStart + Math.ceil(size / 512) * 512;
    const data = buf.subarray(dataStart, dataStart + size);
    if (type === "x") {
      pending = { ...pending, ...paxRecords(data) };
      continue;
    }
    if (type === "L") {
      pending = { ...pending, path: tarString(data, 0, data.length) };
      continue;
    }
    if (type === "g") {
      continue;
    }
    const prefix = tarString(header, 345, 155);
    let name =
      pending.path ??
      (prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100));
    name = name.replace(/^\.?\/+/, "").replace(/\/+$/, "");
    entries.push({
      name,
      type,
      mode: tarNumber(header, 100, 8) & 0o7777,
      uid: pending.uid !== undefined ? Number(pending.uid) : tarNumber(header, 108, 8),
      gid: pending.gid !== undefined ? Number(pending.gid) : tarNumber(header, 116, 8),
      size,
      linkname: pending.linkpath ?? tarString(header, 157, 100),
      data,
    });
    pending = {};
  }
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
