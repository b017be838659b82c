// Reads the provenance file docker/download_model.py writes (/models/.provenance.json), checking each field it promises.

/** One staged file: repo-relative path, size, sha256 (hex) and the layer slot (g00..g15) it went into. */
export interface ProvenanceFile {
  path: string;
  size: number;
  sha256: string;
  layer: string;
}

/** `source` as download_model.py's HubSource/LocalSource.describe() write it. */
export interface ProvenanceSource {
  type: "huggingface" | "local";
  /** `org/name`; null for a local directory staged without --model-id. */
  repo: string | null;
  /** The revision as requested (a branch name or a commit SHA). */
  revision: string;
  /** The commit the revision resolved to (HF mode); "local" or the given revision offline. */
  commit: string;
  url?: string;
  huggingface_hub?: string;
}

export interface Provenance {
  schemaVersion: 1;
  source: ProvenanceSource;
  include: string[];
  exclude: string[];
  maxLayerBytes: number;
  totalBytes: number;
  layers: { slot: string; bytes: number; files: number }[];
  files: ProvenanceFile[];
}

/** A provenance file that is not what download_model.py writes; the message names the file and the field. */
export class ProvenanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProvenanceError";
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SLOT = /^g\d{2}$/;

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === "string";
const isCount: Check = (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isStringList: Check = (v) => Array.isArray(v) && v.every(isString);

/** Parse and check provenance JSON; `file` is only used in messages. */
export function parseProvenance(text: string, file: string): Provenance {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ProvenanceError(
      `${file}: not JSON (${(e as Error).message}); pass the .provenance.json that docker/download_model.py writes (meta/models/.provenance.json in its --output, /models/.provenance.json in the image)`,
    );
  }
  const fail = (field: string, want: string): never => {
    throw new ProvenanceError(
      `${file}: ${field} must be ${want}; is this the .provenance.json written by docker/download_model.py?`,
    );
  };
  const need = (
    obj: Record<string, unknown>,
    key: string,
    where: string,
    check: Check,
    want: string,
  ) => {
    if (!check(obj[key])) {
      fail(`${where}${key}`, want);
    }
    return obj[key];
  };
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return fail("the document", "a JSON object");
  }
  const doc = data as Record<string, unknown>;
  if (doc.schemaVersion !== 1) {
    fail("schemaVersion", "1 (the only provenance schema this version reads)");
  }
  const source = doc.source as Record<string, unknown>;
  if (typeof source !== "object" || source === null) {
    fail("source", "an object");
  }
  if (source.type !== "huggingface" && source.type !== "local") {
    fail("source.type", '"huggingface" or "local"');
  }
  need(source, "repo", "source.", (v) => v === null || isString(v), "a repo id or null");
  need(source, "revision", "source.", isString, "a string");
  need(source, "commit", "source.", isString, "a string");
  need(doc, "include", "", isStringList, "a list of glob strings");
  need(doc, "exclude", "", isStringList, "a list of glob strings");
  need(doc, "maxLayerBytes", "", isCount, "a byte count");
  need(doc, "totalBytes", "", isCount, "a byte count");
  if (!Array.isArray(doc.layers)) {
    fail("layers", "a list");
  }
  (doc.layers as unknown[]).forEach((l, i) => {
    const layer = (l ?? {}) as Record<string, unknown>;
    need(layer, "slot", `layers[${i}].`, (v) => isString(v) && SLOT.test(v as string), "g00..g15");
    need(layer, "bytes", `layers[${i}].`, isCount, "a byte count");
    need(layer, "files", `layers[${i}].`, isCount, "a file count");
  });
  if (!Array.isArray(doc.files) || doc.files.length === 0) {
    fail("files", "a non-empty list");
  }
  const seen = new Set<string>();
  (doc.files as unknown[]).forEach((f, i) => {
    const entry = (f ?? {}) as Record<string, unknown>;
    const where = `files[${i}].`;
    const p = need(
      entry,
      "path",
      where,
      (v) => isString(v) && v !== "",
      "a relative path",
    ) as string;
    need(entry, "size", where, isCount, "a byte count");
    need(
      entry,
      "sha256",
      where,
      (v) => isString(v) && SHA256_HEX.test(v as string),
      "64 lowercase hex digits",
    );
    need(entry, "layer", where, (v) => isString(v) && SLOT.test(v as string), "g00..g15");
    if (seen.has(p)) {
      fail(`${where}path`, `unique (${JSON.stringify(p)} is listed twice)`);
    }
    seen.add(p);
  });
  return doc as unknown as Provenance;
}
