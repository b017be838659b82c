// Running one CodeBuild build of a ModelImage's inputs to its end: adopt a running build of exactly these inputs, else start one, then wait.

import type { Build } from "@aws-sdk/client-codebuild";
import {
  announceBuild,
  type Aws,
  contextOf,
  recentBuildsForTag,
  startBuild,
  waitForTerminal,
} from "./aws";
import type { ModelImageInputs } from "./inputs";
import { buildLink, modelImageError, otherBuildMessage, progress } from "./messages";
import { chooseBuild } from "./rules";

/**
 * The terminal build (any status) of these inputs: a running build of exactly these inputs is
 * adopted (an interrupted `up` must not start a second one), else one is started. A running build
 * of the tag from other inputs is never adopted: with rebuildOnChange (MUTABLE dev tags) it is
 * waited out, else it is an error.
 */
export async function runBuild(
  aws: Aws,
  inputs: ModelImageInputs,
  deadline: number,
): Promise<Build> {
  let choice = chooseBuild(await recentBuildsForTag(aws, inputs.projectName, inputs.tag), inputs);
  while (choice.kind === "other") {
    if (!inputs.rebuildOnChange) {
      throw modelImageError(otherBuildMessage(choice.build, choice.differences, contextOf(inputs)));
    }
    // Dev (MUTABLE tags, rebuildOnSourceChange): let it finish, then build over its push.
    progress(
      `${inputs.repositoryName}:${inputs.tag}: CodeBuild build ${choice.build.id} is building this tag from other inputs (${choice.differences.join(", ")}); waiting for it to end, then building this stack's inputs; logs: ${buildLink(choice.build, inputs.region)}`,
    );
    await waitForTerminal(aws, choice.build, inputs, deadline);
    choice = chooseBuild(await recentBuildsForTag(aws, inputs.projectName, inputs.tag), inputs);
  }
  let build;
  if (choice.kind === "adopt") {
    build = choice.build;
    announceBuild(build, "adopted", inputs);
  } else {
    build = await startBuild(aws, inputs, deadline, choice.previousBuildId);
    announceBuild(build, "started", inputs);
  }
  return waitForTerminal(aws, build, inputs, deadline);
}
