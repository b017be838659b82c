// Shared command-line plumbing: strict flag parsing, usage errors (exit 2), the project directory.

import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, ParseArgsConfig } from "node:util";

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The project root: the nearest directory above this file with Pulumi.yaml (cli/ from source, dist/cli/ compiled). */
export const PROJECT_DIR = findProjectDir(__dirname);

function findProjectDir(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      return path.resolve(start, "..");
    }
  }
}

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * An option that takes a value takes the next word whatever it looks like (`--tag-suffix -pr-123`),
 * as GNU tools do; node's parseArgs alone would call that ambiguous.
 */
function joinValues(argv: string[], options: Options): string[] {
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

/** Parse argv strictly; any unknown flag or missing value is a UsageError. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: joinValues(argv, options), options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
