// Shared flag parsing of every command: node's parseArgs with dash-leading values read as values
// (`--gpus -1` means what `--gpus=-1` means), and bounded integer flags.
import { parseArgs } from "node:util";
import { UserError } from "./errors.js";
import { didYouMean } from "./suggest.js";

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Upper bounds of the count flags (README "Inputs"): large enough for any real cluster or
 *  batch, small enough that every enumeration over them ends in seconds. */
export const MAX = {
  /** GPUs, nodes and each parallel dimension (tp, pp, dp, vpp): 2^20. */
  gpus: 1_048_576,
  /** Sequences per step, and the micro-batch: 2^31. */
  batch: 2_147_483_648,
  /** Tokens per sequence: 2^24. */
  seq: 16_777_216,
  /** Plans listed (--top). */
  top: 10_000,
  /** Plans simulated (--simulate-top). */
  simulateTop: 1000,
  /** Training steps of `execute`. */
  steps: 1_000_000,
} as const;

/** An integer flag from `min` to `max`, or a one-line UserError naming the flag (and the bound). */
export function int(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UserError(`--${flag}: "${value}" is not ${min === 0 ? "a non-negative" : "a positive"} integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n > max) throw new UserError(`--${flag}: "${value}" is too large: at most ${max.toLocaleString("en-US")}`);
  return n;
}

/** An enumerated flag's value, case ignored (`--precision BF16`, `--format Megatron`: every
 *  allowed value is lower case), or a one-line UserError listing them and the one meant. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase() as T;
  if (!allowed.includes(v)) throw new UserError(`--${flag}: "${value}" is not one of ${allowed.join(", ")}${didYouMean(value.trim(), allowed)}`);
  return v;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  tokens: ReturnType<typeof parseArgs>["tokens"] & object;
}

/** An option token that names one of `options` (`--gpus`, `--gpus=8`, `-h`). */
function isOption(token: string, options: Options): boolean {
  if (token.startsWith("--")) return Object.hasOwn(options, token.slice(2).split("=")[0]!);
  return Object.values(options).some((o) => o.short !== undefined && token === `-${o.short}`);
}

/** parseArgs, strict, with a one-line UserError that names the command's help (and the flag
 *  meant, among `options` and `alsoKnown`: flags the caller took out of argv before). A value-taking
 *  flag followed by a dash-leading word that is not one of the command's flags (`--gpus -1`)
 *  takes it as its value; followed by a flag (`--model --gpus 8`) it says the value is missing. */
export function parseFlags(argv: string[], options: Options, command: string, allowPositionals = false, alsoKnown: readonly string[] = []): Parsed {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    if (a === "--") {
      args.push(...argv.slice(i));
      break;
    }
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && next.startsWith("-")) {
      if (isOption(next, options) || next === "--") throw new UserError(`--${name} needs a value (found the flag ${next} after it); see paraplan ${command} --help`);
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const r = parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
    // A value flag given twice with two values (`--gpus 64 --gpus 128`) is a contradiction, not
    // "the last wins" silently; the same value twice is harmless.
    const seen = new Map<string, string>();
    for (const t of r.tokens) {
      if (t.kind !== "option" || t.value === undefined) continue;
      const before = seen.get(t.name);
      if (before !== undefined && before !== t.value) throw new UserError(`--${t.name} is given twice, as "${before}" and "${t.value}"; give it once`);
      seen.set(t.name, t.value);
    }
    return { values: r.values as Parsed["values"], positionals: r.positionals, tokens: r.tokens };
  } catch (e) {
    if (e instanceof UserError) throw e;
    const unknown = (e as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? unknownOption(args, options, alsoKnown) : undefined;
    if (unknown !== undefined) throw new UserError(`${unknown}; see paraplan ${command} --help`);
    const spread = (e as { code?: unknown }).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" ? listOverWords(args) : undefined;
    if (spread !== undefined) throw new UserError(`${spread}; see paraplan ${command} --help`);
    const msg = (e as Error).message.split("\n")[0] ?? "bad arguments";
    throw new UserError(`${msg.replace(/\. To specify.*$/, "")}; see paraplan ${command} --help`);
  }
}

/** The flags whose value is a comma-separated list. */
const LIST_FLAGS = ["recompute-modules", "stage-layers", "sweep-gpus"];

/** A list flag given its items as separate words (`--recompute-modules mlp moe_act`, Megatron's
 *  spelling; QA: parseArgs said only "Unexpected argument 'moe_act'"): the line with the list as
 *  the flag takes it. */
function listOverWords(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.startsWith("--") ? [args[i]!.slice(2).split("=")[0]!, args[i]!.includes("=") ? args[i]!.slice(args[i]!.indexOf("=") + 1) : undefined] : [undefined, undefined];
    if (name === undefined || !LIST_FLAGS.includes(name)) continue;
    const words = inline !== undefined ? [inline] : [];
    for (let j = i + 1; j < args.length && !args[j]!.startsWith("-"); j++) words.push(args[j]!);
    if (words.length > 1) return `--${name} ${words.join(" ")}: the flag takes one comma-separated list, not one word an item: --${name} ${words.join(",")}`;
  }
  return undefined;
}

/** The first word of `args` that is no option of the command, as the user typed it (`-engine`,
 *  which parseArgs reads as the short options -e -n …, and reports as '-e'), with the flag meant
 *  where one is close: `--engin` → --engine, `-engine` → --engine. */
function unknownOption(args: readonly string[], options: Options, alsoKnown: readonly string[]): string | undefined {
  const long = [...Object.keys(options), ...alsoKnown];
  for (const a of args) {
    if (a === "--") return undefined;
    if (!a.startsWith("-") || a === "-" || isOption(a, options)) continue;
    const word = a.replace(/^--?/, "").split("=")[0]!;
    // A single dash before a long flag's whole name: the flag itself.
    if (!a.startsWith("--") && long.includes(word)) return `Unknown option '${a}' (did you mean --${word}?)`;
    return `Unknown option '${a}'${word.length > 1 ? didYouMean(word, long, (k) => `--${k}`) : ""}`;
  }
  return undefined;
}
