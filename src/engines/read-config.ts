// Reading a user's engine configuration back into a plan: the shared result type, the checks every
// reader makes (GPU count, divisibility), and what kind of file a --from path is (ds_config.json,
// a torchtitan TOML or override file, otherwise command-line arguments).
import { parseInputJson, readInputText, unreadable } from "../read-input.js";
import { basename } from "node:path";
import type { ModelSpec, MoeDispatcher, Plan, Precision, RecomputeModule, SharedExpertOverlap, StageSplit, Training } from "../../planner/index.js";
import type { BalanceStated } from "./deepspeed-partition.js";
import { headDim } from "../../planner/model.js";
import { looksLikeHfConfig } from "../../planner/schema/model.js";
import { UserError } from "../errors.js";
import { MAX } from "../flags.js";
import { describeScaling, normEpsOf, ropeThetaOf } from "./model-facts.js";
import { describeMla, describeMoe } from "./moe-args.js";
import { llamaStyle } from "./engine-plan.js";
import { type AtKey, type SettingsAt, inSentence } from "./setting-at.js";
import { openQuote } from "./shell-words.js";
import { byFlag, readArgs } from "./args-file.js";

export type ReadEngine = "megatron" | "deepspeed" | "torchtitan" | "llm-foundry";

/** A model dimension the configuration states, checked against --model. */
export interface ModelClaim {
  field: ClaimField;
  value: number | string | boolean;
  setting: string;
}

export type ClaimField =
  | "layers" | "hidden" | "heads" | "kvHeads" | "ffnHidden" | "mlp" | "positional" | "tiedEmbeddings"
  | "ropeTheta" | "ropeScaling" | "normEps" | "headDim" | "moe" | "mla" | "mtpLayers" | "vocab" | "qkvBias" | "qkNorm"
  | "dropout" | "normalization" | "slidingWindow" | "biases";

/** The model's value of a claimed field, in the claim's terms: the rotary base and norm epsilon
 *  with their defaults made explicit, the head width d (h/a unless stated), the scaling in words. */
export function modelFact(m: ModelSpec, field: ClaimField): number | string | boolean | undefined {
  switch (field) {
    case "ropeTheta":
      return ropeThetaOf(m);
    case "ropeScaling":
      return describeScaling(m.ropeScaling);
    case "normEps":
      return normEpsOf(m);
    case "headDim":
      return headDim(m);
    case "moe":
      return describeMoe(m.layers, m.moe);
    case "mla":
      return describeMla(m);
    case "mtpLayers":
      return m.mtpLayers ?? 0;
    case "qkvBias":
      return m.qkvBias ?? false;
    case "qkNorm":
      return m.qkNorm ?? "none";
    case "dropout":
      return m.dropout ?? false;
    // The model file has no normalization: the planner's convention (engine-plan.ts llamaStyle).
    case "normalization":
      return llamaStyle(m) ? "RMSNorm" : "LayerNorm";
    // The window in words where it covers only some layers (Gemma 2: 4096 on 21 of 42).
    case "slidingWindow":
      if (m.slidingWindow === undefined) return "none";
      return (m.slidingWindowLayers ?? m.layers) === m.layers ? m.slidingWindow : `${m.slidingWindow} on ${m.slidingWindowLayers} of ${m.layers} layers`;
    // The biases the planner counts (planner/model.ts layerSmallParams): every one of a GPT-style
    // (learned or ALiBi) model, none of a rotary one but Q/K/V's where it has them (qkvBias).
    case "biases":
      return !llamaStyle(m) ? "all" : m.qkvBias ? "Q/K/V only" : "none";
    default:
      return m[field];
  }
}

export interface ConfigReading {
  engine: ReadEngine;
  /** The engine profile the file's settings run on when not its format's (torchtitan with
   *  compile.enable: torchtitan-compile). */
  engineName?: string;
  sources: string[];
  plan: Plan;
  gpus: number;
  /** Where the GPU count came from, for messages. */
  gpusFrom: string;
  globalBatch: number;
  seqLen?: number;
  precision?: Precision;
  overlapGradReduce?: boolean;
  /** The file's setting that overlaps the gradient reduction whatever the flags say, and why
   *  (Megatron-FSDP's optim_grads_params): plan --from refuses --no-grad-overlap beside it. */
  overlapForcedBy?: string;
  /** What the reading leaves to the engine's default because the file does not say it, each with
   *  the flag that states it instead (a ds_config's attention kernel: --attention) and its words for
   *  the training priced; plan --from's assumed line shows those the command line did not give.
   *  seqFrom: where the model file's sequence came from (a config.json's max_position_embeddings),
   *  said once in the file's own --seq assumption rather than twice (compare.ts). */
  assumed?: { flag: string; text: (t: Training, seqFrom?: string) => string }[];
  /** The distributed optimizer's weight gather overlapped with the next forward (Megatron's
   *  --overlap-param-gather, off by default); undefined: the engine's setting. */
  overlapParamGather?: boolean;
  /** The experts' dispatcher the file runs (Megatron's flex with DeepEP: "deepep"); undefined: the engine's. */
  moeDispatcher?: MoeDispatcher;
  /** The all-to-all overlapped with another micro-batch's compute (Megatron's
   *  --overlap-moe-expert-parallel-comm), with DeepEP's SMs where it dispatches (null: NCCL's). */
  moeOverlap?: { sms: number | null };
  /** The shared experts beside the all-to-alls (Megatron's --moe-shared-expert-overlap, torchtitan
   *  v0.2.2's DeepEP MoE; Engine.moe.sharedExpertOverlap); undefined: the engine's. */
  moeSharedOverlap?: SharedExpertOverlap;
  /** The modules selective recompute re-runs (Megatron-LM's --recompute-modules;
   *  Engine.recomputeModules); undefined: the engine's. */
  recomputeModules?: readonly RecomputeModule[];
  /** How the file's stack splits uneven stages, where the file states it (the DeepSpeed release a
   *  header of paraplan's export names; EngineSupports.stageSplit); undefined: the engine's. */
  stageSplit?: StageSplit;
  /** Bytes per logit the release the file belongs to keeps on the last pipeline stage
   *  (Engine.keptOutputBytes); undefined: the engine's. */
  keptOutputBytes?: number;
  /** Gradient bucket of the data-parallel reduction, bytes (DeepSpeed's reduce_bucket_size, 16-bit
   *  elements × 2); undefined: the engine's. */
  bucketBytes?: number;
  /** ZeRO-3 parameters used again within this many elements stay gathered (DeepSpeed's
   *  stage3_max_reuse_distance; Engine.dataParallel.maxReuseDistance); undefined: the engine's. */
  maxReuseDistance?: number;
  /** ZeRO-1's gradients all-reduced whole, not reduce-scattered (DeepSpeed's reduce_scatter false;
   *  Engine.dataParallel.zero1AllReduce); undefined: the engine's. */
  zero1AllReduce?: boolean;
  /** Tensor-parallel communication overlapped (Megatron's --tp-comm-overlap). */
  tpCommOverlap?: boolean;
  /** 16-bit gradient reduction (Megatron's --grad-reduce-in-bf16, or an fp16 run, which Megatron
   *  does not force to fp32). */
  gradReduceInBf16?: boolean;
  /** fp32 gradient reduction said outright (Megatron's --accumulate-allreduce-grads-in-fp32,
   *  torchtitan's mixed_precision_reduce float32, DeepSpeed's communication_data_type fp32). */
  gradReduceInFp32?: boolean;
  /** Adam's moments in bf16 (Megatron's precision-aware optimizer). */
  optimizerStates?: "fp32" | "bf16";
  fusedAttention?: boolean;
  /** The busiest expert rank's routed tokens over the mean the file's routing makes (Megatron's
   *  --moe-router-force-load-balancing: 1); undefined: the planner's default. */
  moeImbalance?: number;
  claims: ModelClaim[];
  /** Where the file states each value it gives (setting-at.ts): errors about them name it there. */
  at?: SettingsAt;
  /** Unknown settings and settings paraplan does not model, named, one line each. */
  warnings: string[];
  /** Approximations made in reading, one line each. */
  notes: string[];
}

/** What the reader may use besides the file: the model's layer count, --gpus, the default count. */
export interface ReadContext {
  model: ModelSpec;
  gpus: number | undefined;
  defaultGpus: number;
  defaultGpusFrom: string;
  /** --global-batch, for a configuration whose batch the launcher fills in ("auto"). */
  globalBatch?: number;
  /** Why the engine that would price a configuration of this format prices no experts at all
   *  (planner/constraints.ts moeEngineIssue), or null: a file that states experts is refused so
   *  before the reader asks for the flags of the experts it would price (src/engines/compare.ts). */
  moeRefusal?: (format: ReadEngine) => string | null;
  /** The DeepSpeed version an --engine file states by its supports.stageSplit (first-heavy: ≤ 0.12.4,
   *  min-spread: 0.12.5 on), for a Megatron-DeepSpeed pipeline split the files do not state
   *  (deepspeed-partition.ts). */
  deepspeedBalance?: BalanceStated;
}

/** Whether a Megatron arguments file states routed experts (--num-experts above 1). */
export const statesExperts = (args: ConfigFile): boolean => (byFlag(readArgs(args.text), args.name).get("num-experts")?.values ?? []).some((v) => Number(v) > 1);

/** The engine's refusal of the experts a Megatron arguments file states, thrown before the reader
 *  asks for their flags (ReadContext.moeRefusal). */
export function refuseUnpricedExperts(args: ConfigFile, format: ReadEngine, ctx: ReadContext): void {
  const refused = statesExperts(args) ? ctx.moeRefusal?.(format) : null;
  if (refused) throw new UserError(refused);
}

/** The model the configuration describes must be --model: checked before any layout arithmetic. */
export function checkClaims(origin: string, claims: ModelClaim[], model: ModelSpec): void {
  for (const c of claims)
    if (modelFact(model, c.field) !== c.value)
      throw new UserError(`${origin}: ${c.setting} but the model ${model.name} has ${c.field} ${String(modelFact(model, c.field))}; pass the --model the configuration trains`);
}

/** A configuration that describes a model (states its layers) but none of the model's experts,
 *  latent attention or MTP modules builds another model: refused, naming what it leaves out. */
export function statesAllOf(origin: string, claims: ModelClaim[], model: ModelSpec): void {
  if (!claims.some((c) => c.field === "layers")) return;
  const missing: [ClaimField, boolean, string][] = [
    ["moe", model.moe !== undefined, "no experts (a dense model)"],
    ["mla", model.mla !== undefined, "no multi-head latent attention"],
    ["mtpLayers", (model.mtpLayers ?? 0) > 0, "no multi-token-prediction modules"],
  ];
  for (const [field, has, says] of missing)
    if (has && !claims.some((c) => c.field === field))
      throw new UserError(`${origin}: states ${says} but the model ${model.name} has ${field} ${String(modelFact(model, field))}; pass the --model the configuration trains`);
}

/** The world size: --gpus, else what the configuration implies, else the default; a stated count
 *  that disagrees with --gpus is a contradiction. */
export function worldSize(ctx: ReadContext, implied?: { gpus: number; from: string }): { gpus: number; from: string } {
  // A file's count obeys the bound --gpus does (flags.ts MAX), so every enumeration over it ends.
  if (implied && implied.gpus > MAX.gpus) throw new UserError(`${implied.from} makes ${implied.gpus.toLocaleString("en-US")} GPUs, more than ${MAX.gpus.toLocaleString("en-US")}`);
  if (ctx.gpus !== undefined && implied && implied.gpus !== ctx.gpus)
    throw new UserError(`${implied.from} makes ${implied.gpus} GPUs but --gpus is ${ctx.gpus}; they must agree`);
  if (ctx.gpus !== undefined) return { gpus: ctx.gpus, from: "--gpus" };
  return implied ?? { gpus: ctx.defaultGpus, from: ctx.defaultGpusFrom };
}

/** A value in a sentence about `origin`: the file's setting where it states it (`--micro-batch-size
 *  3 (line 6)`), else the value in words (`micro-batch 3`). */
const factor = (at: SettingsAt | undefined, key: AtKey, words: string, v: number, origin: string) => {
  const s = at?.[key];
  return s ? inSentence(s, origin) : `${words} ${v}`;
};

/** dp from the GPU count, or a one-line contradiction naming the settings that make it. */
export function dataParallel(origin: string, gpus: number, gpusFrom: string, tp: number, pp: number, cp = 1, at?: SettingsAt): number {
  if (gpus % (tp * pp * cp) !== 0) {
    const ctx = cp > 1 ? ` × ${factor(at, "cp", "context", cp, origin)}` : "";
    throw new UserError(`${origin}: ${factor(at, "tp", "tensor", tp, origin)} × ${factor(at, "pp", "pipeline", pp, origin)}${ctx} = ${tp * pp * cp} does not divide the ${gpus} GPUs (${gpusFrom}); tp·pp·${cp > 1 ? "cp·" : ""}dp must be the GPU count`);
  }
  return gpus / (tp * pp * cp);
}

export function checkBatch(origin: string, globalBatch: number, dp: number, micro: number, at?: SettingsAt): void {
  if (globalBatch % (dp * micro) !== 0)
    throw new UserError(`${origin}: ${factor(at, "microBatch", "micro-batch", micro, origin)} × dp ${dp} = ${dp * micro} does not divide the global batch${at?.globalBatch ? `, ${inSentence(at.globalBatch, origin)}` : ` ${globalBatch}`}`);
}

export type FileKind = "deepspeed" | "torchtitan-toml" | "torchtitan-overrides" | "llm-foundry" | "args";

export function fileKind(path: string, text: string): FileKind {
  const t = text.trimStart();
  if (path.endsWith(".json") || t.startsWith("{")) return "deepspeed";
  // llm-foundry's training YAML (scripts/train/yamls): .yaml/.yml, or its model: and
  // global_train_batch_size: keys at the top level.
  if (/\.ya?ml$/i.test(path) || (/^model:\s*$/m.test(text) && /^global_train_batch_size:/m.test(text))) return "llm-foundry";
  if (path.endsWith(".toml") || /^\s*\[(parallelism|training|job|activation_checkpoint)\]\s*$/m.test(text)) return "torchtitan-toml";
  if (/(^|\s)--(parallelism|training|activation_checkpoint)\.\w/.test(text)) return "torchtitan-overrides";
  return "args";
}

export interface ConfigFile {
  path: string;
  name: string;
  text: string;
  kind: FileKind;
}

export function loadConfigFile(path: string): ConfigFile {
  const r = readInputText(path);
  if (!r.ok) throw new UserError(unreadable("--from", path, r));
  // paraplan's own launch files (export --format torchrun/slurm, a run directory): their plan is
  // paraplan's already, read by --plan, not an engine's configuration.
  if (/"version"\s*:/.test(r.text) && /"plan"\s*:/.test(r.text) && /"training"\s*:/.test(r.text))
    throw new UserError(`--from "${path}" is a paraplan launch spec, not an engine's configuration; give it to export --plan or execute --plan`);
  if (/-m executor\.worker\b/.test(r.text))
    throw new UserError(`--from "${path}" launches paraplan's worker (a paraplan export); give its launch.json to export --plan or execute --plan`);
  // export --format torchrun/slurm --script: the launch line of a script of the user's own, whose
  // words (torchrun.ts, slurm.ts write this comment) are no configuration paraplan reads unless
  // they are Megatron-LM's (which require --micro-batch-size); the "# plan:" line is a comment.
  if (/^# the script's words are written quoted, as given/m.test(r.text) && !/(^|\s)'?--micro-batch-size\b/.test(r.text))
    throw new UserError(`--from "${path}" is paraplan's launch script for a trainer of your own (export --script): its arguments are that script's, not a configuration paraplan reads, and it states no plan (its "# plan:" line is a comment); give --from the trainer's configuration (Megatron-LM arguments, a ds_config, a torchtitan .toml, an llm-foundry YAML), or the plan --json it was exported from to export --plan`);
  const other = notAnEngineConfig(path, r.text);
  if (other !== undefined) throw new UserError(other);
  const kind = fileKind(path, r.text);
  // A script bash would not run is no configuration: its words past the quote are a guess.
  const open = kind === "args" || kind === "torchtitan-overrides" ? openQuote(r.text) : undefined;
  if (open !== undefined)
    throw new UserError(`${basename(path)}: the ${open.quote} quote opened on line ${open.line} is never closed, so the shell cannot split the script into words (bash: "unexpected EOF while looking for matching \`${open.quote}'"); close it`);
  return { path, name: basename(path), text: r.text, kind };
}

/** paraplan's own plan (plan --json's output or one entry of its "plans", what --plan reads:
 *  src/plan-file.ts) and a model file (a HuggingFace config.json, or paraplan's own) are JSON but
 *  no ds_config: read as one they were "train_batch_size … is required". The line that says what
 *  the file is and where it goes, or undefined. */
function notAnEngineConfig(path: string, text: string): string | undefined {
  if (!path.endsWith(".json") && !text.trimStart().startsWith("{")) return undefined;
  const j = parseInputJson(text);
  if (!j.ok || typeof j.value !== "object" || j.value === null || Array.isArray(j.value)) return undefined;
  const v = j.value as Record<string, unknown>;
  const numbers = (...keys: string[]) => keys.every((k) => typeof v[k] === "number");
  // "plans" of any value (null too: a corrupt output, which --plan then names) is no ds_config key.
  if ("plans" in v || numbers("tp", "pp", "dp", "microBatch"))
    return `--from "${path}" is a paraplan plan (${"plans" in v ? "plan --json's output" : "an entry of plan --json's \"plans\""}), not an engine's configuration; give it to export --plan or execute --plan`;
  if (looksLikeHfConfig(v)) return `--from "${path}" is a model's config.json (HuggingFace), not an engine's configuration; give it as --model ${path}`;
  if (numbers("layers", "hidden", "heads")) return `--from "${path}" is a paraplan model file, not an engine's configuration; give it as --model ${path}`;
  return undefined;
}

/** The warning for a setting the engine's recorded names do not have. */
export function unknownLine(origin: string, setting: string, what: string): string {
  return `${origin}: ${setting} is not ${what}; ignored`;
}
