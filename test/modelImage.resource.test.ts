// The ModelImage resource under setMocks: one dynamic resource, its inputs, no token, and a small serialized provider per resource.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ModelImage } from "../components/modelImage";
import { ACCOUNT, DIGEST, PROJECT, REPO } from "./support/modelImage";

describe("ModelImage resource under setMocks", () => {
  const recorded: pulumi.runtime.MockResourceArgs[] = [];

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          recorded.push(args);
          return { id: `${args.name}-id`, state: { ...args.inputs, imageDigest: DIGEST } };
        },
        call: (args) => {
          throw new Error(`unexpected call ${args.token}`);
        },
      },
      "model-images",
      "test",
      false,
    );
  });

  function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
  }

  it("registers one dynamic resource with the expected inputs, the identity names and no token", async () => {
    process.env.HUGGING_FACE_HUB_TOKEN = "hf_should_never_appear";
    try {
      const args = {
        region: "us-east-1",
        registryId: ACCOUNT,
        repositoryName: REPO,
        tag: "1.0",
        projectName: PROJECT,
        sourceVersion: "v1",
        environment: { HF_HUB_ENABLE_HF_TRANSFER: "1" },
        timeoutMinutes: 270,
        pollIntervalSeconds: 15,
        rebuildOnChange: false,
        profile: "ci",
      };
      const img = new ModelImage("llama-cpu", { ...args, repositoryName: pulumi.output(REPO) });
      assert.equal(await unwrap(img.imageDigest), DIGEST);
      assert.equal(recorded.length, 1);
      const [r] = recorded;
      assert.equal(r.type, "pulumi-nodejs:dynamic:Resource");
      assert.equal(r.name, "llama-cpu");
      const { __provider, ...rest } = r.inputs;
      assert.equal(typeof __provider, "string");
      assert.deepEqual(rest, args, "the inputs as given, Outputs resolved");
      assert.ok(!JSON.stringify(r.inputs).includes("hf_should_never_appear"));
    } finally {
      delete process.env.HUGGING_FACE_HUB_TOKEN;
    }
  });

  it("each resource carries at most 4 KB of provider code (it was 31.7 KB)", () => {
    for (const r of recorded) {
      const bytes = Buffer.byteLength(String(r.inputs.__provider));
      assert.ok(bytes <= 4096, `${r.name}: __provider is ${bytes} bytes`);
    }
  });
});
