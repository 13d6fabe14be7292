// `paraplan ui [--model …] [--profile …] [--gpus N] [--engine …] [--tokens N] [--price USD]`: the
// interactive planner opened on its setup screen with these chosen. Each flag is read by the
// parser `plan` reads it with (plan-args.ts, run-args.ts), and the model, profile and engine are
// loaded, before the planner starts: a bad one is plan's one line naming the flag, exit 2.
import { UserError } from "../errors.js";
import { parseFlags } from "../flags.js";
import { type Io, processIo } from "../io.js";
import { parsePlanArgs } from "../plan-args.js";
import { parsePriceFlag, parseTokensFlag } from "../run-args.js";
import { type SetupOptions, loadSetupOptions } from "../ui/core/setup.js";
import { type StartChoice, type StartState, startState } from "../ui/core/start-preset.js";

export const UI_USAGE = `usage: paraplan ui [options]

The interactive planner (needs a terminal), opened on its setup screen with these chosen; Enter
plans, and every field can still be changed there. \`paraplan\` alone opens it with the defaults.

  --model NAME|FILE        model preset (see profiles/models) or a model / HuggingFace config.json file
                           (default gpt3-like)
  --profile NAME|FILE      hardware profile: a built-in, "local", or a .json file (default dgx-h100)
  --gpus N                 total GPUs, as nodes × GPUs per node of the profile (default: the model
                           file's, else one node)
  --engine NAME|FILE       the software stack (profiles/engines; default megatron-core)
  --tokens N               tokens the plan detail's whole run trains (like 15.6T; default 1T; w sets it)
  --price USD              USD per GPU-hour the whole run is priced at (default none; $ sets it)
  -h, --help               this help

example:
  paraplan ui --model llama3-70b --profile dgx-a100-80g --gpus 64 --tokens 15.6T --price 2.5`;

const UI_OPTIONS = {
  model: { type: "string" },
  profile: { type: "string" },
  gpus: { type: "string" },
  engine: { type: "string" },
  tokens: { type: "string" },
  price: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags that set the interactive planner up (`paraplan --model x` is told of them). */
export const UI_FLAGS: ReadonlySet<string> = new Set(Object.keys(UI_OPTIONS).filter((k) => k !== "help").map((k) => `--${k}`));

/** The plan flags ui shares with plan: read by plan's own parser. */
const PLAN_SHARED = ["model", "profile", "gpus", "engine"] as const;

/** ui's flags validated (no file read yet), or a one-line UserError naming the flag. */
export function parseUiArgs(argv: string[]): StartChoice & { help: boolean } {
  const { values } = parseFlags(argv, UI_OPTIONS, "ui");
  const str = (k: string) => values[k] as string | undefined;
  const plan = parsePlanArgs(PLAN_SHARED.flatMap((k) => (str(k) === undefined ? [] : [`--${k}=${str(k)}`])));
  const tokens = str("tokens");
  const price = str("price");
  return {
    model: plan.model,
    profile: plan.profile,
    gpus: plan.gpus,
    engine: plan.engine,
    tokens: tokens === undefined ? undefined : parseTokensFlag(tokens),
    price: price === undefined ? undefined : parsePriceFlag(price),
    help: values.help === true,
  };
}

/** Whether the planner can run here: main's own io on a terminal (tests pass their own io). */
const inTerminal = (io: Io) => io === processIo && process.stdin.isTTY === true && process.stdout.isTTY === true;

/** Read the flags, load what they name, and open the planner with them (`open` starts it and
 *  returns at once; the planner sets the exit status when it ends). */
export function runUi(argv: string[], io: Io, open: (options: SetupOptions, start: StartState) => void): number {
  const args = parseUiArgs(argv);
  if (args.help) {
    io.out(UI_USAGE);
    return 0;
  }
  const options = loadSetupOptions();
  const start = startState(options, args);
  if (!inTerminal(io)) throw new UserError("ui: the interactive planner needs a terminal (stdin and stdout); paraplan plan takes --model, --profile, --gpus, --engine, --tokens and --price without one");
  open(options, start);
  return 0;
}
