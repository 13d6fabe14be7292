// The setup form: which models and clusters can be chosen, their defaults, and the plan request
// the form describes. Reads presets and profiles through src/load.ts; no UI dependencies.
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { basename } from "node:path";
import { type ModelSpec, totalParams } from "../../../planner/index.js";
import { UserError } from "../../errors.js";
import { MAX } from "../../flags.js";
import { compact, count } from "../../format/units.js";
import { hardwareDir, loadModel, loadProfile, modelPresets } from "../../load.js";
import { builtinEngines, loadEngine } from "../../load-engine.js";
import { readBuiltins } from "../../builtin-table.js";
import { DEFAULT_PROFILE, type PlanRequest, buildRequest } from "../../plan-request.js";

export const DEFAULT_MODEL = "gpt3-like";
/** The plan command's default engine (src/plan-engine.ts): listed first. */
export const DEFAULT_ENGINE = "megatron-core";

export interface ModelOption {
  /** What `--model` takes: a preset name or a file path. */
  arg: string;
  name: string;
  params: number;
  /** Parameter count, compact ("175B"). */
  size: string;
  gpus: number | undefined;
  globalBatch: number | undefined;
  /** The model file's sequence length: the setup's default for --seq. */
  defaultSeqLen: number;
  /** The model as read: its size at another sequence length (a learned position table grows with it). */
  spec: ModelSpec;
}

export interface ProfileOption {
  /** What `--profile` takes: a built-in or local-<host> name, or a file path. */
  arg: string;
  gpuName: string;
  gpusPerNode: number;
  measured: boolean;
}

/** A software stack: an engine profile (profiles/engines/, or a file). */
export interface EngineOption {
  /** What `--engine` takes: a built-in name or a file path. */
  arg: string;
  name: string;
  description: string;
}

export interface SetupOptions {
  models: ModelOption[];
  profiles: ProfileOption[];
  engines: EngineOption[];
}

export function modelOption(arg: string, m: ModelSpec): ModelOption {
  // Counted at the file's sequence length (learned positions): the size `plan` reports by default.
  const params = totalParams(m, m.defaultSeqLen);
  return { arg, name: m.name, params, size: compact(params), gpus: m.gpus, globalBatch: m.globalBatch, defaultSeqLen: m.defaultSeqLen, spec: m };
}

export function profileOption(arg: string): ProfileOption {
  const hw = loadProfile(arg);
  return { arg, gpuName: hw.gpuName, gpusPerNode: hw.gpusPerNode, measured: hw.measured };
}

export function engineOption(arg: string, builtins = readBuiltins()): EngineOption {
  const e = loadEngine(arg, builtins);
  return { arg, name: e.name, description: e.description ?? "" };
}

/** Reading a model, cluster or software stack the user names (a file path, `~/` included, or a
 *  name the lists lack) into its option; throws the CLI's UserError naming its flag. */
export interface OptionLoaders {
  loadModelFile: (path: string) => ModelOption;
  loadProfileFile: (path: string) => ProfileOption;
  loadEngineFile: (path: string) => EngineOption;
}

export const FILE_LOADERS: OptionLoaders = {
  loadModelFile: (path) => modelOption(path, loadModel(expandHome(path))),
  loadProfileFile: (path) => profileOption(expandHome(path)),
  loadEngineFile: (path) => engineOption(expandHome(path)),
};

/** Every preset (ordered by size), every profile (built-ins, then measured local-<host> ones) and
 *  every built-in engine (the default first). */
export function loadSetupOptions(): SetupOptions {
  const models = modelPresets()
    .map((name) => modelOption(name, loadModel(name)))
    .sort((a, b) => a.params - b.params || a.name.localeCompare(b.name));
  const dir = hardwareDir();
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)) : [];
  const ordered = [...names.filter((n) => !n.startsWith("local-")).sort(), ...names.filter((n) => n.startsWith("local-")).sort()];
  const profiles: ProfileOption[] = [];
  for (const n of ordered) {
    try {
      profiles.push(profileOption(n));
    } catch {
      // a malformed measured profile is left out of the list; `paraplan plan --profile` names the problem
    }
  }
  const engineNames = builtinEngines().sort((a, b) => Number(b === DEFAULT_ENGINE) - Number(a === DEFAULT_ENGINE) || a.localeCompare(b));
  const builtins = readBuiltins(); // read once for every engine
  return { models, profiles, engines: engineNames.map((n) => engineOption(n, builtins)) };
}

/** `~/x` → the home directory's x. */
export const expandHome = (path: string) => (path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path);

export type FieldId = "model" | "profile" | "engine" | "nodes" | "perNode" | "batch" | "seq";
export const FIELDS: readonly FieldId[] = ["model", "profile", "engine", "nodes", "perNode", "batch", "seq"];
export type NumericField = "nodes" | "perNode" | "batch" | "seq";
/** The fields that hold a listed option or a file typed in. */
export type OptionField = "model" | "profile" | "engine";
export const isNumeric = (f: FieldId): f is NumericField => f !== "model" && f !== "profile" && f !== "engine";
export const FIELD_LABEL: Record<FieldId, string> = {
  model: "Model",
  profile: "Cluster",
  engine: "Software",
  nodes: "Nodes",
  perNode: "GPUs/node",
  batch: "Global batch",
  seq: "Sequence",
};

/** The setup fields a request's refusal may open with as a CLI flag. */
const FLAG_FIELD: Readonly<Record<string, FieldId>> = { "--model": "model", "--profile": "profile", "--engine": "engine", "--global-batch": "batch", "--seq": "seq" };

/** A request's refusal as the setup screen says it: one that opens with a field's CLI flag
 *  (`--engine: mpt-7b has ALiBi positions; …`, or a file's `--model "x.json" cannot be read`)
 *  names the field instead (`Software: …`, `Model: "x.json" cannot be read`), and so does the
 *  flag a file of another kind is to be given to (`give it to the Cluster field`), since the
 *  screen has no flags. */
export function inSetupTerms(message: string): string {
  const m = /^(--[a-z-]+):? /.exec(message);
  const field = m ? FLAG_FIELD[m[1]!] : undefined;
  const named = field === undefined ? message : `${FIELD_LABEL[field]}: ${message.slice(m![0].length)}`;
  // The field a file of another kind belongs in (`…, not a model file; give it to --profile`).
  return named.replace(/; give it to (--[a-z-]+)$/, (all, flag: string) => {
    const to = FLAG_FIELD[flag];
    return to === undefined ? all : `; give it to the ${FIELD_LABEL[to]} field`;
  });
}

export interface Cluster {
  nodes: number;
  perNode: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** nodes × GPUs per node for a GPU count: full nodes of the profile's size when they divide it. */
export function clusterFor(gpus: number, gpusPerNode: number): Cluster {
  const perNode = gpus % gpusPerNode === 0 ? gpusPerNode : gcd(gpus, gpusPerNode);
  return { nodes: gpus / perNode, perNode };
}

export interface Sizes extends Cluster {
  batch: number;
  seq: number;
}

/** The model's own setup (its file's GPUs and batch), else one node and one sequence per GPU
 *  (the defaults of `paraplan plan`). */
export function defaultsFor(m: ModelOption, p: ProfileOption): Sizes {
  const gpus = m.gpus ?? p.gpusPerNode;
  return { ...clusterFor(gpus, p.gpusPerNode), batch: m.globalBatch ?? gpus, seq: m.defaultSeqLen };
}

export interface SetupChoice extends Sizes {
  model: ModelOption;
  profile: ProfileOption;
  engine: EngineOption;
}

/** A setup as the planner and the executor take it: the request (model, hardware and training
 *  loaded once) and the cluster's shape. */
export interface Session {
  request: PlanRequest;
  nodes: number;
  perNode: number;
}

/** The plan request of a setup (throws the CLI's UserError on bad input). A GPUs-per-node value
 *  other than the profile's describes a different node: tensor parallel stays inside it, and the
 *  GPU count is checked as whole nodes of that size (plan-request.ts onNodesOf). */
export function sessionFor(c: SetupChoice): Session {
  // (each field is within its bound, the product may not be: planned beyond the plan command's)
  const gpus = c.nodes * c.perNode;
  if (gpus > MAX.gpus) throw new UserError(`GPUs: ${count(gpus)} = ${count(c.nodes)} nodes × ${count(c.perNode)} is too many: at most ${count(MAX.gpus)}`);
  // A node of more GPUs than the profile's is no node of its hardware (a 16-GPU NVLink domain of
  // DGX H100s): refused, as `paraplan` refuses it (an extending profile's node.gpusPerNode above
  // its node power, planner/schema/consistency.ts; execute --print-launch, src/app/choose.ts
  // checkProfileNode), with the fewest nodes of at most its size that split the GPUs evenly.
  const most = c.profile.gpusPerNode;
  if (c.perNode > most) {
    let n = Math.ceil(gpus / most);
    while (gpus % n !== 0) n++;
    throw new UserError(`GPUs/node: ${count(c.perNode)} is more than the ${count(most)} GPUs of a ${basename(c.profile.arg).replace(/\.json$/i, "")} node (node.gpusPerNode): plan ${count(n)} node${n > 1 ? "s" : ""} × ${count(gpus / n)}, or give a profile of larger nodes`);
  }
  const request = buildRequest({
    model: expandHome(c.model.arg),
    profile: expandHome(c.profile.arg),
    engine: expandHome(c.engine.arg),
    gpus,
    gpusPerNode: c.perNode,
    globalBatch: c.batch,
    seqLen: c.seq,
    precision: "bf16",
    fusedAttention: true,
    overlapGradReduce: true,
    fixed: {},
    top: 10,
    json: false,
    help: false,
  });
  return { request, nodes: c.nodes, perNode: c.perNode };
}

export const defaultProfileIndex = (o: SetupOptions) => Math.max(0, o.profiles.findIndex((p) => p.arg === DEFAULT_PROFILE));
export const defaultModelIndex = (o: SetupOptions) => Math.max(0, o.models.findIndex((m) => m.arg === DEFAULT_MODEL));
export const defaultEngineIndex = (o: SetupOptions) => Math.max(0, o.engines.findIndex((e) => e.arg === DEFAULT_ENGINE));
