// Pins the resource graph of small dev, prod and local stacks: every URN (type, parents, name) and
// what each resource waits for. A changed URN makes `pulumi up` replace the resource on existing
// stacks (a renamed repository loses its images), so a refactor must leave this file's fixture alone.
//
// Adding a resource, or renaming one on purpose (with `aliases`), changes the graph: regenerate with
//   PIN_RESOURCE_GRAPH=write npx mocha --no-config -r tsx/cjs --extension ts test/program.graph.test.ts
// then `npm run format`, and review the diff of test/fixtures/resourceGraph.json like code.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { runProgram, stackConfig } from "../tools/programRun";
import { FIXTURE, TOKEN } from "./support/programChecks";

const PIN = path.resolve(__dirname, "fixtures", "resourceGraph.json");

/** URN -> the URNs it depends on, both sorted. */
type Graph = Record<string, string[]>;

const SCENARIOS: Record<string, () => Promise<Graph>> = {
  "dev (CodeBuild, token)": () =>
    graphOf("dev", { ...stackConfig("dev"), "model-images:manifest": FIXTURE }, TOKEN),
  "dev with every fleet setting": () =>
    graphOf(
      "dev",
      {
        ...stackConfig("dev"),
        "model-images:manifest": FIXTURE,
        "model-images:notifyEmail": "ml-team@example.com",
        "model-images:pullThroughCache": "true",
        "model-images:dockerHubCredentialArn":
          "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
        "model-images:replicaRegions": '["eu-west-1"]',
        "model-images:manageRegistryReplication": "true",
      },
      TOKEN,
    ),
  "prod (CodeBuild, signing)": () =>
    graphOf("prod", { ...stackConfig("prod"), "model-images:manifest": FIXTURE }, TOKEN),
  "local (docker-build to localhost:5000)": () => graphOf("local", stackConfig("local")),
  "dev with the local builder (docker-build to ECR)": () =>
    graphOf(
      "dev",
      { ...stackConfig("dev"), "model-images:builder": "local", "model-images:manifest": FIXTURE },
      TOKEN,
    ),
};

async function graphOf(
  stack: string,
  config: Record<string, string>,
  token?: string,
): Promise<Graph> {
  const run = await runProgram(stack, config, token);
  const graph: Graph = {};
  for (const r of [...run.registrations].sort((a, b) => a.urn.localeCompare(b.urn))) {
    assert.equal(graph[r.urn], undefined, `two resources have the URN ${r.urn}`);
    graph[r.urn] = r.dependencies;
  }
  return graph;
}

describe("program: the resource graph is pinned (URNs and dependencies)", function () {
  this.timeout(120_000);
  const pinned = JSON.parse(fs.readFileSync(PIN, "utf8")) as Record<string, Graph>;
  const written: Record<string, Graph> = {};

  after(() => {
    if (process.env.PIN_RESOURCE_GRAPH === "write") {
      fs.writeFileSync(PIN, JSON.stringify(written, null, 2) + "\n");
    }
  });

  it("pins exactly these scenarios", function () {
    if (process.env.PIN_RESOURCE_GRAPH === "write") {
      this.skip();
    }
    assert.deepEqual(Object.keys(pinned).sort(), Object.keys(SCENARIOS).sort());
  });

  for (const [scenario, graphFor] of Object.entries(SCENARIOS)) {
    it(scenario, async () => {
      const graph = await graphFor();
      written[scenario] = graph;
      if (process.env.PIN_RESOURCE_GRAPH === "write") {
        return;
      }
      const want = pinned[scenario] ?? {};
      const gone = Object.keys(want).filter((u) => !(u in graph));
      const added = Object.keys(graph).filter((u) => !(u in want));
      assert.deepEqual(
        { gone, added },
        { gone: [], added: [] },
        "URNs changed: existing stacks would replace these resources (see this file's header)",
      );
      assert.deepEqual(graph, want, "dependencies changed (see this file's header)");
    });
  }
});
