// Reading a file of command-line arguments the way users keep them: one flag per line, a shell
// script with `ARGS=( … )` arrays or `ARGS="…"` strings and backslash continuations,
// `--flag=value`, # comments; split into words as bash does (shell-words.ts). Nothing is
// interpreted but for one thing: a variable the script sets to a literal (`GPUS_PER_NODE=8`, as
// Megatron-LM's examples/ scripts do) stands for its value where a word is just `$NAME` or
// `${NAME}`, and a default the script gives a variable it does not set (`${TP:-8}`, bash §3.5.3)
// stands for that default, said in a warning (defaultsRead): the environment can set it. Other
// variables stay as text and are refused where a plan dimension or the launcher's GPU count needs
// a number.
import { UserError } from "../errors.js";
import { decideTest } from "./shell-tests.js";
import { type ShellWord, shellWords } from "./shell-words.js";

export interface ArgSetting {
  flag: string;
  values: string[];
  line: number;
  /** Read inside an `if` whose test paraplan cannot decide (a variable set from the environment):
   *  the line of that `if`, whose first branch is read (the others not). Tests it can decide
   *  (`[ "$X" = lit ]`, `[ $X -eq 1 ]` with X set to a literal; shell-tests.ts) are followed, the
   *  branches not taken skipped. */
  undecidedIf?: number;
  /** A value came from a default the script gives a variable it does not set (`${NNODES:-1}`). */
  defaulted?: true;
}

/** The launchers' own options, which launch scripts put before the training script: skipped,
 *  they are not the engine's arguments. torchrun's (torch/distributed/run.py) and the deepspeed
 *  launcher's (deepspeed/launcher/runner.py parse_args), with - or _. */
const LAUNCHER_FLAGS = new Set(
  [
    "nnodes", "nproc-per-node", "node-rank", "master-addr", "master-port", "rdzv-backend", "rdzv-endpoint", "rdzv-id",
    "rdzv-conf", "standalone", "max-restarts", "monitor-interval", "start-method", "role", "module", "no-python",
    "run-path", "log-dir", "redirects", "tee", "local-ranks-filter", "local-addr", "logs-specs", "use-env",
    "hostfile", "include", "exclude", "num-nodes", "num-gpus", "num-accelerators", "min-elastic-nodes", "max-elastic-nodes",
    "launcher", "launcher-args", "no-local-rank", "no-ssh-check", "force-multi", "save-pid", "enable-each-rank-log",
    "autotuning", "elastic-training", "bind-cores-to-rank", "bind-core-list", "ssh-port", "venv-script", "no-ssh",
  ].flatMap((f) => [f, f.replace(/-/g, "_")]),
);

/** Shell punctuation and array syntax around the flags: `(`, `)`, `\`, `${ARR[@]}`. */
const NOISE = /^(\(|\)|\\|\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\})$/;

export function readArgs(text: string): ArgSetting[] {
  return readAll(text).filter((s) => !s.flag.startsWith("launcher:"));
}

/** torchrun's own options in the file (flag without the "launcher:" mark): the launch script's
 *  world size is theirs (launcher-world.ts). */
export function launcherArgs(text: string): ArgSetting[] {
  return readAll(text).filter((s) => s.flag.startsWith("launcher:")).map((s) => ({ ...s, flag: s.flag.slice("launcher:".length) }));
}

const REF = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/;
/** `${NAME:-word}`, `${NAME-word}`, `${NAME:=word}`, `${NAME=word}` with a literal word (bash
 *  §3.5.3 parameter expansion): NAME's value where set, else the word. */
const DEFAULT = /^\$\{([A-Za-z_][A-Za-z0-9_]*|[1-9]):?[-=]([^\s$`(){}\[\]*?"']*)\}$/;

/** A variable read at the default its script gives it: `TP=${TP:-8}` or a flag's `${TP:-8}`. */
export interface DefaultRead {
  name: string;
  value: string;
  line: number;
  /** The flags whose values it gave (without --), and "if" for an `if` test it decided. */
  uses: string[];
}

interface Variables {
  vars: Map<string, string>;
  unsure: Set<string>;
  /** Variables whose value is a default the script gives (NAME=${ENV:-8} with ENV not set by the
   *  script): name → the default's line. */
  defaulted: Map<string, number>;
  /** Variables set to a string of flags (`SP="--sequence-parallel"`, `PREC="--bf16 --fp8-format
   *  hybrid"`): their flags are read where the assignment stands (an `if` it is in decides), so a
   *  later `$SP` adds none of its own. */
  flagStrings: Set<string>;
}

/** Variables the script sets to a literal (`NAME=8`, `export NAME="8"`, `NAME=$OTHER` of one set
 *  before, or `NAME=${ENV:-8}`, the default where the script does not set ENV): name → value. One
 *  set twice to different values, or to anything else (`$(nproc)`, arithmetic, a list of words),
 *  is left out: its value is decided when the script runs. */
export function shellVariables(text: string): Map<string, string> {
  return variables(text).vars;
}

function variables(text: string): Variables {
  const vars = new Map<string, string>();
  const unsure = new Set<string>();
  const defaulted = new Map<string, number>();
  const flagStrings = new Set<string>();
  for (const w of shellWords(text)) {
    if (!w.assign) continue;
    const { name, value: word } = w.assign;
    if (shellWords(word).some((x) => /^--[A-Za-z]/.test(x.text))) flagStrings.add(name);
    const ref = REF.exec(word) ?? DEFAULT.exec(word);
    const fallback = ref && ref[2] !== undefined && !vars.has(ref[1]!) && !unsure.has(ref[1]!) ? ref[2] : undefined;
    const value = ref ? (unsure.has(ref[1]!) ? undefined : (vars.get(ref[1]!) ?? fallback)) : /[\s$`(){}\[\]*?]/.test(word) || word === "" ? undefined : word;
    if (value === undefined || (vars.has(name) && vars.get(name) !== value)) {
      vars.delete(name);
      defaulted.delete(name);
      unsure.add(name);
    } else if (!unsure.has(name)) {
      vars.set(name, value);
      const from = ref ? (fallback !== undefined ? w.line : defaulted.get(ref[1]!)) : undefined;
      if (from !== undefined) defaulted.set(name, from);
      else defaulted.delete(name);
    }
  }
  return { vars, unsure, defaulted, flagStrings };
}

/** A word that starts the training: a launcher or the training script, after which a command's
 *  words are the launcher's and the trainer's (`torchrun …`, `deepspeed …`, `python -u -m
 *  torch.distributed.run …`, `python pretrain_gpt.py …`). */
const LAUNCH_WORD = /(^|\/)(torchrun|deepspeed|[\w.-]*(pretrain|train)[\w.-]*\.py)$|^torch\.distributed\.(run|launch)$/;
/** An array assignment's opening, `ARGS=(` or `ARGS+=(`, and what follows it in the same word. */
const ARRAY_OPEN = /^[A-Za-z_][A-Za-z0-9_]*\+?=\((.*)$/;
/** Words that leave the command being the same one (`export X=…`, a pipe's next stage). */
const TRANSPARENT = new Set(["export", "local", "declare", "readonly", "exec", "time", "env"]);
/** Programs that start the launcher on each node, whose own options come first (Slurm's srun and
 *  salloc, MPI's mpirun and mpiexec): `srun --wait=60 … torchrun …`. */
const WRAPPERS = /(^|\/)(srun|salloc|mpirun|mpiexec)$/;

/** Variables of flags given to a wrapper before what it launches (`SRUN_ARGS="--wait=60
 *  --kill-on-bad-exit=1"` for `srun $SRUN_ARGS … torchrun …`, bigscience tr11-176B-ml.slurm):
 *  srun's options, not the trainer's. One that holds a launcher or the training script itself
 *  (`srun $LAUNCHER $CMD`) is the training's. */
function wrapperOptionVars(words: readonly ShellWord[]): Set<string> {
  const values = new Map(words.flatMap((w) => (w.assign ? [[w.assign.name, w.assign.value] as const] : [])));
  const launches = (v: string) => shellWords(v).some((x) => LAUNCH_WORD.test(x.text));
  const out = new Set<string>();
  let inWrapper = false;
  for (const w of words) {
    if (w.first) inWrapper = WRAPPERS.test(w.text);
    else if (!inWrapper) continue;
    const ref = REF.exec(w.text);
    const v = ref ? values.get(ref[1]!) : undefined;
    if (LAUNCH_WORD.test(w.text) || (v !== undefined && launches(v))) inWrapper = false;
    else if (ref && v !== undefined) out.add(ref[1]!);
  }
  return out;
}

/** One `if … fi` being read: whether the branch at hand runs (null: its test is undecided, read
 *  as if it runs), and whether an earlier branch was read. */
interface IfFrame {
  line: number;
  runs: boolean | null;
  taken: boolean;
}

/** Flags whose values name files, directories or logging: a default there does not change a plan. */
const NO_PLAN_EFFECT = /^(save|load|data-path|(train|valid|test)-data-path|data-cache-path|data-args-path|tensorboard-dir|wandb-\S+|tokenizer-model|vocab-file|merge-file|log-\S+|checkpoint\S*|pretrained-checkpoint|job\.dump_folder|checkpoint\.\S+|metrics\.\S+)$/;

/** The warning a reader gives for the defaults a script's flags were read with (defaultsRead),
 *  those of paths and logging aside; undefined when there are none. */
export function defaultsWarning(text: string, origin: string): string | undefined {
  const ds = defaultsRead(text).filter((d) => d.uses.some((f) => !NO_PLAN_EFFECT.test(f)));
  if (ds.length === 0) return undefined;
  // (a positional parameter, ${3:-x}, is the script's argument, not the environment's: QA)
  const positional = (d: { name: string }) => /^\d+$/.test(d.name);
  const named = ds.map((d) => `${positional(d) ? "$" : ""}${d.name}=${d.value} (line ${d.line})`).join(", ");
  const where = ds.every(positional) ? "given as the script's arguments" : ds.some(positional) ? "set in the environment or given as the script's arguments" : "set in the environment";
  return `${origin}: read with the script's defaults for ${named}; ${where} when the script runs, they change the plan`;
}

/** The defaults a script's trainer flags (and the `if` tests deciding which are read) were read
 *  with (see DEFAULT), in the order met. The launcher's counts from defaults are launcherWorld's
 *  `unset`: the environment sets them at launch. */
export function defaultsRead(text: string): DefaultRead[] {
  return readWithDefaults(text).defaults;
}

function readAll(text: string): ArgSetting[] {
  return readWithDefaults(text).settings;
}

function readWithDefaults(text: string): { settings: ArgSetting[]; defaults: DefaultRead[] } {
  const out: ArgSetting[] = [];
  let current: ArgSetting | null = null;
  const { vars, unsure, defaulted, flagStrings } = variables(text);
  const wrapperVars = wrapperOptionVars(shellWords(text));
  const defaults = new Map<string, DefaultRead>();
  /** `$NAME`, `${NAME}` or `${NAME:-word}`: its value, or the word (said) where the script does
   *  not set NAME; undefined where it is not known. */
  const value = (part: string, line: number): string | undefined => {
    const ref = REF.exec(part) ?? DEFAULT.exec(part);
    if (!ref) return undefined;
    const [name, fallback] = [ref[1]!, ref[2]];
    if (unsure.has(name)) return undefined;
    const v = vars.get(name) ?? fallback;
    if (v === undefined) return undefined;
    const from = vars.has(name) ? defaulted.get(name) : line;
    if (from !== undefined) used.push({ name, value: v, line: from, uses: [] });
    return v;
  };
  let wordLine = 0;
  /** The defaults the word at hand was read with: kept (said) where it is the trainer's. */
  let used: DefaultRead[] = [];
  const keep = (use: string) => {
    for (const d of used) {
      if (!defaults.has(d.name)) defaults.set(d.name, d);
      const uses = defaults.get(d.name)!.uses;
      if (!uses.includes(use)) uses.push(use);
    }
  };
  const expand = (w: string) => {
    const whole = value(w, wordLine);
    if (whole !== undefined) return whole;
    // `--flag=$NAME`: the value part
    const eq = /^(--[A-Za-z][^=]*=)(\$.*)$/.exec(w);
    const v = eq ? value(eq[2]!, wordLine) : undefined;
    return v !== undefined ? `${eq![1]}${v}` : w;
  };
  const ifs: IfFrame[] = [];
  let test: string[] | null = null;
  let inArray = false;
  let otherCommand = false;
  const skipping = () => ifs.some((f) => f.runs === false);
  const undecided = () => ifs.find((f) => f.runs === null)?.line;
  const read = (words: readonly ShellWord[], lineOffset: number) => {
    for (const word of words) {
      const line = word.line + lineOffset;
      wordLine = line;
      // A new line ends the last flag's values (a line continued with a backslash does not).
      if (word.first) current = null;
      // if/elif/else/fi at a command's start: follow what the tests decide.
      if (test !== null) {
        if (word.first && word.text === "then") {
          // The first branch whose test holds runs; an undecided test's branch is read, said, and
          // the branches after it are not (reading them all made an if/else contradict itself).
          const f = ifs[ifs.length - 1]!;
          used = [];
          f.runs = f.taken ? false : decideTest(test, expand);
          keep("if");
          if (f.runs !== false) f.taken = true;
          test = null;
        } else test.push(word.text);
        continue;
      }
      if (word.first && (word.text === "if" || word.text === "elif")) {
        if (word.text === "if") ifs.push({ line, runs: false, taken: false });
        test = [];
        continue;
      }
      if (word.first && word.text === "else" && ifs.length > 0) {
        const f = ifs[ifs.length - 1]!;
        f.runs = !f.taken;
        continue;
      }
      if (word.first && word.text === "fi" && ifs.length > 0) {
        ifs.pop();
        continue;
      }
      if (skipping()) continue;
      // Another program's command (python of a helper script, nvidia-smi, echo, srun's own
      // options…): its flags are not the trainer's, unless it goes on to launch the training
      // (`nsys profile … torchrun …`, `python pretrain_gpt.py …`).
      if (word.first && !inArray) {
        const t = word.text;
        otherCommand = !(/^--?[A-Za-z]/.test(t) || word.assign || t.startsWith("$") || NOISE.test(t) || LAUNCH_WORD.test(t) || TRANSPARENT.has(t) || /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(t));
      }
      if (otherCommand) {
        if (LAUNCH_WORD.test(word.text)) otherCommand = false;
        continue;
      }
      // An array's opening, `ARGS=(` or `ARGS=(--a 1 …` on one line, is read below (ARRAY_OPEN).
      if (word.assign && !word.assign.value.startsWith("(")) {
        // `ARGS="--num-layers 24 --hidden-size 1024"` (a string of flags, as older Megatron-LM
        // examples keep them): its flags, read where it stands like an ARGS=( … ) array's; a
        // wrapper's options (wrapperOptionVars) are not the trainer's.
        const inner = shellWords(word.assign.value);
        current = null;
        if (inner.some((x) => /^--[A-Za-z]/.test(x.text)) && !wrapperVars.has(word.assign.name)) read(inner, line - 1);
        current = null;
        continue;
      }
      // `$SP` of a string of flags read where it was set (flagStrings): nothing more, and not a
      // value of the flag before it.
      const ref = REF.exec(word.text) ?? DEFAULT.exec(word.text);
      if (ref && flagStrings.has(ref[1]!)) {
        current = null;
        continue;
      }
      used = [];
      let w = expand(word.text);
      // An array's opening and closing written against its words, `ARGS+=(--a 1` … `--b 2)`
      // (bash splits at the parentheses, shell-words.ts does not): what is inside.
      const opens = ARRAY_OPEN.exec(w);
      if (opens) {
        inArray = true;
        if (opens[1] === "") continue;
        w = expand(opens[1]!);
      }
      if (inArray && w.endsWith(")") && !w.includes("(")) {
        w = w.slice(0, -1);
        inArray = false;
        if (w === "") continue;
      }
      if (NOISE.test(w)) {
        if (w === "(") inArray = true;
        if (w === ")") inArray = false;
        continue;
      }
      // A quoted array element of a flag and its value, `( "--fp8-format hybrid" … )`: the
      // scripts expand such arrays unquoted, so it reaches the trainer as two words.
      if (/^--[A-Za-z][^\s=]*\s/.test(w)) {
        current = null;
        read(shellWords(w).map((x, i) => ({ ...x, line: line - lineOffset, ...(i === 0 ? { first: true as const } : {}) })), lineOffset);
        current = null;
        continue;
      }
      if (/^--[A-Za-z]/.test(w)) {
        const eq = w.indexOf("=");
        const flag = eq > 0 ? w.slice(2, eq) : w.slice(2);
        const when = undecided();
        current = { flag, values: eq > 0 ? [w.slice(eq + 1)] : [], line, ...(when !== undefined ? { undecidedIf: when } : {}), ...(used.length > 0 ? { defaulted: true as const } : {}) };
        if (LAUNCHER_FLAGS.has(flag)) current.flag = `launcher:${flag}`;
        else keep(flag);
        out.push(current);
      } else if (current) {
        current.values.push(w);
        if (used.length > 0) current.defaulted = true;
        if (!current.flag.startsWith("launcher:")) keep(current.flag);
      }
      // (words before any flag: the launcher, the script)
    }
  };
  read(shellWords(text), 0);
  return { settings: out, defaults: [...defaults.values()] };
}

/** The settings by flag; a flag given twice with different values is a contradiction. */
export function byFlag(settings: ArgSetting[], origin: string): Map<string, ArgSetting> {
  const m = new Map<string, ArgSetting>();
  for (const s of settings) {
    const prev = m.get(s.flag);
    if (prev && prev.values.join(" ") !== s.values.join(" "))
      throw new UserError(`${origin}: --${s.flag} is given twice, as "${prev.values.join(" ")}" (line ${prev.line}) and "${s.values.join(" ")}" (line ${s.line})`);
    m.set(s.flag, s);
  }
  return m;
}

/** A flag's first value as a positive integer (or undefined when absent). */
export function intArg(m: Map<string, ArgSetting>, flag: string, origin: string, min = 1): number | undefined {
  const s = m.get(flag);
  if (!s) return undefined;
  const v = s.values[0];
  if (v === undefined) throw new UserError(`${origin}:${s.line}: --${flag} has no value`);
  if (v.includes("$")) throw new UserError(`${origin}:${s.line}: --${flag} is "${v}", a shell variable; write its value`);
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UserError(`${origin}:${s.line}: --${flag} "${v}" is not ${min === 0 ? "a non-negative" : "a positive"} integer`);
  return Number(v);
}

export function strArg(m: Map<string, ArgSetting>, flag: string): string | undefined {
  return m.get(flag)?.values[0];
}

/** A flag as the file gives it, for a refusal: "--flag value (line N)", or "--flag" alone where
 *  the file does not have it. */
export function argAt(m: Map<string, ArgSetting>, flag: string): string {
  const s = m.get(flag);
  if (!s) return `--${flag}`;
  return `--${flag}${s.values.length ? ` ${s.values.join(" ")}` : ""} (line ${s.line})`;
}
