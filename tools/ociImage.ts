// Makes tiny OCI images (an image-layout directory) with plain node, and pushes them with skopeo, for registry tests.
//
// Why not buildah: a registry test needs tags and digests, not a root filesystem; writing the
// layout by hand takes milliseconds and needs no storage driver.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);

import { type Descriptor, OCI_INDEX, OCI_MANIFEST } from "../lib/bom/ociClient";

export { type Descriptor, OCI_INDEX, OCI_MANIFEST };

export interface LayoutEntry {
  /** The tag inside the layout (and, by default, in the registry). */
  tag: string;
  /** Make the tag an image index that points at a single-platform manifest. */
  index?: boolean;
}

/** What a layout tag points at: the digest a registry must report for it. */
export interface LayoutImage {
  tag: string;
  digest: string;
  mediaType: string;
  /** For an index: the digest of the manifest it lists. */
  manifestDigest?: string;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function writeBlob(dir: string, mediaType: string, bytes: Buffer): Descriptor {
  const digest = sha256(bytes);
  fs.writeFileSync(path.join(dir, "blobs", "sha256", digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/**
 * Write an OCI image layout at `dir` holding one image per entry. Every image differs (its config
 * names its tag), so each tag has its own digest. Returns what each tag points at.
 */
export function writeOciLayout(dir: string, entries: readonly LayoutEntry[]): LayoutImage[] {
  fs.mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
  fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  // An empty tar (two zero blocks), gzipped: a valid layer with nothing in it.
  const tar = Buffer.alloc(1024);
  const layer = writeBlob(dir, "application/vnd.oci.image.layer.v1.tar+gzip", gzipSync(tar));
  const manifests: Descriptor[] = [];
  const images: LayoutImage[] = [];
  for (const e of entries) {
    const config = writeBlob(
      dir,
      "application/vnd.oci.image.config.v1+json",
      json({
        architecture: "amd64",
        os: "linux",
        config: { Labels: { "test.tag": e.tag } },
        rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      }),
    );
    const manifest = writeBlob(
      dir,
      OCI_MANIFEST,
      json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }),
    );
    const ref = { "org.opencontainers.image.ref.name": e.tag };
    if (e.index) {
      const index = writeBlob(
        dir,
        OCI_INDEX,
        json({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ ...manifest, platform: { architecture: "amd64", os: "linux" } }],
        }),
      );
      manifests.push({ ...index, annotations: ref });
      images.push({
        tag: e.tag,
        digest: index.digest,
        mediaType: OCI_INDEX,
        manifestDigest: manifest.digest,
      });
    } else {
      manifests.push({ ...manifest, annotations: ref });
      images.push({ tag: e.tag, digest: manifest.digest, mediaType: OCI_MANIFEST });
    }
  }
  fs.writeFileSync(
    path.join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }),
  );
  return images;
}

/**
 * Push one tag of a layout to `host/repository:tag` over plain HTTP, byte for byte
 * (`--preserve-digests`), so the registry's digest is the one `writeOciLayout` returned.
 */
export async function pushImage(
  layoutDir: string,
  image: LayoutImage,
  host: string,
  repository: string,
  tag = image.tag,
): Promise<void> {
  await run(
    "skopeo",
    [
      "copy",
      "--quiet",
      "--preserve-digests",
      "--dest-tls-verify=false",
      ...(image.mediaType === OCI_INDEX ? ["--all"] : []),
      `oci:${layoutDir}:${image.tag}`,
      `docker://${host}/${repository}:${tag}`,
    ],
    { timeout: 60_000 },
  );
}
