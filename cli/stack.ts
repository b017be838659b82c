// The stack a command reads its settings from: Pulumi.<stack>.yaml of the project around the working directory.

import { listStacks, readStackFile, type StackFile } from "../lib/stackFile";
import { findProjectDir, type Io, PROJECT_DIR, UsageError } from "./args";

/** The project the command works on: found from the working directory as `pulumi` finds it, else the CLI's own. */
export function projectDir(io: Pick<Io, "cwd">): string {
  return findProjectDir(io.cwd) ?? PROJECT_DIR;
}

/** A stack's settings; an unknown stack is a usage error, problems in its file are diagnostics. */
export function loadStack(stack: string, io: Pick<Io, "cwd">): StackFile {
  const dir = projectDir(io);
  const stacks = listStacks(dir);
  if (!stacks.includes(stack)) {
    throw new UsageError(
      `unknown stack '${stack}': no Pulumi.${stack}.yaml in ${dir} (stacks: ${stacks.join(", ") || "none"})`,
    );
  }
  return readStackFile(dir, stack);
}
