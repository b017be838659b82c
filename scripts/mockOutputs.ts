// Prints the stack outputs the program produces under mocks (fake account 123456789012), as
// `pulumi stack output --json` would show them after an `up`. Usage: npx tsx scripts/mockOutputs.ts [stack] [output]

import { runProgram, stackConfig } from "../tools/programRun";

async function main(): Promise<void> {
  const [stack = "dev", name] = process.argv.slice(2);
  const run = await runProgram(stack, stackConfig(stack));
  const value = name === undefined ? run.outputs : run.outputs[name];
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
