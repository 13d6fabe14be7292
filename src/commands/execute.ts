// `paraplan execute`: plan for the devices present (or take --plan), launch torchrun with the
// Python worker, show progress, and compare what was measured with what the planner predicted.
import type { StepEvent } from "../../executor/events.js";
import { allNodeLines } from "../../executor/launch.js";
import type { RunReporter } from "../../executor/run.js";
import { type Prepared, prepareFromArgs } from "../app/prepare.js";
import { endOnSignals, startExecution } from "../app/run.js";
import { EXIT, INTERNAL_STATUS, exitFor, exitOf, internalErrorLine, printable } from "../errors.js";
import { type ExecuteArgs, parseExecuteArgs } from "../execute-args.js";
import { failureJson, stepJson, summaryJson } from "../format/execute-json.js";
import { progressLine, redraw, summaryText } from "../format/execute-text.js";
import { describePlan, header } from "../format/plan-text.js";
import { type StartupContext, rendezvousLine, waitingLine } from "../format/startup-text.js";
import { plural } from "../format/units.js";
import { type Io, keepRunningOnBrokenPipe } from "../io.js";

export const EXECUTE_USAGE = `usage: paraplan execute --model <preset|file.json> [options]

Plans for the devices present (or runs --plan), launches torchrun with the Python worker, and
compares the measured step with the planner's prediction. Artifacts: runs/<time>-<model>/
(plan.json, launch.json, metrics.jsonl, summary.json).

  --model NAME|FILE        model preset or file, as for paraplan plan
  --device cuda|cpu        default: cuda when nvidia-smi finds GPUs, else cpu; with
                           --print-launch or --nnodes > 1 the --profile's device (cpu for
                           the cpu profile, else cuda), whatever this node has
  --gpus N                 total ranks over all nodes (default: every GPU found; CPU: 1 per node)
  --steps K                training steps (default 10, at most 1,000,000)
  --plan FILE              run this plan: an entry of plan --json's "plans", the whole output
                           (its first plan) or a run's plan.json; else the best plan is searched,
                           with the plan flags (--tp --pp --dp --zero … see plan --help) fixing dimensions
  --profile NAME|FILE      hardware profile (default: by GPU name; cpu for CPU ranks)
  --global-batch B --seq S as for paraplan plan
  --nnodes N --node-rank R --rdzv-endpoint HOST:PORT [--rdzv-id ID]   (N ≤ 1,048,576)
                           several nodes: each runs paraplan execute with its --node-rank
                           (c10d numbers nodes by arrival; the summary is printed where rank 0 runs)
  --run-dir DIR            the run's directory (default runs/<time>-<model> under the current one);
                           one that already holds a run is refused
  --print-launch           write the run directory and print each node's torchrun command, one
                           line per node, without running
  --compile, --no-compile  torch.compile each transformer block (default: on for CUDA, off on CPU);
                           compile time is reported apart and left out of the step time
  --startup-timeout T      stop every rank when no step has ended after T (default 20m; 10s to 24h):
                           a rank stuck before its first step, nodes that never join; until then,
                           each minute says where the ranks are
  --json                   one JSON object per step (stepTime in seconds), then the summary,
                           one per line; the summary's "units" names each figure's unit

Python: PARAPLAN_PYTHON, else .venv (npm run setup, i.e. bash executor/setup-venv.sh).
exit status: 0 done, 1 the plan does not fit the devices present, 2 bad input, 3 the run failed
(a rank raised or ran out of memory), 4 no Python/torch, 130 interrupted (Ctrl-C)`;

/** Where the live progress bar goes: a terminal, or nowhere. */
export interface Terminal {
  write(text: string): unknown;
}

function reporter(args: ExecuteArgs, io: Io, term: Terminal | null, world: number, startup: StartupContext): RunReporter & { end(): void } {
  let drawn = false;
  return {
    waiting: (w) => {
      if (!args.json) io.err(`paraplan: ${waitingLine(w, startup)}`);
    },
    start: (ev) => {
      if (ev.world && ev.world !== world) io.err(`paraplan: the worker reports ${plural(ev.world, "rank")}, the plan ${world}`);
    },
    step: (ev: StepEvent) => {
      if (args.json) io.out(stepJson(ev));
      else if (term) {
        term.write(redraw(progressLine(ev, args.steps)));
        drawn = true;
      } else io.out(progressLine(ev, args.steps));
    },
    end: () => {
      if (drawn) term?.write("\n");
      drawn = false;
    },
  };
}

async function run(args: ExecuteArgs, p: Prepared, io: Io, term: Terminal | null): Promise<number> {
  const { req, result } = p.chosen;
  // A reader that goes away (execute --json | head -1) neither stops the ranks nor loses the run.
  keepRunningOnBrokenPipe(() => io.err(`paraplan: stdout was closed (its reader ended); the run goes on, its results in ${printable(p.runDir)}`));
  if (!args.json) {
    io.out(header(req));
    io.out(`plan: ${describePlan(result)}; ${plural(args.steps, "step")} on ${p.node.nnodes > 1 ? `node ${p.node.nodeRank} of ${p.node.nnodes}, ` : ""}${plural(p.node.perNode, "rank")} here, torch ${p.torch}`);
    io.out(`run dir: ${printable(p.runDir)}`);
  }
  const { nnodes, nodeRank, endpoint, rdzvId } = p.node;
  const startup = { nnodes, endpoint, deadline: p.startupTimeout };
  // Several nodes: nothing happens here until every node has joined; say so at once.
  if (!args.json && nnodes > 1) io.err(`paraplan: ${rendezvousLine({ ...startup, nodeRank, rdzvId })}`);
  const rep = reporter(args, io, args.json ? null : term, req.training.gpus, startup);
  // Ctrl-C (and SIGTERM, SIGHUP) stops every rank; the run ends "interrupted", exit 130.
  const end = await endOnSignals(startExecution(p, rep));
  rep.end();
  switch (end.kind) {
    case "elsewhere":
      io.err(`paraplan: ${printable(end.message)}`);
      return EXIT.ok;
    case "failed": {
      const exit = exitOf(end.known);
      if (args.json) io.out(failureJson(end.failure, exit.message, p.runDir, end.steps));
      io.err(`paraplan: ${printable(exit.message)}`);
      return exit.status;
    }
    case "done":
      io.out(args.json ? summaryJson(end.summary) : summaryText(end.summary));
      if (end.teardown !== undefined) io.err(`paraplan: ${printable(end.teardown)}`);
      return EXIT.ok;
  }
}

/** The command, start to end; resolves to the exit status. */
export async function executeCommand(argv: string[], io: Io, term: Terminal | null = null): Promise<number> {
  try {
    const args = parseExecuteArgs(argv);
    if (args.help) {
      io.out(EXECUTE_USAGE);
      return EXIT.ok;
    }
    const p = await prepareFromArgs(args, { say: (line) => io.err(`paraplan: ${line}`) });
    if (p.replacedPort !== null)
      io.err(`paraplan: port ${p.replacedPort} is busy; rendezvous on ${p.node.endpoint.host}:${p.node.endpoint.port} instead`);
    if (args.printLaunch) {
      for (const line of allNodeLines(p.node)) io.out(line);
      if (p.node.nnodes > 1) io.err(`paraplan: every node reads ${p.node.specPath}: put ${p.runDir} on a shared file system or copy it`);
      return EXIT.ok;
    }
    return await run(args, p, io, term);
  } catch (e) {
    // UserError → 2, DoesNotFit → 1, PythonMissing → 4 (src/errors.ts)
    const exit = exitFor(e);
    if (exit === null) throw e;
    io.err(`paraplan: ${printable(exit.message)}`);
    return exit.status;
  }
}

/**
 * Adapter for the synchronous dispatcher in cli.ts: bad flags are reported at once (a UserError
 * reaches main's handler), the run goes on asynchronously and sets process.exitCode when done.
 */
export function runExecute(argv: string[], io: Io): number {
  parseExecuteArgs(argv);
  const term = process.stdout.isTTY ? process.stdout : null;
  executeCommand(argv, io, term).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      io.err(internalErrorLine(e));
      process.exitCode = INTERNAL_STATUS;
    },
  );
  return EXIT.ok;
}
