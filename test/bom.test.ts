// The ML-BOM: pure pieces from tables, then a real model staged by download_model.py, built with buildah,
// pushed to a local registry, its BOM checked against CycloneDX's schema, attached as a referrer and read back.
import { strict as assert } from "node:assert";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import {
  addToReferrersIndex,
  attachReferrer,
  buildBom,
  CYCLONEDX_MEDIA_TYPE,
  huggingfacePurl,
  listReferrers,
  modelCardLicenses,
  OciClient,
  parseImageRef,
  parseProvenance,
  type Provenance,
  readReferrer,
  referrerManifest,
  referrersTag,
} from "../lib/bom";
import { runCli } from "./support/cli";
import { cyclonedx16Errors } from "./support/cyclonedxSchema";
import {
  buildah,
  createBuildahStorage,
  makeBusyboxImage,
  type BuildahStorage,
  stageLocalModel,
  modelcarBudArgs,
} from "../tools/images";
import { startRegistry, type LocalRegistry } from "../tools/registry";
import { requireTools } from "./support/tools";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const hex = (s: string) => createHash("sha256").update(s).digest("hex");

function provenance(over: Partial<Provenance> = {}): Provenance {
  return {
    schemaVersion: 1,
    source: {
      type: "huggingface",
      repo: "acme/tiny",
      revision: "main",
      commit: SHA,
      url: `https://huggingface.co/acme/tiny/tree/${SHA}`,
      huggingface_hub: "1.28.0",
    },
    include: [],
    exclude: ["original/*"],
    maxLayerBytes: 1000,
    totalBytes: 15,
    layers: [{ slot: "g00", bytes: 15, files: 2 }],
    files: [
      { path: "README.md", size: 5, sha256: hex("card"), layer: "g00" },
      { path: "model.safetensors", size: 10, sha256: hex("weights"), layer: "g00" },
    ],
    ...over,
  };
}

describe("bom: provenance, model card, CycloneDX document", () => {
  const schemaErrors = cyclonedx16Errors();

  it("parseProvenance accepts what download_model.py writes and names the file and field of each fault", () => {
    const good = provenance();
    assert.deepEqual(parseProvenance(JSON.stringify(good), "p.json"), good);
    const cases: [string, unknown, RegExp][] = [
      ["not JSON", "{", /p\.json: not JSON/],
      ["schema 2", { ...good, schemaVersion: 2 }, /p\.json: schemaVersion must be 1/],
      ["no files", { ...good, files: [] }, /p\.json: files must be a non-empty list/],
      [
        "bad sha",
        { ...good, files: [{ ...good.files[0], sha256: "ABC" }] },
        /p\.json: files\[0\]\.sha256 must be 64 lowercase hex digits/,
      ],
      [
        "duplicate",
        { ...good, files: [good.files[0], good.files[0]] },
        /p\.json: files\[1\]\.path must be unique \("README\.md" is listed twice\)/,
      ],
      ["bad type", { ...good, source: { ...good.source, type: "s3" } }, /source\.type must be/],
      ["bad slot", { ...good, layers: [{ slot: "x", bytes: 1, files: 1 }] }, /layers\[0\]\.slot/],
    ];
    for (const [name, doc, re] of cases) {
      assert.throws(
        () => parseProvenance(typeof doc === "string" ? doc : JSON.stringify(doc), "p.json"),
        re,
        name,
      );
    }
  });

  it("modelCardLicenses: SPDX ids spelled as SPDX spells them, Hub-only licenses by name with their link", () => {
    const base = `https://huggingface.co/acme/tiny/blob/${SHA}`;
    const cases: [string, string, unknown][] = [
      ["spdx", "---\nlicense: apache-2.0\n---\n# Tiny", [{ license: { id: "Apache-2.0" } }]],
      ["mit upper", "---\nlicense: MIT\n---\n", [{ license: { id: "MIT" } }]],
      [
        "list",
        "---\nlicense:\n  - mit\n  - cc-by-4.0\n---\n",
        [{ license: { id: "MIT" } }, { license: { id: "CC-BY-4.0" } }],
      ],
      [
        "other + name + relative link",
        "---\nlicense: other\nlicense_name: llama3\nlicense_link: LICENSE\n---\n",
        [{ license: { name: "llama3", url: `${base}/LICENSE` } }],
      ],
      ["hub id", "---\nlicense: openrail\n---\n", [{ license: { name: "openrail" } }]],
      ["no front matter", "# Tiny\nlicense: mit\n", []],
      ["no license", "---\ntags: [x]\n---\n", []],
      ["broken yaml", "---\nlicense: [\n---\n", []],
    ];
    for (const [name, card, want] of cases) {
      assert.deepEqual(modelCardLicenses(card, base), want, name);
    }
  });

  it("purls, the referrers tag and image references follow their specs", () => {
    assert.equal(
      huggingfacePurl("acme/tiny", SHA.toUpperCase()),
      `pkg:huggingface/acme/tiny@${SHA}`,
    );
    assert.equal(huggingfacePurl("acme/tiny", "main"), undefined, "a branch is not a version");
    assert.equal(referrersTag(`sha256:${"a".repeat(64)}`), `sha256-${"a".repeat(64)}`);
    const digest = `sha256:${"b".repeat(64)}`;
    assert.deepEqual(parseImageRef(`127.0.0.1:5000/kserve-models/tiny@${digest}`), {
      host: "127.0.0.1:5000",
      repository: "kserve-models/tiny",
      digest,
    });
    for (const bad of [
      `kserve-models/tiny@${digest}`,
      "127.0.0.1:5000/tiny:1.0",
      `h.io/Tiny@${digest}`,
    ]) {
      assert.equal(parseImageRef(bad), undefined, bad);
    }
  });

  it("the referrer manifest points at its subject; the fallback index lists a referrer once", () => {
    const subject = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: `sha256:${"c".repeat(64)}`,
      size: 9,
    };
    const blob = { mediaType: CYCLONEDX_MEDIA_TYPE, digest: `sha256:${hex("bom")}`, size: 3 };
    const manifest = JSON.parse(
      referrerManifest(CYCLONEDX_MEDIA_TYPE, blob, subject).toString(),
    ) as Record<string, unknown>;
    assert.equal(manifest.artifactType, CYCLONEDX_MEDIA_TYPE);
    assert.deepEqual(manifest.subject, subject);
    assert.deepEqual(manifest.layers, [blob]);
    assert.equal(
      (manifest.config as { mediaType: string }).mediaType,
      "application/vnd.oci.empty.v1+json",
    );
    const entry = {
      ...blob,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: CYCLONEDX_MEDIA_TYPE,
    };
    const once = JSON.parse(addToReferrersIndex(undefined, entry).toString()) as {
      manifests: unknown[];
    };
    const twice = JSON.parse(addToReferrersIndex(once as never, entry).toString()) as {
      manifests: unknown[];
    };
    assert.deepEqual(twice, once);
    assert.equal(once.manifests.length, 1);
  });

  it("buildBom: a schema-valid ML-BOM with the model, its license, every file and the image's layers; same input, same bytes", () => {
    const layers = [
      {
        digest: `sha256:${hex("l0")}`,
        size: 10,
        mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      },
      {
        digest: `sha256:${hex("l1")}`,
        size: 20,
        mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      },
    ];
    const input = {
      provenance: provenance(),
      licenses: modelCardLicenses("---\nlicense: apache-2.0\n---\n"),
      image: {
        host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        repository: "kserve-models/tiny",
        digest: `sha256:${hex("image")}`,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        layers,
      },
    };
    const doc = buildBom(input) as {
      specVersion: string;
      metadata: { component: { type: string; purl: string; components: { name: string }[] } };
      components: {
        type: string;
        name: string;
        version: string;
        purl: string;
        licenses: unknown;
        components: { name: string; hashes: { content: string }[] }[];
      }[];
    };
    assert.deepEqual(schemaErrors(doc), []);
    assert.equal(doc.specVersion, "1.6");
    assert.equal(doc.metadata.component.type, "container");
    assert.equal(
      doc.metadata.component.purl,
      `pkg:oci/tiny@sha256%3A${hex("image")}?repository_url=123456789012.dkr.ecr.eu-west-1.amazonaws.com%2Fkserve-models%2Ftiny`,
    );
    assert.deepEqual(
      doc.metadata.component.components.map((c) => c.name),
      layers.map((l) => l.digest),
    );
    const [model] = doc.components;
    assert.equal(model.type, "machine-learning-model");
    assert.equal(model.name, "acme/tiny");
    assert.equal(model.version, SHA);
    assert.deepEqual(model.licenses, [{ license: { id: "Apache-2.0" } }]);
    assert.deepEqual(
      model.components.map((f) => [f.name, f.hashes[0].content]),
      [
        ["README.md", hex("card")],
        ["model.safetensors", hex("weights")],
      ],
    );
    assert.equal(JSON.stringify(buildBom(input)), JSON.stringify(doc), "deterministic");
    // Without an image the model is the subject, and the document is still valid.
    const bare = buildBom({
      provenance: provenance({
        source: { type: "local", repo: null, revision: "local", commit: "local" },
      }),
    });
    assert.deepEqual(schemaErrors(bare), []);
    assert.equal(
      (bare.metadata as { component: { type: string } }).component.type,
      "machine-learning-model",
    );
  });
});

/** A registry with the referrers API: it answers a manifest with `subject` by setting OCI-Subject. */
async function referrersRegistry(
  subject: Buffer,
): Promise<{ host: string; puts: string[]; close(): void }> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; type: string }>();
  const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  manifests.set(digestOf(subject), {
    bytes: subject,
    type: "application/vnd.oci.image.manifest.v1+json",
  });
  const puts: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://x");
      const [, , ...rest] = url.pathname.split("/");
      const repo = rest.slice(0, -2).join("/");
      const [kind, ref] = rest.slice(-2);
      if (req.method === "PUT") {
        puts.push(`${kind}/${ref}`);
      }
      if (kind === "blobs" && req.method === "HEAD") {
        res.writeHead(blobs.has(ref) ? 200 : 404).end();
      } else if (kind === "uploads" && req.method === "POST") {
        res
          .writeHead(202, { Location: `/v2/${rest.slice(0, -2).join("/")}/blobs/uploads/u1` })
          .end();
      } else if (rest.at(-2) === "uploads" && req.method === "PUT") {
        blobs.set(url.searchParams.get("digest")!, body);
        res.writeHead(201).end();
      } else if (kind === "manifests" && req.method === "PUT") {
        manifests.set(ref, { bytes: body, type: req.headers["content-type"]! });
        const sub = (JSON.parse(body.toString()) as { subject?: { digest: string } }).subject;
        res.writeHead(201, sub ? { "OCI-Subject": sub.digest } : {}).end();
      } else if (kind === "manifests" && req.method === "GET" && manifests.has(ref)) {
        res
          .writeHead(200, { "Content-Type": manifests.get(ref)!.type })
          .end(manifests.get(ref)!.bytes);
      } else if (kind === "referrers") {
        const list = [...manifests.entries()]
          .map(([digest, m]) => ({
            digest,
            m: JSON.parse(m.bytes.toString()) as Record<string, unknown> & {
              subject?: { digest: string };
            },
            size: m.bytes.length,
          }))
          .filter((e) => e.m.subject?.digest === ref && e.digest.startsWith("sha256:"))
          .map((e) => ({
            mediaType: e.m.mediaType,
            digest: e.digest,
            size: e.size,
            artifactType: e.m.artifactType,
          }));
        res.writeHead(200, { "Content-Type": "application/vnd.oci.image.index.v1+json" }).end(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: list,
          }),
        );
      } else if (kind === "blobs" && req.method === "GET" && blobs.has(ref)) {
        res.writeHead(200).end(blobs.get(ref));
      } else {
        res.writeHead(404).end(JSON.stringify({ errors: [{ code: "NOT_FOUND", repo }] }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { host: `127.0.0.1:${port}`, puts, close: () => server.close() };
}

describe("bom: attaching to a registry with the referrers API", () => {
  it("pushes the referrer by digest and writes no fallback tag when the registry answers OCI-Subject", async () => {
    const subject = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        layers: [],
      }),
    );
    const digest = `sha256:${createHash("sha256").update(subject).digest("hex")}`;
    const reg = await referrersRegistry(subject);
    try {
      const client = new OciClient(reg.host);
      const content = Buffer.from('{"bomFormat":"CycloneDX"}');
      const attached = await attachReferrer(
        client,
        "models/tiny",
        digest,
        CYCLONEDX_MEDIA_TYPE,
        content,
      );
      assert.equal(attached.via, "referrers-api");
      assert.ok(!reg.puts.includes(`manifests/${referrersTag(digest)}`), reg.puts.join(", "));
      const found = await listReferrers(client, "models/tiny", digest, CYCLONEDX_MEDIA_TYPE);
      assert.deepEqual(
        found.map((d) => d.digest),
        [attached.digest],
      );
      assert.deepEqual(await readReferrer(client, "models/tiny", attached.digest), content);
    } finally {
      reg.close();
    }
  });
});

describe("bom: a real staged model, built with buildah, attached to its image in a local registry", function () {
  this.timeout(240_000);
  const schemaErrors = cyclonedx16Errors();
  let storage: BuildahStorage | undefined;
  let registry: LocalRegistry | undefined;
  let work = "";
  let provenanceFile = "";
  let imageRef = "";
  const card = "---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# Tiny\n";

  before(async function () {
    requireTools(this, ["buildah", "docker-registry", "python3", "busybox"]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "modelcar-bom-"));
    storage = createBuildahStorage("modelcar-bom-buildah-");
    const base = makeBusyboxImage(storage.args);
    const src = path.join(work, "model");
    const files: Record<string, Buffer | string> = {
      "README.md": card,
      "config.json": JSON.stringify({ model_type: "llama" }),
      "model.safetensors": randomBytes(300_000),
      "original/params.json": JSON.stringify({ dim: 64 }),
    };
    for (const [rel, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), data);
    }
    const ctx = path.join(work, "ctx");
    stageLocalModel(src, ctx, { maxLayerBytes: 200_000, modelId: "acme/tiny", revision: SHA });
    provenanceFile = path.join(ctx, "staging", "meta", "models", ".provenance.json");
    const image = "localhost/modelcar-test/tiny:1.0";
    buildah(
      storage.args,
      modelcarBudArgs(ctx, { BASE_IMAGE: base, MODEL_ID: "acme/tiny", MODEL_REVISION: SHA }, image),
    );
    registry = await startRegistry();
    const digestFile = path.join(work, "digest");
    buildah(storage.args, [
      "push",
      "--tls-verify=false",
      "--format",
      "oci",
      "--digestfile",
      digestFile,
      image,
      `docker://${registry.host}/kserve-models/tiny:1.0`,
    ]);
    imageRef = `${registry.host}/kserve-models/tiny@${fs.readFileSync(digestFile, "utf8").trim()}`;
  });

  after(async () => {
    await registry?.stop();
    storage?.remove();
    if (work) {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it("prints a schema-valid BOM naming the staged files, the model card's license and the pushed layers", async () => {
    const run = await runCli(["bom", "--provenance", provenanceFile, "--image", imageRef]);
    assert.equal(run.code, 0, run.err);
    const doc = JSON.parse(run.out) as {
      metadata: { component: { version: string; components: { name: string }[] } };
      components: {
        licenses: unknown;
        components: { name: string; hashes: { content: string }[] }[];
      }[];
    };
    assert.deepEqual(schemaErrors(doc), []);
    const prov = parseProvenance(fs.readFileSync(provenanceFile, "utf8"), provenanceFile);
    assert.deepEqual(
      doc.components[0].components.map((f) => [f.name, f.hashes[0].content]),
      prov.files.map((f) => [f.path, f.sha256]),
    );
    assert.deepEqual(prov.files.map((f) => f.path).sort(), [
      "README.md",
      "config.json",
      "model.safetensors",
      "original/params.json",
    ]);
    // The README's sha256 in the BOM is the card's own: the license comes from the file that was built.
    assert.equal(prov.files.find((f) => f.path === "README.md")!.sha256, hex(card));
    assert.deepEqual(doc.components[0].licenses, [{ license: { id: "Apache-2.0" } }]);
    const ref = parseImageRef(imageRef)!;
    const client = new OciClient(ref.host);
    const manifest = JSON.parse(
      (await client.getManifest(ref.repository, ref.digest))!.bytes.toString(),
    ) as { layers: { digest: string }[] };
    assert.equal(doc.metadata.component.version, ref.digest);
    assert.deepEqual(
      doc.metadata.component.components.map((l) => l.name),
      manifest.layers.map((l) => l.digest),
    );
  });

  it("--attach pushes it as a referrer (the fallback tag on docker-registry 2.8) that reads back byte for byte, once", async () => {
    const ref = parseImageRef(imageRef)!;
    const client = new OciClient(ref.host);
    assert.equal(
      await client.referrers(ref.repository, ref.digest),
      undefined,
      "docker-registry 2.8 has no referrers API",
    );
    const attach = ["bom", "--provenance", provenanceFile, "--image", imageRef, "--attach"];
    const first = await runCli(attach);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, new RegExp(`fallback tag ${referrersTag(ref.digest)}`));
    const again = await runCli(attach);
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out, first.out, "same provenance and image, same BOM");

    const found = await listReferrers(client, ref.repository, ref.digest, CYCLONEDX_MEDIA_TYPE);
    assert.equal(found.length, 1, "attaching twice lists the referrer once");
    const manifest = JSON.parse(
      (await client.getManifest(ref.repository, found[0].digest))!.bytes.toString(),
    ) as { subject: { digest: string }; artifactType: string };
    assert.equal(manifest.subject.digest, ref.digest);
    assert.equal(manifest.artifactType, CYCLONEDX_MEDIA_TYPE);
    const bytes = await readReferrer(client, ref.repository, found[0].digest);
    assert.equal(bytes.toString(), first.out);
    assert.deepEqual(schemaErrors(JSON.parse(bytes.toString())), []);
  });

  it("refuses a model card that is not the one the provenance records, naming both files", async () => {
    const other = path.join(work, "README.md");
    fs.writeFileSync(other, "---\nlicense: mit\n---\n");
    const run = await runCli(["bom", "--provenance", provenanceFile, "--model-card", other]);
    assert.equal(run.code, 1);
    assert.match(
      run.err,
      /README\.md: sha256 differs from the README\.md that .*\.provenance\.json records/,
    );
  });
});
