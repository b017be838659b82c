// The Kyverno image policy: rendered from tables, checked against Kyverno's ClusterPolicy CRD schema, and printed by `kserve --policy`.
/* eslint-disable @typescript-eslint/no-explicit-any -- CRD schemas and rendered documents are untyped JSON here */
import * as assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv from "ajv";
import { parse, parseAllDocuments } from "yaml";
import {
  imagePolicyName,
  policyImageReferences,
  renderImagePolicy,
  type ImagePolicyInput,
} from "../lib/imagePolicy";
import { readStackFile } from "../lib/stackFile";
import { runCli } from "./support/cli";
import { strictPruned } from "./support/crdSchema";
import { KYVERNO_CLUSTER_POLICY_CRD } from "./support/referenceSchemas";

const CRD = KYVERNO_CLUSTER_POLICY_CRD;
const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const PEM = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();

const input = (over: Partial<ImagePolicyInput> = {}): ImagePolicyInput => ({
  stack: "prod",
  registryHost: ECR,
  registryPrefix: "kserve-models",
  publicKeyPem: PEM,
  ...over,
});

function crdErrors(doc: unknown): string[] {
  const crd = parse(fs.readFileSync(CRD, "utf8"));
  const version = crd.spec.versions.find((v: any) => v.name === "v1");
  assert.ok(version?.served, "kyverno.io/v1 is served");
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(strictPruned(version.schema.openAPIV3Schema, [doc]));
  return validate(doc)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
      );
}

describe("image policy (Kyverno ClusterPolicy)", () => {
  it("matches every repository under the stack's prefix, on the stack's registry", () => {
    const cases: [string, string, string[]][] = [
      [ECR, "kserve-models", [`${ECR}/kserve-models/*`]],
      ["127.0.0.1:5000", "kserve-models-dev", ["127.0.0.1:5000/kserve-models-dev/*"]],
      [ECR, "", [`${ECR}/*`]],
    ];
    for (const [host, prefix, want] of cases) {
      assert.deepEqual(policyImageReferences(host, prefix), want, `${host} ${prefix}`);
    }
  });

  it("is named after the stack, as a DNS-1123 name", () => {
    const cases: [string, string][] = [
      ["prod", "model-images-prod-signed"],
      ["Team_A.dev", "model-images-team-a-dev-signed"],
      ["x".repeat(80), `model-images-${"x".repeat(50)}`],
    ];
    for (const [stack, want] of cases) {
      assert.equal(imagePolicyName(stack), want, stack);
      assert.match(want, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    }
  });

  it("verifies the cosign signature with the stack's public key, no transparency log, Enforce, digest-pinned", () => {
    const policy = renderImagePolicy(input()) as any;
    assert.equal(policy.apiVersion, "kyverno.io/v1");
    assert.equal(policy.kind, "ClusterPolicy");
    const [rule] = policy.spec.rules;
    assert.deepEqual(rule.match, { any: [{ resources: { kinds: ["Pod"] } }] });
    const [verify] = rule.verifyImages;
    assert.deepEqual(verify.imageReferences, [`${ECR}/kserve-models/*`]);
    assert.equal(verify.failureAction, "Enforce");
    assert.equal(verify.required, true);
    assert.equal(verify.mutateDigest, true);
    assert.deepEqual(verify.imageRegistryCredentials, { providers: ["amazon"] });
    const entry = verify.attestors[0].entries[0];
    assert.equal(entry.keys.publicKeys, PEM);
    assert.deepEqual(entry.keys.rekor, { ignoreTlog: true });
    assert.deepEqual(entry.keys.ctlog, { ignoreSCT: true });
    const local = renderImagePolicy(input({ registryHost: "127.0.0.1:5000" })) as any;
    assert.equal(local.spec.rules[0].verifyImages[0].imageRegistryCredentials, undefined);
  });

  it("refuses a key that is not a PEM public key", () => {
    for (const bad of [
      "",
      "awskms:///arn:aws:kms:eu-west-1:1:key/x",
      PEM.replace("PUBLIC", "PRIVATE"),
    ]) {
      assert.throws(
        () => renderImagePolicy(input({ publicKeyPem: bad })),
        /not a PEM 'PUBLIC KEY' block/,
      );
    }
  });

  it("passes Kyverno's ClusterPolicy CRD schema (kyverno.io/v1), unknown fields refused", () => {
    for (const host of [ECR, "127.0.0.1:5000"]) {
      assert.deepEqual(crdErrors(renderImagePolicy(input({ registryHost: host }))), [], host);
    }
    // The check can fail: a misspelt field is reported.
    const broken = renderImagePolicy(input()) as any;
    broken.spec.rules[0].verifyImages[0].failureActon = "Enforce";
    assert.ok(crdErrors(broken).some((e) => e.includes("failureActon")));
  });

  describe("kserve --policy", () => {
    let dir = "";
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
      fs.writeFileSync(path.join(dir, "cosign.pub"), PEM);
      fs.writeFileSync(path.join(dir, "bad.pub"), "not a key\n");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    /** `kserve` on the prod stack file against a local registry, with these flags. */
    const kserveProd = (...flags: string[]) =>
      runCli(["kserve", "--stack", "prod", "--registry", "127.0.0.1:5000", ...flags]);

    it("prints the stack's policy for its registry prefix", async () => {
      const prefix =
        readStackFile(path.resolve(__dirname, ".."), "prod").settings.registryPrefix ??
        "kserve-models";
      const r = await kserveProd("--policy", "--public-key", path.join(dir, "cosign.pub"));
      assert.equal(r.code, 0, r.err);
      const docs = parseAllDocuments(r.out).map((d) => d.toJS());
      assert.deepEqual(docs, [
        renderImagePolicy(
          input({ registryHost: "127.0.0.1:5000", registryPrefix: String(prefix) }),
        ),
      ]);
    });

    it("usage errors: no key, a key that is not PEM, a key without --policy", async () => {
      const cases: [string[], RegExp][] = [
        [["--policy"], /--policy needs --public-key FILE/],
        [["--policy", "--public-key", path.join(dir, "bad.pub")], /is not a PEM public key/],
        [["--public-key", path.join(dir, "cosign.pub")], /--public-key goes with --policy/],
        [
          ["--policy", "--public-key", path.join(dir, "none.pub")],
          /--public-key .*none\.pub: ENOENT/,
        ],
      ];
      for (const [flags, re] of cases) {
        const r = await kserveProd(...flags);
        assert.equal(r.code, 2, flags.join(" "));
        assert.match(r.err, re);
      }
    });
  });
});
