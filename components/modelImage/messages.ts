// What ModelImage tells people: progress lines while `up` waits, and errors that name the build, the place and the fix.

import type { Build } from "@aws-sdk/client-codebuild";

/** An Error whose message is the whole story: Pulumi shows it as is, so no stack frames. */
export function modelImageError(message: string): Error {
  const e = new Error(message);
  e.name = "ModelImageError";
  e.stack = `ModelImageError: ${message}`;
  return e;
}

/**
 * One progress line for the person running `pulumi up`. A dynamic provider's `pulumi.log` never
 * reaches the CLI (pulumi/pulumi#18249); its stdout does: "we have opted in the short term to
 * simply restore print/console.log functionality to dynamic providers" (pulumi/pulumi#18253: the
 * engine passes the lines of `pulumi-resource-pulumi-nodejs` to the diagnostics stream). The line
 * carries no resource URN there, so it names the image itself.
 */
export function progress(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** CloudWatch console link for a build's logs: CodeBuild's deepLink, else built from group/stream. */
export function logsLink(
  logs: { deepLink?: string; groupName?: string; streamName?: string } | undefined,
  region: string,
): string | undefined {
  // StartBuild answers before the build has a log stream, with a deepLink to `group=null`.
  if (logs?.deepLink && !logs.deepLink.includes("group=null")) {
    return logs.deepLink;
  }
  if (!logs?.groupName) {
    return undefined;
  }
  // The console's fragment encoding: URI-encode twice, then '%' becomes '$'.
  const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, "$");
  const base = `https://${consoleHost(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(logs.groupName)}`;
  return logs.streamName ? `${base}/log-events/${enc(logs.streamName)}` : base;
}

function consoleHost(region: string): string {
  return region.startsWith("cn-") ? "console.amazonaws.cn" : `${region}.console.aws.amazon.com`;
}

/**
 * Where to watch a build: its CloudWatch logs when CodeBuild has named them, else its page in the
 * CodeBuild console (a build just started has no log stream yet; the page shows the logs later).
 */
export function buildLink(build: Pick<Build, "id" | "arn" | "logs">, region: string): string {
  const logs = logsLink(build.logs, region);
  if (logs) {
    return logs;
  }
  const account = build.arn?.split(":")[4] ?? "";
  const [project] = (build.id ?? "").split(":");
  return `https://${consoleHost(region)}/codesuite/codebuild/${account}/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(build.id ?? "")}/?region=${region}`;
}

/** The first phase that did not succeed, with CodeBuild's explanation of it. */
export function failingPhase(build: Pick<Build, "phases" | "currentPhase">): {
  phase: string;
  status?: string;
  detail?: string;
} {
  const phase = (build.phases ?? []).find(
    (p) => p.phaseStatus !== undefined && p.phaseStatus !== "SUCCEEDED",
  );
  if (!phase) {
    return { phase: build.currentPhase ?? "unknown" };
  }
  const detail = (phase.contexts ?? [])
    .map((c) => [c.statusCode, c.message].filter((s) => s).join(": "))
    .filter((s) => s)
    .join("; ");
  return {
    phase: phase.phaseType ?? "unknown",
    status: phase.phaseStatus,
    ...(detail ? { detail } : {}),
  };
}

/** Replace every occurrence of the given values (e.g. environment values) with "***". */
export function redact(text: string, values: string[]): string {
  let out = text;
  for (const v of values) {
    if (v.length >= 4) {
      out = out.split(v).join("***");
    }
  }
  return out.length > 600 ? `${out.slice(0, 600)}…` : out;
}

/** What the messages about one image name. */
export interface ImageContext {
  projectName: string;
  /** `<repository>:<tag>`. */
  image: string;
  region: string;
}

/** The error for a build that ended without SUCCEEDED. Names no environment values. */
export function buildFailureMessage(
  build: Pick<Build, "id" | "buildStatus" | "phases" | "currentPhase" | "logs">,
  ctx: ImageContext & { redactValues?: string[] },
): string {
  const f = failingPhase(build);
  const phase = [f.phase, f.status].filter((s) => s).join(" ");
  const lines = [
    `CodeBuild could not build ${ctx.image}: build ${build.buildStatus ?? "ended without SUCCEEDED"} in phase ${f.phase}.`,
    `  project: ${ctx.projectName}`,
    `  build:   ${build.id ?? "unknown"}`,
    `  status:  ${build.buildStatus ?? "unknown"}`,
    `  phase:   ${phase}${f.detail ? ` — ${redact(f.detail, ctx.redactValues ?? [])}` : ""}`,
    `  logs:    ${logsLink(build.logs, ctx.region) ?? "(no CloudWatch logs recorded for this build)"}`,
    "The tag is still missing; fix the cause shown in the logs, then run `pulumi up` again to start a new build.",
  ];
  return lines.join("\n");
}

/**
 * The error when a signed stack's image stays unsigned: the signing build failed, or it succeeded
 * without leaving the signature tag. Says how to fix it three ways, exactly.
 */
export function unsignedImageMessage(
  build: Pick<Build, "id" | "buildStatus" | "phases" | "currentPhase" | "logs">,
  ctx: {
    image: string;
    digest: string;
    signatureTag: string;
    projectName: string;
    region: string;
    repositoryUri: string;
    redactValues?: string[];
  },
): string {
  const f = failingPhase(build);
  const what =
    build.buildStatus === "SUCCEEDED"
      ? "SUCCEEDED but left no signature tag (is SIGNING_KEY_ARN set on the project, and does its buildspec honour SIGN_ONLY_DIGEST?)"
      : `ended ${build.buildStatus ?? "without SUCCEEDED"} in phase ${f.phase}`;
  const phase = [f.phase, f.status].filter((s) => s).join(" ");
  return [
    `Image ${ctx.image} (${ctx.digest}) is in ECR (region ${ctx.region}) but not signed: there is no cosign signature tag ${ctx.signatureTag}, and the CodeBuild build that was to sign it ${what}.`,
    `  project: ${ctx.projectName}`,
    `  build:   ${build.id ?? "unknown"}`,
    ...(build.buildStatus === "SUCCEEDED"
      ? []
      : [`  phase:   ${phase}${f.detail ? ` — ${redact(f.detail, ctx.redactValues ?? [])}` : ""}`]),
    `  logs:    ${logsLink(build.logs, ctx.region) ?? "(no CloudWatch logs recorded for this build)"}`,
    "The stack signs its images (signing: cosign-kms), so the tag is not adopted. Fix the cause shown in the logs (often: the build role may not kms:Sign with the stack's key), then run `pulumi up` again: it starts another signing build for this digest. Or sign it by hand:",
    `  cosign sign --yes --key "awskms:///$(pulumi stack output signingKeyArn)" --new-bundle-format=false --use-signing-config=false --tlog-upload=false ${ctx.repositoryUri}@${ctx.digest}`,
    "Or bump the tag in models.yaml to build and sign a new image.",
  ].join("\n");
}

/** The error for our own wait limit. The build keeps running, and the next `up` adopts it. */
export function buildTimeoutMessage(
  build: Pick<Build, "id" | "buildStatus" | "currentPhase" | "logs">,
  ctx: ImageContext & { timeoutMinutes: number },
): string {
  return [
    `Timed out after ${ctx.timeoutMinutes} min waiting for CodeBuild build ${build.id ?? "unknown"} of ${ctx.image}; it is still ${build.buildStatus ?? "IN_PROGRESS"} in phase ${build.currentPhase ?? "unknown"}.`,
    `  project: ${ctx.projectName}`,
    `  logs:    ${logsLink(build.logs, ctx.region) ?? "(no CloudWatch logs recorded yet)"}`,
    "The build keeps running: run `pulumi up` again to wait for it (it is adopted, not started again), raise timeoutMinutes, " +
      `or stop it with \`aws codebuild stop-build --id ${build.id ?? "<id>"} --region ${ctx.region}\`.`,
  ].join("\n");
}

/** The error for a running build of the tag made from other inputs: never adopted. */
export function otherBuildMessage(
  build: Pick<Build, "id">,
  differences: string[],
  ctx: ImageContext,
): string {
  return [
    `CodeBuild build ${build.id} is building ${ctx.image} from other inputs than this stack's (it differs in ${differences.join(", ")}), so it is not adopted: its image would hold other weights than the state records.`,
    `  project: ${ctx.projectName}`,
    `Stop it with \`aws codebuild stop-build --id ${build.id} --region ${ctx.region}\`, then run \`pulumi up\` again: the tag is still missing, so a build of this stack's inputs starts.`,
    "If it finishes first, the tag holds its image: bump the tag in models.yaml rather than trusting it.",
  ].join("\n");
}

/** The error when the queue stayed full for the whole wait. Nothing was started. */
export function queueTimeoutMessage(
  ctx: ImageContext & { timeoutMinutes: number; reason: string },
): string {
  return [
    `CodeBuild did not accept a build of ${ctx.image} within ${ctx.timeoutMinutes} min: every StartBuild was refused with AccountLimitExceededException (${ctx.reason}). No build was started.`,
    `  project: ${ctx.projectName}`,
    "The project's concurrentBuildLimit or the account's build quota is in use (`aws codebuild list-builds-for-project --project-name " +
      `${ctx.projectName} --region ${ctx.region}\`); run \`pulumi up\` again when a build has finished, or raise the quota (Service Quotas, AWS CodeBuild).`,
  ].join("\n");
}

/** A one-line, actionable message for an ECR/CodeBuild SDK error. */
export function describeAwsError(e: unknown, action: string, target: string): string {
  const err = e as { name?: string; message?: string; code?: string };
  const name = err?.name ?? "Error";
  const message = err?.message ?? String(e);
  if (name === "RepositoryNotFoundException") {
    return `ECR repository ${target} does not exist (${action}: ${message}). The repository must exist before ModelImage runs: create it in the same program (it is a dependency) or fix repositoryName/registryId/region.`;
  }
  if (
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnauthorizedOperation"
  ) {
    return `Access denied for ${action} on ${target}: ${message}. Grant the deploying identity ${action} on it.`;
  }
  if (name === "ResourceNotFoundException" && action.startsWith("codebuild:")) {
    return `CodeBuild project ${target} was not found (${action}: ${message}). Check projectName and region.`;
  }
  if (name === "CredentialsProviderError") {
    return `no usable AWS credentials for ${action} on ${target}: ${message}`;
  }
  return `${action} on ${target} failed: ${name}: ${message}`;
}
