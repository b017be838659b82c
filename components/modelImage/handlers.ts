// What ModelImage does on check/diff/create/read/update. Loaded from the project at run time by the small provider in provider.ts.
//
// This module is not serialized into the state (see provider.ts), so it imports what it needs at
// the top like any other module. It never receives the HuggingFace token: there is no input for
// one, and `check` rejects token-like names in `environment`.
import type * as pulumi from "@pulumi/pulumi";
import { ecrRegistryHost } from "../../lib/naming";
import { closeAws, contextOf, lookupTag, openAws, sleep, type Aws } from "./aws";
import { runBuild } from "./builds";
import {
  type ModelImageInputs,
  type ModelImageOutputs,
  pickInputs,
  validateInputs,
} from "./inputs";
import { buildFailureMessage, logsLink, modelImageError } from "./messages";
import { diffInputs, exportedDigest, rebuildReason } from "./rules";
import { ensureSigned } from "./signature";

type Bag = Record<string, unknown>;

export async function check(_olds: unknown, news: unknown) {
  const failures = validateInputs(news as Bag);
  if (failures.length > 0) {
    return { failures } satisfies pulumi.dynamic.CheckResult<ModelImageInputs>;
  }
  return { inputs: pickInputs(news as Bag) } satisfies pulumi.dynamic.CheckResult<ModelImageInputs>;
}

export async function diff(_id: string, olds: unknown, news: unknown) {
  return diffInputs(olds as Bag, news as Bag) satisfies pulumi.dynamic.DiffResult;
}

export async function create(raw: unknown) {
  const inputs = pickInputs(raw as Bag);
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  const aws = await openAws(inputs);
  try {
    const present = await lookupTag(aws, inputs);
    const outs = present
      ? outputsOf(inputs, present.digest)
      : await buildTag(aws, inputs, deadline);
    return {
      id: imageId(inputs),
      outs: await signedOutputs(aws, inputs, outs, deadline, !present),
    } satisfies pulumi.dynamic.CreateResult<ModelImageOutputs>;
  } finally {
    closeAws(aws);
  }
}

export async function read(id: string, props: unknown) {
  const old = (props ?? {}) as Partial<ModelImageOutputs>;
  const inputs = pickInputs(old as Bag);
  const aws = await openAws(inputs);
  try {
    const found = await lookupTag(aws, inputs);
    if (!found) {
      // Gone: refresh drops the resource, and the next `pulumi up` builds the tag again.
      return {};
    }
    return {
      id,
      props: outputsOf(inputs, found.digest, old.buildId),
    } satisfies pulumi.dynamic.ReadResult<ModelImageOutputs>;
  } finally {
    closeAws(aws);
  }
}

export async function update(_id: string, olds: unknown, news: unknown) {
  const old = olds as Partial<ModelImageOutputs>;
  const inputs = pickInputs(news as Bag);
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  const aws = await openAws(inputs);
  try {
    const built = async () =>
      signedOutputs(aws, inputs, await buildTag(aws, inputs, deadline), deadline, true);
    if (rebuildReason(old, inputs) !== undefined) {
      // The stack opted in (dev, MUTABLE tags): new build inputs under the same tag build it again.
      return { outs: await built() };
    }
    const found = await lookupTag(aws, inputs);
    if (found) {
      // An update checks the signature too: state adopted before the stack required one, or
      // before this check existed, reaches here on its first `up` with requireSignature.
      const outs = outputsOf(inputs, found.digest, old.buildId);
      return {
        outs: await signedOutputs(aws, inputs, outs, deadline, false),
      } satisfies pulumi.dynamic.UpdateResult<ModelImageOutputs>;
    }
    if (!old.imageDigest) {
      // State from the retired `waitForBuilds: false`: the build it started was never waited for.
      // Wait for it now (a running build of these inputs is adopted) or build the tag.
      return { outs: await built() };
    }
    throw modelImageError(
      `Image ${inputs.repositoryName}:${inputs.tag} is no longer in ECR (region ${inputs.region}); it was ${old.imageDigest}. ` +
        "An update rebuilds only when the build inputs change and the stack sets rebuildOnSourceChange. Bump the tag in models.yaml to build a new image, or run `pulumi refresh` so that the next `pulumi up` builds this tag again.",
    );
  } finally {
    closeAws(aws);
  }
}

/** The resource id: `<registry>/<repository>:<tag>`. */
function imageId(inputs: ModelImageInputs): string {
  return `${ecrRegistryHost(inputs.registryId, inputs.region)}/${inputs.repositoryName}:${inputs.tag}`;
}

function outputsOf(inputs: ModelImageInputs, digest: string, buildId?: string): ModelImageOutputs {
  return { ...inputs, imageDigest: digest, ...(buildId ? { buildId } : {}) };
}

/** The outputs once the digest is signed (requireSignature); buildId names a signing build that ran. */
async function signedOutputs(
  aws: Aws,
  inputs: ModelImageInputs,
  outs: ModelImageOutputs,
  deadline: number,
  justBuilt: boolean,
): Promise<ModelImageOutputs> {
  const signingBuild = await ensureSigned(aws, inputs, outs.imageDigest, deadline, justBuilt);
  return signingBuild ? { ...outs, buildId: signingBuild } : outs;
}

/**
 * Build the tag from this resource's inputs (runBuild: adopt a running build of exactly these
 * inputs, or start one, and wait); return the outputs with the digest the build exported (right
 * after a push, a lookup could still answer with a previous image), else the one ECR shows.
 */
async function buildTag(
  aws: Aws,
  inputs: ModelImageInputs,
  deadline: number,
): Promise<ModelImageOutputs> {
  const build = await runBuild(aws, inputs, deadline);
  if (build.buildStatus !== "SUCCEEDED") {
    throw modelImageError(
      buildFailureMessage(build, {
        ...contextOf(inputs),
        redactValues: Object.values(inputs.environment),
      }),
    );
  }
  const digest =
    exportedDigest(build) ?? (await digestAfterBuild(aws, inputs, build.id, build.logs));
  return outputsOf(inputs, digest, build.id);
}

/** After SUCCEEDED without an exported digest: the tag should be there; ECR may show it a moment later. */
async function digestAfterBuild(
  aws: Aws,
  inputs: ModelImageInputs,
  buildId: string | undefined,
  logs: Parameters<typeof logsLink>[0],
): Promise<string> {
  const tries = 6;
  for (let i = 0; i < tries; i++) {
    const found = await lookupTag(aws, inputs);
    if (found) {
      return found.digest;
    }
    await sleep(Math.min(2000, inputs.pollIntervalSeconds * 1000) * (i + 1));
  }
  throw modelImageError(
    [
      `CodeBuild build ${buildId} SUCCEEDED but ${inputs.repositoryName}:${inputs.tag} is not in ECR (region ${inputs.region}).`,
      `  logs: ${logsLink(logs, inputs.region) ?? "(none)"}`,
      "The buildspec must push the image to this repository with the tag from IMAGE_TAG; check the push step in the logs.",
    ].join("\n"),
  );
}
