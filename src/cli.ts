#!/usr/bin/env node
// paraplan's command-line entry: dispatch to a command; user errors are one line and exit 2.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runPlan } from "./commands/plan.js";
import { UserError } from "./errors.js";
import { type Io, processIo } from "./io.js";

export const USAGE = `paraplan — how should I split this model on this cluster?

usage:
  paraplan plan --model <preset|file> [options]   rank data/tensor/pipeline/ZeRO plans (paraplan plan --help)

examples:
  paraplan plan --model gpt3-like
  paraplan plan --model llama3-70b --gpus 64 --profile dgx-a100-80g --json`;

export function main(argv: string[], io: Io = processIo): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return 0;
      case "plan":
        return runPlan(rest, io);
      default:
        throw new UserError(`unknown command "${command}"; commands: plan (see paraplan --help)`);
    }
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`paraplan: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // Broken pipes (paraplan plan | head) end quietly.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  process.exitCode = main(process.argv.slice(2));
}
