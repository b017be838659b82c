// A signed stack's images are adopted only when signed: ModelImage checks cosign's signature tag for the digest and, when it is missing, runs a build that signs that digest (SIGN_ONLY_DIGEST).
//
// Why: the buildspec signs right after its push, so a signing failure leaves the tag in ECR
// unsigned. The next `pulumi up` finds the tag and, without this check, adopts it: the stack says
// "done" while the cluster's policy refuses the image. The tag cannot be pushed again (IMMUTABLE),
// so the repair signs what is there.
import type { Build } from "@aws-sdk/client-codebuild";
import { ecrRegistryHost } from "../../lib/naming";
import { type Aws, lookupTag, sleep } from "./aws";
import { runBuild } from "./builds";
import { type ModelImageInputs, SIGN_ONLY_DIGEST } from "./inputs";
import { modelImageError, progress, unsignedImageMessage } from "./messages";
import { cosignSignatureTag } from "./rules";

/** Whether the digest's signature tag is in the repository (a few looks right after a build). */
async function hasSignature(
  aws: Aws,
  inputs: ModelImageInputs,
  digest: string,
  tries: number,
): Promise<boolean> {
  const tag = cosignSignatureTag(digest);
  for (let i = 0; i < tries; i++) {
    if (i > 0) {
      // ECR may show a tag pushed moments ago a little later (as digestAfterBuild allows for).
      await sleep(Math.min(2000, inputs.pollIntervalSeconds * 1000) * i);
    }
    if (await lookupTag(aws, { ...inputs, tag })) {
      return true;
    }
  }
  return false;
}

/**
 * With requireSignature: make sure `digest` is signed before it is adopted. Returns the signing
 * build's id when one ran; throws, naming the image, tag, digest, build and fix, when the digest
 * stays unsigned. `justBuilt`: the build that pushed it has just ended (allow for ECR's lag).
 */
export async function ensureSigned(
  aws: Aws,
  inputs: ModelImageInputs,
  digest: string,
  deadline: number,
  justBuilt: boolean,
): Promise<string | undefined> {
  if (!inputs.requireSignature || (await hasSignature(aws, inputs, digest, justBuilt ? 4 : 1))) {
    return undefined;
  }
  const image = `${inputs.repositoryName}:${inputs.tag}`;
  const signatureTag = cosignSignatureTag(digest);
  progress(
    `${image}: ${digest} has no cosign signature (no tag ${signatureTag}); starting a CodeBuild build that signs it and attaches its BOM, without building or pushing (${SIGN_ONLY_DIGEST})`,
  );
  const healing = {
    ...inputs,
    environment: { ...inputs.environment, [SIGN_ONLY_DIGEST]: digest },
  };
  const build: Build = await runBuild(aws, healing, deadline);
  const ok = build.buildStatus === "SUCCEEDED" && (await hasSignature(aws, inputs, digest, 4));
  if (!ok) {
    throw modelImageError(
      unsignedImageMessage(build, {
        image,
        digest,
        signatureTag,
        projectName: inputs.projectName,
        region: inputs.region,
        repositoryUri: `${ecrRegistryHost(inputs.registryId, inputs.region)}/${inputs.repositoryName}`,
        redactValues: Object.values(inputs.environment),
      }),
    );
  }
  return build.id;
}
