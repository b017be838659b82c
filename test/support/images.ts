// Builds and reads small OCI images offline with buildah in throwaway storage: a busybox base image from Debian's busybox-static, and layer inspection of an exported OCI layout.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Parser as TarParser, ReadEntry } from "tar";

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
