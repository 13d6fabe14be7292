// An llm-foundry training YAML (scripts/train/yamls/pretrain/*.yaml) → a plan on the fsdp engine.
// Meanings from llm-foundry's train.py and Composer's FSDP support (composer/distributed/
// mosaic_fsdp_utils.py get_mixed_precision: DEFAULT = bf16 parameters with fp32 reduce_dtype,
// PURE = all bf16, FULL = fp32; sharding_strategy FULL_SHARD / SHARD_GRAD_OP / NO_SHARD), MPT's
// model keys from llmfoundry/models/mpt/configuration_mpt.py. Composer trains with data parallel
// only: tp = pp = cp = 1, dp = the GPU count (--gpus; the YAML does not state it).
import { LineCounter, parseDocument, isAlias, isMap, isScalar, visit, type Node, type Pair } from "yaml";
import type { Precision, Recompute, ZeroStage } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ConfigFile, type ConfigReading, type ModelClaim, type ReadContext, checkBatch, checkClaims, unknownLine, worldSize } from "./read-config.js";
import type { SettingsAt } from "./setting-at.js";
import { notValidYaml } from "./foundry-model.js";

/** Top-level keys that set data, logging, evaluation or checkpoints: nothing a step's time or
 *  memory depends on (llm-foundry scripts/train/train.py TrainConfig). */
const IGNORED_TOP = new Set([
  "variables", "global_seed", "seed", "run_name", "tokenizer", "train_loader", "eval_loader", "eval_loaders", "icl_tasks", "eval_gauntlet",
  "scheduler", "optimizer", "algorithms", "max_duration", "eval_interval", "eval_first", "eval_subset_num_batches", "device_eval_batch_size",
  "progress_bar", "log_to_console", "console_log_interval", "callbacks", "loggers", "save_folder", "save_interval", "save_num_checkpoints_to_keep",
  "save_overwrite", "save_weights_only", "load_path", "load_weights_only", "autoresume", "python_log_level", "dist_timeout", "data_local", "data_remote",
  "max_seq_len", "global_train_batch_size", "device_train_microbatch_size", "precision", "fsdp_config", "tp_config", "model", "model_name_or_path", "code_paths",
]);
/** TrainConfig's fields (llmfoundry/utils/config_utils.py @ 8c8dd48, v0.21.0 the same): a top-level
 *  key that is none of them, nor an older name IGNORED_TOP keeps, makes make_dataclass_and_log_config
 *  raise "Unused parameter … found in cfg" before the first step. */
export const TRAIN_CONFIG_FIELDS = new Set(("model tokenizer optimizer scheduler train_loader device_train_batch_size device_eval_batch_size max_duration max_seq_len seed precision code_paths max_split_size_mb expandable_segments cuda_load_lazy dist_timeout fsdp_config tp_config accumulate_train_batch_on_tokens eval_interval eval_loader eval_loaders icl_tasks icl_tasks_str eval_gauntlet eval_gauntlet_str icl_subset_num_batches icl_seq_len loggers progress_bar log_to_console python_log_level console_log_interval log_config callbacks algorithms save_folder save_latest_filename save_overwrite save_weights_only save_filename save_interval save_num_checkpoints_to_keep load_path load_weights_only load_strict_model_weights load_ignore_keys save_ignore_keys only_hf_checkpoint only_composer_checkpoint train_subset_num_batches device_train_microbatch_size global_train_batch_size spin_dataloaders eval_subset_num_batches eval_first compile_config metadata flatten_metadata run_name autoresume profiler variables n_gpus device_train_grad_accum").split(" "));
/** fsdp_config keys that tune what paraplan prices as FSDP's defaults, or nothing of the step. */
const IGNORED_FSDP = new Set([
  "sharding_strategy", "mixed_precision", "activation_checkpointing", "activation_checkpointing_reentrant", "activation_cpu_offload", "limit_all_gathers",
  "verbose", "use_orig_params", "sync_module_states", "state_dict_type", "load_monolith_rank0_only", "backward_prefetch", "forward_prefetch", "cpu_offload",
  "data_parallel_replicate_degree", "data_parallel_shard_degree",
]);
const MODEL_KEYS = new Set(["name", "init_device", "d_model", "n_heads", "n_layers", "head_dim", "expansion_ratio", "max_seq_len", "vocab_size", "attn_config", "ffn_config", "no_bias", "attention_bias", "norm_type", "norm_eps", "emb_pdrop", "resid_pdrop", "learned_pos_emb", "logit_scale", "tie_word_embeddings", "init_config", "fc_type", "loss_fn", "pretrained_model_name_or_path", "pretrained", "use_auth_token", "config_overrides", "use_flash_attention_2", "block_overrides"]);
/** MPT's attn_config keys (llmfoundry/models/utils/config_defaults.py attn_config_defaults @
 *  8c8dd48, with kv_n_heads and the older prefix_lm): each is a claim, a refusal, or changes no
 *  work (the kernel, the softmax scale, Q/K/V clipping and fusing, ALiBi's slopes, rotary
 *  settings, soft-capping and temperature, elementwise on scores computed anyway). */
const ATTN_KEYS = new Set([
  "attn_type", "attn_pdrop", "attn_impl", "qk_ln", "qk_gn", "fused_qkv", "clip_qkv", "softmax_scale", "attn_uses_sequence_id", "sliding_window_size",
  "attn_logit_softcapping", "alibi", "alibi_bias_max", "rope", "nope", "rope_theta", "rope_impl", "rope_dail_config", "rope_hf_config",
  "attn_temperature_tuning", "kv_dim", "kv_n_heads", "prefix_lm",
]);
/** attn_config keys whose value true builds a model paraplan does not (configuration_mpt.py). */
const ATTN_REFUSED: Record<string, string> = {
  attn_uses_sequence_id: "attention restricted to each packed sequence (its work follows the packing)",
  nope: "attention without any position encoding",
  prefix_lm: "bidirectional attention over a prefix (a Prefix LM)",
};

const SHARDING: Record<string, ZeroStage> = { FULL_SHARD: 3, SHARD_GRAD_OP: 2, NO_SHARD: 0 };
const PRECISIONS: Record<string, Precision> = { amp_bf16: "bf16", amp_fp16: "fp16", amp_fp8: "fp8" };

export function readLlmFoundry(file: ConfigFile, ctx: ReadContext): ConfigReading {
  const o = file.name;
  const lines = new LineCounter();
  // (a key given twice is YAML's error, not one of the two values picked silently)
  const doc = parseDocument(file.text, { lineCounter: lines });
  if (doc.errors.length > 0) throw notValidYaml(o, doc.errors[0]!.message);
  if (!isMap(doc.contents)) throw new UserError(`${o}: not an llm-foundry training YAML (no top-level mapping)`);
  // A merge key (`<<: *base`) adds its anchor's keys to a mapping when OmegaConf loads it; the
  // lookups below read a mapping's own keys, so such a file is refused rather than read short.
  visit(doc, { Pair: (_, p) => {
    if (isScalar(p.key) && p.key.value === "<<") throw new UserError(`${o}: a YAML merge key (<<, line ${p.key.range ? lines.linePos(p.key.range[0]).line : "?"}), which paraplan does not read; write the keys out`);
  } });
  /** A node, an alias (`*a`) resolved to its anchor's node (YAML 1.2 §3.2.2.2). */
  const deref = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  const warnings: string[] = [];
  const notes: string[] = [];
  /** The pair at a dotted path, for its value and line. */
  const pair = (path: string): Pair<Node, Node> | undefined => {
    let node: unknown = doc.contents;
    let found: Pair<Node, Node> | undefined;
    for (const k of path.split(".")) {
      if (!isMap(node)) return undefined;
      found = (node.items as Pair<Node, Node>[]).find((p) => isScalar(p.key) && String(p.key.value) === k);
      if (!found) return undefined;
      node = deref(found.value);
    }
    return found;
  };
  const lineAt = (p: Pair<Node, Node>) => (p.key?.range ? lines.linePos(p.key.range[0]).line : undefined);
  /** A scalar, with OmegaConf's ${a.b} references to other scalars of the file resolved. */
  const value = (path: string, seen: string[] = []): unknown => {
    const p = pair(path);
    if (!p) return undefined;
    const node = deref(p.value);
    const v = isScalar(node) ? node.value : node === null || node === undefined ? null : node;
    const ref = typeof v === "string" ? /^\$\{([\w.]+)\}$/.exec(v.trim()) : null;
    if (ref) {
      // ${max_seq_len} or ${variables.max_seq_len} (newer files keep shared values under variables)
      const name = ref[1]!;
      const target = [name, `variables.${name}`, name.replace(/^variables\./, "")].find((t) => pair(t) !== undefined);
      if (target === undefined || seen.includes(target)) throw new UserError(`${setting(path, v)}: a reference paraplan cannot resolve in this file`);
      return value(target, [...seen, path]);
    }
    if (typeof v === "string" && v.includes("${")) throw new UserError(`${setting(path, v)}: an interpolation paraplan does not evaluate; write the value`);
    return v;
  };
  /** The key with its value and line, `fsdp_config.mixed_precision: "FULL" (line 27)`; with the
   *  file's name in front for a message of its own. */
  const stated = (path: string, v: unknown) => {
    const p = pair(path);
    const line = p ? lineAt(p) : undefined;
    return `${path}: ${typeof v === "string" ? JSON.stringify(v) : String(v)}${line !== undefined ? ` (line ${line})` : ""}`;
  };
  const setting = (path: string, v: unknown) => `${o}: ${stated(path, v)}`;
  const at: SettingsAt = {};
  const put = (key: keyof SettingsAt, path: string) => {
    const p = pair(path);
    if (p) at[key] = { file: o, setting: stated(path, value(path)) };
  };
  const int = (path: string): number | undefined => {
    const v = value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new UserError(`${setting(path, v)}: must be a whole number of at least 1`);
    return v;
  };
  /** A switch: true, false, or undefined where absent or null. Anything else is refused, not read as
   *  false: OmegaConf loads YAML 1.1, where an unquoted yes, on, no, off is a boolean (PyYAML's
   *  resolver), which this YAML 1.2 parser reads as text. */
  const flag = (path: string): boolean | undefined => {
    const v = value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw new UserError(`${setting(path, v)}: must be true or false (OmegaConf reads an unquoted yes, on, no, off as one, paraplan as text); write true or false`);
    return v;
  };
  /** A warning for each key of a mapping that `known` lacks, by its dotted path and line. */
  const warnUnknown = (map: unknown, prefix: string, known: Set<string>, what: string) => {
    if (!isMap(map)) return;
    for (const p of map.items as Pair<Node, Node>[])
      if (isScalar(p.key) && !known.has(String(p.key.value))) warnings.push(unknownLine(o, `${prefix}${String(p.key.value)} (line ${lineAt(p)})`, what));
  };
  warnUnknown(doc.contents, "", IGNORED_TOP, "an llm-foundry training setting paraplan knows");
  // The optimizer (llmfoundry/optim/__init__.py @8c8dd48 registers decoupled_adamw, the Lion
  // variants and no_op): Adam's two fp32 moments are what paraplan prices; Lion keeps one, no_op none.
  const optimizer = value("optimizer.name");
  if (optimizer !== undefined && optimizer !== "decoupled_adamw")
    throw new UserError(`${setting("optimizer.name", optimizer)}: paraplan prices Adam's states (decoupled_adamw), not this optimizer's`);

  // The model: MPT's own keys are claims against --model; an hf_causal_lm model is --model's.
  const claims: ModelClaim[] = [];
  const modelName = value("model.name");
  // Another stack's YAML (a NeMo or Hydra config has model: without name:) is not read as this one.
  if (modelName === undefined) throw new UserError(`${o}: no model.name: not an llm-foundry training YAML (paraplan reads those, model.name mpt_causal_lm or hf_causal_lm)`);
  // (then a key TrainConfig lacks: llm-foundry raises on it, so the file does not train; exit 2)
  if (isMap(doc.contents))
    for (const p of doc.contents.items as Pair<Node, Node>[]) {
      const k = isScalar(p.key) ? String(p.key.value) : undefined;
      if (k !== undefined && !TRAIN_CONFIG_FIELDS.has(k) && !IGNORED_TOP.has(k))
        throw new UserError(`${o}: ${k} (line ${lineAt(p)}) is not a field of llm-foundry's TrainConfig: make_dataclass_and_log_config raises "Unused parameter ${k} found in cfg" (llmfoundry/utils/config_utils.py @ 8c8dd48); place it under variables, or check its spelling`);
    }
  if (modelName === "mpt_causal_lm") {
    warnUnknown(pair("model")!.value, "model.", MODEL_KEYS, "an MPT model setting paraplan knows");
    // (a key the file leaves out is named as MPT's default for it)
    const claim = (field: ModelClaim["field"], path: string, v: number | string | boolean | undefined, absent = "") => {
      if (v === undefined) return;
      claims.push({ field, value: v, setting: pair(path) ? stated(path, value(path)) : `${path} absent (${absent})` });
    };
    const d = int("model.d_model");
    claim("layers", "model.n_layers", int("model.n_layers"));
    claim("hidden", "model.d_model", d);
    claim("heads", "model.n_heads", int("model.n_heads"));
    claim("vocab", "model.vocab_size", int("model.vocab_size"));
    const ratio = value("model.expansion_ratio") ?? 4;
    if (typeof ratio !== "number" || !(ratio > 0)) throw new UserError(`${setting("model.expansion_ratio", ratio)}: must be a number above 0`);
    // resolve_ffn_hidden_size (llmfoundry/models/layers/ffn.py): ffn_config.ffn_hidden_size when
    // given, else int(d_model · expansion_ratio).
    const width = int("model.ffn_config.ffn_hidden_size");
    if (width !== undefined) claim("ffnHidden", "model.ffn_config.ffn_hidden_size", width);
    else if (d !== undefined) claim("ffnHidden", "model.expansion_ratio", Math.floor(ratio * d), "MPT's default 4: an FFN of 4·d_model");
    claim("headDim", "model.head_dim", int("model.head_dim"));
    // head_dim and attention_bias came after llm-foundry's newest release, v0.21.0 (ecf60336,
    // 2025-05-31): #1842 (875940be) and #1837 (93d04542) on main; v0.21.0's MPTConfig.__init__ has
    // neither and passes them on to PretrainedConfig, which keeps them unused.
    const afterRelease = ["model.head_dim", "model.attention_bias"].filter((p) => pair(p));
    if (afterRelease.length > 0)
      notes.push(`${o}: ${afterRelease.map((p) => stated(p, value(p))).join(", ")} read as llm-foundry main (@8c8dd48) builds the model; its newest release, v0.21.0, has no such MPT setting (d_model / n_heads wide heads, the QKV bias no_bias's)`);
    claim("tiedEmbeddings", "model.tie_word_embeddings", flag("model.tie_word_embeddings") ?? true, "MPT's default: tied");
    const eps = value("model.norm_eps");
    if (typeof eps === "number") claim("normEps", "model.norm_eps", eps);
    warnUnknown(pair("model.attn_config")?.value, "model.attn_config.", ATTN_KEYS, "an MPT attention setting paraplan knows");
    const kv = int("model.attn_config.kv_n_heads");
    const attnType = value("model.attn_config.attn_type") ?? "multihead_attention";
    if (attnType !== "multihead_attention" && attnType !== "grouped_query_attention" && attnType !== "multiquery_attention")
      throw new UserError(`${setting("model.attn_config.attn_type", attnType)}: an attention paraplan does not model`);
    // GroupedQueryAttention takes kv_n_heads with no default, MultiheadAttention and
    // MultiQueryAttention take none (llmfoundry/models/layers/attention.py:463, 926-952, 987-1013
    // @ 8c8dd48; the block passes attn_config's keys on as keyword arguments, blocks.py:98-121):
    // either way MPT is not built.
    if (attnType === "grouped_query_attention" && kv === undefined)
      throw new UserError(`${setting("model.attn_config.attn_type", attnType)} without model.attn_config.kv_n_heads: llm-foundry's GroupedQueryAttention has no default for it (attention.py:463 @ 8c8dd48), so MPT is not built; state the K/V heads`);
    if (attnType !== "grouped_query_attention" && kv !== undefined)
      throw new UserError(`${setting("model.attn_config.kv_n_heads", kv)} with attn_type ${attnType}${pair("model.attn_config.attn_type") ? "" : " (MPT's default)"}: its attention class takes no kv_n_heads (a TypeError when MPT is built, attention.py @ 8c8dd48); kv_n_heads is for grouped_query_attention`);
    for (const [key, what] of Object.entries(ATTN_REFUSED))
      if (flag(`model.attn_config.${key}`) === true) throw new UserError(`${setting(`model.attn_config.${key}`, true)}: paraplan does not model ${what}`);
    const kvDim = value("model.attn_config.kv_dim");
    if (kvDim !== undefined && kvDim !== null) throw new UserError(`${setting("model.attn_config.kv_dim", kvDim)}: K/V projections of another input width (cross-attention), which paraplan does not model`);
    if (pair("model.block_overrides") && value("model.block_overrides") !== null)
      throw new UserError(`${o}: model.block_overrides (line ${lineAt(pair("model.block_overrides")!)}): per-layer overrides, which paraplan does not model`);
    // Query/key norms (attention.py:541-615): qk_ln over the whole projections, qk_gn over each
    // head's head_dim channels (ModelSpec.qkNorm "full", "head"); both at once raise.
    const [qkLn, qkGn] = [flag("model.attn_config.qk_ln") === true, flag("model.attn_config.qk_gn") === true];
    if (qkLn && qkGn) throw new UserError(`${setting("model.attn_config.qk_gn", true)} beside qk_ln true: llm-foundry builds one of them ("Only one of qk_ln and qk_gn can be set to True.", attention.py:541)`);
    const qkKey = qkGn ? "model.attn_config.qk_gn" : "model.attn_config.qk_ln";
    claim("qkNorm", qkKey, qkLn ? "full" : qkGn ? "head" : "none", "MPT's default: no query/key norm");
    // sliding_window_size: -1 (no window) by default (config_defaults.py), else keys within it.
    const window = value("model.attn_config.sliding_window_size") ?? -1;
    if (window !== -1 && !(typeof window === "number" && Number.isInteger(window) && window > 0))
      throw new UserError(`${setting("model.attn_config.sliding_window_size", window)}: -1 (no window) or a whole number above 0`);
    claim("slidingWindow", "model.attn_config.sliding_window_size", window === -1 ? "none" : (window as number), "MPT's default -1: no window");
    // Dropout (configuration_mpt.py:37-38 resid_pdrop, emb_pdrop, config_defaults.py attn_pdrop; 0
    // unless stated; probabilities, :303-306): paraplan's dropout is the attention's, the
    // residual's and the embeddings' masks together (planner/cost/activations.ts), all or none.
    const drops = ["model.attn_config.attn_pdrop", "model.resid_pdrop", "model.emb_pdrop"].map((path) => {
      const p = value(path) ?? 0;
      if (typeof p !== "number" || !(p >= 0 && p < 1)) throw new UserError(`${setting(path, p)}: must be a dropout probability, from 0 to below 1`);
      return { path, p, said: pair(path) ? stated(path, p) : `${path} absent (0)` };
    });
    const dropping = drops.filter((x) => x.p > 0);
    if (dropping.length > 0 && dropping.length < drops.length)
      throw new UserError(`${o}: ${dropping.map((x) => x.said).join(" and ")} beside ${drops.filter((x) => x.p === 0).map((x) => x.said).join(" and ")}: paraplan models dropout on the attention, the residual stream and the embeddings all or none`);
    claim("dropout", (dropping[0] ?? drops[1]!).path, dropping.length > 0, "MPT's default 0: no dropout");
    // Biases (configuration_mpt.py:44, 180-181: no_bias False by default, a bias in every linear
    // layer; attention_bias, the Q/K/V projection's, not no_bias unless stated). The planner counts
    // every bias of a GPT-style model (an upper bound where no_bias drops them, planner/model.ts
    // layerSmallParams) and none of a rotary one but Q/K/V's (qkvBias): checked for rotary models.
    const noBias = value("model.no_bias") ?? false;
    const qkvBias = value("model.attention_bias") ?? !noBias;
    if (typeof noBias !== "boolean" || typeof qkvBias !== "boolean") throw new UserError(`${setting(typeof noBias !== "boolean" ? "model.no_bias" : "model.attention_bias", typeof noBias !== "boolean" ? noBias : qkvBias)}: must be true or false`);
    if (ctx.model.positional === "rope") {
      const biases = !noBias ? (qkvBias ? "all" : "all but Q/K/V") : qkvBias ? "Q/K/V only" : "none";
      const key = noBias && pair("model.attention_bias") ? "model.attention_bias" : "model.no_bias";
      claim("biases", key, biases, "MPTConfig's default False: a bias in every linear layer");
    }
    // multi-head: a K/V head per query head; multi-query: one; grouped-query: kv_n_heads
    const heads = int("model.n_heads");
    if (attnType === "grouped_query_attention") claim("kvHeads", "model.attn_config.kv_n_heads", kv);
    else claim("kvHeads", "model.attn_config.attn_type", attnType === "multiquery_attention" ? 1 : heads, "MPT's default multihead_attention");
    // MPT's defaults (configuration_mpt.py attn_config_defaults): ALiBi off, learned positions on.
    const alibi = flag("model.attn_config.alibi") === true;
    const rope = flag("model.attn_config.rope") === true;
    // (MPT applies both: ALiBi's bias on the scores of rotated queries and keys)
    if (alibi && rope) throw new UserError(`${setting("model.attn_config.rope", true)} beside attn_config.alibi true: both position encodings at once, which paraplan does not model`);
    if (!alibi && !rope && flag("model.learned_pos_emb") === false)
      throw new UserError(`${setting("model.learned_pos_emb", false)}: no position encoding (neither ALiBi nor rotary), which paraplan does not model`);
    claim("positional", alibi ? "model.attn_config.alibi" : rope ? "model.attn_config.rope" : "model.learned_pos_emb", alibi ? "alibi" : rope ? "rope" : "learned", "MPT's default: learned positions, no attn_config.alibi or rope");
    // attn_config.rope_theta: 10,000 unless stated (llmfoundry/models/utils/config_defaults.py)
    if (rope) claim("ropeTheta", "model.attn_config.rope_theta", (value("model.attn_config.rope_theta") as number | undefined) ?? 10000, "llm-foundry's default 10000");
    const ffn = value("model.ffn_config.ffn_type") ?? "mptmlp";
    // (te_ln_mlp: Transformer Engine's LayerNormMLP, mptmlp's GELU MLP with the block's second norm
    // inside it, llmfoundry/models/layers/ffn.py; read as mptmlp, as a config.json's is: hf-alibi.ts)
    if (ffn !== "mptmlp" && ffn !== "mptglu" && ffn !== "te_ln_mlp") throw new UserError(`${setting("model.ffn_config.ffn_type", ffn)}: a feed-forward block paraplan does not model (mptmlp, mptglu and te_ln_mlp are; mixture-of-experts FFNs are not read from llm-foundry files)`);
    // llm-foundry ffn.py: MPTGLU's activation is ffn_act_fn, GELU by default (_FFN_ACT_FN_DEFAULT)
    const act = String(value("model.ffn_config.ffn_act_fn.name") ?? "gelu");
    claim("mlp", "model.ffn_config.ffn_type", ffn !== "mptglu" ? "gelu" : /silu|swish/.test(act) ? "swiglu" : "geglu", "MPT's default mptmlp");
  } else if (modelName !== "hf_causal_lm") {
    throw new UserError(`${setting("model.name", modelName)}: paraplan reads llm-foundry's mpt_causal_lm and hf_causal_lm models`);
  } else if (modelName === "hf_causal_lm") notes.push(`${o}: model.name hf_causal_lm: the model is --model ${ctx.model.name} (its Hugging Face config is not in this file)`);
  checkClaims(o, claims, ctx.model);

  // Precision (Composer's precision: amp_bf16, amp_fp16, amp_fp8; fp32 trains in fp32).
  const prec = value("precision") ?? "amp_bf16";
  const precision = PRECISIONS[String(prec)];
  if (precision === undefined) throw new UserError(`${setting("precision", prec)}: paraplan models amp_bf16, amp_fp16 and amp_fp8 training`);
  // amp_fp8 is Transformer Engine's fp8_autocast alone (composer/core/precision.py
  // get_precision_context): only TE modules run fp8 GEMMs. MPT builds them with fc_type te ("te
  // layers support fp8", MPTConfig; its default torch builds torch.nn.Linear, as a Hugging Face
  // model does), which llm-foundry's fp8 benchmarks set (scripts/train/benchmarking/
  // submit_benchmarks.py run_config); without it no GEMM runs in fp8, where paraplan prices all.
  if (precision === "fp8") {
    const fcPath = isMap(deref(pair("model.fc_type")?.value)) ? "model.fc_type.name" : "model.fc_type";
    const fc = value(fcPath) ?? "torch";
    if (modelName === "hf_causal_lm")
      throw new UserError(`${setting("precision", prec)} with model.name hf_causal_lm: the Hugging Face model's linear layers are torch.nn.Linear, which Composer's amp_fp8 (Transformer Engine's fp8_autocast) does not run in fp8, so no GEMM would; paraplan prices them in fp8: use amp_bf16, or llm-foundry's mpt_causal_lm with model.fc_type te`);
    if (fc !== "te")
      throw new UserError(`${setting("precision", prec)} with ${pair(fcPath) ? stated(fcPath, fc) : "model.fc_type absent (MPT's default torch)"}: MPT then builds torch.nn.Linear layers, which Composer's amp_fp8 (Transformer Engine's fp8_autocast) does not run in fp8, so no GEMM would; paraplan prices them in fp8: set model.fc_type: te, as llm-foundry's fp8 benchmarks do, or use amp_bf16`);
  }
  put("precision", "precision");
  // FSDP (absent or null: llm-foundry passes parallelism_config {fsdp: None} and Composer wraps
  // the model in DDP: llmfoundry/command_utils/train.py @ 8c8dd48 train; an empty mapping is
  // FSDP with Composer's defaults).
  const fsdpNull = pair("fsdp_config") !== undefined && value("fsdp_config") === null;
  const hasFsdp = pair("fsdp_config") !== undefined && !fsdpNull;
  if (fsdpNull) notes.push(`${setting("fsdp_config", null)}: no FSDP; Composer trains with DDP, read as ZeRO-0`);
  // Tensor parallelism (train.py builds Composer's TPConfig from tp_config): the fsdp engine has none.
  const tpConfig = pair("tp_config");
  if (tpConfig !== undefined && value("tp_config") !== null && value("tp_config.tensor_parallel_degree") !== 1) {
    const degree = value("tp_config.tensor_parallel_degree");
    throw new UserError(`${degree === undefined ? `${o}: tp_config (line ${lineAt(tpConfig)}) without tensor_parallel_degree` : setting("tp_config.tensor_parallel_degree", degree)}: tensor parallelism, which paraplan's fsdp engine (Composer's FSDP) does not model`);
  }
  // Composer's HSDP (FSDPConfig data_parallel_replicate_degree, data_parallel_shard_degree: a
  // device mesh that shards within groups and replicates across them).
  const replicate = value("fsdp_config.data_parallel_replicate_degree");
  if (hasFsdp && replicate !== undefined && replicate !== null && replicate !== 1)
    throw new UserError(`${setting("fsdp_config.data_parallel_replicate_degree", replicate)}: hybrid sharding (sharded within groups, replicated across them), which paraplan does not model`);
  const shardDegree = value("fsdp_config.data_parallel_shard_degree");
  if (hasFsdp && shardDegree !== undefined && shardDegree !== null && shardDegree !== -1 && shardDegree !== worldSize(ctx).gpus)
    throw new UserError(`${setting("fsdp_config.data_parallel_shard_degree", shardDegree)}: sharding over fewer than all ${worldSize(ctx).gpus} GPUs (hybrid sharding), which paraplan does not model`);
  const fsdp = pair("fsdp_config")?.value;
  warnUnknown(fsdp, "fsdp_config.", IGNORED_FSDP, "an FSDP setting paraplan knows");
  const shard = String(value("fsdp_config.sharding_strategy") ?? "FULL_SHARD");
  const zero = hasFsdp ? SHARDING[shard] : 0;
  if (zero === undefined) throw new UserError(`${setting("fsdp_config.sharding_strategy", shard)}: paraplan models FULL_SHARD, SHARD_GRAD_OP and NO_SHARD (hybrid sharding shards within a node and replicates across nodes)`);
  if (hasFsdp) put("zero", "fsdp_config.sharding_strategy");
  const mp = value("fsdp_config.mixed_precision") ?? "DEFAULT";
  if (hasFsdp && typeof mp !== "string") throw new UserError(`${setting("fsdp_config.mixed_precision", mp)}: paraplan reads Composer's DEFAULT, PURE and FULL, not a per-dtype mapping`);
  if (hasFsdp && String(mp).toUpperCase() === "FULL") throw new UserError(`${setting("fsdp_config.mixed_precision", mp)}: fp32 parameters in the forward and backward, which paraplan does not model`);
  if (hasFsdp && !["DEFAULT", "PURE"].includes(String(mp).toUpperCase())) throw new UserError(`${setting("fsdp_config.mixed_precision", mp)}: not one of Composer's DEFAULT, PURE, FULL`);
  for (const key of ["activation_cpu_offload", "cpu_offload"])
    if (flag(`fsdp_config.${key}`) === true) throw new UserError(`${setting(`fsdp_config.${key}`, true)}: moves state to the CPU, which paraplan does not model`);
  const recompute: Recompute = flag("fsdp_config.activation_checkpointing") === true ? "full" : "none";
  if (recompute === "full") put("recompute", "fsdp_config.activation_checkpointing");
  // Sizes.
  const seqLen = int("max_seq_len") ?? int("model.max_seq_len");
  put("seqLen", pair("max_seq_len") ? "max_seq_len" : "model.max_seq_len");
  const globalBatch = int("global_train_batch_size") ?? ctx.globalBatch;
  if (globalBatch === undefined) throw new UserError(`${o}: no global_train_batch_size; give --global-batch`);
  put("globalBatch", "global_train_batch_size");
  // Absent, it is llm-foundry's default "auto" (TrainConfig, llmfoundry/utils/config_utils.py), not
  // the whole per-rank batch: Composer starts there and halves it on each out-of-memory error.
  const microRaw = value("device_train_microbatch_size");
  if (microRaw === undefined || microRaw === null || microRaw === "auto") {
    const said = microRaw === undefined ? `${o}: device_train_microbatch_size absent` : setting("device_train_microbatch_size", microRaw);
    throw new UserError(`${said}${microRaw === "auto" ? "" : ` (llm-foundry's default "auto")`}: Composer picks the micro-batch at run time; give it as a number`);
  }
  const world = worldSize(ctx);
  const dp = world.gpus;
  let micro = int("device_train_microbatch_size")!;
  put("microBatch", "device_train_microbatch_size");
  // Above the per-rank batch llm-foundry lowers it to that batch with a warning ("device_microbatch_size
  // > device_batch_size, will be reduced", calculate_batch_size_info, llmfoundry/utils/config_utils.py).
  if (globalBatch % dp === 0 && micro > globalBatch / dp) {
    notes.push(`${setting("device_train_microbatch_size", micro)} is more than the per-GPU batch ${globalBatch} / ${dp} = ${globalBatch / dp}: llm-foundry lowers it to ${globalBatch / dp} (calculate_batch_size_info, llmfoundry/utils/config_utils.py), as priced`);
    micro = globalBatch / dp;
  }
  checkBatch(o, globalBatch, dp, micro, at);
  const attnImpl = value("model.attn_config.attn_impl");
  return {
    engine: "llm-foundry",
    engineName: "fsdp",
    sources: [o],
    plan: { tp: 1, pp: 1, dp, cp: 1, ep: 1, etp: 1, vpp: 1, zero, microBatch: micro, recompute, sequenceParallel: false, schedule: "1f1b" },
    gpus: world.gpus,
    gpusFrom: world.from,
    globalBatch,
    ...(seqLen !== undefined ? { seqLen } : {}),
    precision,
    // Composer's DEFAULT reduces in fp32 (the fsdp engine prices PURE's bf16 reduction); DDP
    // reduces the fp32 gradients of its fp32 model.
    ...(!hasFsdp || String(mp).toUpperCase() === "DEFAULT" ? { gradReduceInFp32: true } : {}),
    // attn_impl torch materialises the scores (llmfoundry/models/layers/attention.py scaled_multihead_dot_product_attention).
    ...(attnImpl === "torch" ? { fusedAttention: false } : {}),
    claims,
    at,
    warnings,
    notes,
  };
}
