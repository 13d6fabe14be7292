// What a Megatron-LM / Megatron-DeepSpeed script says of the model it trains, beside its plan:
// the entry point it launches and the architecture flags compared with --model
// (read-megatron.ts megatronFacts).
import { UserError } from "../errors.js";
import { DEFAULT_ROPE_THETA } from "../../planner/schema/model.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";
import { describeScaling, megatronScaling } from "./model-facts.js";
import type { ConfigFile, ModelClaim } from "./read-config.js";
import { shellWords } from "./shell-words.js";

/** A positive number argument (1e-5, 500000), or undefined when absent. */
export function numArg(m: Map<string, { values: string[] }>, flag: string, origin: string): number | undefined {
  const v = strArg(m as Parameters<typeof strArg>[0], flag);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new UserError(`${origin}: --${flag} "${v}" is not a positive number`);
  return x;
}

/** Megatron's entry points of other model kinds (Megatron-LM and Megatron-DeepSpeed root scripts):
 *  BERT and T5 attend both ways and carry their own heads, the others are not text decoders. */
const OTHER_ENTRIES = /(^|\/)(pretrain_(bert|t5|ict|retro|vlm|mamba|vision_\w+|multimodal\w*)|pretrain_vit\w*)\.py$/;

/** A script that launches another model kind's entry point (examples/bert/…: pretrain_bert.py) is
 *  not a GPT run, whatever its arguments say: refused, naming the line. */
export function checkEntryPoint(file: ConfigFile): void {
  const words = shellWords(file.text);
  const entry = words.find((w) => OTHER_ENTRIES.test(w.text));
  if (entry && !words.some((w) => /(^|\/)pretrain_gpt\w*\.py$/.test(w.text)))
    throw new UserError(`${file.name}: line ${entry.line} launches ${entry.text.split("/").pop()}, another kind of model than the GPT-style decoder paraplan plans (pretrain_gpt.py)`);
}

type Claim = (field: ModelClaim["field"], value: ModelClaim["value"] | undefined, setting: string) => void;

/** A dropout probability argument, from 0 to below 1 (torch.nn.Dropout), or undefined when absent. */
function probabilityArg(m: Map<string, ArgSetting>, flag: string, origin: string): number | undefined {
  const v = strArg(m, flag);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < 0 || x >= 1) throw new UserError(`${origin}: ${argAt(m, flag)} is not a dropout probability, from 0 to below 1`);
  return x;
}

/** Dropout, compared with the model's `dropout` (activation memory: the masks and, unfused, the
 *  attention's dropped scores). --attention-dropout and --hidden-dropout default to 0.1
 *  (_add_regularization_args of megatron/training/arguments.py @ core_r0.14.0 and core_v0.7.0,
 *  megatron/arguments.py of Megatron-DeepSpeed @207b2d5a and bigscience's fork), so a script
 *  without them trains with dropout. paraplan's dropout is both or neither: one alone is refused. */
function dropoutClaim(m: Map<string, ArgSetting>, o: string, claim: Claim): void {
  const said = (flag: string) => {
    const p = probabilityArg(m, flag, o);
    return { on: (p ?? 0.1) > 0, words: p === undefined ? `no --${flag} (Megatron's default 0.1)` : `--${flag} ${strArg(m, flag)}` };
  };
  const [attention, hidden] = [said("attention-dropout"), said("hidden-dropout")];
  if (attention.on !== hidden.on)
    throw new UserError(`${o}: ${attention.words} and ${hidden.words}: paraplan models dropout on attention and hidden states both or neither`);
  claim("dropout", attention.on, `${attention.words} and ${hidden.words}, dropout ${attention.on ? "on" : "off"},`);
}

/** The architecture the flags describe: MLP, positions, tying, dropout, normalization, and the facts
 *  that make the model without changing the cost (rotary base and scaling, norm epsilon, head width). */
export function architectureClaims(m: Map<string, ArgSetting>, o: string, deepspeed: boolean, claim: Claim): void {
  const has = (f: string) => m.has(f);
  claim("mlp", has("swiglu") ? "swiglu" : "gelu", has("swiglu") ? "--swiglu" : "no --swiglu");
  // --position-embedding-type: learned_absolute (default) or rope in Megatron-LM; Megatron-DeepSpeed
  // adds alibi, as BLOOM trained (bigscience tr11-176B-ml); relative, none (NoPE) and the rest
  // are positions paraplan does not model.
  const pe = strArg(m, "position-embedding-type");
  // (yarn, core_v0.19.0: rotary embeddings at YaRN's rescaled frequencies, gpt_model.py YarnRotaryEmbedding)
  const rope = pe === "rope" || pe === "yarn" || has("use-rotary-position-embeddings");
  if (!rope && pe !== undefined && pe !== "learned_absolute" && pe !== "alibi")
    throw new UserError(`${o}: --position-embedding-type ${pe} (line ${m.get("position-embedding-type")!.line}): paraplan models learned, rotary and ALiBi positions`);
  const positional = rope ? "rope" : pe === "alibi" ? "alibi" : "learned";
  claim("positional", positional, { rope: "rotary position embeddings", alibi: "ALiBi positions (--position-embedding-type alibi)", learned: "learned position embeddings" }[positional]);
  const untied = has("untie-embeddings-and-output-weights");
  claim("tiedEmbeddings", !untied, untied ? "--untie-embeddings-and-output-weights" : "no --untie-embeddings-and-output-weights");
  // Facts that do not change the cost but make the model: the rotary base (Megatron-LM
  // --rotary-base, Megatron-DeepSpeed --rotary-position-embeddings-theta; 10,000 when absent),
  // Llama 3.1 scaling (core_r0.14 --use-rope-scaling, factor --rope-scaling-factor, default 8),
  // the norm epsilon and the head width, when stated.
  if (rope) {
    const thetaFlag = deepspeed ? "rotary-position-embeddings-theta" : "rotary-base";
    const theta = numArg(m, thetaFlag, o);
    claim("ropeTheta", theta ?? DEFAULT_ROPE_THETA, theta !== undefined ? `--${thetaFlag} ${theta}` : `no --${thetaFlag} (the engine's default ${DEFAULT_ROPE_THETA})`);
    const factor = has("use-rope-scaling") ? (numArg(m, "rope-scaling-factor", o) ?? 8) : undefined;
    const scaling = describeScaling(factor === undefined ? undefined : megatronScaling(factor));
    claim("ropeScaling", scaling, factor === undefined ? "no --use-rope-scaling" : `--use-rope-scaling (${scaling})`);
  }
  dropoutClaim(m, o, claim);
  // --normalization (Megatron-LM LayerNorm|RMSNorm, Megatron-DeepSpeed layernorm|rmsnorm; LayerNorm
  // by default in both), compared with the convention the planner counts parameters with
  // (engine-plan.ts llamaStyle: RoPE models RMSNorm, others LayerNorm). --apply-layernorm-1p
  // (zero-centred gamma) reparametrises the same norm: not compared.
  const norm = strArg(m, "normalization");
  const normalization = norm === undefined || norm.toLowerCase() === "layernorm" ? "LayerNorm" : norm.toLowerCase() === "rmsnorm" ? "RMSNorm" : undefined;
  if (normalization === undefined) throw new UserError(`${o}: ${argAt(m, "normalization")}: paraplan models LayerNorm and RMSNorm`);
  claim("normalization", normalization, norm === undefined ? "no --normalization (LayerNorm)" : `--normalization ${norm}`);
  const epsFlag = deepspeed ? "layernorm-epsilon" : "norm-epsilon";
  const eps = numArg(m, epsFlag, o);
  claim("normEps", eps, `--${epsFlag} ${eps}`);
  // (with --multi-latent-attention the head sizes are MLA's own flags, compared with the model's
  // mla below; --kv-channels there is not the attention head's width)
  const kvChannels = has("multi-latent-attention") ? undefined : intArg(m, "kv-channels", o);
  claim("headDim", kvChannels, `--kv-channels ${kvChannels}`);
  // Q/K/V biases in a model without the others (--add-qkv-bias beside --disable-bias-linear) and
  // Megatron-LM's per-head query/key norm (--qk-layernorm); Megatron-DeepSpeed has neither flag.
  if (!deepspeed && has("disable-bias-linear")) claim("qkvBias", has("add-qkv-bias"), has("add-qkv-bias") ? "--add-qkv-bias" : "no --add-qkv-bias");
  // (beside --multi-latent-attention the flag builds the norms of the compressed latents instead,
  // gpt_layer_specs.py:127-137 @000c4ac, which paraplan's MLA carries: not a per-head norm)
  if (!deepspeed && !has("multi-latent-attention")) claim("qkNorm", has("qk-layernorm") ? "head" : "none", has("qk-layernorm") ? "--qk-layernorm" : "no --qk-layernorm");
}
