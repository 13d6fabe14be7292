// Mixtures of experts, latent attention and multi-token prediction in the engines' terms: the
// Megatron-LM and Megatron-DeepSpeed arguments that build them, what a release cannot say (a
// refusal naming it), and reading them back. Flags are checked against the recorded release
// lists (test/export/fixtures/megatron-lm-*.txt, megatron-deepspeed.txt).
import type { ModelSpec, MoeDispatcher, MoeSpec, Plan, Precision } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";

type Arg = [string, ...string[]];
const n = (x: number) => String(x);

/** 1 for each MoE layer, 0 for a dense one (planner/types.ts MoeSpec: layer i is MoE when
 *  i >= denseLayers and (i + 1) % layerFreq === 0). */
export function layerPattern(layers: number, moe: Pick<MoeSpec, "denseLayers" | "layerFreq">): number[] {
  return Array.from({ length: layers }, (_, i) => (i >= moe.denseLayers && (i + 1) % moe.layerFreq === 0 ? 1 : 0));
}

/** A pattern as Megatron's --moe-layer-freq list expression, runs joined: "[0]*3+[1]*58". */
export function patternExpr(pattern: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < pattern.length; ) {
    let j = i;
    while (j < pattern.length && pattern[j] === pattern[i]) j++;
    runs.push(j - i === 1 ? `[${pattern[i]}]` : `[${pattern[i]}]*${j - i}`);
    i = j;
  }
  return runs.join("+");
}

/** Megatron's --moe-layer-freq (megatron/training/arguments.py moe_freq_type): an integer N
 *  makes layer i MoE when i % N == 0 (megatron/core/models/gpt/moe_module_specs / transformer
 *  block: moe_layer_pattern); otherwise a Python list expression of 0s and 1s built from lists,
 *  `*` by an integer, `+` and parentheses, e.g. "([1]*3+[0]*1)*3". */
export function parseLayerFreq(text: string, layers: number, origin: string): number[] {
  const bad = (why: string) => new UserError(`${origin}: --moe-layer-freq "${text}": ${why}`);
  const s = text.replace(/\s+/g, "");
  if (/^\d+$/.test(s)) {
    const k = Number(s);
    if (k < 1) throw bad("must be a positive integer or a list expression");
    return Array.from({ length: layers }, (_, i) => (i % k === 0 ? 1 : 0));
  }
  let at = 0;
  const MAX = 1_000_000;
  const int = (): number => {
    const m = /^\d+/.exec(s.slice(at));
    if (!m) throw bad(`expected an integer at character ${at + 1}`);
    at += m[0].length;
    return Number(m[0]);
  };
  const term = (): number[] => {
    let xs: number[];
    if (s[at] === "[") {
      at++;
      xs = [];
      while (s[at] !== "]") {
        const v = int();
        if (v !== 0 && v !== 1) throw bad("layer entries are 0 (dense) or 1 (MoE)");
        xs.push(v);
        if (s[at] === ",") at++;
        else if (s[at] !== "]") throw bad(`expected "," or "]" at character ${at + 1}`);
      }
      at++;
    } else if (s[at] === "(") {
      at++;
      xs = sum();
      if (s[at] !== ")") throw bad(`expected ")" at character ${at + 1}`);
      at++;
    } else throw bad(`expected "[" or "(" at character ${at + 1}`);
    while (s[at] === "*") {
      at++;
      const k = int();
      if (xs.length * k > MAX) throw bad("too long");
      xs = Array.from({ length: k }, () => xs).flat();
    }
    return xs;
  };
  const sum = (): number[] => {
    const out = term();
    while (s[at] === "+") {
      at++;
      out.push(...term());
      if (out.length > MAX) throw bad("too long");
    }
    return out;
  };
  const pattern = sum();
  if (at !== s.length) throw bad(`unexpected "${s[at]}" at character ${at + 1}`);
  if (pattern.length !== layers) throw bad(`lists ${pattern.length} layers, the model has ${layers}`);
  return pattern;
}

/** Width of all shared experts together (Megatron's --moe-shared-expert-intermediate-size). */
export const sharedWidth = (moe: MoeSpec): number => moe.sharedExperts * (moe.sharedFfnHidden ?? moe.expertFfnHidden);

/** The MoE layers in words, in the terms every engine can state (a shared width rather than
 *  shared experts × their width): what a read-back configuration is compared by. */
export function describeMoe(layers: number, moe: MoeSpec | undefined): string {
  if (moe === undefined) return "none (dense)";
  return `${moe.experts} experts top-${moe.topK}, expert width ${moe.expertFfnHidden}, shared width ${sharedWidth(moe)}, MoE layers ${patternExpr(layerPattern(layers, moe))}, ${moe.router} router`;
}

export function describeMla(m: ModelSpec): string {
  const a = m.mla;
  if (a === undefined) return "none";
  return `q rank ${a.qLoraRank}, kv rank ${a.kvLoraRank}, qk ${a.qkNopeHeadDim}+${a.qkRopeHeadDim} rope, v ${a.vHeadDim}`;
}

export type MegatronRelease = "core_r0.14" | "core_v0.7";

/** Why a Megatron-LM release cannot build this model's experts, latent attention or MTP, or this
 *  plan's expert layout; null when it can. core_v0.7.0's _add_moe_args has only --num-experts,
 *  --moe-router-topk, --moe-grouped-gemm and --expert-model-parallel-size: its experts are the
 *  dense FFN's width on every layer, sharded over tp. */
export function megatronMoeRefusal(m: ModelSpec, p: Plan, release: MegatronRelease, precision?: Precision): string | null {
  const name = `Megatron-LM ${release}`;
  const moe = m.moe;
  // Grouped GEMM, which paraplan prices, needs --bf16 (validate_args asserts it: arguments.py:790-791
  // @ core_v0.14.0, :396-397 @ core_v0.7.0); without it each rank loops over its local experts
  // (SequentialMLP), as priced only with one local expert a rank (readMegatronMoe).
  if (moe !== undefined && precision === "fp16" && moe.experts / p.ep > 1)
    return `${name} runs the experts' grouped GEMM (--moe-grouped-gemm) under --bf16 only (validate_args asserts it), and under --fp16 loops over the ${moe.experts / p.ep} local experts a rank, which paraplan does not price; use bf16 or fp8, or ep = ${moe.experts}`;
  if (release === "core_v0.7") {
    if (m.mla !== undefined) return `${name} has no multi-latent-attention arguments; use --release core_r0.14`;
    if ((m.mtpLayers ?? 0) > 0) return `${name} has no --mtp-num-layers; use --release core_r0.14`;
    if (moe !== undefined) {
      if (moe.sharedExperts > 0) return `${name} has no shared-expert argument (--moe-shared-expert-intermediate-size); use --release core_r0.14`;
      if (moe.expertFfnHidden !== m.ffnHidden) return `${name} has no --moe-ffn-hidden-size: its experts are --ffn-hidden-size ${m.ffnHidden} wide and ${m.name}'s are ${moe.expertFfnHidden}; use --release core_r0.14`;
      if (layerPattern(m.layers, moe).includes(0)) return `${name} has no --moe-layer-freq: every layer is MoE there, not in ${m.name}; use --release core_r0.14`;
      if (moe.router !== "softmax") return `${name} has no --moe-router-score-function (softmax only); use --release core_r0.14`;
    }
    if (p.etp !== p.tp && (moe !== undefined || p.etp > 1)) return `${name} has no --expert-tensor-parallel-size: its experts are split tp = ${p.tp} ways, the plan has etp = ${p.etp}; use --release core_r0.14`;
  }
  return null;
}

/** The Megatron-LM arguments of the model's experts and latent attention and of the plan's expert
 *  layout (core_r0.14 _add_moe_args, _add_distributed_args, _add_network_size_args (MLA), _add_mtp_args). */
export function megatronMoeArgs(m: ModelSpec, p: Plan, release: MegatronRelease, precision?: Precision, dispatcher: Arg[] = [["--moe-token-dispatcher-type", "alltoall"]]): Arg[] {
  const a: Arg[] = [];
  const recent = release === "core_r0.14";
  if (m.mla !== undefined) {
    const x = m.mla;
    a.push(["--multi-latent-attention"]);
    if (x.qLoraRank > 0) a.push(["--q-lora-rank", n(x.qLoraRank)]);
    a.push(["--kv-lora-rank", n(x.kvLoraRank)], ["--qk-head-dim", n(x.qkNopeHeadDim)], ["--qk-pos-emb-head-dim", n(x.qkRopeHeadDim)], ["--v-head-dim", n(x.vHeadDim)]);
  }
  if ((m.mtpLayers ?? 0) > 0) a.push(["--mtp-num-layers", n(m.mtpLayers!)]);
  const moe = m.moe;
  if (moe === undefined) return a;
  a.push(["--num-experts", n(moe.experts)], ["--moe-router-topk", n(moe.topK)]);
  if (recent) {
    a.push(["--moe-ffn-hidden-size", n(moe.expertFfnHidden)]);
    if (moe.sharedExperts > 0) a.push(["--moe-shared-expert-intermediate-size", n(sharedWidth(moe))]);
    const pattern = layerPattern(m.layers, moe);
    if (pattern.includes(0)) a.push(["--moe-layer-freq", patternExpr(pattern)]);
    if (moe.router === "sigmoid") a.push(["--moe-router-score-function", "sigmoid"]);
    // Group-limited routing (DeepSeek-V3's 4 of 8 groups): Megatron-Core's group_limited_topk
    // (moe_utils.py @ core_v0.14.0), the same choice of experts the model's router makes.
    if (moe.routingGroups !== undefined) a.push(["--moe-router-num-groups", n(moe.routingGroups)], ["--moe-router-group-topk", n(moe.groupsPerToken!)]);
    // Top-1 under softmax needs the softmax before the selection, or Megatron raises at start
    // (transformer_config.py:1230-1238 @ core_v0.14.0): the same scores, selected the same way.
    else if (moe.topK === 1) a.push(["--moe-router-pre-softmax"]);
  }
  a.push(...balancingArgs(moe.router, recent));
  // The all-to-all dispatcher and the grouped GEMM are what paraplan prices (planner/wire: ep
  // dispatch and combine; cost/moe-time.ts); under --fp16, which grouped GEMM refuses, the plan has
  // one local expert a rank (megatronMoeRefusal), whose SequentialMLP runs the same GEMMs.
  // (or the engine's DeepEP dispatch: megatron-moe-engine.ts)
  a.push(...dispatcher);
  if (precision !== "fp16") a.push(["--moe-grouped-gemm"]);
  a.push(["--expert-model-parallel-size", n(p.ep)]);
  if (recent) a.push(["--expert-tensor-parallel-size", n(p.etp)]);
  return a;
}

/** Megatron-DeepSpeed (megatron/arguments.py @207b2d5a _add_network_size_args / MoE group):
 *  --num-experts, --topk, --expert-interval, --moe-expert-parallel-size; its experts are the
 *  FFN's width, no shared experts, softmax top-k gating (deepspeed/moe/sharded_moe.py). */
export function deepspeedMoeRefusal(m: ModelSpec, p: Plan): string | null {
  const name = "Megatron-DeepSpeed";
  if (m.mla !== undefined) return `${name} has no multi-head latent attention`;
  if ((m.mtpLayers ?? 0) > 0) return `${name} has no multi-token-prediction modules`;
  const moe = m.moe;
  if (moe === undefined) return p.ep > 1 || p.etp > 1 ? `ep/etp > 1 needs a mixture-of-experts model` : null;
  if (moe.sharedExperts > 0) return `${name}'s MoE has no shared experts (${m.name} has ${moe.sharedExperts}); use --format megatron`;
  if (moe.expertFfnHidden !== m.ffnHidden) return `${name}'s experts are --ffn-hidden-size wide (${m.ffnHidden}); ${m.name}'s are ${moe.expertFfnHidden}; use --format megatron`;
  if (layerPattern(m.layers, moe).includes(0)) return `paraplan exports ${name} MoE only with every layer MoE (--expert-interval 1); use --format megatron`;
  if (moe.router !== "softmax") return `${name} gates with softmax top-k; ${m.name} routes with a sigmoid; use --format megatron`;
  if (p.etp > 1) return `paraplan does not export expert tensor parallel to ${name} (etp = ${p.etp})`;
  // deepspeed/runtime/engine.py:1600 @ v0.16.0: "MoE not supported with Stage 3".
  if (p.zero === 3) return `DeepSpeed runs no MoE layers under ZeRO stage 3 (it asserts "MoE not supported with Stage 3", runtime/engine.py:1600 @ v0.16.0); use ZeRO-0, 1 or 2`;
  return null;
}

export function deepspeedMoeArgs(m: ModelSpec, p: Plan): Arg[] {
  const moe = m.moe;
  if (moe === undefined) return [];
  // --create-moe-param-group: the experts' parameters in an optimizer group of their own, which
  // DeepSpeed's ZeRO-1/2 optimizer asserts (runtime/zero/stage_1_and_2.py:621-622 @ v0.16.0).
  return [["--num-experts", n(moe.experts)], ["--topk", n(moe.topK)], ["--expert-interval", "1"], ["--moe-expert-parallel-size", n(p.ep)], ["--disable-moe-token-dropping"], ["--create-moe-param-group"]];
}

/** torchtitan (job_config.py Parallelism.expert_parallel_degree; expert_tensor_parallel_degree
 *  from v0.2.0, which plan --from reads and the export does not write): experts are built by the
 *  model's registry entry, and expert parallel borrows the FSDP-sharded data-parallel ranks
 *  (torchtitan/distributed/parallel_dims.py), so the plan must shard (ZeRO-2/3) with ep | dp;
 *  paraplan exports it only without tensor parallel. */
export function torchtitanMoeRefusal(m: ModelSpec, p: Plan): string | null {
  if (p.ep === 1 && p.etp === 1) return null;
  if (p.etp > 1) return `paraplan does not export torchtitan's expert tensor parallel degree (the plan has etp = ${p.etp})`;
  if (p.zero < 2) return `torchtitan's expert parallel borrows the FSDP-sharded data-parallel ranks: the plan needs ZeRO-2 or 3 (it has ZeRO-${p.zero})`;
  if (p.tp > 1) return `paraplan does not export torchtitan expert parallel together with tensor parallel (tp = ${p.tp})`;
  if (m.moe === undefined) return "ep > 1 needs a mixture-of-experts model";
  return null;
}

export interface MoeReading {
  ep: number;
  etp: number;
  /** The experts as the arguments state them, in describeMoe's words (undefined: none stated). */
  moe: string | undefined;
  mla: string | undefined;
  mtpLayers: number | undefined;
  /** Whether some layer builds the dense MLP (--ffn-hidden-size wide): none stated, or a dense
   *  layer in --moe-layer-freq. */
  denseMlp: boolean;
  /** The dispatcher the file runs (Engine.moe.dispatcher): flex with DeepEP, else alltoall. */
  dispatcher?: MoeDispatcher;
}

/** The experts, latent attention and expert layout stated by Megatron-LM arguments (core_r0.14
 *  defaults: experts --ffn-hidden-size wide, no shared experts, every layer, softmax; expert
 *  tensor parallel = tp when not given, as validate_args sets it). */
export function readMegatronMoe(args: Map<string, ArgSetting>, o: string, layers: number | undefined, ffn: number | undefined, tp: number, notes: string[] = []): MoeReading {
  const experts = intArg(args, "num-experts", o, 0);
  const ep = intArg(args, "expert-model-parallel-size", o) ?? 1;
  const stated = experts !== undefined && experts > 0;
  const etp = intArg(args, "expert-tensor-parallel-size", o) ?? (stated ? tp : 1);
  let moe: string | undefined;
  let denseMlp = true;
  let dispatcher: MoeDispatcher = "alltoall";
  if (experts !== undefined && experts > 0) {
    if (layers === undefined) throw new UserError(`${o}: --num-experts without --num-layers: the MoE layers cannot be placed`);
    const width = intArg(args, "moe-ffn-hidden-size", o) ?? ffn;
    if (width === undefined) throw new UserError(`${o}: --num-experts without --moe-ffn-hidden-size or --ffn-hidden-size: the experts' width is not stated`);
    const freq = strArg(args, "moe-layer-freq");
    const pattern = freq === undefined ? Array.from({ length: layers }, () => 1) : parseLayerFreq(freq, layers, o);
    denseMlp = pattern.includes(0);
    dispatcher = expertKernels(args, o, experts, ep, etp, notes);
    const router = strArg(args, "moe-router-score-function") ?? "softmax";
    if (router !== "softmax" && router !== "sigmoid") throw new UserError(`${o}: --moe-router-score-function "${router}" is not softmax or sigmoid`);
    const topK = intArg(args, "moe-router-topk", o) ?? 2;
    const shared = intArg(args, "moe-shared-expert-intermediate-size", o) ?? 0;
    moe = `${experts} experts top-${topK}, expert width ${width}, shared width ${shared}, MoE layers ${patternExpr(pattern)}, ${router} router`;
    const unbalanced = balancingOff(args);
    if (unbalanced) notes.push(`${o}: no load balancing (${unbalanced}): the experts' load is priced at --moe-imbalance (default 1.25), a balanced router's; an unbalanced router can send its busiest experts far more tokens`);
  } else if (ep > 1) throw new UserError(`${o}: --expert-model-parallel-size ${ep} without --num-experts`);
  let mla: string | undefined;
  if (args.has("multi-latent-attention")) {
    const need = (flag: string) => {
      const v = intArg(args, flag, o);
      if (v === undefined) throw new UserError(`${o}: --multi-latent-attention without --${flag}: paraplan does not assume the release's default`);
      return v;
    };
    mla = `q rank ${intArg(args, "q-lora-rank", o) ?? 0}, kv rank ${need("kv-lora-rank")}, qk ${need("qk-head-dim")}+${need("qk-pos-emb-head-dim")} rope, v ${need("v-head-dim")}`;
  }
  return { ep, etp, moe, mla, mtpLayers: intArg(args, "mtp-num-layers", o, 0), denseMlp, dispatcher };
}

/** The dispatcher and expert GEMMs paraplan prices: the alltoall dispatcher (planner/wire/
 *  expert-wire.ts: each rank sends its routed copies) and the grouped GEMM of the local experts
 *  (cost/moe-time.ts), as the export writes them (megatronMoeArgs). Megatron's default dispatcher
 *  is allgather (--moe-token-dispatcher-type, arguments.py:2869-2872 @ core_v0.14.0), which
 *  gathers every token over the expert group instead; flex runs DeepEP's. Without
 *  --moe-grouped-gemm Megatron builds SequentialMLP, a loop of each local expert's own linears
 *  (grouped_mlp_modules, megatron/core/extensions/transformer_engine_spec_provider.py:60-80 and
 *  megatron/core/models/backends.py:99-112 @ core_v0.14.0; --moe-use-legacy-grouped-gemm only
 *  picks GroupedMLP under it); grouped GEMM needs --bf16 (arguments.py:790-791). Where no expert group spans ranks (ep·etp = 1) no dispatcher moves a
 *  token, and with one local expert the loop runs that expert's GEMMs alone: both as priced. */
function expertKernels(args: Map<string, ArgSetting>, o: string, experts: number, ep: number, etp: number, notes: string[]): MoeDispatcher {
  // Megatron's own asserts first, in validate_args' order: grouped GEMM needs bf16 (:790-791), and
  // no fp16 once ep > 1 (:955-956 @ core_v0.14.0, :507-508 @ core_v0.7.0; layout rule moe_fp16_ep).
  const grouped = args.has("moe-grouped-gemm");
  const fp16 = args.has("fp16");
  if (grouped && !args.has("bf16")) throw new UserError(`${o}: ${argAt(args, "moe-grouped-gemm")} without --bf16: validate_args asserts bf16 for grouped GEMM (arguments.py:790-791 @ core_v0.14.0), so the run stops at start`);
  if (fp16 && ep > 1)
    throw new UserError(`${o}: ${argAt(args, "fp16")} with ${argAt(args, "expert-model-parallel-size")}: validate_args asserts "Expert parallelism is not supported with fp16 training" (arguments.py:955-956 @ core_v0.14.0), so the run stops at start, and at ep 1 the experts run in the loop paraplan does not price: use --bf16 [moe_fp16_ep]`);
  const dispatcher = strArg(args, "moe-token-dispatcher-type");
  const deepep = flexDispatcher(args, o, dispatcher, ep, etp);
  if (!deepep && (dispatcher ?? "allgather") !== "alltoall" && ep * etp > 1) {
    const said = dispatcher === undefined ? "no --moe-token-dispatcher-type (Megatron's default allgather, arguments.py:2869-2872 @ core_v0.14.0)" : argAt(args, "moe-token-dispatcher-type");
    throw new UserError(`${o}: ${said}: the ${dispatcher ?? "allgather"} dispatcher moves tokens over the expert group otherwise than paraplan prices; it prices --moe-token-dispatcher-type alltoall (each rank sends its routed copies) and flex with --moe-enable-deepep (DeepEP: a token once per node)`);
  }
  const kind: MoeDispatcher = deepep ? "deepep" : "alltoall";
  if (grouped) return kind;
  if (experts / ep > 1)
    throw new UserError(`${o}: no --moe-grouped-gemm: Megatron runs each of the ${experts / ep} local experts' linears in a loop (SequentialMLP), which paraplan does not model; it prices the grouped GEMM (--moe-grouped-gemm${fp16 ? ", which needs --bf16: arguments.py:790-791 @ core_v0.14.0" : ""})`);
  notes.push(`${o}: no --moe-grouped-gemm: SequentialMLP with one local expert a rank (${experts} experts over ep ${ep}) runs that expert's GEMMs alone, as the grouped GEMM paraplan prices would`);
  return kind;
}

/** The flex dispatcher with DeepEP (Engine.moe.dispatcher "deepep": a token across the network
 *  once per node, cost/dispatch.ts), with what Megatron requires beside it (@ core_v0.14.0):
 *  --moe-enable-deepep only under flex (transformer_config.py:754-756 raises ValueError), flex only
 *  with it and with ep·etp > 1 (MoEFlexTokenDispatcher.__init__ asserts both, token_dispatcher.py:
 *  1161-1166); pad-to-capacity is refused by name already (megatron-refusals.ts). With etp > 1 it
 *  runs DeepEP over the etp·ep group, every token sent to each etp rank of its experts
 *  (_initialize_metadata), which paraplan does not price: refused. */
function flexDispatcher(args: Map<string, ArgSetting>, o: string, dispatcher: string | undefined, ep: number, etp: number): boolean {
  const deepep = args.has("moe-enable-deepep");
  const stops = (what: string, where: string) => new UserError(`${o}: ${what}: Megatron stops at start (${where} @ core_v0.14.0)`);
  if (deepep && dispatcher !== "flex") throw stops(`${argAt(args, "moe-enable-deepep")} with ${dispatcher === undefined ? "no --moe-token-dispatcher-type (allgather)" : argAt(args, "moe-token-dispatcher-type")}: "DeepEP backend is only supported with flex token dispatcher"`, "transformer_config.py:754-756");
  if (dispatcher !== "flex") return false;
  if (!deepep) throw stops(`${argAt(args, "moe-token-dispatcher-type")} without --moe-enable-deepep: MoEFlexTokenDispatcher asserts "DeepEP is not enabled"`, "token_dispatcher.py:1164-1166");
  if (ep * etp === 1) throw stops(`${argAt(args, "moe-token-dispatcher-type")} with no expert group (ep·etp = 1): MoEFlexTokenDispatcher asserts "Flex token dispatcher requires TPxEP > 1"`, "token_dispatcher.py:1163");
  if (etp > 1)
    throw new UserError(`${o}: ${argAt(args, "moe-token-dispatcher-type")} with --expert-tensor-parallel-size ${etp}: the flex dispatcher runs DeepEP over the etp·ep group, each token sent to every expert-tensor-parallel rank of its experts (token_dispatcher.py MoEFlexTokenDispatcher._initialize_metadata @ core_v0.14.0), which paraplan does not price: it prices DeepEP over the ep group (etp 1)`);
  return true;
}

/** Megatron-DeepSpeed's MoE arguments (megatron/arguments.py @207b2d5a): --num-experts (one count
 *  for every MoE layer), --topk (default 1), --moe-expert-parallel-size (default 1); its experts
 *  are --ffn-hidden-size wide, without shared experts, softmax-gated. paraplan reads every-layer
 *  MoE only (--expert-interval 1): the interval's placement of MoE layers is not recorded here. */
export function readDeepSpeedMoe(m: Map<string, ArgSetting>, o: string, layers: number | undefined, ffn: number | undefined): MoeReading {
  // --num-experts takes a count per MoE layer (nargs='+'; get_num_experts_per_layer, megatron/
  // model/transformer.py @ deepspeedai/Megatron-DeepSpeed): paraplan prices one count for all.
  const given = m.get("num-experts")?.values ?? [];
  const counts = new Set(given);
  // One count, or one per MoE layer (num_layers // expert_interval, the interval 2 by default):
  // get_num_experts_per_layer asserts so (megatron/model/transformer.py:1651-1652 @ 207b2d5a).
  const moeLayers = layers === undefined ? undefined : Math.floor(layers / (intArg(m, "expert-interval", o) ?? 2));
  if (given.length > 1 && moeLayers !== undefined && given.length !== moeLayers)
    throw new UserError(`${o}: ${argAt(m, "num-experts")} gives ${given.length} counts for ${moeLayers} MoE layers: Megatron-DeepSpeed asserts one count, or one per MoE layer (get_num_experts_per_layer, megatron/model/transformer.py:1651 @ 207b2d5a)`);
  if (counts.size > 1) throw new UserError(`${o}: ${argAt(m, "num-experts")} gives the MoE layers differing expert counts (a pyramid, get_num_experts_per_layer), which paraplan does not model: it prices one count for every MoE layer`);
  // --num-experts-switch builds Megatron's SwitchMLP (a router and a loop over every expert on each
  // rank, megatron/model/transformer.py) in place of each MLP, whatever --num-experts says.
  if (m.has("num-experts-switch")) throw new UserError(`${o}: ${argAt(m, "num-experts-switch")} builds Megatron's SwitchMLP (every expert on each rank, run one after another) in place of each MLP, which paraplan does not model`);
  const experts = intArg(m, "num-experts", o, 0);
  const ep = intArg(m, "moe-expert-parallel-size", o) ?? 1;
  const none = { ep, etp: 1, moe: undefined, mla: undefined, mtpLayers: undefined, denseMlp: true };
  if (experts === undefined || experts <= 1) {
    if (ep > 1) throw new UserError(`${o}: ${argAt(m, "moe-expert-parallel-size")} without --num-experts`);
    return none;
  }
  if (strArg(m, "expert-interval") !== "1") throw new UserError(`${o}: --num-experts ${experts} without --expert-interval 1: paraplan reads Megatron-DeepSpeed MoE with every layer MoE only`);
  if (m.has("enable-expert-tensor-parallelism")) throw new UserError(`${o}: ${argAt(m, "enable-expert-tensor-parallelism")}: paraplan does not read Megatron-DeepSpeed's expert tensor parallel`);
  if (layers === undefined || ffn === undefined) throw new UserError(`${o}: --num-experts without --num-layers and --ffn-hidden-size: the experts cannot be described`);
  // Token dropping is on by default: capacity factor 1.0, at least 4 tokens, every expert's batch
  // padded to its capacity (megatron/arguments.py --moe-train-capacity-factor,
  // --moe-min-capacity, --disable-moe-token-dropping @ deepspeedai/Megatron-DeepSpeed; deepspeed/moe
  // sharded_moe.py top1gating/top2gating drop_tokens). paraplan prices dropless routing, as the
  // export writes it; Megatron-LM's capacity flags are refused the same way.
  if (!m.has("disable-moe-token-dropping"))
    throw new UserError(`${o}: --num-experts ${experts} without --disable-moe-token-dropping: Megatron-DeepSpeed drops tokens by default (capacity factor 1.0, batches padded to capacity), which paraplan does not price; add --disable-moe-token-dropping to plan the dropless routing paraplan prices`);
  const topK = intArg(m, "topk", o) ?? 1;
  // --mlp-type residual adds a dense MLP and a coefficient beside each MoE layer's experts
  // (Residual-MoE, deepspeed/moe/layer.py use_residual); --use-tutel dispatches a top-1 gate with
  // Tutel's kernels instead of the einsums (sharded_moe.py MOELayer, k == 1 only).
  const mlpType = strArg(m, "mlp-type") ?? "standard";
  if (mlpType !== "standard") throw new UserError(`${o}: ${argAt(m, "mlp-type")} ${mlpType === "residual" ? "adds a dense MLP beside each MoE layer's experts (Residual-MoE, deepspeed/moe/layer.py use_residual)" : "is not standard or residual"}, which paraplan does not model`);
  if (m.has("use-tutel") && topK === 1) throw new UserError(`${o}: ${argAt(m, "use-tutel")} dispatches the top-1 gate's tokens with Tutel's kernels (deepspeed/moe/sharded_moe.py MOELayer), which paraplan does not model`);
  const all = patternExpr(Array.from({ length: layers }, () => 1));
  return { ...none, denseMlp: false, moe: `${experts} experts top-${topK}, expert width ${ffn}, shared width 0, MoE layers ${all}, softmax router` };
}

/** Load balancing, which Megatron leaves off by default (--moe-aux-loss-coeff 0.0, arguments.py
 *  @ core_v0.7.0 and core_v0.14.0) while paraplan prices the experts' load at ρ (--moe-imbalance,
 *  default 1.25), a balanced router's: a sigmoid router gets DeepSeek-V3's auxiliary-loss-free
 *  bias (update speed 0.001, §2.1.2) and its sequence-wise loss of 1e-4 (§4.2); a softmax router
 *  the auxiliary loss at 1e-2, Megatron's recommended start and its Mixtral example's
 *  (examples/mixtral/train_mixtral_8x7b_distributed.sh @ core_v0.14.0). */
function balancingArgs(router: string, recent: boolean): Arg[] {
  if (router === "sigmoid" && recent)
    return [["--moe-router-enable-expert-bias"], ["--moe-router-bias-update-rate", "1e-3"], ["--moe-router-load-balancing-type", "seq_aux_loss"], ["--moe-aux-loss-coeff", "1e-4"]];
  return [["--moe-router-load-balancing-type", "aux_loss"], ["--moe-aux-loss-coeff", "1e-2"]];
}

/** Why a Megatron file's router is left unbalanced, or null: the auxiliary losses at coefficient 0
 *  (the release's default, arguments.py @ core_v0.14.0) or "none", without the auxiliary-loss-free
 *  expert bias, sinkhorn, or the benchmarking option that routes at random. */
function balancingOff(args: Map<string, ArgSetting>): string | null {
  if (args.has("moe-router-enable-expert-bias") || args.has("moe-router-force-load-balancing")) return null;
  const types = args.get("moe-router-load-balancing-type")?.values ?? ["aux_loss"];
  // (quantile_balancing, core_v0.19.0: a per-expert bias fitted to the scores' quantiles, router.py quantile_balancing)
  if (types.includes("sinkhorn") || types.includes("quantile_balancing")) return null;
  const coeffs = (args.get("moe-aux-loss-coeff")?.values ?? ["0.0"]).map(Number);
  // (core_r0.14 pairs the two lists, one coefficient a type; a single coefficient serves every type)
  const coeffOf = (i: number) => (coeffs.length === types.length ? coeffs[i]! : Math.max(...coeffs));
  if (types.some((t, i) => (t === "aux_loss" || t === "seq_aux_loss" || t === "global_aux_loss") && coeffOf(i) > 0)) return null;
  if (types.every((t) => t === "none")) return "--moe-router-load-balancing-type none";
  return args.has("moe-aux-loss-coeff") ? argAt(args, "moe-aux-loss-coeff") : "--moe-aux-loss-coeff left at Megatron's default 0.0";
}
