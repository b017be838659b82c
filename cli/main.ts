// Entry point of the model-images CLI: dispatches to a command; never prints a stack trace.
// It imports only pure modules: loading @pulumi/pulumi alone would cost over a second.

import { EXIT, UsageError } from "./args";
import { bom, BOM_USAGE } from "./bom";
import { kserve, KSERVE_USAGE } from "./kserve";
import { plan, PLAN_USAGE } from "./plan";
import { validate, VALIDATE_USAGE } from "./validate";

type Command = (
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  validate: { run: validate, usage: VALIDATE_USAGE },
  plan: { run: plan, usage: PLAN_USAGE },
  kserve: { run: kserve, usage: KSERVE_USAGE },
  bom: { run: bom, usage: BOM_USAGE },
};

const USAGE = `usage: model-images <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => "  " + c.usage.split("\n")[0].replace("usage: ", ""))
  .join("\n")}

Run a command with --help for details.`;

export async function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    err.write((name === undefined ? "" : `unknown command '${name}'\n`) + USAGE + "\n");
    return EXIT.usage;
  }
  try {
    return await command.run(rest, out, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error: ${e.message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    // An unexpected fault still gets one line, not a trace; MODEL_IMAGES_DEBUG=1 shows the stack.
    err.write(`error: ${(e as Error).message}\n`);
    if (process.env.MODEL_IMAGES_DEBUG === "1") {
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
