// lib/naming's CodeBuild project names, as CodeBuild's CreateProject accepts them.

import { strict as assert } from "node:assert";
import { codeBuildProjectName } from "../lib/naming";

/** CreateProject's `name`: "[A-Za-z0-9][A-Za-z0-9\-_]{1,254}" (CodeBuild API reference, ProjectName). */
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/;

describe("naming: CodeBuild project names (table)", () => {
  const long = "m".repeat(300);
  const cases: { stack: string; image: string; want: string }[] = [
    { stack: "dev", image: "small", want: "model-images-dev-small" },
    { stack: "prod", image: "both-cuda", want: "model-images-prod-both-cuda" },
    // Stack names may hold `.`, which CodeBuild refuses: it becomes `-`.
    { stack: "team.a", image: "x", want: "model-images-team-a-x" },
    { stack: "dev_2", image: "qwen2-5", want: "model-images-dev_2-qwen2-5" },
    { stack: "dev", image: long, want: `model-images-dev-${long}`.slice(0, 255) },
  ];
  for (const c of cases) {
    it(`${c.stack} / ${c.image.length > 20 ? `${c.image.length} chars` : c.image}`, () => {
      const name = codeBuildProjectName(c.stack, c.image);
      assert.equal(name, c.want);
      assert.match(name, PROJECT_NAME);
    });
  }

  it("differs per stack and per image", () => {
    const names = ["dev", "prod"].flatMap((s) =>
      ["small", "small-cuda"].map((i) => codeBuildProjectName(s, i)),
    );
    assert.equal(new Set(names).size, names.length);
  });
});
