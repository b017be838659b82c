// Shared command-line plumbing: commands declared as tables of flags, strict parsing, --help text,
// usage errors (one line, exit 2), exit codes and the project directory.

import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, missing: 3 } as const;

/** Where the CLI's own files are: the nearest directory above this file with Pulumi.yaml. */
export const PROJECT_DIR = findProjectDir(__dirname) ?? path.resolve(__dirname, "..");

/**
 * The nearest directory at or above `start` with a Pulumi.yaml, as the Pulumi CLI finds its
 * project; undefined when there is none.
 */
export function findProjectDir(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      return undefined;
    }
  }
}

export class UsageError extends Error {}

/** One flag of a command. Adding a flag to a command is adding a row to its table. */
export interface Flag {
  type: "string" | "boolean";
  /** The value's placeholder in --help (`S`, `HOST[:PORT]`); string flags only. */
  arg?: string;
  short?: string;
  /** May be given more than once; the values arrive as an array in command-line order. */
  multiple?: boolean;
  /** --help text; `\n` continues on the next line, aligned. */
  help: string;
}

export type FlagTable = Record<string, Flag>;

/** A titled block of flags in --help (`selection`, `registry`, `output`). */
export interface FlagGroup<O extends FlagTable = FlagTable> {
  title: string;
  flags: O;
}

/** The values of a flag table after parsing, typed from the table. */
export type FlagValues<O> = {
  [K in keyof O]?: O[K] extends { type: "boolean" }
    ? O[K] extends { multiple: true }
      ? boolean[]
      : boolean
    : O[K] extends { multiple: true }
      ? string[]
      : string;
};

export interface Parsed<O> {
  values: FlagValues<O> & { help?: boolean };
  positionals: string[];
}

/** What a command reads and writes besides its arguments; tests pass their own. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Standard input, for `-` as a manifest. */
  stdin: NodeJS.ReadableStream;
  /** The directory relative paths and the project are found from. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The flags of all groups as one table, so a command's values are typed from every group. */
export type FlagsOf<G extends readonly FlagGroup[]> = UnionToIntersection<G[number]["flags"]>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never;

export interface CommandSpec<G extends readonly FlagGroup[] = readonly FlagGroup[]> {
  name: string;
  /** After `model-images <name>` in the usage line, e.g. `[options]` or `<manifest.yaml|-> [options]`. */
  synopsis: string;
  /** One line for `model-images --help`. */
  summary: string;
  /** Paragraphs under the usage line. */
  description: string;
  groups: G;
  /** How many positional arguments the command takes (default none). */
  positionals?: { min: number; max: number; name: string };
  /** Closing paragraph on exit codes. */
  exitCodes: string;
}

export interface Command<G extends readonly FlagGroup[] = readonly FlagGroup[]> {
  spec: CommandSpec<G>;
  run(args: Parsed<FlagsOf<G>>, io: Io): number | Promise<number>;
}

/** Declare a command; its values are typed from its flag groups. */
export function command<const G extends readonly FlagGroup[]>(
  spec: CommandSpec<G>,
  run: Command<G>["run"],
): Command<G> {
  return { spec, run };
}

export const HELP_FLAG: FlagTable = {
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** Every flag of a command, across its groups, plus --help. */
export function flagsOf(spec: CommandSpec): FlagTable {
  return Object.assign({}, ...spec.groups.map((g) => g.flags), HELP_FLAG);
}

const HELP_COLUMN = 26;

/** A command's --help text, generated from its table. */
export function helpText(spec: CommandSpec): string {
  const lines = [`usage: model-images ${spec.name} ${spec.synopsis}`.trimEnd(), ""];
  lines.push(spec.description.trim(), "");
  for (const group of [...spec.groups, { title: "other", flags: HELP_FLAG }]) {
    lines.push(`${group.title}:`);
    for (const [name, flag] of Object.entries(group.flags)) {
      const short = flag.short ? `-${flag.short}, ` : "";
      const label = `  ${short}--${name}${flag.type === "string" ? ` ${flag.arg ?? "VALUE"}` : ""}`;
      const [first, ...rest] = flag.help.split("\n");
      const pad = " ".repeat(HELP_COLUMN);
      lines.push(
        label.length < HELP_COLUMN ? label.padEnd(HELP_COLUMN) + first : `${label}\n${pad}${first}`,
        ...rest.map((r) => pad + r),
      );
    }
    lines.push("");
  }
  lines.push(spec.exitCodes.trim());
  return lines.join("\n") + "\n";
}

/**
 * An option that takes a value takes the next word whatever it looks like (`--tag-suffix -pr-123`),
 * as GNU tools do; node's parseArgs alone would call that ambiguous.
 */
function joinValues(argv: string[], options: FlagTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : undefined;
    if (argv[i] === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (name !== undefined && options[name]?.type === "string" && i + 1 < argv.length) {
      out.push(`--${name}=${argv[++i]}`);
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** node's messages, shortened to what a user needs on one line. */
function usageMessage(err: Error & { code?: string }): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message);
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
    return `unknown option '${unknown[1]}'`;
  }
  const missing = /^Option '(?:-\w, )?(--[^ ]+) <value>' argument missing/.exec(err.message);
  if (missing) {
    return `option '${missing[1]}' needs a value`;
  }
  const unexpected = /^Unexpected argument '([^']+)'/.exec(err.message);
  if (unexpected) {
    return `unexpected argument '${unexpected[1]}'`;
  }
  return err.message.split("\n")[0];
}

/** Parse argv strictly against a flag table; any unknown flag or missing value is a UsageError. */
export function parse<O extends FlagTable>(
  argv: string[],
  flags: O,
  allowPositionals = true,
): Parsed<O> {
  const options = Object.fromEntries(
    Object.entries({ ...flags, ...HELP_FLAG }).map(([name, f]) => [
      name,
      { type: f.type, ...(f.short ? { short: f.short } : {}), multiple: f.multiple ?? false },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: joinValues(argv, { ...flags, ...HELP_FLAG }),
      options,
      allowPositionals,
      strict: true,
    });
    return { values: values as Parsed<O>["values"], positionals };
  } catch (err) {
    throw new UsageError(usageMessage(err as Error));
  }
}

/** Parse a command's argv: flags from its table, the positional count it declares. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed<FlagTable> {
  const { min, max, name } = spec.positionals ?? { min: 0, max: 0, name: "argument" };
  const parsed = parse(argv, flagsOf(spec), max > 0);
  const n = parsed.positionals.length;
  if (!parsed.values.help && (n < min || n > max)) {
    throw new UsageError(
      n < min ? `${name} is required` : `${max === 1 ? "one" : `at most ${max}`} ${name}, got ${n}`,
    );
  }
  return parsed;
}

/** Seconds from a flag: a positive number (fractions allowed), else a UsageError. */
export function secondsFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be a positive number of seconds`);
  }
  return n;
}
