// ModelImage's ECR and CodeBuild calls: clients acting as the stack's identity, the tag lookup, finding, starting and polling builds.

import type { Build } from "@aws-sdk/client-codebuild";
import { awsClientIdentity } from "../../lib/awsIdentity";
import { lookupEcrTags } from "../../lib/registry/ecr";
import { identityOf, type ModelImageInputs } from "./inputs";
import {
  buildLink,
  buildTimeoutMessage,
  describeAwsError,
  type ImageContext,
  modelImageError,
  progress,
  queueTimeoutMessage,
} from "./messages";
import { idempotencyToken, nextPollDelayMs } from "./rules";

type EcrSdk = typeof import("@aws-sdk/client-ecr");
type CodeBuildSdk = typeof import("@aws-sdk/client-codebuild");

/** SDK modules and clients for one provider call. */
export interface Aws {
  ecrSdk: EcrSdk;
  ecr: InstanceType<EcrSdk["ECRClient"]>;
  cbSdk: CodeBuildSdk;
  codebuild: InstanceType<CodeBuildSdk["CodeBuildClient"]>;
}

/**
 * Clients for one call, as the stack's identity. Standard retries (throttling, 5xx, dropped
 * connections) with more attempts than the default 3: a two-hour wait should not die on one
 * throttled poll. The endpoints come from AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_CODEBUILD.
 */
export async function openAws(inputs: ModelImageInputs): Promise<Aws> {
  const [ecrSdk, cbSdk] = await Promise.all([
    import("@aws-sdk/client-ecr"),
    import("@aws-sdk/client-codebuild"),
  ]);
  const config = {
    region: inputs.region,
    maxAttempts: 6,
    retryMode: "standard",
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    ...awsClientIdentity(identityOf(inputs), inputs.region),
  };
  return {
    ecrSdk,
    ecr: new ecrSdk.ECRClient(config),
    cbSdk,
    codebuild: new cbSdk.CodeBuildClient(config),
  };
}

export function closeAws(aws: Aws): void {
  aws.ecr.destroy();
  aws.codebuild.destroy();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What messages about this resource name. */
export function contextOf(inputs: ModelImageInputs): ImageContext {
  return {
    projectName: inputs.projectName,
    image: `${inputs.repositoryName}:${inputs.tag}`,
    region: inputs.region,
  };
}

/** Exact tag lookup: the digest, or undefined when ECR says ImageNotFound. Anything else throws. */
export async function lookupTag(
  aws: Aws,
  inputs: Pick<ModelImageInputs, "repositoryName" | "tag" | "registryId" | "region">,
): Promise<{ digest: string; registryId?: string } | undefined> {
  const target = `${inputs.repositoryName}:${inputs.tag} (${inputs.region})`;
  let answers;
  try {
    answers = await lookupEcrTags(aws.ecr, aws.ecrSdk, {
      repositoryName: inputs.repositoryName,
      registryId: inputs.registryId,
      tags: [inputs.tag],
    });
  } catch (e) {
    throw modelImageError(describeAwsError(e, "ecr:BatchGetImage", target));
  }
  const answer = answers.get(inputs.tag);
  switch (answer?.kind) {
    case "present":
      return { digest: answer.digest, registryId: answer.registryId };
    case "missing":
      return undefined;
    case "failed":
      throw modelImageError(
        `ecr:BatchGetImage on ${target} failed: ${answer.code}: ${answer.reason}. This is not "missing", so no build was started.`,
      );
    default:
      throw modelImageError(
        `ecr:BatchGetImage on ${target} returned neither the image nor a failure; refusing to guess whether it exists.`,
      );
  }
}

/** Builds of this project for this tag, newest first, from the first page or two of history. */
export async function recentBuildsForTag(
  aws: Aws,
  projectName: string,
  tag: string,
): Promise<Build[]> {
  const matches: Build[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < 2; page++) {
      // No sortOrder: the default is newest first, and CodeBuild rejects an explicit sortOrder
      // for projects with more than 100 builds.
      const list = await aws.codebuild.send(
        new aws.cbSdk.ListBuildsForProjectCommand({
          projectName,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const ids = list.ids ?? [];
      if (ids.length > 0) {
        const got = await aws.codebuild.send(
          new aws.cbSdk.BatchGetBuildsCommand({ ids: ids.slice(0, 100) }),
        );
        const byId = new Map((got.builds ?? []).map((b) => [b.id, b]));
        for (const id of ids) {
          const b = byId.get(id);
          const vars = b?.environment?.environmentVariables ?? [];
          if (b && vars.some((v) => v.name === "IMAGE_TAG" && v.value === tag)) {
            matches.push(b);
          }
        }
      }
      nextToken = list.nextToken;
      if (matches.length > 0 || !nextToken) {
        break;
      }
    }
  } catch (e) {
    throw modelImageError(
      describeAwsError(e, "codebuild:ListBuildsForProject/BatchGetBuilds", projectName),
    );
  }
  return matches;
}

export async function getBuild(aws: Aws, id: string, projectName: string): Promise<Build> {
  let got;
  try {
    got = await aws.codebuild.send(new aws.cbSdk.BatchGetBuildsCommand({ ids: [id] }));
  } catch (e) {
    throw modelImageError(
      describeAwsError(e, "codebuild:BatchGetBuilds", `${projectName} build ${id}`),
    );
  }
  const build = (got.builds ?? [])[0];
  if (!build) {
    throw modelImageError(
      `CodeBuild build ${id} of project ${projectName} was not found (BatchGetBuilds buildsNotFound).`,
    );
  }
  return build;
}

/**
 * StartBuild, waiting out a full queue. CodeBuild answers AccountLimitExceededException when the
 * project's concurrentBuildLimit or the account's concurrent-build quota is in use; that is a
 * reason to wait, not to fail, so it is retried with backoff until `deadline`, saying once what it
 * waits for. Every attempt carries the same idempotency token: whatever CodeBuild accepted once
 * is answered again, so at most one build starts.
 */
export async function startBuild(
  aws: Aws,
  inputs: ModelImageInputs,
  deadline: number,
  previousBuildId?: string,
): Promise<Build> {
  const env = inputs.environment;
  const crypto = await import("node:crypto");
  const token = idempotencyToken(
    {
      projectName: inputs.projectName,
      tag: inputs.tag,
      sourceVersion: inputs.sourceVersion,
      environment: env,
      previousBuildId,
    },
    (s) => crypto.createHash("sha256").update(s).digest("hex"),
  );
  const command = new aws.cbSdk.StartBuildCommand({
    projectName: inputs.projectName,
    environmentVariablesOverride: [
      { name: "IMAGE_TAG", value: inputs.tag, type: "PLAINTEXT" },
      ...Object.keys(env)
        .sort()
        .map((name) => ({ name, value: env[name], type: "PLAINTEXT" as const })),
    ],
    idempotencyToken: token,
    ...(inputs.sourceVersion ? { sourceVersion: inputs.sourceVersion } : {}),
  });
  const ctx = contextOf(inputs);
  let delay: number | undefined;
  for (;;) {
    try {
      const out = await aws.codebuild.send(command);
      if (!out.build?.id) {
        throw modelImageError(
          `codebuild:StartBuild for ${inputs.projectName} returned no build id.`,
        );
      }
      return out.build;
    } catch (e) {
      const err = e as Error;
      if (err.name === "ModelImageError") {
        throw e;
      }
      if (err.name !== "AccountLimitExceededException") {
        throw modelImageError(describeAwsError(e, "codebuild:StartBuild", inputs.projectName));
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw modelImageError(
          queueTimeoutMessage({
            ...ctx,
            timeoutMinutes: inputs.timeoutMinutes,
            reason: (err.message ?? "").split("\n")[0],
          }),
        );
      }
      if (delay === undefined) {
        progress(
          `${ctx.image}: CodeBuild has no free build slot for project ${inputs.projectName} (AccountLimitExceededException: ${(err.message ?? "").split("\n")[0]}); waiting for one until ${new Date(deadline).toISOString()}, then starting exactly one build`,
        );
      }
      delay = nextPollDelayMs(delay, inputs.pollIntervalSeconds);
      await sleep(Math.min(delay, left));
    }
  }
}

/** Poll with backoff until the build is terminal or `deadline` passes. */
export async function waitForTerminal(
  aws: Aws,
  first: Build,
  inputs: ModelImageInputs,
  deadline: number,
): Promise<Build> {
  let build = first;
  let delay: number | undefined;
  while (build.buildStatus === "IN_PROGRESS" || build.buildStatus === undefined) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw modelImageError(
        buildTimeoutMessage(build, { ...contextOf(inputs), timeoutMinutes: inputs.timeoutMinutes }),
      );
    }
    delay = nextPollDelayMs(delay, inputs.pollIntervalSeconds);
    await sleep(Math.min(delay, left));
    build = await getBuild(aws, build.id as string, inputs.projectName);
  }
  return build;
}

/** Say which build this image now waits for, and where to watch it. */
export function announceBuild(build: Build, how: "started" | "adopted", inputs: ModelImageInputs) {
  progress(
    `${inputs.repositoryName}:${inputs.tag}: ${how === "started" ? "started" : "adopted running"} CodeBuild build ${build.id} (project ${inputs.projectName}); logs: ${buildLink(build, inputs.region)}`,
  );
}
