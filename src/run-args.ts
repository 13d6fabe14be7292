// The whole run's flags of `paraplan plan` (issue 16): taken out of argv before the plan flags
// are parsed (execute and export share those and have no run), validated into values, or a
// one-line UserError naming the flag.
import { type CheckpointMode, DURATION_UNITS, type PowerBasis, RUN_LIMITS, type RunLimit, giveWithin, outsideLimit, parseDuration, parseGpuList, parseTokens, withinLimit } from "../planner/run/index.js";
import { parseMagnitude } from "../planner/schema/magnitude.js";
import { UserError } from "./errors.js";
import { MAX, oneOf } from "./flags.js";

export const RUN_FLAGS = ["tokens", "price", "pue", "power", "ckpt", "ckpt-bandwidth", "restart-time", "sweep-gpus", "deadline"] as const;
export type RunFlag = (typeof RUN_FLAGS)[number];

export interface RunArgs {
  /** Tokens to train; undefined: no whole-run estimate. */
  tokens?: number;
  /** USD per GPU-hour, or null. */
  price: number | null;
  pue?: number;
  power: PowerBasis;
  ckpt: CheckpointMode;
  /** Aggregate checkpoint write bandwidth, bytes/s. */
  ckptBandwidth?: number;
  /** Seconds. */
  restartTime?: number;
  /** GPU counts to sweep. */
  sweep?: number[];
  /** Seconds. */
  deadline?: number;
  /** The run flags given on the command line (the others' values are defaults, and said so). */
  given: RunFlag[];
}

/** Split argv into the run flags' values and the rest (`--tokens 15.6T` or `--tokens=15.6T`). */
function take(argv: string[]): { values: Partial<Record<RunFlag, string>>; rest: string[] } {
  const values: Partial<Record<RunFlag, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = a.startsWith("--") ? [a.slice(2).split("=")[0]!, a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined] : ["", undefined];
    if (!(RUN_FLAGS as readonly string[]).includes(name)) {
      rest.push(a);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UserError(`--${name} needs a value; see paraplan plan --help`);
    // Two values are a contradiction, not "the last wins" silently (as the plan flags, flags.ts);
    // the same value twice is harmless.
    const before = values[name as RunFlag];
    if (before !== undefined && before !== value) throw new UserError(`--${name} is given twice, as "${before}" and "${value}"; give it once`);
    values[name as RunFlag] = value;
  }
  return { values, rest };
}

function orFail<T>(flag: string, r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new UserError(`--${flag}: ${r.message}`);
  return r.value;
}

/** A number within [min, max]: one that reads but lies outside (a negative price) is out of
 *  range, not "not a number". */
function ranged(flag: string, text: string, limit: Pick<RunLimit, "min" | "max" | "minIncluded">, what: string): number {
  const n = /^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?\s*$/i.test(text) ? Number(text) : NaN;
  if (Number.isNaN(n)) throw new UserError(`--${flag}: "${text}" is not a number; ${what}`);
  const wrong = outsideLimit(n, limit);
  if (wrong) throw new UserError(`--${flag}: ${text.trim()} ${wrong}; ${what}`);
  return n + 0; // -0 as 0: "--price -0" printed $-0.00
}

/** --ckpt-bandwidth's value, bytes/s within RUN_LIMITS, or a UserError saying what is wrong with
 *  it (zero, negative, no unit, out of range), as a profile's run.checkpointBandwidth is read. */
const ckptBandwidth = (text: string): number =>
  orFail("ckpt-bandwidth", parseMagnitude(text, "bytes/s", { limit: RUN_LIMITS.checkpointBandwidth }));

/** --tokens's value (the interactive planner's `w` takes it too), or a UserError naming the flag. */
export const parseTokensFlag = (text: string): number => orFail("tokens", parseTokens(text));

/** --price's value, USD per GPU-hour from 0 to 1,000,000 (the interactive planner's `$` takes it
 *  too), or a UserError naming the flag. */
export const parsePriceFlag = (text: string): number => ranged("price", text, { min: 0, max: 1e6, minIncluded: true }, "give USD per GPU-hour from 0 to 1,000,000, like 2.5");

/** The run flags of argv, validated, and the argv left for the plan flags. */
export function takeRunArgs(argv: string[]): { run: RunArgs; rest: string[] } {
  const { values: v, rest } = take(argv);
  const run: RunArgs = { price: null, power: "board", ckpt: "sync", given: RUN_FLAGS.filter((f) => v[f] !== undefined) };
  if (v.tokens !== undefined) run.tokens = parseTokensFlag(v.tokens);
  if (v.price !== undefined) run.price = parsePriceFlag(v.price);
  // The bounds a profile's run.pue and the rest are held to too (planner/run/limits.ts).
  if (v.pue !== undefined) run.pue = ranged("pue", v.pue, RUN_LIMITS.pue, giveWithin(RUN_LIMITS.pue));
  run.power = oneOf<PowerBasis>("power", v.power, ["board", "node"]) ?? run.power;
  run.ckpt = oneOf<CheckpointMode>("ckpt", v.ckpt, ["sync", "async"]) ?? run.ckpt;
  if (v["ckpt-bandwidth"] !== undefined) run.ckptBandwidth = ckptBandwidth(v["ckpt-bandwidth"]);
  if (v["restart-time"] !== undefined) {
    // (every unit, as the profile's run.restartTime takes them: "30d" was refused, "1 day" not)
    const r = orFail("restart-time", parseDuration(v["restart-time"], DURATION_UNITS, true, "10min"));
    if (!withinLimit(r, RUN_LIMITS.restartTime)) throw new UserError(`--restart-time: "${v["restart-time"]}" is out of range; give ${RUN_LIMITS.restartTime.words}`);
    run.restartTime = r;
  }
  if (v["sweep-gpus"] !== undefined) run.sweep = orFail("sweep-gpus", parseGpuList(v["sweep-gpus"], MAX.gpus));
  if (v.deadline !== undefined) run.deadline = orFail("deadline", parseDuration(v.deadline, ["h", "d", "w"]));
  const given = Object.keys(v).filter((k) => k !== "tokens");
  if (run.tokens === undefined && given.length > 0) throw new UserError(`--${given[0]} needs --tokens (the tokens to train, like 15.6T)`);
  if (run.deadline !== undefined && run.sweep === undefined) throw new UserError("--deadline needs --sweep-gpus (the GPU counts to choose from, like 256..16384)");
  return { run, rest };
}
