// Attaches a BOM to an image digest as an OCI 1.1 referrer, and reads it back; plus the image's layers for the BOM.
//
// distribution-spec v1.1, "Pushing Manifests with Subject": "When pushing a manifest with the
// subject field and the OCI-Subject header was not set, the client MUST: Pull the current referrers
// list using the referrers tag schema. [...] Push the updated referrers list using the same
// referrers tag schema." Registries without the referrers API (Debian's docker-registry 2.8) get
// that fallback tag, `sha256-<hex>`; ECR answers with OCI-Subject and needs no tag.

import type { ImageInfo, ImageLayer } from "./cyclonedx";
import {
  type Descriptor,
  type OciClient,
  OCI_INDEX,
  OCI_MANIFEST,
  sha256Digest,
} from "./ociClient";
import { RegistryError } from "../registry/types";

/** The OCI empty descriptor: the config of an artifact manifest that has no config. */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: "application/vnd.oci.empty.v1+json",
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
  data: "e30=",
};
const EMPTY_BYTES = Buffer.from("{}");

/** The referrers tag schema: `<alg>-<ref>` of the subject digest. */
export function referrersTag(digest: string): string {
  return digest.replace(/[^a-zA-Z0-9._-]/g, "-").slice(0, 128);
}

/** The artifact manifest of one blob, pointing at `subject`. Same inputs, same bytes. */
export function referrerManifest(
  artifactType: string,
  blob: Descriptor,
  subject: Descriptor,
  annotations: Record<string, string> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: EMPTY_CONFIG,
      layers: [blob],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    }),
  );
}

/** The fallback index with `entry` added once (a second attach of the same manifest changes nothing). */
export function addToReferrersIndex(
  index: { manifests?: Descriptor[] } | undefined,
  entry: Descriptor,
): Buffer {
  const manifests = (index?.manifests ?? []).filter((m) => m.digest !== entry.digest);
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...manifests, entry] }),
  );
}

export interface Attached {
  /** Digest of the referrer manifest. */
  digest: string;
  /** How the registry learnt about it: its referrers API, or the fallback tag. */
  via: "referrers-api" | "tag-schema";
}

/** The manifest or index of `repository@digest`; a missing one is an error that says what to pass. */
async function requireManifest(client: OciClient, repository: string, digest: string) {
  const got = await client.getManifest(repository, digest);
  if (!got) {
    throw new RegistryError(
      `${client.host}/${repository}@${digest} does not exist; pass the digest the build pushed (IMAGE_DIGEST), and check the repository`,
    );
  }
  return got;
}

/** Push `content` as a referrer of `repository@digest` with `artifactType`. */
export async function attachReferrer(
  client: OciClient,
  repository: string,
  digest: string,
  artifactType: string,
  content: Buffer,
  annotations: Record<string, string> = {},
): Promise<Attached> {
  const got = await requireManifest(client, repository, digest);
  const subject: Descriptor = { mediaType: got.mediaType, digest, size: got.bytes.length };
  await client.pushBlob(repository, EMPTY_BYTES, EMPTY_CONFIG.mediaType);
  const blob = await client.pushBlob(repository, content, artifactType);
  const manifest = referrerManifest(artifactType, blob, subject, annotations);
  const manifestDigest = sha256Digest(manifest);
  const { subject: processed } = await client.putManifest(
    repository,
    manifestDigest,
    manifest,
    OCI_MANIFEST,
  );
  if (processed) {
    return { digest: manifestDigest, via: "referrers-api" };
  }
  const tag = referrersTag(digest);
  const current = await client.getManifest(repository, tag);
  if (current && current.mediaType !== OCI_INDEX) {
    throw new RegistryError(
      `${client.host}/${repository}:${tag} is a ${current.mediaType}, not the referrers index the OCI fallback tag must be; remove that tag and attach again`,
    );
  }
  const index = current
    ? (JSON.parse(current.bytes.toString("utf8")) as { manifests?: Descriptor[] })
    : undefined;
  const entry: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest: manifestDigest,
    size: manifest.length,
    artifactType,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  await client.putManifest(repository, tag, addToReferrersIndex(index, entry), OCI_INDEX);
  return { digest: manifestDigest, via: "tag-schema" };
}

/** Referrers of `repository@digest` of one artifact type: the referrers API, else the fallback tag. */
export async function listReferrers(
  client: OciClient,
  repository: string,
  digest: string,
  artifactType: string,
): Promise<Descriptor[]> {
  let list = await client.referrers(repository, digest);
  if (list === undefined) {
    const tagged = await client.getManifest(repository, referrersTag(digest));
    list = tagged
      ? ((JSON.parse(tagged.bytes.toString("utf8")) as { manifests?: Descriptor[] }).manifests ??
        [])
      : [];
  }
  return list.filter((d) => d.artifactType === artifactType);
}

/** The content of a referrer manifest's single layer, checked against its digest. */
export async function readReferrer(
  client: OciClient,
  repository: string,
  digest: string,
): Promise<Buffer> {
  const got = await client.getManifest(repository, digest);
  if (!got) {
    throw new RegistryError(`referrer ${client.host}/${repository}@${digest} does not exist`);
  }
  const manifest = JSON.parse(got.bytes.toString("utf8")) as { layers?: Descriptor[] };
  if (manifest.layers?.length !== 1) {
    throw new RegistryError(
      `referrer ${client.host}/${repository}@${digest} has ${manifest.layers?.length ?? 0} layers; expected one`,
    );
  }
  return client.getBlob(repository, manifest.layers[0].digest);
}

/** `host/repository@sha256:…` split into its parts; undefined when it is not that shape. */
export function parseImageRef(
  ref: string,
): { host: string; repository: string; digest: string } | undefined {
  const m =
    /^([^/]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)@(sha256:[0-9a-f]{64})$/.exec(
      ref,
    );
  if (!m || !(m[1].includes(".") || m[1].includes(":") || m[1] === "localhost")) {
    return undefined;
  }
  return { host: m[1], repository: m[2], digest: m[3] };
}

/** The image's layers from the registry: one manifest's, or each platform's of an index. */
export async function readImage(
  client: OciClient,
  repository: string,
  digest: string,
): Promise<ImageInfo> {
  const got = await requireManifest(client, repository, digest);
  const doc = JSON.parse(got.bytes.toString("utf8")) as {
    layers?: Descriptor[];
    manifests?: Descriptor[];
  };
  const layers: ImageLayer[] = [];
  if (doc.manifests) {
    for (const m of doc.manifests) {
      // Attestation manifests (unknown/unknown) are not part of what runs.
      if (!m.platform || m.platform.os === "unknown") {
        continue;
      }
      const platform = [m.platform.os, m.platform.architecture, m.platform.variant]
        .filter(Boolean)
        .join("/");
      const child = await client.getManifest(repository, m.digest);
      const childDoc = child
        ? (JSON.parse(child.bytes.toString("utf8")) as { layers?: Descriptor[] })
        : {};
      for (const l of childDoc.layers ?? []) {
        layers.push({ digest: l.digest, size: l.size, mediaType: l.mediaType, platform });
      }
    }
  } else {
    for (const l of doc.layers ?? []) {
      layers.push({ digest: l.digest, size: l.size, mediaType: l.mediaType });
    }
  }
  return { host: client.host, repository, digest, mediaType: got.mediaType, layers };
}
