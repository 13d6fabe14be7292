#!/usr/bin/env node
// paraplan's command-line entry: dispatch to a command; user errors are one line and exit 2.
// Each command's module is imported when that command runs (`paraplan --help` loads none of
// them, `paraplan plan` neither the executor nor the profiler): start-up is most of a CLI's time.
import { INTERNAL_STATUS, UserError, exitFor, internalErrorLine, printable } from "./errors.js";
import { type Io, processIo, stderrBroke, stdoutBroke } from "./io.js";
import { startEarlySimulation } from "./app/sim-early.js";
import { tuneForOneShot } from "./app/one-shot.js";
import { isMainModule } from "./main-module.js";
import type { SetupOptions } from "./ui/core/setup.js";
import type { StartState } from "./ui/core/start-preset.js";

export const USAGE = `paraplan — how should I split this model on this cluster?

usage:
  paraplan                                         the interactive planner, in a terminal
  paraplan ui [--model M] [--gpus N] [options]     the interactive planner set up with these (paraplan ui --help)
  paraplan plan --model <preset|file> [options]   rank data/tensor/pipeline/ZeRO plans (paraplan plan --help)
  paraplan execute --model <preset|file> [options]  run the best plan on the devices present (paraplan execute --help)
  paraplan export --format F --model <preset|file>  the plan as Megatron-LM/DeepSpeed/torchtitan/torchrun/Slurm config (paraplan export --help)
  paraplan profile [options]                       measure this machine into profiles/hardware/local-<host>.json (paraplan profile --help)
  paraplan calibrate <run-dir>... [options]        fit a profile's efficiencies to executed runs (paraplan calibrate --help)

examples:
  paraplan plan --model gpt3-like
  paraplan plan --model llama3-70b --gpus 64 --profile dgx-a100-80g --json
  paraplan ui --model llama3-70b --gpus 64 --profile dgx-a100-80g`;

/** Run one command; resolves to its exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        if (io === processIo && process.stdin.isTTY && process.stdout.isTTY) {
          startInteractive();
          return 0;
        }
        // (stderr: the usage on stdout and exit 0 stay what scripts get)
        if (io === processIo) io.err("paraplan: the interactive planner needs a terminal (stdin and stdout); printing the usage");
        io.out(USAGE);
        return 0;
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return 0;
      case "ui":
        return (await import("./commands/ui.js")).runUi(rest, io, startInteractive);
      case "plan": {
        // The simulation's thread, where one pays, starts first to load and warm up while this one does (sim-early.ts).
        const early = startEarlySimulation(rest);
        return await (await import("./commands/plan.js")).runPlan(rest, io, early);
      }
      case "execute":
        return await (await import("./commands/execute.js")).runExecute(rest, io);
      case "export":
        return await (await import("./commands/export.js")).runExport(rest, io);
      case "profile":
        return await (await import("./commands/profile.js")).runProfile(rest, io);
      case "calibrate":
        return await (await import("./commands/calibrate.js")).runCalibrate(rest, io);
      default:
        // (one of the interactive planner's flags first: `paraplan ui FLAGS` opens it set up)
        if (command!.startsWith("-") && (await import("./commands/ui.js")).UI_FLAGS.has(command!.split("=")[0]!))
          throw new UserError(`${command} needs a command before it: paraplan ui ${command} … opens the interactive planner set up, paraplan plan ${command} … ranks plans (see paraplan --help)`);
        throw new UserError(`unknown command "${command}"; commands: ui, plan, execute, export, profile, calibrate (see paraplan --help)`);
    }
  } catch (e) {
    const exit = exitFor(e);
    if (exit === null) throw e;
    io.err(`paraplan: ${printable(exit.message)}`);
    return exit.status;
  }
}

/** No arguments in a terminal, or `paraplan ui`: the interactive planner (ink and React load
 *  only then), from `start` when given (ui's flags, read against `options`). */
function startInteractive(options?: SetupOptions, start?: StartState): void {
  import("./ui/start.js").then(
    (ui) => ui.startInteractive(options, start),
  ).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${internalErrorLine(e)}\n`);
      process.exitCode = INTERNAL_STATUS;
    },
  );
}


if (isMainModule(import.meta.url)) {
  // Broken pipes (paraplan plan | head) end quietly; a run (execute) goes on, its results kept (io.ts).
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" && !stdoutBroke()) process.exit(0);
  });
  process.stderr.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") stderrBroke();
  });
  // A process that plans and exits runs V8 set up for that (one-shot.ts); the interactive planner,
  // execute and the profiler keep its defaults. Here, not in main(): tests call main() in-process.
  if (process.argv[2] === "plan" || process.argv[2] === "export") tuneForOneShot();
  // A command that goes on after main() returns (execute, the interactive planner) sets
  // process.exitCode itself when it ends; that one stands.
  // A bug is one line too (errors.ts internalErrorLine), exit status 70.
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode ??= code;
    },
    (e: unknown) => {
      process.stderr.write(`${internalErrorLine(e)}\n`);
      process.exitCode = INTERNAL_STATUS;
    },
  );
}
