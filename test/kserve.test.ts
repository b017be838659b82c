// KServe rendering: table-driven cases, every document validated against KServe's own CRD schemas, and the `kserve` CLI.
/* eslint-disable @typescript-eslint/no-explicit-any -- CRD schemas and rendered documents are untyped JSON here */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import {
  hfUri,
  ISVC_NAME_PATTERN,
  type KServeKind,
  type KServeOptions,
  type KubeObject,
  renderKServe,
  resourcesFor,
  toYaml,
} from "../lib/kserve";
import { type ImageSpec, parseManifest } from "../lib/manifest";
import { defaultSettings } from "../lib/settings";
import { renderTargets } from "../cli/kserve";
import { runCli } from "./support/cli";
import { KSERVE_CRD_DIR } from "./support/referenceSchemas";
import { strictPruned } from "./support/crdSchema";

const KSERVE_DIR = KSERVE_CRD_DIR;
const CRD_FILES: Record<string, string> = {
  InferenceService: "serving.kserve.io_inferenceservices.yaml",
  LLMInferenceService: "serving.kserve.io_llminferenceservices.yaml",
};

const SHA = "7ae557604adf67be50417f59c2c2f167def9a775";
const LONG_TAG = "v" + "1".repeat(99);
const MANIFEST = `
models:
  - name: qwen
    source: Qwen/Qwen2.5-0.5B-Instruct
    revision: ${SHA}
    tag: "1.10"
    sizeGB: 1
  - name: phi
    source: microsoft/Phi-3.5-mini-instruct
    revision: ${SHA}
    tag: "0.1.0"
    sizeGB: 8
    variants: [{accelerator: cpu}, {accelerator: cuda}]
  - name: coder
    source: Qwen/Qwen2.5-Coder-7B-Instruct
    revision: ${SHA}
    tag: "0.2.0"
    variants: [{accelerator: cuda}]
  - name: llama
    source: meta-llama/Llama-3.1-8B-Instruct
    revision: ${SHA}
    tag: "0.1.0"
    gated: true
    downloadAtRuntime: true
  - name: tiny
    source: facebook/opt-125m
    revision: main
    tag: "0.1.0"
    downloadAtRuntime: true
  - name: longtag
    source: facebook/opt-350m
    revision: ${SHA}
    tag: "${LONG_TAG}"
  - name: 3b-model
    source: org/three-b
    revision: ${SHA}
    tag: "0.1.0"
`;

const RULES = defaultSettings("dev", {
  registryPrefix: "kserve-models-dev",
  tagSuffix: "",
  requirePinnedRevisions: false,
});

function images(): Map<string, ImageSpec> {
  const result = parseManifest("kserve-test.yaml", MANIFEST, RULES);
  assert.deepEqual(result.diagnostics, []);
  return new Map(result.images.map((i) => [i.name, i]));
}

const HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const DIGEST = "sha256:" + "ab".repeat(32);
const tagUri = (i: ImageSpec) => `oci://${HOST}/${i.repositoryName}:${i.tag}`;
const digestUri = (i: ImageSpec) => `oci://${HOST}/${i.repositoryName}@${DIGEST}`;

const crdCache = new Map<string, any>();
function crd(kind: string): any {
  let doc = crdCache.get(kind);
  if (!doc) {
    doc = parse(fs.readFileSync(path.join(KSERVE_DIR, CRD_FILES[kind]), "utf8"));
    crdCache.set(kind, doc);
  }
  return doc;
}

/** Validate documents against the CRD version each one names; returns readable problems. */
function crdProblems(docs: KubeObject[]): string[] {
  const problems: string[] = [];
  const groups = new Map<string, KubeObject[]>();
  for (const d of docs) {
    const key = `${d.kind} ${d.apiVersion}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  for (const [key, group] of groups) {
    const [kind, apiVersion] = key.split(" ");
    const definition = crd(kind);
    assert.equal(`${definition.spec.group}/${apiVersion.split("/")[1]}`, apiVersion);
    const version = definition.spec.versions.find(
      (v: any) => `${definition.spec.group}/${v.name}` === apiVersion,
    );
    if (!version) {
      problems.push(`${key}: the CRD has no version ${apiVersion}`);
      continue;
    }
    if (!version.served) {
      problems.push(`${key}: version ${apiVersion} is not served`);
    }
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate: ValidateFunction<unknown> = ajv.compile(
      strictPruned(version.schema.openAPIV3Schema, group),
    );
    for (const d of group) {
      if (!validate(d as unknown)) {
        problems.push(
          ...(validate.errors ?? []).map(
            (e) =>
              `${kind} ${d.metadata.name}: ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
          ),
        );
      }
      if (!ISVC_NAME_PATTERN.test(d.metadata.name)) {
        problems.push(`${kind} ${d.metadata.name}: name fails KServe's name rule`);
      }
    }
  }
  return problems;
}

/** The CRDs are vendored test fixtures: a missing one is a broken checkout, never a skip. */
function requireCrds(_ctx: Mocha.Context): void {
  assert.ok(
    fs.existsSync(path.join(KSERVE_DIR, CRD_FILES.InferenceService)),
    `KServe CRDs missing at ${KSERVE_DIR} (test/fixtures/reference/README.md says where they come from)`,
  );
}

interface Case {
  title: string;
  image: string;
  uri?: (i: ImageSpec) => string | undefined;
  options?: KServeOptions;
  check: (docs: KubeObject[], image: ImageSpec) => void;
}

const spec = (d: KubeObject) => d.spec as any;

const CASES: Case[] = [
  {
    title: "cpu image: oci tag URI, huggingface runtime, no GPU",
    image: "qwen",
    check: ([isvc, llm], i) => {
      assert.equal(isvc.kind, "InferenceService");
      assert.equal(isvc.apiVersion, "serving.kserve.io/v1beta1");
      assert.equal(spec(isvc).predictor.model.modelFormat.name, "huggingface");
      assert.equal(spec(isvc).predictor.model.storageUri, tagUri(i));
      assert.equal(spec(isvc).predictor.model.resources.limits["nvidia.com/gpu"], undefined);
      assert.equal(spec(isvc).predictor.tolerations, undefined);
      assert.equal(llm.kind, "LLMInferenceService");
      assert.equal(llm.apiVersion, "serving.kserve.io/v1alpha2");
      assert.deepEqual(spec(llm).model, { uri: tagUri(i), name: "Qwen/Qwen2.5-0.5B-Instruct" });
      assert.equal(spec(llm).template.containers[0].resources.limits["nvidia.com/gpu"], undefined);
      assert.equal(isvc.metadata.name, "qwen");
      assert.equal(isvc.metadata.labels["model-images/tag"], "1.10");
      assert.equal(isvc.metadata.annotations["model-images/revision"], SHA);
    },
  },
  {
    title: "cuda image: one GPU as a limit, GPU toleration, named <model>-cuda",
    image: "phi-cuda",
    check: ([isvc, llm], i) => {
      assert.equal(isvc.metadata.name, "phi-cuda");
      assert.equal(i.tag, "0.1.0-cuda");
      assert.equal(spec(isvc).predictor.model.resources.limits["nvidia.com/gpu"], "1");
      assert.equal(spec(isvc).predictor.model.resources.requests["nvidia.com/gpu"], undefined);
      assert.equal(spec(isvc).predictor.tolerations[0].key, "nvidia.com/gpu");
      assert.equal(spec(llm).template.containers[0].resources.limits["nvidia.com/gpu"], "1");
      assert.equal(isvc.metadata.labels["model-images/accelerator"], "cuda");
    },
  },
  {
    title: "cpu variant of the same model has no GPU",
    image: "phi",
    check: ([isvc]) => {
      assert.equal(spec(isvc).predictor.model.resources.limits["nvidia.com/gpu"], undefined);
      assert.equal(spec(isvc).predictor.model.resources.limits.memory, "12Gi");
    },
  },
  {
    title: "digest URI is used as given",
    image: "coder-cuda",
    uri: digestUri,
    check: ([isvc, llm], i) => {
      assert.equal(spec(isvc).predictor.model.storageUri, digestUri(i));
      assert.equal(spec(llm).model.uri, digestUri(i));
      assert.match(spec(isvc).predictor.model.storageUri, /@sha256:[0-9a-f]{64}$/);
    },
  },
  {
    title:
      "gated downloadAtRuntime: hf:// pinned to the commit, the token through a service account, never an env entry",
    image: "llama",
    uri: () => undefined,
    options: { hfServiceAccount: "my-hf" },
    check: ([isvc, llm]) => {
      const uri = `hf://meta-llama/Llama-3.1-8B-Instruct:${SHA}`;
      assert.equal(spec(isvc).predictor.model.storageUri, uri);
      assert.equal(spec(llm).model.uri, uri);
      assert.equal(spec(isvc).predictor.serviceAccountName, "my-hf");
      assert.equal(spec(llm).template.serviceAccountName, "my-hf");
      assert.equal(spec(isvc).predictor.model.env, undefined);
      assert.equal(spec(llm).template.containers[0].env, undefined);
    },
  },
  {
    title: "gated downloadAtRuntime: the default service account is hf-token",
    image: "llama",
    uri: () => undefined,
    check: ([isvc, llm]) => {
      assert.equal(spec(isvc).predictor.serviceAccountName, "hf-token");
      assert.equal(spec(llm).template.serviceAccountName, "hf-token");
    },
  },
  {
    title: "ungated downloadAtRuntime on a branch: hf:// without a revision, no token",
    image: "tiny",
    uri: () => "oci://ignored/for:skipped",
    check: ([isvc]) => {
      assert.equal(spec(isvc).predictor.model.storageUri, "hf://facebook/opt-125m");
      assert.equal(spec(isvc).predictor.model.env, undefined);
      assert.equal(spec(isvc).predictor.serviceAccountName, undefined);
    },
  },
  {
    title: "a tag too long for a label stays an annotation only",
    image: "longtag",
    check: ([isvc]) => {
      assert.equal(isvc.metadata.labels["model-images/tag"], undefined);
      assert.equal(isvc.metadata.annotations["model-images/tag"], LONG_TAG);
    },
  },
  {
    title: "options: namespace, v1alpha1, CPU image for cpu llmisvc, one kind",
    image: "qwen",
    options: {
      kinds: ["llmisvc"],
      namespace: "models",
      llmApiVersion: "v1alpha1",
      llmCpuImage: "docker.io/vllm/vllm-openai-cpu:v0.23.0",
    },
    check: (docs) => {
      assert.equal(docs.length, 1);
      assert.equal(docs[0].apiVersion, "serving.kserve.io/v1alpha1");
      assert.equal(docs[0].metadata.namespace, "models");
      assert.equal(
        spec(docs[0]).template.containers[0].image,
        "docker.io/vllm/vllm-openai-cpu:v0.23.0",
      );
    },
  },
  {
    title: "the CPU image never goes to a cuda variant",
    image: "phi-cuda",
    options: { kinds: ["llmisvc"], llmCpuImage: "cpu-only:1" },
    check: ([llm]) => assert.equal(spec(llm).template.containers[0].image, undefined),
  },
];

describe("kserve renderer", function () {
  this.timeout(60_000);
  const all = images();
  const rendered: KubeObject[] = [];

  for (const c of CASES) {
    it(c.title, () => {
      const image = all.get(c.image);
      assert.ok(image, `fixture image ${c.image}`);
      const docs = renderKServe(image, (c.uri ?? tagUri)(image), c.options);
      c.check(docs, image);
      rendered.push(...docs);
      // The YAML reads back to the same documents (strings stay strings: tag "1.10" is not 1.1).
      const back = parseAllDocuments(toYaml(docs)).map((d) => d.toJS());
      assert.deepEqual(back, docs);
    });
  }

  it("every rendered document validates against KServe's CRD schema of its version", function () {
    requireCrds(this);
    assert.ok(rendered.length >= CASES.length);
    assert.deepEqual(crdProblems(rendered), []);
  });

  it("the strict schema check catches an unknown field and a bad quantity", function () {
    requireCrds(this);
    const [isvc] = renderKServe(all.get("qwen")!, tagUri(all.get("qwen")!), { kinds: ["isvc"] });
    const typo = structuredClone(isvc);
    (typo.spec as any).predictor.model.storageURI = "oci://x/y:z";
    const quantity = structuredClone(isvc);
    (quantity.spec as any).predictor.model.resources.limits.memory = "lots";
    assert.equal(crdProblems([typo]).length > 0, true);
    assert.equal(crdProblems([quantity]).length > 0, true);
  });

  it("a name KServe rejects (starts with a digit) is an error naming the model and the fix", () => {
    const image = all.get("3b-model")!;
    assert.throws(
      () => renderKServe(image, tagUri(image)),
      /'3b-model'.*start with a letter.*rename/,
    );
  });

  it("a built image without an oci:// URI is an error", () => {
    const image = all.get("qwen")!;
    assert.throws(() => renderKServe(image, undefined), /'qwen' needs an oci:\/\/ URI/);
    assert.throws(() => renderKServe(image, "hf://x/y"), /needs an oci:\/\/ URI/);
  });

  const SIZES: [Partial<ImageSpec>, string, string][] = [
    [{ accelerator: "cpu", sizeGB: undefined }, "8Gi", "2"],
    [{ accelerator: "cuda", sizeGB: undefined }, "16Gi", "4"],
    [{ accelerator: "cpu", sizeGB: 1 }, "4Gi", "2"],
    [{ accelerator: "cpu", sizeGB: 16 }, "22Gi", "2"],
    [{ accelerator: "cuda", sizeGB: 0.5 }, "4Gi", "4"],
  ];
  for (const [image, memory, cpu] of SIZES) {
    it(`resources for ${image.accelerator} sizeGB=${image.sizeGB}: ${memory}, cpu ${cpu}`, () => {
      const r = resourcesFor(image as ImageSpec);
      assert.equal(r.requests.memory, memory);
      assert.equal(r.limits.memory, memory);
      assert.equal(r.requests.cpu, cpu);
      assert.equal("nvidia.com/gpu" in r.limits, image.accelerator === "cuda");
    });
  }

  it("hfUri pins only a commit SHA", () => {
    assert.equal(hfUri({ source: "a/b", revision: SHA, pinned: true }), `hf://a/b:${SHA}`);
    assert.equal(hfUri({ source: "a/b", revision: "main", pinned: false }), "hf://a/b");
  });
});

// ---- the serving block ----------------------------------------------------------------------

const SERVED_MANIFEST = `
models:
  - name: served
    source: Qwen/Qwen2.5-7B-Instruct
    revision: ${SHA}
    tag: "0.3.0"
    sizeGB: 16
    serving:
      args: ["--max-model-len=8192"]
      env: {VLLM_USE_V1: "1"}
      labels: {team: search}
      annotations: {serving.kserve.io/deploymentMode: RawDeployment}
      serviceAccountName: models-reader
    variants:
      - accelerator: cpu
        serving: {cpu: "8", memory: 32Gi, minReplicas: 2, maxReplicas: 2}
      - accelerator: cuda
        serving:
          gpus: 2
          cpu: 6
          cpuLimit: "12"
          memory: 48Gi
          nodeSelector: {node.kubernetes.io/instance-type: g5.12xlarge}
          tolerations:
            - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
            - {key: spot, operator: Equal, value: "true", effect: NoExecute, tolerationSeconds: 60}
  - name: gatedsa
    source: meta-llama/Llama-3.1-8B-Instruct
    revision: ${SHA}
    tag: "0.1.0"
    gated: true
    downloadAtRuntime: true
    serving: {serviceAccountName: llama-reader}
  - name: ranged
    source: org/ranged
    revision: ${SHA}
    tag: "0.1.0"
    serving: {runtime: kserve-huggingfaceserver, minReplicas: 0, maxReplicas: 4}
`;

function servedImages(): Map<string, ImageSpec> {
  const result = parseManifest("served.yaml", SERVED_MANIFEST, RULES);
  assert.deepEqual(result.diagnostics, []);
  return new Map(result.images.map((i) => [i.name, i]));
}

/** The shipped catalogue and the program tests' fixture, as the stacks read them. */
const SHIPPED: [string, string][] = [
  ["models.yaml", path.resolve(__dirname, "../models.yaml")],
  ["test/fixtures/catalog.yaml", path.resolve(__dirname, "fixtures/catalog.yaml")],
];

describe("kserve renderer: the serving block", function () {
  this.timeout(60_000);
  const all = servedImages();
  const rendered: KubeObject[] = [];
  const render = (name: string, options?: KServeOptions) => {
    const image = all.get(name)!;
    const docs = renderKServe(image, tagUri(image), options);
    rendered.push(...docs);
    return docs;
  };

  it("InferenceService: args, env, resources, replicas, placement, service account, labels, annotations", () => {
    const [isvc] = render("served-cuda", { kinds: ["isvc"] });
    const p = spec(isvc).predictor;
    assert.deepEqual(p.model.args, ["--max-model-len=8192"]);
    assert.deepEqual(p.model.env, [{ name: "VLLM_USE_V1", value: "1" }]);
    assert.deepEqual(p.model.resources, {
      requests: { cpu: "6", memory: "48Gi" },
      limits: { cpu: "12", memory: "48Gi", "nvidia.com/gpu": "2" },
    });
    assert.equal(p.model.runtime, undefined);
    assert.equal(p.minReplicas, undefined);
    assert.deepEqual(p.nodeSelector, { "node.kubernetes.io/instance-type": "g5.12xlarge" });
    assert.deepEqual(p.tolerations, [
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
      { key: "spot", operator: "Equal", value: "true", effect: "NoExecute", tolerationSeconds: 60 },
    ]);
    assert.equal(p.serviceAccountName, "models-reader");
    assert.equal(isvc.metadata.labels.team, "search");
    assert.equal(isvc.metadata.labels["model-images/model"], "served");
    assert.equal(isvc.metadata.annotations["serving.kserve.io/deploymentMode"], "RawDeployment");
    assert.equal(isvc.metadata.annotations["model-images/source"], "Qwen/Qwen2.5-7B-Instruct");
  });

  it("the cpu variant: its own cpu (request = limit), memory and a fixed replica count, no GPU", () => {
    const [isvc, llm] = render("served");
    const p = spec(isvc).predictor;
    assert.deepEqual(p.model.resources, {
      requests: { cpu: "8", memory: "32Gi" },
      limits: { cpu: "8", memory: "32Gi" },
    });
    assert.equal(p.minReplicas, 2);
    assert.equal(p.maxReplicas, 2);
    assert.equal(p.tolerations, undefined);
    assert.equal(spec(llm).replicas, 2);
    assert.equal(spec(llm).template.tolerations, undefined);
  });

  it("LLMInferenceService: the same fields in the pod template; args restate the default config's", () => {
    const [llm] = render("served-cuda", { kinds: ["llmisvc"] });
    const t = spec(llm).template;
    assert.deepEqual(t.containers[0].args, [
      "--served-model-name",
      "Qwen/Qwen2.5-7B-Instruct",
      "--port",
      "8000",
      "--max-model-len=8192",
    ]);
    assert.deepEqual(t.containers[0].env, [{ name: "VLLM_USE_V1", value: "1" }]);
    assert.equal(t.containers[0].resources.limits["nvidia.com/gpu"], "2");
    assert.equal(t.serviceAccountName, "models-reader");
    assert.deepEqual(t.nodeSelector, { "node.kubernetes.io/instance-type": "g5.12xlarge" });
    assert.equal(t.tolerations.length, 2);
    assert.equal(spec(llm).replicas, 1);
    assert.equal(llm.metadata.labels.team, "search");
  });

  it("a gated downloadAtRuntime model's own serviceAccountName wins over the default", () => {
    const [isvc] = render("gatedsa", { kinds: ["isvc"], hfServiceAccount: "other" });
    assert.equal(spec(isvc).predictor.serviceAccountName, "llama-reader");
    assert.equal(spec(isvc).predictor.model.env, undefined);
  });

  it("InferenceService expresses runtime, scale to zero and a replica range", () => {
    const [isvc] = render("ranged", { kinds: ["isvc"] });
    assert.equal(spec(isvc).predictor.model.runtime, "kserve-huggingfaceserver");
    assert.equal(spec(isvc).predictor.minReplicas, 0);
    assert.equal(spec(isvc).predictor.maxReplicas, 4);
  });

  it("LLMInferenceService refuses what it cannot express, naming the model, each field and the fix", () => {
    const image = all.get("ranged")!;
    assert.throws(
      () => renderKServe(image, tagUri(image), { kinds: ["llmisvc"] }),
      (e: Error) => {
        assert.match(
          e.message,
          /^image 'ranged' \(model 'ranged'\) cannot be rendered as LLMInferenceService: /,
        );
        assert.match(
          e.message,
          /serving\.runtime: runtime 'kserve-huggingfaceserver' cannot be expressed/,
        );
        assert.match(
          e.message,
          /serving\.maxReplicas: minReplicas 0 to maxReplicas 4 cannot be expressed/,
        );
        assert.match(e.message, /serving\.minReplicas: minReplicas 0 cannot be expressed/);
        assert.match(e.message, /render only isvc/);
        return true;
      },
    );
  });

  it("without serving, the documents are exactly those rendered before the block existed", () => {
    const image = images().get("phi-cuda")!;
    const meta = {
      name: "phi-cuda",
      labels: {
        "app.kubernetes.io/name": "phi-cuda",
        "app.kubernetes.io/managed-by": "model-images",
        "model-images/model": "phi",
        "model-images/accelerator": "cuda",
        "model-images/tag": "0.1.0-cuda",
      },
      annotations: {
        "model-images/source": "microsoft/Phi-3.5-mini-instruct",
        "model-images/revision": SHA,
        "model-images/tag": "0.1.0-cuda",
      },
    };
    const resources = {
      requests: { cpu: "4", memory: "12Gi" },
      limits: { cpu: "8", memory: "12Gi", "nvidia.com/gpu": "1" },
    };
    const tolerations = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
    assert.deepEqual(renderKServe(image, "oci://h/r:t"), [
      {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: meta,
        spec: {
          predictor: {
            model: { modelFormat: { name: "huggingface" }, storageUri: "oci://h/r:t", resources },
            tolerations,
          },
        },
      },
      {
        apiVersion: "serving.kserve.io/v1alpha2",
        kind: "LLMInferenceService",
        metadata: meta,
        spec: {
          model: { uri: "oci://h/r:t", name: "microsoft/Phi-3.5-mini-instruct" },
          replicas: 1,
          router: { route: {} },
          template: { containers: [{ name: "main", resources }], tolerations },
        },
      },
    ]);
  });

  it("every document rendered from a serving block validates against KServe's CRD schemas", function () {
    requireCrds(this);
    assert.ok(rendered.length >= 6);
    assert.deepEqual(crdProblems(rendered), []);
  });

  for (const [label, file] of SHIPPED) {
    it(`${label}: every image, both kinds, both LLMInferenceService versions, validates against the CRDs`, function () {
      requireCrds(this);
      const result = parseManifest(label, fs.readFileSync(file), {
        ...RULES,
        hasHuggingfaceToken: true,
        kserveKinds: ["isvc", "llmisvc"],
      });
      assert.deepEqual(result.diagnostics, []);
      const docs = result.images.flatMap((i) => [
        ...renderKServe(i, digestUri(i)),
        ...renderKServe(i, digestUri(i), { kinds: ["llmisvc"], llmApiVersion: "v1alpha1" }),
      ]);
      assert.equal(docs.length, result.images.length * 3);
      assert.deepEqual(crdProblems(docs), []);
    });
  }
});

// ---- the CLI --------------------------------------------------------------------------------

/** The CLI in process, streams captured. */
const run = runCli;

/** A registry that answers from a table: just enough of the Distribution API for `kserve --pin-digest`. */
async function fakeRegistry(tags: Record<string, string>) {
  const server = http.createServer((req, res) => {
    if (req.url === "/v2/") {
      res.writeHead(200, { "Docker-Distribution-API-Version": "registry/2.0" }).end("{}");
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? "");
    const digest = m ? tags[`${m[1]}:${m[2]}`] : undefined;
    if (req.method === "HEAD" && digest) {
      res.writeHead(200, {
        "Docker-Content-Digest": digest,
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
      });
      res.end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("kserve command", function () {
  this.timeout(60_000);
  let dir: string;
  let manifest: string;
  let registry: Awaited<ReturnType<typeof fakeRegistry>>;
  const digest = (n: number) => "sha256:" + String(n).repeat(64).slice(0, 64);
  const base = () => [
    "kserve",
    "--manifest",
    manifest,
    "--registry-prefix",
    "t",
    "--tag-suffix",
    "",
  ];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kserve-cli-"));
    manifest = path.join(dir, "models.yaml");
    // The same fixture minus the model KServe cannot name.
    fs.writeFileSync(manifest, MANIFEST.replace(/\n {2}- name: 3b-model[\s\S]*$/, "\n"));
    registry = await fakeRegistry({
      "t/qwen:1.10": digest(1),
      "t/phi:0.1.0": digest(2),
      "t/phi:0.1.0-cuda": digest(3),
      "t/coder:0.2.0-cuda": digest(4),
      [`t/longtag:${LONG_TAG}`]: digest(5),
    });
  });
  after(async () => {
    await registry.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints InferenceServices with tag URIs by default, hf:// for downloadAtRuntime, a note on stderr", async () => {
    const r = await run([...base(), "--registry", registry.host]);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS()) as KubeObject[];
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.name}`),
      ["qwen", "phi", "phi-cuda", "coder-cuda", "llama", "tiny", "longtag"].map(
        (n) => `InferenceService/${n}`,
      ),
    );
    assert.equal(spec(docs[0]).predictor.model.storageUri, `oci://${registry.host}/t/qwen:1.10`);
    assert.equal(
      spec(docs[4]).predictor.model.storageUri,
      `hf://meta-llama/Llama-3.1-8B-Instruct:${SHA}`,
    );
    assert.match(r.err, /llama, tiny are downloadAtRuntime: hf:\/\//);
    assert.match(
      r.err,
      /gated \(llama\): KServe's storage initializer reads the Hub token through ServiceAccount 'hf-token': create a Secret with key HF_TOKEN/,
    );
  });

  it("--pin-digest uses oci://…@sha256 URIs from the registry, and the output passes the CRD schemas", async function () {
    const r = await run([...base(), "--registry", registry.host, "--pin-digest", "--kind", "all"]);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS()) as KubeObject[];
    assert.equal(docs.length, 14);
    const isvc = docs.find((d) => d.kind === "InferenceService" && d.metadata.name === "phi-cuda")!;
    assert.equal(
      spec(isvc).predictor.model.storageUri,
      `oci://${registry.host}/t/phi@${digest(3)}`,
    );
    const llm = docs.find(
      (d) => d.kind === "LLMInferenceService" && d.metadata.name === "coder-cuda",
    )!;
    assert.equal(spec(llm).model.uri, `oci://${registry.host}/t/coder@${digest(4)}`);
    assert.deepEqual(crdProblems(docs), []);
  });

  it("--pin-digest with a missing image exits 1 naming it", async () => {
    const r = await run([
      ...base(),
      "--registry",
      registry.host,
      "--pin-digest",
      "--tag-suffix=-pr-9",
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.match(
      r.err,
      /--pin-digest needs every image, but 5 are not in registry 127\.0\.0\.1:\d+: qwen \(t\/qwen:1\.10-pr-9\)/,
    );
  });

  it("--out writes one file per image", async () => {
    const out = path.join(dir, "out");
    const r = await run([
      ...base(),
      "--registry",
      registry.host,
      "--out",
      out,
      "--kind",
      "llmisvc",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "");
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(
      files,
      ["coder-cuda", "llama", "longtag", "phi", "phi-cuda", "qwen", "tiny"]
        .map((n) => `${n}.yaml`)
        .sort(),
    );
    const docs = parseAllDocuments(fs.readFileSync(path.join(out, "phi-cuda.yaml"), "utf8")).map(
      (d) => d.toJS(),
    );
    assert.equal(docs.length, 1);
    assert.equal(docs[0].kind, "LLMInferenceService");
    assert.match(r.err, /wrote 7 files to /);
  });

  it("bad flags are usage errors (exit 2)", async () => {
    for (const argv of [
      [...base(), "--registry", registry.host, "--kind", "pods"],
      [...base(), "--registry", registry.host, "--llm-api-version", "v1"],
      [...base(), "--registry", registry.host, "--namespace", "Bad_NS"],
      [...base(), "--registry", registry.host, "--hf-service-account", "Bad SA"],
      [...base(), "--registry", "https://example.com"],
      [...base(), "--nope"],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, /^error: /);
    }
  });
  it("--hf-service-account names the ServiceAccount of gated hf:// models, in the documents and the note", async () => {
    const r = await run([
      ...base(),
      "--registry",
      registry.host,
      "--hf-service-account",
      "llama-reader",
    ]);
    assert.equal(r.code, 0, r.err);
    const llama = parseAllDocuments(r.out)
      .map((d) => d.toJS() as KubeObject)
      .find((d) => d.metadata.name === "llama")!;
    assert.equal(spec(llama).predictor.serviceAccountName, "llama-reader");
    assert.equal(spec(llama).predictor.model.env, undefined);
    assert.match(r.err, /through ServiceAccount 'llama-reader'/);
  });

  it("a serving field the asked kind cannot express: exit 1 naming the model, the field and the fix", async () => {
    const file = path.join(dir, "runtime.yaml");
    fs.writeFileSync(
      file,
      `models:\n  - name: ranged\n    source: org/ranged\n    revision: ${SHA}\n    tag: "0.1.0"\n    serving: {runtime: kserve-huggingfaceserver}\n`,
    );
    const args = ["kserve", "--manifest", file, "--registry", registry.host];
    const isvc = await run(args);
    assert.equal(isvc.code, 0, isvc.err);
    assert.match(isvc.out, /runtime: kserve-huggingfaceserver/);
    const llm = await run([...args, "--kind", "llmisvc"]);
    assert.equal(llm.code, 1);
    assert.equal(llm.out, "");
    assert.match(
      llm.err,
      /^error: image 'ranged' \(model 'ranged'\) cannot be rendered as LLMInferenceService: serving\.runtime: .*remove runtime or render only isvc/,
    );
  });
});

describe("kserve command: what to render", () => {
  const stack = (kserveKinds: KServeKind[], kserveNamespace: string) => ({
    kserveKinds,
    kserveNamespace,
  });
  const CASES: [string, { kind?: string; namespace?: string }, ReturnType<typeof stack>, object][] =
    [
      ["the defaults: isvc, no namespace", {}, stack(["isvc"], ""), { kinds: ["isvc"] }],
      [
        "the stack's kinds and namespace",
        {},
        stack(["isvc", "llmisvc"], "models"),
        { kinds: ["isvc", "llmisvc"], namespace: "models" },
      ],
      [
        "--kind and --namespace override the stack",
        { kind: "llmisvc", namespace: "other" },
        stack(["isvc"], "models"),
        { kinds: ["llmisvc"], namespace: "other" },
      ],
      ["--kind all", { kind: "all" }, stack(["isvc"], ""), { kinds: ["isvc", "llmisvc"] }],
    ];
  for (const [title, flags, settings, expected] of CASES) {
    it(title, () => assert.deepEqual(renderTargets(flags, settings), expected));
  }
});
