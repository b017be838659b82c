// `bom`: the CycloneDX ML-BOM of a model image from its provenance file; optionally attached to the image as an OCI referrer.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  attachReferrer,
  buildBom,
  CYCLONEDX_MEDIA_TYPE,
  type ImageInfo,
  type LicenseChoice,
  modelCardLicenses,
  OciClient,
  parseImageRef,
  parseProvenance,
  type Provenance,
  ProvenanceError,
  readImage,
} from "../lib/bom";
import { RegistryError } from "../lib/registry";
import { command, EXIT, type FlagValues, UsageError } from "./args";

export const BOM_FLAGS = {
  provenance: {
    type: "string",
    arg: "FILE",
    help: "the .provenance.json docker/download_model.py wrote (/models/.provenance.json\nin the image, meta/.provenance.json in its --output directory)",
  },
  image: {
    type: "string",
    arg: "REF",
    help: "the image the model was built into, by digest (HOST/REPOSITORY@sha256:…);\nits layers are read from the registry",
  },
  "model-card": {
    type: "string",
    arg: "FILE",
    help: "the model's README.md (default: README.md beside the provenance file, or in the\nstaging layer the provenance names); it must match the sha256 the provenance records",
  },
  attach: {
    type: "boolean",
    help: `push the BOM to the registry as an OCI referrer of --image\n(artifactType ${CYCLONEDX_MEDIA_TYPE}); prints the referrer digest on stderr`,
  },
  insecure: { type: "boolean", help: "plain HTTP for a non-loopback registry" },
} as const;

const CARD = "README.md";

function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The model card: the given file, else README.md where the image layout or the staging layout puts it. */
function findModelCard(provenanceFile: string, p: Provenance, given?: string): string | undefined {
  const entry = p.files.find((f) => f.path === CARD);
  const dir = path.dirname(provenanceFile);
  const candidates = given
    ? [given]
    : // The image layout keeps the card beside the provenance (/models); the staging layout
      // keeps it in its slot: <output>/meta/models/.provenance.json, <output>/<slot>/models/README.md.
      [
        path.join(dir, CARD),
        ...(entry ? [path.join(dir, "..", "..", entry.layer, "models", CARD)] : []),
      ];
  const file = candidates.find((c) => fs.existsSync(c));
  if (given && !file) {
    throw new UsageError(`--model-card ${given}: no such file`);
  }
  if (file && entry && sha256File(file) !== entry.sha256) {
    throw new ProvenanceError(
      `${file}: sha256 differs from the ${CARD} that ${provenanceFile} records (${entry.sha256}); pass the model card of this build with --model-card`,
    );
  }
  if (file && !entry) {
    throw new ProvenanceError(
      `${file}: ${provenanceFile} lists no ${CARD}, so this card is not part of the image; leave out --model-card`,
    );
  }
  return file;
}

function licenseBase(p: Provenance): string | undefined {
  return p.source.type === "huggingface" && p.source.repo
    ? `https://huggingface.co/${p.source.repo}/blob/${p.source.commit}`
    : undefined;
}

function credentials(): { username: string; password: string } | undefined {
  const { REGISTRY_USERNAME: username, REGISTRY_PASSWORD: password } = process.env;
  if ((username === undefined) !== (password === undefined)) {
    throw new UsageError("set both REGISTRY_USERNAME and REGISTRY_PASSWORD, or neither");
  }
  return username !== undefined && password !== undefined ? { username, password } : undefined;
}

export const bomCommand = command(
  {
    name: "bom",
    synopsis: "--provenance FILE [--image HOST/REPOSITORY@sha256:…] [options]",
    summary: "the CycloneDX ML-BOM of a model image, optionally attached as an OCI referrer",
    description: `Prints the CycloneDX 1.6 ML-BOM (JSON) of a model image: the model (source repo, resolved commit,
license from the model card's metadata), every file with size and sha256 and, with --image, the
image's layers as the registry serves them.
Registry login: REGISTRY_USERNAME and REGISTRY_PASSWORD (ECR: AWS and \`aws ecr get-login-password\`).`,
    groups: [{ title: "options", flags: BOM_FLAGS }],
    exitCodes: "Exit codes: 0 printed, 1 problems (provenance, model card, registry), 2 usage.",
  },
  ({ values }, { out, err }) => bom(values, out, err),
);

async function bom(
  values: FlagValues<typeof BOM_FLAGS>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (!values.provenance) {
    throw new UsageError("--provenance FILE is required");
  }
  const ref = values.image === undefined ? undefined : parseImageRef(values.image);
  if (values.image !== undefined && !ref) {
    throw new UsageError(
      `--image ${JSON.stringify(values.image)} is not HOST/REPOSITORY@sha256:<64 hex> (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/kserve-models/llama@sha256:…)`,
    );
  }
  if (values.attach && !ref) {
    throw new UsageError("--attach needs --image: the BOM is attached to that digest");
  }
  try {
    let text: string;
    try {
      text = fs.readFileSync(values.provenance, "utf8");
    } catch (e) {
      throw new UsageError(
        `--provenance ${values.provenance}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
    const provenance = parseProvenance(text, values.provenance);
    const card = findModelCard(values.provenance, provenance, values["model-card"]);
    const licenses: LicenseChoice[] = card
      ? modelCardLicenses(fs.readFileSync(card, "utf8"), licenseBase(provenance))
      : [];
    let image: ImageInfo | undefined;
    let client: OciClient | undefined;
    if (ref) {
      client = new OciClient(ref.host, { insecure: values.insecure, credentials: credentials() });
      image = await readImage(client, ref.repository, ref.digest);
    }
    const document = `${JSON.stringify(buildBom({ provenance, licenses, image }), null, 2)}\n`;
    if (values.attach && client && ref) {
      const attached = await attachReferrer(
        client,
        ref.repository,
        ref.digest,
        CYCLONEDX_MEDIA_TYPE,
        Buffer.from(document),
      );
      err.write(
        `bom: attached to ${values.image} as ${ref.host}/${ref.repository}@${attached.digest} (${attached.via === "tag-schema" ? `fallback tag ${ref.digest.replace(":", "-")}` : "referrers API"})\n`,
      );
    }
    out.write(document);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ProvenanceError || e instanceof RegistryError) {
      err.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
}
