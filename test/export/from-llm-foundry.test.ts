// plan --from an llm-foundry training YAML: the fsdp engine's own configuration file. An MPT-7B
// file with the settings of the published run MPT-039 (llm-foundry benchmarking README: 8 H100s,
// FULL_SHARD, amp_bf16, mixed_precision DEFAULT, micro-batch 6, global batch 48, no activation
// checkpointing) is predicted as the calibration predicts that row; Composer's DEFAULT reduces in
// fp32 and PURE in bf16; what paraplan cannot model is exit 2 naming the key and its line.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadCalibrationRows } from "../../bench/calibration/rows.js";
import { predictRow, profileCache } from "../../bench/calibration/predict.js";
import { cli, recorded, removeTemp, tempFile } from "./helpers.js";
import { TRAIN_CONFIG_FIELDS } from "../../src/engines/read-llm-foundry.js";

afterAll(removeTemp);

// MPT-7B as llm-foundry builds it (scripts/train/yamls/pretrain/mpt-7b.yaml; configuration_mpt.py:
// ALiBi, GELU MLP of 4·d, tied embeddings, no dropout in the benchmark runs).
const MODEL = tempFile("mpt-7b.json", JSON.stringify({ name: "mpt-7b", source: "llm-foundry mpt-7b.yaml", layers: 32, hidden: 4096, heads: 32, vocab: 50368, seqLen: 2048, mlp: "gelu", positional: "alibi", tiedEmbeddings: true, dropout: false }));

const yaml = (over: Record<string, string> = {}) => {
  const v = { shard: "FULL_SHARD", mp: "DEFAULT", ckpt: "false", micro: "6", layers: "32", impl: "triton", extra: "", fsdpExtra: "", ...over };
  return `variables:
  max_seq_len: 2048
max_seq_len: \${variables.max_seq_len}
run_name: mpt-7b-bench
model:
  name: mpt_causal_lm
  init_device: meta
  d_model: 4096
  n_heads: 32
  n_layers: ${v.layers}
  expansion_ratio: 4
  max_seq_len: \${max_seq_len}
  vocab_size: 50368
  attn_config:
    attn_impl: ${v.impl}
    alibi: true
tokenizer:
  name: EleutherAI/gpt-neox-20b
optimizer:
  name: decoupled_adamw
  lr: 0.00012
global_train_batch_size: 48
device_train_microbatch_size: ${v.micro}
precision: amp_bf16
${v.extra}fsdp_config:
  sharding_strategy: ${v.shard}
  mixed_precision: ${v.mp}
  activation_checkpointing: ${v.ckpt}
  activation_cpu_offload: false
  limit_all_gathers: true
${v.fsdpExtra}`;
};
let n = 0;
const from = (over: Record<string, string> = {}, extra: string[] = []) =>
  cli(["plan", "--from", tempFile(`mpt-${n++}.yaml`, yaml(over)), "--model", MODEL, "--gpus", "8", "--profile", "dgx-h100", ...extra]);

describe("plan --from an llm-foundry YAML", () => {
  it("TrainConfig's fields as the reader holds them are the recorded list's top level (fixtures/llm-foundry-8c8dd48.txt)", () => {
    const top = [...recorded("llm-foundry-8c8dd48.txt")].filter((k) => !k.includes("."));
    expect([...TRAIN_CONFIG_FIELDS].sort()).toEqual(top.sort());
  });

  it("reads MPT-039's settings into its plan on the fsdp engine, and predicts it as the calibration does", async () => {
    const r = await from({}, ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.from.format).toBe("llm-foundry");
    expect(j.engine).toBe("fsdp"); // the engine profile, beside the format
    expect(j.from.plan).toMatchObject({ tp: 1, pp: 1, dp: 8, zero: 3, microBatch: 6, recompute: "none" });
    expect(j.engine).toBe("fsdp");
    // DEFAULT: bf16 parameters, fp32 reduce_dtype (Composer get_mixed_precision).
    expect(j.gradReduceBytes).toBe(4);
    const row = loadCalibrationRows().find((x) => x.id === "MPT-039")!;
    const predicted = predictRow(row, { profile: profileCache() }).predicted;
    // 48 sequences of 2,048 tokens a step over the predicted step.
    expect(j.from.plan.tokensPerSecond / ((48 * 2048) / predicted)).toBeCloseTo(1, 3);
    expect(r.errLines).toEqual([]);
  });

  it("an optimizer other than Adam is exit 2 naming optimizer.name (llm-foundry @8c8dd48 registers decoupled_adamw, Lion variants and no_op)", async () => {
    const lion = await cli(["plan", "--from", tempFile(`mpt-${n++}.yaml`, yaml().replace(/name: decoupled_adamw/, "name: decoupled_lionw")), "--model", MODEL, "--gpus", "8"]);
    expect(lion.code).toBe(2);
    expect(lion.errLines).toEqual([expect.stringMatching(/^paraplan: mpt-\d+\.yaml: optimizer\.name: "decoupled_lionw" \(line \d+\): paraplan prices Adam's states \(decoupled_adamw\), not this optimizer's$/)]);
  });

  // llm-foundry passes a None fsdp_config on as no FSDP (llmfoundry/command_utils/train.py @ 8c8dd48):
  // Composer's DDP, not FULL_SHARD; an empty mapping is FSDP with Composer's defaults.
  it("fsdp_config: null is DDP (ZeRO-0, said in a note); fsdp_config: {} is FULL_SHARD; a degree-1 tp_config or mesh is read", async () => {
    const run = (text: string) => cli(["plan", "--from", tempFile(`mpt-${n++}.yaml`, text), "--model", MODEL, "--gpus", "8", "--json"]);
    const none = await run(yaml().replace(/fsdp_config:[\s\S]*$/, "fsdp_config:\n"));
    expect(none.code, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout).from.plan).toMatchObject({ zero: 0, dp: 8 });
    expect(JSON.parse(none.stdout).from.notes.join("\n")).toMatch(/fsdp_config: null \(line 25\): no FSDP; Composer trains with DDP/);
    const empty = await run(yaml().replace(/fsdp_config:[\s\S]*$/, "fsdp_config: {}\n"));
    expect(JSON.parse(empty.stdout).from.plan).toMatchObject({ zero: 3 });
    const ones = await run(yaml({ fsdpExtra: "  data_parallel_replicate_degree: 1\n  data_parallel_shard_degree: -1\ntp_config:\n  tensor_parallel_degree: 1\n" }));
    expect(ones.code, ones.stderr).toBe(0);
    expect(JSON.parse(ones.stdout).from.plan).toMatchObject({ zero: 3, tp: 1 });
  });

  it("PURE reduces bf16 gradients; SHARD_GRAD_OP is ZeRO-2; activation_checkpointing recomputes whole layers; attn_impl torch materialises the scores", async () => {
    const pure = JSON.parse((await from({ mp: "PURE" }, ["--json"])).stdout);
    expect(pure.gradReduceBytes).toBe(2);
    const z2 = JSON.parse((await from({ shard: "SHARD_GRAD_OP", ckpt: "true" }, ["--json"])).stdout);
    expect(z2.from.plan).toMatchObject({ zero: 2, recompute: "full" });
    const torch = await from({ impl: "torch" });
    expect(torch.stdout).toMatch(/unfused attention/);
  });

  it.each([
    [{ shard: "HYBRID_SHARD" }, /fsdp_config\.sharding_strategy: "HYBRID_SHARD" \(line 26\): paraplan models FULL_SHARD, SHARD_GRAD_OP and NO_SHARD/],
    [{ mp: "FULL" }, /fsdp_config\.mixed_precision: "FULL" \(line 27\): fp32 parameters/],
    [{ micro: "auto" }, /device_train_microbatch_size: "auto" \(line 23\): Composer picks the micro-batch at run time/],
    // absent or null it is llm-foundry's default "auto" (TrainConfig, llmfoundry/utils/config_utils.py),
    // which was read as the whole per-rank batch (a typo'd key too: 48 / 8 = 6)
    [{ micro: "null" }, /device_train_microbatch_size: null \(line 23\) \(llm-foundry's default "auto"\): Composer picks the micro-batch at run time/],
    [{ layers: "31" }, /model\.n_layers: 31 \(line 10\) but the model mpt-7b has layers 32/],
    [{ fsdpExtra: "  cpu_offload: true\n" }, /fsdp_config\.cpu_offload: true \(line 31\): moves state to the CPU/],
    // Composer's TPConfig and HSDP device mesh (llm-foundry-8c8dd48.txt: tp_config), priced as tp 1
    // and FULL_SHARD over every GPU before.
    [{ fsdpExtra: "tp_config:\n  strategy: ffn\n  tensor_parallel_degree: 2\n" }, /tp_config\.tensor_parallel_degree: 2 \(line 33\): tensor parallelism, which paraplan's fsdp engine/],
    [{ fsdpExtra: "  data_parallel_replicate_degree: 2\n" }, /fsdp_config\.data_parallel_replicate_degree: 2 \(line 31\): hybrid sharding/],
    [{ fsdpExtra: "  data_parallel_shard_degree: 4\n" }, /fsdp_config\.data_parallel_shard_degree: 4 \(line 31\): sharding over fewer than all 8 GPUs/],
    // 48 / 8 = 6 a GPU in micro-batches of 4: llm-foundry runs ceil(6/4) = 2 of 4 and 2, uneven,
    // which paraplan does not price (calculate_batch_size_info, llmfoundry/utils/config_utils.py)
    [{ micro: "4" }, /device_train_microbatch_size: 4 \(line 23\) × dp 8 = 32 does not divide the global batch, global_train_batch_size: 48 \(line 22\)/],
    // OmegaConf (PyYAML's YAML 1.1 resolver) loads an unquoted yes / on as true: Composer then
    // checkpoints every block; read as text it was priced without recompute (QA), so a switch that
    // is not true or false is refused, not guessed
    [{ ckpt: "yes" }, /fsdp_config\.activation_checkpointing: "yes" \(line 28\): must be true or false/],
    [{ ckpt: '"true"' }, /fsdp_config\.activation_checkpointing: "true" \(line 28\): must be true or false/],
    [{ fsdpExtra: "  cpu_offload: on\n" }, /fsdp_config\.cpu_offload: "on" \(line 31\): must be true or false/],
  ])("refuses %o in one line naming the key and its line", async (over, message) => {
    const r = await from(over);
    expect(r.code).toBe(2);
    expect(r.errLines.length).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it("a micro-batch above the per-GPU batch is lowered to it, as llm-foundry does (calculate_batch_size_info: 'will be reduced'), said in a note", async () => {
    // 48 / 8 = 6 a GPU: micro-batch 7 runs as 6, the same plan as a file that says 6
    const seven = JSON.parse((await from({ micro: "7" }, ["--json"])).stdout);
    const six = JSON.parse((await from({ micro: "6" }, ["--json"])).stdout);
    expect(seven.from.plan.microBatch).toBe(6);
    expect(seven.from.plan.tokensPerSecond).toBe(six.from.plan.tokensPerSecond);
    expect(seven.from.notes.join("\n")).toContain("device_train_microbatch_size: 7 (line 23) is more than the per-GPU batch 48 / 8 = 6: llm-foundry lowers it to 6");
  });

  it("without device_train_microbatch_size (or with a typo of it) the micro-batch is llm-foundry's default \"auto\": exit 2 naming it, not the whole per-rank batch", async () => {
    const r = await cli(["plan", "--from", tempFile(`mpt-${n++}.yaml`, yaml().replace("device_train_microbatch_size: 6\n", "")), "--model", MODEL, "--gpus", "8"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^paraplan: mpt-\d+\.yaml: device_train_microbatch_size absent \(llm-foundry's default "auto"\): Composer picks the micro-batch at run time; give it as a number$/)]);
    // (a typo of the key is named first: llm-foundry raises on a key TrainConfig lacks)
    const typo = await cli(["plan", "--from", tempFile(`mpt-${n++}.yaml`, yaml().replace("device_train_microbatch_size: 6\n", "device_train_microbatch_sz: 6\n")), "--model", MODEL, "--gpus", "8"]);
    expect(typo.errLines).toEqual([expect.stringMatching(/^paraplan: mpt-\d+\.yaml: device_train_microbatch_sz \(line 23\) is not a field of llm-foundry's TrainConfig: make_dataclass_and_log_config raises "Unused parameter device_train_microbatch_sz found in cfg"/)]);
  });

  it("without --model, the file's mpt_causal_lm section is the model: MPT-039's YAML alone predicts as with the MPT-7B model file", async () => {
    const alone = (text: string) => cli(["plan", "--from", tempFile(`alone-${n++}.yaml`, text), "--gpus", "8", "--profile", "dgx-h100", "--json", "--top", "1"]);
    const withModel = JSON.parse((await from({}, ["--json", "--top", "1"])).stdout);
    const r = await alone(yaml());
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toMatchObject({ layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffnHidden: 16384, vocab: 50368, seqLen: 2048 });
    expect(j.model.name).toMatch(/^mpt_causal_lm of alone-\d+\.yaml$/);
    expect(j.from.plan.tokensPerSecond).toBe(withModel.from.plan.tokensPerSecond);
    // llm-foundry's own default is learned positions: without alibi the model has a 2,048-row table
    const learned = JSON.parse((await alone(yaml().replace("    alibi: true\n", ""))).stdout);
    expect(learned.model.params - j.model.params).toBe(2048 * 4096);
    // a widths key the section lacks is named, not defaulted; hf_causal_lm's model is not in the file
    const cut = await alone(yaml().replace("  n_layers: 32\n", ""));
    expect(cut.errLines).toEqual([`paraplan: alone-${n - 1}.yaml model: field "n_layers": missing (llm-foundry's MPTConfig would build its default; state it)`]);
    const hf = await alone(yaml().replace("name: mpt_causal_lm", "name: hf_causal_lm"));
    expect(hf.stderr).toContain("--model is required with --from");
  });

  it("mptglu is gated with ffn_act_fn's activation, GELU by default (llm-foundry ffn.py), as the config.json reader reads it", async () => {
    const glu = (act: string) => yaml().replace("  attn_config:", `  ffn_config:\n    ffn_type: mptglu\n${act}  attn_config:`);
    const model = (mlp: string) => tempFile(`mpt-7b-${mlp}.json`, JSON.stringify({ ...JSON.parse(readFileSync(MODEL, "utf8")), mlp, ffnHidden: 16384 }));
    const run = (text: string, mlp: string) => cli(["plan", "--from", tempFile(`glu-${n++}.yaml`, text), "--model", model(mlp), "--gpus", "8", "--engine", "fsdp"]);
    expect((await run(glu(""), "geglu")).code).toBe(0);
    const swi = await run(glu(""), "swiglu");
    expect(swi.code).toBe(2);
    expect(swi.stderr).toMatch(/model\.ffn_config\.ffn_type: "mptglu" \(line \d+\) but the model mpt-7b has mlp swiglu/);
    expect((await run(glu("    ffn_act_fn:\n      name: silu\n"), "swiglu")).code).toBe(0);
    // te_ln_mlp, Transformer Engine's LayerNormMLP, is mptmlp's GELU MLP (QA: the config.json reader
    // took it, the YAML reader refused it)
    const te = await cli(["plan", "--from", tempFile(`te-${n++}.yaml`, yaml().replace("  attn_config:", "  ffn_config:\n    ffn_type: te_ln_mlp\n  attn_config:")), "--model", MODEL, "--gpus", "8", "--engine", "fsdp"]);
    expect(te.code, te.stderr).toBe(0);
    const plain = await cli(["plan", "--from", tempFile(`plain-${n++}.yaml`, yaml()), "--model", MODEL, "--gpus", "8", "--engine", "fsdp"]);
    expect(te.stdout.split("\n").find((l) => l.startsWith("best plan"))).toBe(plain.stdout.split("\n").find((l) => l.startsWith("best plan")));
  });
  it("a top-level key TrainConfig lacks is exit 2 with its line (llm-foundry raises on it); one it has that changes no step is warned; an interpolation it cannot resolve is exit 2", async () => {
    const r = await from({ extra: "flux_capacitor: 3\n" });
    expect(r.code, r.stderr).toBe(2);
    expect(r.errLines).toEqual([`paraplan: mpt-${n - 1}.yaml: flux_capacitor (line 25) is not a field of llm-foundry's TrainConfig: make_dataclass_and_log_config raises "Unused parameter flux_capacitor found in cfg" (llmfoundry/utils/config_utils.py @ 8c8dd48); place it under variables, or check its spelling`]);
    const known = await from({ extra: "spin_dataloaders: false\n" });
    expect(known.code, known.stderr).toBe(0);
    expect(known.errLines).toContain(`paraplan: warning: mpt-${n - 1}.yaml: spin_dataloaders (line 25) is not an llm-foundry training setting paraplan knows; ignored`);
    const bad = await cli(["plan", "--from", tempFile("bad.yaml", yaml().replace("max_seq_len: ${variables.max_seq_len}", "max_seq_len: ${oc.env:SEQ}")), "--model", MODEL, "--gpus", "8"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/max_seq_len: "\$\{oc\.env:SEQ\}" \(line 3\): an interpolation paraplan does not evaluate/);
    // A key the file leaves out is named as MPT's default; a key given twice is YAML's error.
    const noAlibi = await cli(["plan", "--from", tempFile("no-alibi.yaml", yaml().replace("    alibi: true\n", "")), "--model", MODEL, "--gpus", "8"]);
    expect(noAlibi.errLines).toEqual([`paraplan: no-alibi.yaml: model.learned_pos_emb absent (MPT's default: learned positions, no attn_config.alibi or rope) but the model mpt-7b has positional alibi; pass the --model the configuration trains`]);
    const twice = await cli(["plan", "--from", tempFile("twice.yaml", yaml() + "precision: amp_fp8\n"), "--model", MODEL, "--gpus", "8"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/twice\.yaml: not valid YAML \(Map keys must be unique/);
    // Another stack's YAML (NeMo's model: has no name:) is not priced as llm-foundry's.
    const nemo = await cli(["plan", "--from", tempFile("gpt3_175b.yaml", "trainer:\n  num_nodes: 16\nmodel:\n  micro_batch_size: 1\n  global_batch_size: 2048\n  tensor_model_parallel_size: 4\n"), "--model", "gpt3-175b", "--gpus", "128"]);
    expect(nemo.code).toBe(2);
    expect(nemo.errLines).toEqual(["paraplan: gpt3_175b.yaml: no model.name: not an llm-foundry training YAML (paraplan reads those, model.name mpt_causal_lm or hf_causal_lm)"]);
  });
});

describe("plan --from an llm-foundry YAML at amp_fp8: fp8 GEMMs only from Transformer Engine's layers", () => {
  // Composer's amp_fp8 is te.fp8_autocast alone (composer/core/precision.py get_precision_context):
  // MPT's torch.nn.Linear (fc_type torch, its default) and a Hugging Face model's run no GEMM in fp8.
  const fp8 = (extra: string) => yaml({ impl: "flash" }).replace("precision: amp_bf16", "precision: amp_fp8").replace("  init_device: meta\n", `  init_device: meta\n${extra}`);
  const run = (name: string, text: string) => cli(["plan", "--from", tempFile(name, text), "--model", MODEL, "--gpus", "8"]);

  it("fc_type te (a name or {name: te}) is read as fp8; fc_type absent or torch is exit 2 naming both keys", async () => {
    for (const fc of ["  fc_type: te\n", "  fc_type:\n    name: te\n"]) {
      const r = await run("fp8-te.yaml", fp8(fc));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/tokens, fp8, /);
    }
    const absent = await run("fp8-torch.yaml", fp8(""));
    expect(absent.code).toBe(2);
    expect(absent.errLines).toHaveLength(1);
    expect(absent.stderr).toMatch(/fp8-torch\.yaml: precision: "amp_fp8" \(line \d+\) with model\.fc_type absent \(MPT's default torch\): .*set model\.fc_type: te/);
    const torch = await run("fp8-torch2.yaml", fp8("  fc_type: torch\n"));
    expect(torch.code).toBe(2);
    expect(torch.stderr).toMatch(/precision: "amp_fp8" \(line \d+\) with model\.fc_type: "torch" \(line \d+\)/);
  });

  it("an hf_causal_lm model at amp_fp8 is exit 2; at amp_bf16 it is read", async () => {
    const hf = (p: string) => `max_seq_len: 2048\nmodel:\n  name: hf_causal_lm\n  pretrained_model_name_or_path: mosaicml/mpt-7b\nglobal_train_batch_size: 48\ndevice_train_microbatch_size: 6\nprecision: ${p}\nfsdp_config:\n  sharding_strategy: FULL_SHARD\n`;
    const r = await run("hf-fp8.yaml", hf("amp_fp8"));
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^paraplan: hf-fp8\.yaml: precision: "amp_fp8" \(line 7\) with model\.name hf_causal_lm: .*torch\.nn\.Linear/)]);
    expect((await run("hf-bf16.yaml", hf("amp_bf16"))).code).toBe(0);
  });
});
