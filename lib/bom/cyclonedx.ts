// Builds the CycloneDX 1.6 ML-BOM of one model image from its provenance: model, source, license, files, layers.
//
// The document is a pure function of its inputs (no timestamp, a serial number derived from the
// content), so building it twice gives the same bytes and attaching it twice is the same referrer.

import { createHash } from "node:crypto";
import { version as TOOL_VERSION } from "../../package.json";
import type { LicenseChoice } from "./modelCard";
import type { Provenance } from "./provenance";

export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";
export const CYCLONEDX_SPEC_VERSION = "1.6";
/** Namespace of the custom properties (CycloneDX reserves `cdx:` for its own taxonomy). */
const P = "model-images";

/** One layer of the image (of one platform's manifest, for a multi-platform index). */
export interface ImageLayer {
  digest: string;
  size: number;
  mediaType: string;
  /** `os/arch[/variant]`, for a layer of one platform of an index. */
  platform?: string;
}

/** The image the model was built into: `host/repository@digest` and its layers, as the registry serves them. */
export interface ImageInfo {
  host: string;
  repository: string;
  digest: string;
  /** Media type of the manifest or index the digest names. */
  mediaType: string;
  layers: ImageLayer[];
}

export interface BomInput {
  provenance: Provenance;
  /** From the model card's front matter (see modelCardLicenses); empty when the card has none. */
  licenses?: LicenseChoice[];
  image?: ImageInfo;
}

type Json = Record<string, unknown>;

const prop = (name: string, value: string | number) => ({
  name: `${P}:${name}`,
  value: String(value),
});
const sha256Hash = (hex: string) => [{ alg: "SHA-256", content: hex }];

/** purl of a Hub model: pkg:huggingface/<org>/<name>@<commit> (the purl spec's huggingface type). */
export function huggingfacePurl(repo: string, commit: string): string | undefined {
  const m = /^([^/]+)\/([^/]+)$/.exec(repo);
  if (!m || !/^[0-9a-f]{40}$/i.test(commit)) {
    return undefined;
  }
  const enc = encodeURIComponent;
  return `pkg:huggingface/${enc(m[1])}/${enc(m[2])}@${commit.toLowerCase()}`;
}

/** purl of an image: pkg:oci/<last path segment>@<digest>?repository_url=<host>/<repository> (the purl spec's oci type). */
export function ociPurl(host: string, repository: string, digest: string): string {
  const name = repository.split("/").pop()!.toLowerCase();
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(digest)}?repository_url=${encodeURIComponent(`${host}/${repository}`)}`;
}

/** RFC 4122 version-5 style UUID from the content, so the same inputs give the same serial number. */
function contentUuid(text: string): string {
  const h = createHash("sha1").update(text).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function modelComponent(p: Provenance, licenses: LicenseChoice[]): Json {
  const { source } = p;
  const purl = source.repo ? huggingfacePurl(source.repo, source.commit) : undefined;
  const hub = source.type === "huggingface" && source.repo;
  const externalReferences = hub
    ? [
        { type: "vcs", url: `https://huggingface.co/${source.repo}` },
        {
          type: "distribution",
          url: `https://huggingface.co/${source.repo}/tree/${source.commit}`,
        },
      ]
    : [];
  return {
    type: "machine-learning-model",
    "bom-ref": "model",
    name: source.repo ?? "local-model",
    version: source.commit,
    ...(purl ? { purl } : {}),
    ...(licenses.length > 0 ? { licenses } : {}),
    ...(externalReferences.length > 0 ? { externalReferences } : {}),
    properties: [
      prop("source:type", source.type),
      prop("source:revision", source.revision),
      ...(source.huggingface_hub ? [prop("source:huggingface_hub", source.huggingface_hub)] : []),
      prop("include", JSON.stringify(p.include)),
      prop("exclude", JSON.stringify(p.exclude)),
      prop("totalBytes", p.totalBytes),
      prop("fileCount", p.files.length),
    ],
    components: p.files.map((f) => ({
      type: "file",
      "bom-ref": `file:${f.path}`,
      name: f.path,
      hashes: sha256Hash(f.sha256),
      properties: [prop("size", f.size), prop("layerSlot", f.layer)],
    })),
  };
}

function imageComponent(image: ImageInfo): Json {
  const [alg, hex] = image.digest.split(":");
  return {
    type: "container",
    "bom-ref": "image",
    name: `${image.host}/${image.repository}`,
    version: image.digest,
    purl: ociPurl(image.host, image.repository, image.digest),
    ...(alg === "sha256" ? { hashes: sha256Hash(hex) } : {}),
    properties: [prop("mediaType", image.mediaType)],
    components: image.layers.map((l, i) => ({
      type: "file",
      "bom-ref": `layer:${l.platform ?? ""}:${i}:${l.digest}`,
      name: l.digest,
      ...(l.digest.startsWith("sha256:") ? { hashes: sha256Hash(l.digest.slice(7)) } : {}),
      properties: [
        prop("layer:index", i),
        prop("size", l.size),
        prop("mediaType", l.mediaType),
        ...(l.platform ? [prop("platform", l.platform)] : []),
      ],
    })),
  };
}

/** The ML-BOM: the image (when given) as the subject, the model with every file as what it holds. */
export function buildBom(input: BomInput): Json {
  const model = modelComponent(input.provenance, input.licenses ?? []);
  const image = input.image ? imageComponent(input.image) : undefined;
  const seed = JSON.stringify([
    input.image?.digest ?? null,
    input.provenance,
    input.licenses ?? [],
  ]);
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${contentUuid(seed)}`,
    version: 1,
    metadata: {
      tools: {
        components: [{ type: "application", name: "model-images", version: TOOL_VERSION }],
      },
      component: image ?? model,
    },
    ...(image ? { components: [model] } : {}),
    dependencies: image
      ? [{ ref: "image", dependsOn: ["model"] }, { ref: "model" }]
      : [{ ref: "model" }],
  };
}
