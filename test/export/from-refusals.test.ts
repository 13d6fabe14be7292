// `plan --from`: a feature of the user's run that paraplan cannot express is exit 2 with one line
// naming the key or flag (README "How good is what you run today?"), never a price for another
// run; the nearest settings it does model are still read. Megatron's arguments and launch scripts
// here; ds_config, torchtitan and paraplan's own files in from-refusals-files.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, fixture, removeTemp } from "./helpers.js";
import { packageRoot } from "../../src/load.js";
import { accepted, refused, fileWriter } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-refusals");

describe("Megatron-LM arguments", () => {
  // Llama 3 8B on 64 GPUs (--gpus): tp 2, dp 32; no model flags, so only the layout is read.
  const BASE = "--tensor-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n";
  const args = (extra: string) => file("txt", BASE + extra);
  const on8b = (extra: string) => ["--model", "llama3-8b", "--gpus", "64", "--from", args(extra)];

  it("flags that build another model or hold other state are refused by flag, with their line", async () => {
    const cases: [string, string][] = [
      ["--quick-geglu", "--quick-geglu (line 6)"],
      ["--squared-relu", "--squared-relu (line 6)"],
      ["--softmax-type off-by-one", "--softmax-type off-by-one (line 6)"],
      ["--softmax-type learnable", "--softmax-type learnable"],
      ["--fp8-format hybrid\n--fp8-param-gather", "--fp8-param-gather (line 7)"],
      ["--fp8-format hybrid\n--first-last-layers-bf16", "--first-last-layers-bf16"],
      ["--fp8-format hybrid\n--num-layers-at-start-in-bf16 2", "--num-layers-at-start-in-bf16"],
      ["--fp8-format hybrid\n--num-layers-at-end-in-bf16 2", "--num-layers-at-end-in-bf16"],
      ["--moe-expert-capacity-factor 1.0", "--moe-expert-capacity-factor"],
      ["--moe-pad-expert-input-to-capacity", "--moe-pad-expert-input-to-capacity"],
      ["--standalone-embedding-stage", "--standalone-embedding-stage"],
      ["--optimizer sgd", "--optimizer sgd (line 6)"],
      ["--rotary-percent 0.5", "--rotary-percent 0.5 (line 6) rotates only part of each head"],
      ["--heterogeneous-layers-config-path nas.json", "--heterogeneous-layers-config-path (line 6) builds layers of differing shapes"],
      ["--heterogeneous-layers-config-encoded-json {}", "--heterogeneous-layers-config-encoded-json"],
    ];
    for (const [extra, says] of cases) await refused(on8b(extra), says, "which paraplan does not model");
    // (the all-to-all overlap is priced where it runs, megatron-moe-flags.ts moeOverlap; a dense
    // model has no expert parallel, where Megatron asserts)
    await refused(on8b("--overlap-moe-expert-parallel-comm"), "--overlap-moe-expert-parallel-comm (line 6) without expert parallel (ep 1)", "transformer_config.py:1309-1311");
  });

  it("sliding windows: Megatron's --window-size and --window-attn-skip-freq are exit 2, and so is a windowed --model against a file that sets none", async () => {
    await refused(on8b("--window-size 4096 0"), "--window-size 4096 0 (line 6) builds sliding-window attention, which paraplan reads from a model's config.json, not from Megatron-LM arguments");
    await refused(on8b("--window-attn-skip-freq 2"), "--window-attn-skip-freq 2 (line 6) builds sliding-window attention");
    // the whole rotary is the default: read as before
    const whole = await cli(["plan", ...on8b("--rotary-percent 1.0")]);
    expect(whole.code, whole.stderr).toBe(0);
    // a model file with a window, the file without one: Megatron would train full attention
    const windowed = file("json", JSON.stringify({ ...JSON.parse(readFileSync(join(packageRoot(), "profiles", "models", "llama3-8b.json"), "utf8")), name: "llama3-8b-swa", slidingWindow: 1024 }));
    await refused(["--model", windowed, "--gpus", "64", "--from", args("")], "the model llama3-8b-swa uses sliding-window attention, which this file does not set");
  });

  // core_r0.14 get_num_layers_to_build: the embedding and the loss each count as a layer; the units
  // split evenly, the first and the last (virtual) stage building one transformer layer fewer.
  it("--account-for-embedding/loss-in-pipeline-split are read as the split Megatron builds: 126 layers + 2 on pp 8 are 15, 16 × 6, 15", async () => {
    // A GPT-style model of Llama 3 405B's 126 layers (learned positions, GeLU: Megatron's defaults).
    const m126 = file("json", JSON.stringify({ name: "gpt-126", layers: 126, hidden: 4096, heads: 32, kvHeads: 32, ffnHidden: 16384, vocab: 50304, seqLen: 2048, positional: "learned", mlp: "gelu", tiedEmbeddings: true }));
    const on405b = (extra: string) => ["--model", m126, "--gpus", "1024", "--from", file("txt", `--tensor-model-parallel-size 8\n--pipeline-model-parallel-size 8\n--num-layers 126\n--micro-batch-size 1\n--global-batch-size 1024\n--seq-length 2048\n--bf16\n${extra}`)];
    const both = await accepted(on405b("--account-for-embedding-in-pipeline-split\n--account-for-loss-in-pipeline-split\n"));
    expect(both.from.plan).toMatchObject({ pp: 8, stageLayers: [15, 16, 16, 16, 16, 16, 16, 15] });
    // With 4 layers a virtual stage: 128 units, 16 a rank, vpp 4, 32 virtual stages of 4, the first and last 3.
    const virtual = await accepted(on405b("--account-for-embedding-in-pipeline-split\n--account-for-loss-in-pipeline-split\n--num-layers-per-virtual-pipeline-stage 4\n"));
    expect(virtual.from.plan).toMatchObject({ pp: 8, vpp: 4, stageLayers: [3, ...Array.from({ length: 30 }, () => 4), 3] });
    // --decoder-first/last-pipeline-num-layers with virtual stages: whole ranks, each cut evenly
    // into its chunks (get_num_layers_to_build): first 14 → 7 + 7, last 16 → 8 + 8, the middle
    // (126 − 30)/6 = 16 → 8 + 8; virtual stages in model order 7, 8 × 7, 7, 8 × 7
    const ranks = await accepted(on405b("--decoder-first-pipeline-num-layers 14\n--decoder-last-pipeline-num-layers 16\n--num-virtual-stages-per-pipeline-rank 2\n"));
    expect(ranks.from.plan).toMatchObject({ pp: 8, vpp: 2, stageLayers: [7, ...Array.from({ length: 7 }, () => 8), 7, ...Array.from({ length: 7 }, () => 8)] });
    // 15 on the first rank: its 2 virtual stages do not divide it (TransformerConfig raises)
    await refused(on405b("--decoder-first-pipeline-num-layers 15\n--decoder-last-pipeline-num-layers 15\n--num-virtual-stages-per-pipeline-rank 2\n"), "give the first rank 15 layers, which its 2 virtual stages do not divide");
    // The embedding alone: 127 units, which 8 does not divide.
    await refused(on405b("--account-for-embedding-in-pipeline-split\n"), "--account-for-embedding-in-pipeline-split make 127 units of 126 layers, which pp 8 does not divide");
    await refused(on405b("--account-for-loss-in-pipeline-split\n--account-for-embedding-in-pipeline-split\n--decoder-first-pipeline-num-layers 15\n"), "cannot be set with --decoder-first/last-pipeline-num-layers");
  });

  // core_r0.14 pipeline_parallel_layer_layout.py: "(…)*n" and "x*n" unroll, "|" separates the p·v
  // stages in model order; E the embedding, t a layer, m an MTP module, L the loss.
  it("--pipeline-model-parallel-layout is read as the stages it lists, where each holds a layer", async () => {
    const m126 = file("json", JSON.stringify({ name: "gpt-126", layers: 126, hidden: 4096, heads: 32, kvHeads: 32, ffnHidden: 16384, vocab: 50304, seqLen: 2048, positional: "learned", mlp: "gelu", tiedEmbeddings: true }));
    const run = (pp: number, layout: string, extra = "") => ["--model", m126, "--gpus", "1024", "--from", file("txt", `--tensor-model-parallel-size 8\n--pipeline-model-parallel-size ${pp}\n--num-layers 126\n--micro-batch-size 1\n--global-batch-size 1024\n--seq-length 2048\n--bf16\n--pipeline-model-parallel-layout "${layout}"\n${extra}`)];
    // 15 + 16 × 6 + 15 = 126 on 8 stages
    const one = await accepted(run(8, "Et*15|(t*16|)*6,t*15L"));
    expect(one.from.plan).toMatchObject({ pp: 8, vpp: 1, stageLayers: [15, 16, 16, 16, 16, 16, 16, 15] });
    // 16 stages on pp 8: vpp 2, model order (7 + 8 × 14 + 7)
    const two = await accepted(run(8, "Et*7|(t*8|)*14t*7L"));
    expect(two.from.plan).toMatchObject({ pp: 8, vpp: 2, stageLayers: [7, ...Array.from({ length: 14 }, () => 8), 7] });
    // the loss alone on the last stage (DeepSeek-V3's "…|L"): refused, naming the stage
    await refused(run(8, "Et*18|(t*18|)*6L"), '--pipeline-model-parallel-layout "Et*18|(t*18|)*6L"'.replace(/"/g, ""), 'stage 7 ("L") holds no transformer layer');
    await refused(run(8, "Et*15|(t*16|)*6,t*14L"), "places 125 transformer layers, not --num-layers 126");
    await refused(run(8, "Et*15|(t*16|)*6,t*15L", "--num-virtual-stages-per-pipeline-rank 2\n"), "cannot be set with --num-virtual-stages-per-pipeline-rank");
    await refused(run(8, "Et*99999999L"), "unrolls to more than 100,000 items");
  });

  it("their default values are the run paraplan prices: still read", async () => {
    const plain = await accepted(on8b(""));
    const same = await accepted(on8b("--softmax-type vanilla\n--optimizer adam\n--recompute-granularity selective\n--recompute-modules core_attn"));
    const layout = (p: Record<string, unknown>) => ({ tp: p.tp, pp: p.pp, dp: p.dp, zero: p.zero, microBatch: p.microBatch });
    expect(layout(same.from.plan)).toEqual(layout(plain.from.plan));
    expect(same.from.plan).toMatchObject({ recompute: "selective" });
    // (--recompute-modules core_attn is what paraplan prices, not a flag it "ignores")
    expect(JSON.stringify(same.from)).not.toContain("recompute-modules");
  });

  it("fp32 training (neither --bf16 nor --fp16) is exit 2, as a torchtitan job in fp32 is, not priced as bf16", async () => {
    const fp32 = file("txt", BASE.replace("--bf16\n", ""));
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", fp32], "neither --bf16 nor --fp16", "fp32");
    // --precision on the command line does not make the file's run 16-bit.
    await refused(["--model", "llama3-8b", "--gpus", "64", "--precision", "bf16", "--from", fp32], "neither --bf16 nor --fp16");
  });

  // QA: --transformer-impl local and --use-legacy-models without --use-flash-attn were priced as
  // fused attention (megatron-core's default); their attention materialises the scores.
  it("attention: the local implementation's DotProductAttention is unfused, the legacy models' fused only with --use-flash-attn", async () => {
    const attention = async (extra: string) => {
      const r = await accepted(on8b(extra));
      return [(r as unknown as { fusedAttention: boolean }).fusedAttention, r.from.notes.filter((n) => n.includes("not used by --transformer-impl local"))];
    };
    expect(await attention("")).toEqual([true, []]);
    expect(await attention("--transformer-impl local\n")).toEqual([false, []]);
    expect(await attention("--transformer-impl transformer_engine\n")).toEqual([true, []]);
    expect(await attention("--use-legacy-models\n")).toEqual([false, []]);
    expect(await attention("--use-legacy-models\n--use-flash-attn\n")).toEqual([true, []]);
    // --attention-backend is core's: the legacy models do not read it.
    expect(await attention("--use-legacy-models\n--attention-backend flash\n")).toEqual([false, []]);
    const [fused, notes] = await attention("--transformer-impl local\n--attention-backend flash\n--use-flash-attn\n");
    expect([fused, notes]).toEqual([false, [expect.stringContaining("--use-flash-attn (line 8), --attention-backend flash (line 7) not used by --transformer-impl local, whose DotProductAttention is unfused")]]);
    // Transformer Engine's backend decides; --use-flash-attn does not reach it.
    expect(await attention("--attention-backend unfused\n--use-flash-attn\n")).toEqual([false, []]);
  });

  // core_r0.12.0/core_r0.13.0 _add_distributed_args: --use-custom-fsdp, Megatron FSDP's earlier name
  // (QA: "unknown flag; ignored", ZeRO-1 priced from the distributed optimizer it needs beside it).
  it("--use-custom-fsdp is Megatron FSDP as --use-megatron-fsdp is, with the distributed optimizer those releases assert", async () => {
    const fsdp = (flag: string, strategy: string) => on8b(`--use-distributed-optimizer\n${flag}\n--data-parallel-sharding-strategy ${strategy}\n`);
    for (const [strategy, zero] of [["optim_grads_params", 3], ["optim_grads", 2], ["optim", 1], ["no_shard", 0]] as const) {
      const custom = await accepted(fsdp("--use-custom-fsdp", strategy));
      expect(custom.from.plan, strategy).toMatchObject({ zero });
      expect(custom.from.warnings).toEqual([]);
      expect(custom.from.notes.filter((n) => n.endsWith(`Megatron FSDP (--use-custom-fsdp) with ${strategy} read as ZeRO-${zero}`))).toHaveLength(1);
      // (those releases turn --overlap-grad-reduce on for optim_grads and optim_grads_params)
      expect((custom as unknown as { overlapGradReduce: boolean }).overlapGradReduce, strategy).toBe(zero >= 2);
      // (--use-megatron-fsdp's optim_grads asserts --overlap-grad-reduce: tested in megatron-fsdp-overlap.test.ts)
      const current = await accepted(fsdp(`--use-megatron-fsdp${zero === 2 ? "\n--overlap-grad-reduce" : ""}`, strategy));
      expect(current.from.plan).toMatchObject({ tp: 2, dp: 32, zero });
    }
    await refused(on8b("--use-custom-fsdp\n--data-parallel-sharding-strategy optim_grads\n"), "--use-custom-fsdp (line 6) without --use-distributed-optimizer");
  });

  it("full recompute: uniform groups of one layer, or block covering each stage's layers, is every layer; block below them is the engine's count; groups are refused", async () => {
    // Llama 3 8B: 32 layers, pp 2 → 16 a stage.
    const full = (method: string, layers: number) =>
      `--pipeline-model-parallel-size 2\n--recompute-granularity full\n--recompute-method ${method}\n--recompute-num-layers ${layers}\n`;
    await refused(on8b(full("uniform", 2)), "--recompute-method uniform --recompute-num-layers 2", "groups of 2 layers");
    await refused(on8b(full("uniform", 0)), "--recompute-num-layers 0 (line 9)", "never advance");
    await refused(on8b(`--pipeline-model-parallel-size 2\n--recompute-granularity full\n--recompute-method block\n`), "--recompute-granularity full (line 7) --recompute-method block without --recompute-num-layers", "TransformerConfig refuses");
    // TransformerConfig.__post_init__ (core_r0.14.0, core_v0.7.0) raises on full recompute without a
    // method or a layer count, and on selective recompute with a count (QA: full alone was priced).
    await refused(on8b("--recompute-granularity full\n"), "--recompute-granularity full (line 6) without --recompute-method (uniform or block), which Megatron's TransformerConfig refuses");
    await refused(on8b("--recompute-granularity full\n--recompute-method uniform\n"), "--recompute-granularity full (line 6) --recompute-method uniform without --recompute-num-layers");
    await refused(on8b("--recompute-activations\n--recompute-num-layers 1\n"), "--recompute-num-layers 1 (line 7) with selective recompute");
    const uniform = await accepted(on8b(full("uniform", 1)));
    const block = (await accepted(on8b(full("block", 16)))) as unknown as { from: { plan: { recomputeLayers?: number } } };
    expect(uniform.from.plan).toMatchObject({ pp: 2, recompute: "full" });
    expect(block.from.plan).toEqual(uniform.from.plan);
    expect(block.from.plan.recomputeLayers).toBeUndefined();
    // Fewer than a stage's layers: the first 8 of each stage (recompute-block.test.ts prices it).
    const eight = (await accepted(on8b(full("block", 8)))) as unknown as { from: { plan: { recomputeLayers?: number }; notes: string[] } };
    expect(eight.from.plan.recomputeLayers).toBe(8);
    expect(eight.from.notes.join("\n")).toContain("the first 8 layers of each pipeline stage (of 16) recomputed");
    // With virtual stages the chunk is a virtual stage: 32 / (2 · 2) = 8 layers.
    const virtual = (await accepted(on8b(full("block", 4) + "--num-virtual-stages-per-pipeline-rank 2\n"))) as unknown as { from: { plan: { recomputeLayers?: number }; notes: string[] } };
    expect(virtual.from.plan.recomputeLayers).toBe(4);
    expect(virtual.from.notes.join("\n")).toContain("of each virtual stage (of 8)");
    // Block 0 checkpoints no layer (Megatron does not raise): no recompute, said.
    const zero = await accepted(on8b(full("block", 0)));
    expect(zero.from.plan).toMatchObject({ recompute: "none" });
    expect(zero.from.notes.join("\n")).toContain("checkpoints no layer: read as no recompute");
  });

  // Real scripts (QA on Megatron-LM @ d98e8a64 and bigscience's tr11-176B-ml): examples/bert/
  // was priced as a GPT run; BLOOM's --position-embedding-type alibi was read as learned positions;
  // DeepSeek-V3's --kv-channels 128 beside --multi-latent-attention was compared with the head width.
  it("another model kind's entry point is refused; ALiBi and MLA's --kv-channels are read as the scripts mean them", async () => {
    const bert = file("sh", "torchrun --nproc_per_node 8 pretrain_bert.py \\\n  --tensor-model-parallel-size 2 --micro-batch-size 1 --global-batch-size 512 --bf16\n");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", bert], "line 1 launches pretrain_bert.py, another kind of model than the GPT-style decoder paraplan plans");
    const model = file("json", JSON.stringify({ name: "alibi-1b", layers: 24, hidden: 2048, heads: 16, vocab: 50304, seqLen: 2048, positional: "alibi", mlp: "gelu", kvHeads: 16, ffnHidden: 8192, tiedEmbeddings: true }));
    const ds = file("json", JSON.stringify({ train_batch_size: 64, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const arch = "--num-layers 24 --hidden-size 2048 --num-attention-heads 16 --ffn-hidden-size 8192 --micro-batch-size 1 --bf16";
    const alibi = await accepted(["--model", model, "--gpus", "8", "--from", ds, "--from", file("txt", `${arch} --position-embedding-type alibi\n`)]);
    expect(alibi.from.plan).toMatchObject({ tp: 1, dp: 8 });
    await refused(["--model", model, "--gpus", "8", "--from", ds, "--from", file("txt", `${arch}\n`)], "learned position embeddings");
    await refused(["--model", model, "--gpus", "8", "--from", ds, "--from", file("txt", `${arch} --position-embedding-type relative\n`)], "--position-embedding-type relative", "learned, rotary and ALiBi positions");
  });

  it("Megatron-DeepSpeed's --checkpoint-num-layers above 1 checkpoints groups: refused", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true } }));
    const mds = file("txt", "--tensor-model-parallel-size 2\n--micro-batch-size 1\n--bf16\n--checkpoint-activations\n--checkpoint-num-layers 2\n");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", ds, "--from", mds], "--checkpoint-num-layers 2");
  });
});

// Megatron's --attention-dropout and --hidden-dropout default to 0.1 (_add_regularization_args,
// core_r0.14.0, core_v0.7.0; Megatron-DeepSpeed alike) and --normalization to LayerNorm: QA's Llama
// script without the two 0s was priced as llama3-8b (no dropout), as was one without RMSNorm
// (Megatron-LM's own examples/llama script until "Add missing RMSNorm to llama train script (#3314)").
describe("a Megatron script's dropout and normalization, against the model's", () => {
  const llama = readFileSync(fixture("from-refusals/launch-llama3-8b-2x8.sh"), "utf8");
  const on8b = (text: string) => ["--model", "llama3-8b", "--from", file("sh", text)];
  it("dropout on where either flag is absent or above 0, against a model without: exit 2 naming the flags; one alone is refused", async () => {
    const without = llama.replace("    --attention-dropout 0.0\n    --hidden-dropout 0.0\n", "");
    expect(without).not.toContain("dropout");
    await refused(on8b(without), "no --attention-dropout (Megatron's default 0.1) and no --hidden-dropout (Megatron's default 0.1), dropout on, but the model llama3-8b has dropout false");
    await refused(on8b(llama.replace("--attention-dropout 0.0", "--attention-dropout 0.1").replace("--hidden-dropout 0.0", "--hidden-dropout 0.05")), "--attention-dropout 0.1 and --hidden-dropout 0.05, dropout on, but the model llama3-8b has dropout false");
    await refused(on8b(llama.replace("--hidden-dropout 0.0", "--hidden-dropout 0.1")), "--attention-dropout 0.0 and --hidden-dropout 0.1: paraplan models dropout on attention and hidden states both or neither");
    await refused(on8b(llama.replace("--hidden-dropout 0.0", "--hidden-dropout 1.5")), "--hidden-dropout 1.5 (line 33) is not a dropout probability");
    // The other way: a model with dropout (GPT-3's) against a script without.
    const gpt = ["--model", "gpt3-1.3b", "--gpus", "8", "--from", file("txt", "--num-layers 24\n--hidden-size 2048\n--num-attention-heads 16\n--max-position-embeddings 2048\n--seq-length 2048\n--micro-batch-size 1\n--bf16\n--attention-dropout 0\n--hidden-dropout 0\n")];
    await refused(gpt, "--attention-dropout 0 and --hidden-dropout 0, dropout off, but the model gpt3-1.3b has dropout true");
    expect((await accepted(on8b(llama))).from.plan).toMatchObject({ tp: 2, dp: 8 });
  });
  it("--normalization: LayerNorm (absent, or Megatron-DeepSpeed's layernorm) against a RoPE model, which paraplan prices with RMSNorm, is exit 2", async () => {
    await refused(on8b(llama.replace("    --normalization RMSNorm\n", "    --apply-layernorm-1p\n")), "no --normalization (LayerNorm) but the model llama3-8b has normalization RMSNorm");
    await refused(on8b(llama.replace("--normalization RMSNorm", "--normalization LayerNorm")), "--normalization LayerNorm but the model llama3-8b has normalization RMSNorm");
    await refused(on8b(llama.replace("--normalization RMSNorm", "--normalization ScaleNorm")), "--normalization ScaleNorm (line 30): paraplan models LayerNorm and RMSNorm");
    // --apply-layernorm-1p beside RMSNorm (zero-centred gamma) is the same norm.
    expect((await accepted(on8b(llama.replace("    --normalization RMSNorm\n", "    --normalization RMSNorm\n    --apply-layernorm-1p\n")))).from.plan).toMatchObject({ tp: 2 });
  });
});

describe("a Megatron launch script's torchrun world size", () => {
  const script = fixture("from-refusals/launch-llama3-8b-2x8.sh");

  it("is the GPU count when --gpus is not given: 8 per node × 2 nodes, not the model file's 64", async () => {
    expect(readFileSync(script, "utf8")).toContain("--nproc_per_node 8");
    const r = await cli(["plan", "--model", "llama3-8b", "--from", script, "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("assumed: 16 GPUs from launch-llama3-8b-2x8.sh (torchrun --nproc_per_node 8 --nnodes 2)");
    expect(r.stdout).toContain("tp 2 · pp 1 · dp 8 · ZeRO-1");
    // --gpus that agrees is accepted.
    expect((await accepted(["--model", "llama3-8b", "--gpus", "16", "--from", script])).from.gpus).toBe(16);
  });

  it("contradicts an explicit --gpus: exit 2 naming both", async () => {
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", script], "torchrun --nproc_per_node 8 --nnodes 2", "makes 16 GPUs but --gpus is 64");
  });

  // A script's count went unbounded into the plan (10^12 GPUs were refused only by the batch check).
  it("a count beyond --gpus's bound is refused naming the script's torchrun options", async () => {
    const huge = file("sh", readFileSync(script, "utf8").replace("--nproc_per_node 8", "--nproc_per_node 1000000").replace("--nnodes 2", "--nnodes 1000000"));
    await refused(["--model", "llama3-8b", "--from", huge], "torchrun --nproc_per_node 1000000 --nnodes 1000000", "makes 1,000,000,000,000 GPUs, more than 1,048,576");
  });

  it("an elastic node range needs --gpus inside it", async () => {
    const elastic = file("sh", readFileSync(script, "utf8").replace("--nnodes 2", "--nnodes 1:4"));
    await refused(["--model", "llama3-8b", "--from", elastic], "--nnodes 1:4 is elastic", "pass --gpus");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", elastic], "makes 8 to 32 GPUs", "--gpus is 64");
    expect((await accepted(["--model", "llama3-8b", "--gpus", "32", "--from", elastic])).from.gpus).toBe(32);
  });

  // The count was taken from the model file (64) when the script left it to a variable: a plan for
  // a run the script does not launch.
  it("a variable the script sets stands for its value (GPUS_PER_NODE=8, NUM_NODES=4: 32 GPUs); one it does not set needs --gpus", async () => {
    const text = readFileSync(script, "utf8").replace("--nproc_per_node 8", "--nproc_per_node $GPUS_PER_NODE").replace("--nnodes 2", '--nnodes "${NUM_NODES}"');
    const set = file("sh", text.replace("export CUDA_DEVICE_MAX_CONNECTIONS=1", 'export CUDA_DEVICE_MAX_CONNECTIONS=1\nGPUS_PER_NODE=8\nexport NUM_NODES="4" # four nodes'));
    const r = await cli(["plan", "--model", "llama3-8b", "--from", set, "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("assumed: 32 GPUs from ");
    expect(r.stdout).toContain("(torchrun --nproc_per_node 8 --nnodes 4)");
    // Unset, computed, or set twice to different values: decided when the script runs.
    for (const lines of ["", "NUM_NODES=$(scontrol show hostnames | wc -l)\nGPUS_PER_NODE=8", "NUM_NODES=2\nNUM_NODES=4\nGPUS_PER_NODE=8", "NUM_NODES=${SLURM_NNODES:-1}\nGPUS_PER_NODE=8"]) {
      const unset = file("sh", text.replace("export CUDA_DEVICE_MAX_CONNECTIONS=1", lines));
      const why = lines.includes(":-") ? "--nnodes 1 is the default the script gives a variable the environment can set at launch" : "is a shell variable the script does not set";
      await refused(["--model", "llama3-8b", "--from", unset], why, "pass --gpus");
      expect((await accepted(["--model", "llama3-8b", "--gpus", "16", "--from", unset])).from.gpus).toBe(16);
    }
    // torchrun's "gpu" / "auto": the count it finds on each machine.
    const auto = file("sh", readFileSync(script, "utf8").replace("--nproc_per_node 8", "--nproc_per_node gpu"));
    await refused(["--model", "llama3-8b", "--from", auto], "torchrun --nproc_per_node gpu is the count torchrun finds on each machine", "pass --gpus");
  });
});

describe("a Megatron-DeepSpeed launch script's deepspeed launcher", () => {
  // ds_config without gradient_accumulation_steps: the batch arithmetic leaves the count open, the
  // launcher states it (deepspeed/launcher/runner.py --num_gpus × --num_nodes).
  const ds = () => file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
  const script = (launcher: string) =>
    file("sh", `#!/bin/bash\nGPUS=8\ndeepspeed ${launcher} pretrain_gpt.py \\\n  --tensor-model-parallel-size 2 \\\n  --micro-batch-size 1 --global-batch-size 512 --seq-length 8192 --bf16 \\\n  --deepspeed --deepspeed_config ds_config.json\n`);
  const from = (launcher: string, ...more: string[]) => ["--model", "llama3-8b", ...more, "--from", ds(), "--from", script(launcher)];

  it("--num_gpus × --num_nodes is the GPU count, the launcher's flags are not warned of as unknown", async () => {
    const r = await accepted(from("--num_gpus $GPUS --num_nodes 4 --master_port 29600"));
    expect(r.from.gpus).toBe(32);
    expect(r.from.plan).toMatchObject({ tp: 2, dp: 16 });
    expect(r.from.warnings).toEqual([]);
    // One node without --num_nodes or a hostfile.
    expect((await accepted(from("--num_gpus 8"))).from.gpus).toBe(8);
    await refused(from("--num_gpus 8 --num_nodes 4", "--gpus", "64"), "(deepspeed --num_gpus 8 --num_nodes 4) makes 32 GPUs but --gpus is 64");
  });

  it("a count deepspeed decides at launch (every GPU, the hostfile's nodes, an unset variable) needs --gpus", async () => {
    for (const [launcher, says] of [
      ["--num_gpus -1 --num_nodes 2", "is the count deepspeed finds on each machine"],
      ["--hostfile hosts.txt --num_gpus 8", "the nodes are the --hostfile file's"],
      ["--num_gpus 8 --num_nodes -1", "every host of the hostfile"],
      ["--num_gpus 8 --num_nodes $NNODES", "$NNODES is a shell variable the script does not set"],
    ]) {
      await refused(from(launcher), says, "pass --gpus");
      expect((await accepted(from(launcher, "--gpus", "16"))).from.gpus).toBe(16);
    }
  });

  it("the ds_config's batch arithmetic and the launcher must agree", async () => {
    const fixed = file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 1, gradient_accumulation_steps: 16, bf16: { enabled: true } }));
    // 512 / (1 × 16) = dp 32, × tp 2 = 64 GPUs; the launcher says 32.
    await refused(["--model", "llama3-8b", "--from", fixed, "--from", script("--num_gpus 8 --num_nodes 4")], "makes 32 GPUs but", "makes 64; they must agree");
  });
});
