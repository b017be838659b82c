// The stack a command reads its settings from: Pulumi.<stack>.yaml of the project around the working
// directory and, when that file imports Pulumi ESC environments, the configuration Pulumi resolves.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "../lib/diagnostics";
import { abortReason } from "../lib/registry/http";
import { type ConfigEntry, settingsFromConfig } from "../lib/stackConfig";
import { listStacks, readStackFile, type StackFile } from "../lib/stackFile";
import { findProjectDir, type Io, PROJECT_DIR, UsageError } from "./args";

/** How long `pulumi config` may take (it may ask the Pulumi Cloud to resolve environments). */
const PULUMI_CONFIG_TIMEOUT_MS = 60_000;

/** The project the command works on: found from the working directory as `pulumi` finds it, else the CLI's own. */
export function projectDir(io: Pick<Io, "cwd">): string {
  return findProjectDir(io.cwd) ?? PROJECT_DIR;
}

/** The first `name` executable on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir || ".", name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) {
        return file;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `pulumi config --json --stack S` as entries. Its JSON maps each key to `{value?, objectValue?,
 * secret}`; "When the value is encrypted and --show-secrets was not passed, the value will not be
 * set" (pulumi/pkg/cmd/pulumi/config), so a secret is known only to exist, as we want.
 */
export function configEntriesFromJson(text: string): ConfigEntry[] {
  const parsed = JSON.parse(text) as Record<
    string,
    { value?: string; objectValue?: unknown; secret?: boolean }
  >;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("not a JSON object");
  }
  return Object.entries(parsed).map(([key, v]) => ({
    key,
    secret: v?.secret === true,
    ...(v?.secret === true ? {} : { value: v?.objectValue ?? v?.value }),
  }));
}

function runPulumiConfig(
  exe: string,
  stack: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
) {
  return new Promise<{ ok: true; text: string } | { ok: false; why: string }>((resolve) => {
    execFile(
      exe,
      ["config", "--json", "--stack", stack],
      { cwd: dir, env, timeout: PULUMI_CONFIG_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, signal },
      (error, stdout, stderr) => {
        if (error) {
          const why = signal?.aborted
            ? `no answer within ${abortReason(signal)}`
            : error.killed
              ? `no answer within ${PULUMI_CONFIG_TIMEOUT_MS / 1000} s`
              : (stderr || stdout).trim().split("\n")[0] || `exit ${String(error.code)}`;
          resolve({ ok: false, why });
        } else {
          resolve({ ok: true, text: stdout });
        }
      },
    );
  });
}

/**
 * A stack's settings; an unknown stack is a usage error, problems are diagnostics. A stack file that
 * imports ESC environments is read through `pulumi config` (which resolves them), or refused
 * without the Pulumi CLI: its file alone would silently give defaults for what ESC sets.
 */
export async function loadStack(
  stack: string,
  io: Pick<Io, "cwd" | "env">,
  /** The command's deadline (--timeout), which `pulumi config` must finish within too. */
  signal?: AbortSignal,
): Promise<StackFile> {
  const dir = projectDir(io);
  const stacks = listStacks(dir);
  if (!stacks.includes(stack)) {
    throw new UsageError(
      `unknown stack '${stack}': no Pulumi.${stack}.yaml in ${dir} (stacks: ${stacks.join(", ") || "none"})`,
    );
  }
  const fromFile = readStackFile(dir, stack, io.cwd);
  if (fromFile.environments.length === 0 || fromFile.diagnostics.length > 0) {
    return fromFile;
  }
  const where = fromFile.positions.get("environment") ?? { line: 1, col: 1 };
  const names = fromFile.environments.join(", ");
  const problem = (message: string): StackFile => ({
    ...fromFile,
    diagnostics: [{ file: fromFile.file, ...where, message }],
  });
  const exe = onPath("pulumi", io.env);
  if (exe === undefined) {
    return problem(
      `stack '${stack}' takes configuration from the Pulumi ESC environment${fromFile.environments.length === 1 ? "" : "s"} ${names}, which only the Pulumi CLI can resolve, and 'pulumi' is not on PATH: install it and log in (pulumi login), or run with a stack file that holds the settings itself`,
    );
  }
  const answer = await runPulumiConfig(exe, stack, dir, io.env, signal);
  if (!answer.ok) {
    return problem(
      `stack '${stack}' takes configuration from ESC (${names}), but 'pulumi config --json --stack ${stack}' failed: ${answer.why}; check 'pulumi login' and access to the environments`,
    );
  }
  let entries: ConfigEntry[];
  try {
    entries = configEntriesFromJson(answer.text);
  } catch (e) {
    return problem(
      `'pulumi config --json --stack ${stack}' did not print a JSON object (${(e as Error).message}); is '${exe}' the Pulumi CLI?`,
    );
  }
  const { settings, region, problems } = settingsFromConfig(stack, entries);
  const diagnostics: Diagnostic[] = problems.map((p) => ({
    file: fromFile.file,
    ...(fromFile.positions.get(p.key) ?? where),
    message: fromFile.positions.has(p.key) ? p.message : `${p.message} (from ESC: ${names})`,
  }));
  return { ...fromFile, settings, region, diagnostics, entries };
}
