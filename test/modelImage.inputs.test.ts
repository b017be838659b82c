// ModelImage check and diff: validation by property, defaults, what replaces and what updates.
import * as assert from "node:assert/strict";
import type { ModelImageInputs, ModelImageOutputs } from "../components/modelImage";
import { validateInputs } from "../components/modelImage/inputs";
import { diffInputs } from "../components/modelImage/rules";
import { ACCOUNT, DIGEST, inputs, p } from "./support/modelImage";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("ModelImage check", () => {
  it("accepts valid inputs, fills in defaults, and drops what is not an input", async () => {
    const given = {
      ...inputs(),
      __provider: "serialized",
      waitForBuild: true,
      deleteImageOnDestroy: true,
    };
    delete (given as Partial<ModelImageInputs>).environment;
    const r = await p.check({} as ModelImageInputs, given as unknown as ModelImageInputs);
    assert.deepEqual(r, { inputs: inputs({ environment: {} }) });
  });

  it("tag grammar (lib/naming's TAG_PATTERN)", () => {
    const ok = ["1.0", "v1.2.3-cuda", "_x", "A".repeat(128), "2024.01.02_rc-1"];
    const bad = ["", ".x", "-x", "a:b", "a/b", "A".repeat(129), "1.0 "];
    for (const tag of ok) {
      assert.deepEqual(validateInputs({ ...inputs({ tag }) }), [], tag);
    }
    for (const tag of bad) {
      assert.deepEqual(
        validateInputs({ ...inputs({ tag }) }).map((f) => f.property),
        ["tag"],
        JSON.stringify(tag),
      );
    }
  });

  it("reports every bad property by name, and refuses secrets in environment", async () => {
    const r = await p.check(
      {} as ModelImageInputs,
      {
        region: "us-east-1",
        repositoryName: "Kserve/Llama",
        tag: "1.0",
        timeoutMinutes: -1,
        pollIntervalSeconds: 0,
        registryId: "12",
        sourceVersion: "",
        profile: "",
        environment: { IMAGE_TAG: "x", HF_TOKEN: "hf_abc", "BAD-NAME": "1", OK: "1" },
      } as unknown as ModelImageInputs,
    );
    assert.equal(r.inputs, undefined);
    assert.deepEqual(
      (r.failures ?? []).map((f) => f.property),
      [
        "repositoryName",
        "projectName",
        "registryId",
        "sourceVersion",
        "profile",
        "timeoutMinutes",
        "pollIntervalSeconds",
        "environment.IMAGE_TAG",
        "environment.HF_TOKEN",
        "environment.BAD-NAME",
      ],
    );
    const hf = (r.failures ?? []).find((f) => f.property === "environment.HF_TOKEN");
    assert.match(hf?.reason ?? "", /Secrets Manager/);
    assert.ok(!JSON.stringify(r).includes("hf_abc"), "a failure must not echo the value");
  });

  it("refuses a Pulumi secret in environment without echoing it", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "hf_x",
    };
    const failures = validateInputs({ ...inputs(), environment: { HF_HUB_OFFLINE: secret } });
    assert.deepEqual(
      failures.map((f) => f.property),
      ["environment.HF_HUB_OFFLINE"],
    );
    assert.match(
      failures[0].reason,
      /is a Pulumi secret; environment takes non-secret values only/,
    );
    assert.ok(!JSON.stringify(failures).includes("hf_x"));
  });

  it("does not judge values unknown during preview", () => {
    assert.deepEqual(
      validateInputs({ ...inputs(), projectName: UNKNOWN, repositoryName: UNKNOWN }),
      [],
    );
  });
});

describe("ModelImage diff", () => {
  const olds = { ...inputs(), imageDigest: DIGEST, __provider: "code" };
  const news = (over: Record<string, unknown> = {}) => ({
    ...inputs(),
    __provider: "code",
    ...over,
  });

  it("repository, tag, region, registry replace; other inputs update; defaults compare equal", () => {
    assert.deepEqual(diffInputs(olds, news()), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(diffInputs(olds, news({ tag: "1.1" })), {
      changes: true,
      replaces: ["tag"],
      deleteBeforeReplace: false,
    });
    for (const [k, v] of [
      ["repositoryName", "other/repo"],
      ["region", "eu-west-1"],
      ["registryId", "210987654321"],
    ]) {
      assert.deepEqual(diffInputs(olds, news({ [k]: v })).replaces, [k]);
    }
    for (const change of [
      { environment: { HF_HUB_ENABLE_HF_TRANSFER: "1" } },
      { sourceVersion: "v2" },
      { timeoutMinutes: 30 },
      { projectName: "model-llama-cpu-v2" },
      { rebuildOnChange: true },
      { profile: "ci" },
      { roleArn: `arn:aws:iam::${ACCOUNT}:role/deployer` },
    ]) {
      assert.deepEqual(
        diffInputs(olds, news(change)),
        { changes: true, replaces: [], deleteBeforeReplace: false },
        JSON.stringify(change),
      );
    }
    assert.deepEqual(diffInputs(olds, news({ tag: UNKNOWN })).replaces, ["tag"]);
    // Outputs and retired inputs of older state are not inputs.
    assert.equal(
      diffInputs({ ...olds, waitForBuild: true, deleteImageOnDestroy: false, built: true }, news())
        .changes,
      false,
    );
  });

  it("state written by other provider code is updated (never replaced), so the state's code becomes this one", async () => {
    const legacy = {
      ...olds,
      __provider: "exports.handler = oldCode",
      deleteImageOnDestroy: true,
    } as unknown as ModelImageOutputs;
    const r = await p.diff("id", legacy, news() as unknown as ModelImageInputs);
    assert.deepEqual(r, { changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("diff through the provider ignores outputs", async () => {
    const r = await p.diff(
      "id",
      { ...olds, built: true } as unknown as ModelImageOutputs,
      news() as unknown as ModelImageInputs,
    );
    assert.equal(r.changes, false);
  });
});
