// Runs a buildspec (version 0.2, `env.shell: bash`) the way CodeBuild does, on this machine: phases, commands, state between commands, failures, exported variables.
//
// What CodeBuild documents, and how this harness follows it (awsdocs/aws-codebuild-user-guide,
// build-spec-ref.md and build-env-ref-env-vars.md):
// - Commands: "CodeBuild runs each command, one at a time, in the order listed, from beginning to
//   end." Version 0.2 keeps state between them: "In buildspec version 0.1, CodeBuild runs each
//   command in a separate instance of the default shell ... you cannot run a single command that
//   relies on the state of any previous commands (for example, changing directories or setting
//   environment variables). To get around this limitation, we recommend that you use version 0.2,
//   which solves this issue." Only those two kinds of state are promised. Users report that on
//   Linux a string variable set in one command is seen by the next while a bash array is not (each
//   command is still its own shell process). So each command here is its own bash process; the
//   working directory and every plain (scalar) variable carry over, as environment variables;
//   functions, arrays, `set` options and traps do not. A buildspec that works here relies only on
//   what CodeBuild promises.
// - A failing command (non-zero exit) fails its phase: "if the commands block contains three
//   commands and the first fails, CodeBuild skips the remaining two commands and runs any commands
//   in the finally block ... If any command in a phase fails, the phase fails."
// - After a failed phase, `on-failure`: "ABORT - Abort the build. CONTINUE - Continue to the next
//   phase. If this property is not specified, the failure process follows the transition phases as
//   shown in Build phase transitions": a failed install or pre_build ends the build ("if a command
//   fails during the install phase, none of the commands in the pre_build, build, and post_build
//   phases are run"); after a failed build phase post_build still runs ("POST_BUILD will always
//   run as long as BUILD was also run (regardless of BUILD's success or failure.)", CodeBuild's
//   answer on Stack Overflow 46584324), with CODEBUILD_BUILD_SUCCEEDING "Set to 0 if the build is
//   failing, or 1 if the build is succeeding."
// - exported-variables: "It can be updated between the start of the install phase and the end of
//   the post_build phase. After the post_build phase ends, the value of exported variables cannot
//   change." "The following cannot be exported: ... Environment variables that start with AWS_."
// - Precedence: "The value in the start build operation call takes highest precedence. The value
//   in the build project definition takes next precedence. The value in the buildspec declaration
//   takes lowest precedence." (Callers pass project and StartBuild values merged as `env`.)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const PHASES = ["install", "pre_build", "build", "post_build"] as const;
type PhaseName = (typeof PHASES)[number];

interface PhaseSpec {
  "on-failure"?: "ABORT" | "CONTINUE";
  commands?: string[];
  finally?: string[];
}

interface Buildspec {
  version?: unknown;
  env?: { shell?: string; variables?: Record<string, unknown>; "exported-variables"?: string[] };
  phases?: Partial<Record<PhaseName, PhaseSpec>>;
}

export interface PhaseResult {
  name: PhaseName;
  status: "SUCCEEDED" | "FAILED";
  /** Commands run, `finally` included. */
  ran: number;
}

export interface CodeBuildRun {
  /** The build's status: FAILED when any phase failed. */
  status: "SUCCEEDED" | "FAILED";
  /** The phases that ran, in order. */
  phases: PhaseResult[];
  /** exported-variables as the build reports them (unset ones are absent). */
  exported: Record<string, string>;
  /** Everything the commands printed, stdout and stderr. */
  output: string;
}

export interface CodeBuildOptions {
  /** The buildspec file. */
  buildspec: string;
  /** The unpacked source (CODEBUILD_SRC_DIR), where the first command starts. */
  srcDir: string;
  /** The project's and StartBuild's variables, already merged (StartBuild wins). */
  env: Record<string, string>;
  /** Scratch directory for the harness's own files (command scripts, state). */
  workDir: string;
}

/** Names bash defines itself: never carried from one command to the next. */
const SHELL_OWN = new Set(
  spawnSync("bash", ["--norc", "--noprofile", "-c", "compgen -v"], { env: {}, encoding: "utf8" })
    .stdout.split("\n")
    .filter((n) => n !== "" && n !== "PATH" && n !== "HOME"),
);

/**
 * Runs `command` in its own bash process with the carried environment and directory; returns its
 * exit status and the state it leaves (scalar variables and the working directory).
 */
function runCommand(
  command: string,
  state: { env: Record<string, string>; cwd: string },
  workDir: string,
  index: number,
): { status: number; output: string; env: Record<string, string>; cwd: string } {
  const script = path.join(workDir, `command-${index}.sh`);
  const dump = path.join(workDir, `state-${index}`);
  fs.writeFileSync(script, command);
  // The command is sourced so that its `exit` ends this shell and the EXIT trap still records the
  // variables and directory it leaves.
  const wrapper = [
    "trap '__cb_status=$?",
    "set +euo pipefail",
    'pwd > "$__CB_DUMP.cwd"',
    "for __cb_n in $(compgen -v); do",
    '  case "${!__cb_n@a}" in *a* | *A* | *r* | *n*) continue ;; esac',
    '  [ -n "${!__cb_n+set}" ] || continue',
    '  printf "%s=%s\\0" "$__cb_n" "${!__cb_n}"',
    'done > "$__CB_DUMP.env"',
    "exit $__cb_status' EXIT",
    '. "$__CB_SCRIPT"',
  ].join("\n");
  const res = spawnSync("bash", ["--norc", "--noprofile", "-c", wrapper], {
    cwd: state.cwd,
    env: { ...state.env, __CB_SCRIPT: script, __CB_DUMP: dump },
    encoding: "utf8",
    timeout: 60_000,
  });
  const env: Record<string, string> = {};
  if (fs.existsSync(`${dump}.env`)) {
    for (const pair of fs.readFileSync(`${dump}.env`, "utf8").split("\0")) {
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (
        eq > 0 &&
        !name.startsWith("__cb_") &&
        !name.startsWith("__CB_") &&
        !SHELL_OWN.has(name)
      ) {
        env[name] = pair.slice(eq + 1);
      }
    }
  }
  const cwd = fs.existsSync(`${dump}.cwd`)
    ? fs.readFileSync(`${dump}.cwd`, "utf8").trim()
    : state.cwd;
  return {
    status: res.status ?? 1,
    output: `${res.stdout ?? ""}${res.stderr ?? ""}${res.error ? `harness: ${res.error.message}\n` : ""}`,
    // A command that died before its trap ran (a signal) leaves the state as it was.
    env: Object.keys(env).length > 0 ? env : state.env,
    cwd,
  };
}

/** Runs the buildspec's phases against `env` and reports the build as CodeBuild would. */
export function runCodeBuild(opts: CodeBuildOptions): CodeBuildRun {
  const spec = parse(fs.readFileSync(opts.buildspec, "utf8")) as Buildspec;
  if (spec.version !== 0.2) {
    throw new Error(`harness: buildspec version ${String(spec.version)}; only 0.2 is modelled`);
  }
  if (spec.env?.shell !== "bash") {
    throw new Error(`harness: env.shell ${String(spec.env?.shell)}; only bash is modelled`);
  }
  const declared = Object.fromEntries(
    Object.entries(spec.env?.variables ?? {}).map(([k, v]) => [k, String(v)]),
  );
  let state: { env: Record<string, string>; cwd: string } = {
    env: {
      ...declared,
      ...opts.env,
      CODEBUILD_SRC_DIR: opts.srcDir,
      CODEBUILD_BUILD_SUCCEEDING: "1",
    },
    cwd: opts.srcDir,
  };
  const phases: PhaseResult[] = [];
  let output = "";
  let index = 0;
  let failed = false;
  for (const name of PHASES) {
    const phase = spec.phases?.[name];
    if (!phase) {
      continue;
    }
    let phaseFailed = false;
    let ran = 0;
    const run = (commands: string[]) => {
      for (const command of commands) {
        const r = runCommand(command, state, opts.workDir, index++);
        ran++;
        output += r.output;
        state = { env: r.env, cwd: r.cwd };
        if (r.status !== 0) {
          output += `[harness] ${name}: command exited ${r.status}\n`;
          phaseFailed = true;
          return;
        }
      }
    };
    run(phase.commands ?? []);
    run(phase.finally ?? []);
    phases.push({ name, status: phaseFailed ? "FAILED" : "SUCCEEDED", ran });
    if (!phaseFailed) {
      continue;
    }
    failed = true;
    state.env.CODEBUILD_BUILD_SUCCEEDING = "0";
    const action = phase["on-failure"];
    const next =
      action === "CONTINUE" || (action === undefined && name === "build") ? "continue" : "stop";
    if (next === "stop") {
      break;
    }
  }
  const exported = Object.fromEntries(
    (spec.env?.["exported-variables"] ?? [])
      .filter((n) => !n.startsWith("AWS_") && state.env[n] !== undefined)
      .map((n) => [n, state.env[n]]),
  );
  return { status: failed ? "FAILED" : "SUCCEEDED", phases, exported, output };
}
