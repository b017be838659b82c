// Entry point of the model-images CLI: dispatches to a command; never prints a stack trace.
// It imports only pure modules: loading @pulumi/pulumi alone would cost over a second.

import { version } from "../package.json";
import { type Command, EXIT, helpText, type Io, parseCommand, UsageError } from "./args";
import { bomCommand } from "./bom";
import { kserveCommand } from "./kserve";
import { planCommand } from "./plan";
import { validateCommand } from "./validate";

/** Every command, in the order --help lists them. */
export const COMMANDS: Record<string, Command> = Object.fromEntries(
  [validateCommand, planCommand, kserveCommand, bomCommand].map((c) => [
    c.spec.name,
    c as unknown as Command,
  ]),
);

export const USAGE = `usage: model-images <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.spec.name.padEnd(10)}${c.spec.summary}`)
  .join("\n")}

  help [COMMAND]  this help, or a command's (same as model-images COMMAND --help)

options:
  -h, --help      this help
  --version       print the version

Run 'model-images <command> --help' for a command's options.
`;

const seeHelp = (name?: string) =>
  `see 'model-images ${name === undefined ? "" : `${name} `}--help'`;

/** One line for a usage error, then where the full usage is; exit 2. */
function usageError(io: Io, message: string, name?: string): number {
  io.err.write(`error: ${message}; ${seeHelp(name)}\n`);
  return EXIT.usage;
}

export async function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  ctx: Partial<Omit<Io, "out" | "err">> = {},
): Promise<number> {
  const io: Io = {
    out,
    err,
    stdin: ctx.stdin ?? process.stdin,
    cwd: ctx.cwd ?? process.cwd(),
    env: ctx.env ?? process.env,
  };
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    out.write(USAGE);
    return EXIT.ok;
  }
  if (name === "--version") {
    out.write(`model-images ${version}\n`);
    return EXIT.ok;
  }
  if (name === "help") {
    const target = COMMANDS[rest[0]];
    if (!target || rest.length > 1) {
      return usageError(io, `no command '${rest.join(" ")}' to show help for`);
    }
    out.write(helpText(target.spec));
    return EXIT.ok;
  }
  if (name === undefined) {
    return usageError(io, `a command is required (${Object.keys(COMMANDS).join(", ")})`);
  }
  const command = COMMANDS[name];
  if (!command) {
    return usageError(
      io,
      name.startsWith("-") ? `unknown option '${name}'` : `unknown command '${name}'`,
    );
  }
  try {
    const parsed = parseCommand(command.spec, rest);
    if (parsed.values.help) {
      out.write(helpText(command.spec));
      return EXIT.ok;
    }
    return await command.run(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      return usageError(io, e.message, name);
    }
    // An unexpected fault still gets one line, not a trace; MODEL_IMAGES_DEBUG=1 shows the stack.
    err.write(`error: ${(e as Error).message}\n`);
    if (io.env.MODEL_IMAGES_DEBUG === "1") {
      err.write(`${(e as Error).stack}\n`);
    }
    return EXIT.failed;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
