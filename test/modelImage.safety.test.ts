// ModelImage on a real account: it never deletes an image, adopts only a build of exactly its inputs, and waits out full build queues.
import * as assert from "node:assert/strict";
import { type ModelImageOutputs, modelImageProvider } from "../components/modelImage";
import * as fx from "./support/modelImage";

const { DIGEST, inputs, p, printed, PROJECT, REPO, rejection } = fx;

/** What pulumi-resource-pulumi-nodejs does for Delete: `if (provider.delete) await provider.delete(id, props)`. */
async function hostDelete(provider: object, id: string, props: unknown): Promise<void> {
  const del = (provider as { delete?: (id: string, props: unknown) => Promise<void> }).delete;
  if (del) {
    await del(id, props);
  }
}

describe("ModelImage safety rules against the emulator", function () {
  const emulator = fx.useEmulator();

  describe("never deletes an image", () => {
    it("has no delete: a tag bump (create the replacement, then delete the old) keeps the old image", async () => {
      const emu = emulator();
      emu.putImage(REPO, "1.0", DIGEST);
      const { id, outs } = await p.create(inputs());
      // The engine's order for a replacement: create the new resource, then delete the old one.
      const replacement = await p.create(inputs({ tag: "1.1" }));
      assert.ok(replacement.outs?.imageDigest);
      // The provider host deletes only through `provider.delete`, and skips it when there is none.
      assert.equal((modelImageProvider as unknown as Record<string, unknown>).delete, undefined);
      await hostDelete(modelImageProvider, id, outs);
      assert.equal(emu.digestOf(REPO, "1.0"), DIGEST, "the image KServe may still pin is kept");
      assert.equal(emu.calls("BatchDeleteImage").length, 0);
    });

    it("refresh and update of state written with deleteImageOnDestroy drop it, so no later code can act on it", async () => {
      const emu = emulator();
      emu.putImage(REPO, "1.0", DIGEST);
      const legacy = {
        ...inputs(),
        imageDigest: DIGEST,
        deleteImageOnDestroy: true,
        waitForBuild: true,
      };
      const read = await p.read(`x/${REPO}:1.0`, legacy as unknown as ModelImageOutputs);
      assert.equal((read.props as Record<string, unknown>).deleteImageOnDestroy, undefined);
      const updated = await p.update("id", legacy as unknown as ModelImageOutputs, inputs());
      assert.deepEqual(
        Object.keys(updated.outs ?? {}).filter((k) => /delete|wait/i.test(k)),
        [],
      );
      assert.equal(emu.calls("BatchDeleteImage").length, 0);
    });
  });

  describe("adopts only a build of exactly these inputs", () => {
    const env = { MODEL_REVISION: "b".repeat(40), INCLUDE_PATTERNS: "[]" };

    it("a running build of the tag from other inputs is refused at once, naming it and the stop-build command", async () => {
      const emu = emulator();
      const other = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS", "SUCCEEDED"],
        environment: { ...env, MODEL_REVISION: "c".repeat(40) },
        sourceVersion: "v0",
      });
      const err = await rejection(p.create(inputs({ environment: env })));
      assert.equal(err.name, "ModelImageError");
      assert.ok(
        err.message.includes(`CodeBuild build ${other} is building ${REPO}:1.0 from other inputs`),
        err.message,
      );
      assert.ok(err.message.includes("(it differs in sourceVersion, MODEL_REVISION)"), err.message);
      assert.ok(
        err.message.includes(`aws codebuild stop-build --id ${other} --region us-east-1`),
        err.message,
      );
      assert.equal(emu.calls("StartBuild").length, 0);
      assert.equal(emu.builds(PROJECT).length, 1);
      assert.equal(
        emu.builds(PROJECT)[0].status,
        "IN_PROGRESS",
        "not polled to completion, not adopted",
      );
    });

    it("dev (rebuildOnChange, MUTABLE): waits for the other build to end, then builds this resource's inputs", async () => {
      const emu = emulator();
      const other = emu.addBuild(PROJECT, {
        imageTag: "1.0",
        statuses: ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"],
        environment: { ...env, MODEL_REVISION: "c".repeat(40) },
        sourceVersion: "v1",
      });
      const { result, lines } = await printed(() =>
        p.create(inputs({ environment: env, rebuildOnChange: true })),
      );
      const builds = emu.builds(PROJECT);
      assert.equal(emu.calls("StartBuild").length, 1);
      assert.equal(builds.length, 2);
      const mine = builds[1];
      assert.notEqual(result.outs?.buildId, other);
      assert.equal(result.outs?.buildId, mine.id);
      assert.equal(result.outs?.imageDigest, mine.pushedDigest);
      assert.equal(emu.digestOf(REPO, "1.0"), mine.pushedDigest, "ours was pushed after theirs");
      assert.equal(builds[0].status, "SUCCEEDED");
      assert.match(
        lines[0],
        new RegExp(
          `CodeBuild build ${other} is building this tag from other inputs \\(MODEL_REVISION\\); waiting for it to end`,
        ),
      );
      assert.match(lines[1], /started CodeBuild build/);
    });
  });

  describe("full build queues are waited out", () => {
    it("AccountLimitExceededException (account queue full) is retried with backoff; one line, one build", async () => {
      const emu = emulator();
      emu.fillAccountQueue(3);
      const { result, lines } = await printed(() => p.create(inputs()));
      const starts = emu.calls("StartBuild");
      assert.equal(starts.length, 4, "three refused, the fourth accepted");
      assert.equal(
        new Set(starts.map((s) => s.body.idempotencyToken)).size,
        1,
        "one token for all attempts",
      );
      assert.equal(emu.builds(PROJECT).length, 1, "exactly one build started");
      assert.equal(result.outs?.buildId, emu.builds(PROJECT)[0].id);
      assert.equal(result.outs?.imageDigest, emu.digestOf(REPO, "1.0"));
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[0],
        new RegExp(
          `^${REPO}:1\\.0: CodeBuild has no free build slot for project ${PROJECT} \\(AccountLimitExceededException: Cannot have more than 1 builds in queue for the account\\); waiting for one until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, then starting exactly one build$`,
        ),
      );
      assert.match(lines[1], /started CodeBuild build/);
    });

    it("the project's concurrentBuildLimit: waits while another image's build runs, starts when it ends", async () => {
      const emu = emulator();
      emu.addProject(PROJECT, { repository: REPO, concurrentBuildLimit: 1 });
      const running = emu.addBuild(PROJECT, { imageTag: "0.9", statuses: ["IN_PROGRESS"] });
      const create = p.create(inputs());
      while (emu.calls("StartBuild").length < 3) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(emu.builds(PROJECT).length, 1, "refused while the slot is taken");
      emu.finishBuild(running, "SUCCEEDED");
      const { outs } = await create;
      assert.equal(emu.builds(PROJECT).length, 2);
      assert.equal(outs?.buildId, emu.builds(PROJECT)[1].id);
    });

    it("a queue full for the whole timeout is an error that started nothing", async () => {
      const emu = emulator();
      emu.fillAccountQueue(1_000_000);
      const err = await rejection(p.create(inputs({ timeoutMinutes: 0.002 })));
      assert.match(
        err.message,
        /^CodeBuild did not accept a build of kserve-models\/llama:1\.0 within 0\.002 min: every StartBuild was refused with AccountLimitExceededException/,
      );
      assert.match(err.message, /No build was started\./);
      assert.equal(emu.builds(PROJECT).length, 0);
    });
  });
});
