// Reading users' configurations: the plan, batch and precision each realistic file states (worked
// out by hand from the file), the unknown settings named, and contradictions refused by name.
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { readConfigs } from "../../src/engines/read-back.js";
import type { ReadContext } from "../../src/engines/read-config.js";
import { GPT, LLAMA, fixture, model, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const ctx = (name: string, gpus?: number): ReadContext => {
  const m = model(name);
  return { model: m, gpus, defaultGpus: m.gpus ?? 8, defaultGpusFrom: `the ${m.name} model file` };
};
const fails = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as Error).message;
    expect(msg.includes("\n")).toBe(false);
    return msg;
  }
  throw new Error("no error");
};

describe("a GPT-3 175B Megatron-LM launch script (tp 8, pp 16)", () => {
  const r = readConfigs([fixture("user-gpt3-175b-megatron.sh")], ctx(GPT));
  it("1024 GPUs (the script's GPUS_PER_NODE=8 × NUM_NODES=128) / (8 · 16) = dp 8; 1F1B, no recompute, no distributed optimizer", () => {
    expect(r.engine).toBe("megatron");
    expect(r.plan).toEqual({ tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    expect([r.gpus, r.gpusFrom]).toEqual([1024, "user-gpt3-175b-megatron.sh (torchrun --nproc_per_node 8 --nnodes 128)"]);
  });
  it("global batch 1536, sequence 2048, fp16, gradients reduced after backward, attention backend auto = fused", () => {
    expect([r.globalBatch, r.seqLen, r.precision, r.overlapGradReduce, r.fusedAttention]).toEqual([1536, 2048, "fp16", false, true]);
  });
  it("the launcher's own flags and shell syntax are skipped: no warnings; the batch ramp-up is noted", () => {
    expect(r.warnings).toEqual([]);
    expect(r.notes).toEqual(["user-gpt3-175b-megatron.sh: --rampup-batch-size ignored; evaluated at the full global batch"]);
  });
  // The script states neither --ffn-hidden-size nor --kv-channels: validate_args derives 4h =
  // 4·12288 = 49152 (no --swiglu) and h/a = 12288/96 = 128 (arguments.py:742-755 @ core_v0.14.0).
  it("model claims: 96 layers, 12288 hidden, 96 heads and kv heads, the derived FFN 49152 and head width 128, GELU, learned positions, tied, Megatron's default dropout and LayerNorm, no query/key norm", () => {
    expect(Object.fromEntries(r.claims.map((c) => [c.field, c.value]))).toEqual({
      layers: 96, hidden: 12288, heads: 96, kvHeads: 96, ffnHidden: 49152, headDim: 128, mlp: "gelu", positional: "learned", tiedEmbeddings: true, dropout: true, normalization: "LayerNorm", qkNorm: "none",
    });
  });
});

describe("a DeepSpeed ZeRO-3 config for Llama 3 70B", () => {
  const r = readConfigs([fixture("user-llama3-70b-ds-zero3.json")], ctx(LLAMA));
  it("1024 = 2 × 8 × dp makes dp 64 and 64 GPUs; ZeRO-3, full recompute from activation_checkpointing", () => {
    expect(r.plan).toEqual({ tp: 1, pp: 1, dp: 64, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 2, recompute: "full", sequenceParallel: false, schedule: "1f1b" });
    expect(r.gpus).toBe(64);
    expect([r.globalBatch, r.precision, r.overlapGradReduce]).toEqual([1024, "bf16", true]);
  });
  it("names each unknown key", () => {
    expect(r.warnings).toEqual([
      'user-llama3-70b-ds-zero3.json: "train_micro_batch_size" is not a DeepSpeed configuration key paraplan knows; ignored',
      'user-llama3-70b-ds-zero3.json: "zero_optimization_legacy" is not a DeepSpeed configuration key paraplan knows; ignored',
    ]);
  });
  it("--gpus that disagrees with the batch arithmetic is a contradiction", () => {
    expect(fails(() => readConfigs([fixture("user-llama3-70b-ds-zero3.json")], ctx(LLAMA, 128)))).toContain("makes 64 GPUs but --gpus is 128");
  });
});

describe("a torchtitan TOML for Llama 3 8B", () => {
  const r = readConfigs([fixture("user-llama3-8b-torchtitan.toml")], ctx("llama3-8b", 64));
  it("shard -1 takes the 64 GPUs: FSDP resharding by default (ZeRO-3), local batch 2, per-op selective", () => {
    expect(r.plan).toEqual({ tp: 1, pp: 1, dp: 64, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 2, recompute: "selective", sequenceParallel: false, schedule: "1f1b" });
    expect([r.globalBatch, r.seqLen, r.precision]).toEqual([512, 8192, "bf16"]);
  });
  it("names the unknown setting", () => {
    expect(r.warnings).toEqual(["user-llama3-8b-torchtitan.toml: training.gradient_checkpointing is not a torchtitan setting paraplan knows; ignored"]);
  });
});

describe("contradictions and unsupported settings, by name", () => {
  const megatron = (args: string, gpus?: number) => readConfigs([tempFile(`m${Math.random()}.txt`, args)], ctx(GPT, gpus));
  const base = "--num-layers 96 --hidden-size 12288 --num-attention-heads 96 --seq-length 2048 --bf16\n";
  it("tp · pp that does not divide the GPUs", () => {
    expect(fails(() => megatron(base + "--tensor-model-parallel-size 8 --pipeline-model-parallel-size 16 --micro-batch-size 1", 64))).toContain(
      ": --tensor-model-parallel-size 8 (line 2) × --pipeline-model-parallel-size 16 (line 2) = 128 does not divide the 64 GPUs (--gpus)",
    );
  });
  it("a micro-batch that does not divide the global batch", () => {
    expect(fails(() => megatron(base + "--tensor-model-parallel-size 8 --micro-batch-size 3 --global-batch-size 1000", 64))).toContain(
      ": --micro-batch-size 3 (line 2) × dp 8 = 24 does not divide the global batch, --global-batch-size 1000 (line 2)",
    );
  });
  it("--fp16 with --bf16; a flag given twice differently; a shell variable where a size belongs", () => {
    expect(fails(() => megatron(base + "--fp16 --micro-batch-size 1"))).toContain("--fp16 and --bf16 contradict");
    expect(fails(() => megatron(base + "--micro-batch-size 1 --micro-batch-size 2"))).toContain("--micro-batch-size is given twice");
    expect(fails(() => megatron(base + "--micro-batch-size 1 --tensor-model-parallel-size $TP"))).toContain('--tensor-model-parallel-size is "$TP", a shell variable');
  });
  it("hierarchical or unknown context-parallel exchanges are refused; unknown flags are warned about, each by name", () => {
    expect(fails(() => megatron(base + "--micro-batch-size 1 --context-parallel-size 4 --cp-comm-type a2a+p2p --hierarchical-context-parallel-sizes 2 2"))).toContain(
      "hierarchical context parallel",
    );
    expect(fails(() => megatron(base + "--micro-batch-size 1 --context-parallel-size 2 --cp-comm-type ring"))).toContain('--cp-comm-type "ring" is not p2p, all_gather or a2a');
    // 64 GPUs = tp 8 · cp 4 · dp 2; cp 3 leaves no whole dp.
    expect(fails(() => megatron(base + "--tensor-model-parallel-size 8 --context-parallel-size 3 --micro-batch-size 1", 64))).toContain(
      ": --tensor-model-parallel-size 8 (line 2) × pipeline 1 × --context-parallel-size 3 (line 2) = 24 does not divide the 64 GPUs",
    );
    const r = megatron(base + "--micro-batch-size 1 --use-fast-kernels\n--tensor-model-paralel-size 4\n--enable-cuda-graph", 8);
    expect(r.warnings).toEqual([
      expect.stringMatching(/--use-fast-kernels \(line 2\) is not a Megatron-LM argument paraplan knows; ignored$/),
      expect.stringMatching(/--tensor-model-paralel-size \(line 3\) is not a Megatron-LM argument paraplan knows; ignored$/),
      expect.stringMatching(/--enable-cuda-graph \(line 4\) changes performance in a way paraplan does not model; ignored$/),
    ]);
    expect(r.tpCommOverlap).toBeUndefined();
    // --tp-comm-overlap is modelled now (Engine.tensorParallel.commOverlap): read, not warned about.
    const o = megatron(base + "--micro-batch-size 1 --tensor-model-parallel-size 2 --sequence-parallel --tp-comm-overlap", 8);
    expect(o.warnings).toEqual([]);
    expect(o.tpCommOverlap).toBe(true);
  });
  it("ds_config batch arithmetic that does not close, and a ZeRO stage its arguments contradict", () => {
    const ds = tempFile("bad.json", JSON.stringify({ train_batch_size: 1000, train_micro_batch_size_per_gpu: 2, gradient_accumulation_steps: 8 }));
    expect(fails(() => readConfigs([ds], ctx(GPT)))).toContain("train_batch_size 1000 is not train_micro_batch_size_per_gpu 2 × gradient_accumulation_steps 8");
    const z2 = tempFile("z2.json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, zero_optimization: { stage: 2 } }));
    const args = tempFile("mds.txt", "--tensor-model-parallel-size 2 --zero-stage 1 --micro-batch-size 1");
    expect(fails(() => readConfigs([z2, args], ctx(GPT, 64)))).toBe("mds.txt: --zero-stage 1 but z2.json has zero_optimization.stage 2");
  });
  it("torchtitan degrees that make another GPU count than --gpus", () => {
    const t = tempFile("t.toml", "[parallelism]\ndata_parallel_replicate_degree = 2\ndata_parallel_shard_degree = 4\n");
    expect(fails(() => readConfigs([t], ctx("llama3-8b", 64)))).toContain("makes 8 GPUs but --gpus is 64");
  });
  it("state moved to the CPU is refused by flag or key, not priced as on-GPU", () => {
    expect(fails(() => megatron(base + "--micro-batch-size 1\n--optimizer-cpu-offload", 8))).toContain("--optimizer-cpu-offload (line 3) moves state to the CPU, which paraplan does not model");
    expect(fails(() => megatron(base + "--micro-batch-size 1\n--cpu-offloading-num-layers 4", 8))).toContain("--cpu-offloading-num-layers (line 3) moves state to the CPU");
    const ds = tempFile("offload.json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 3, offload_param: { device: "cpu" } } }));
    expect(fails(() => readConfigs([ds], ctx(GPT, 8)))).toBe("offload.json: zero_optimization.offload_param (line 1) moves state to cpu, which paraplan does not model");
    const none = tempFile("offload-none.json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 3, offload_param: { device: "none" } } }));
    expect(readConfigs([none], ctx(GPT, 8)).plan.zero).toBe(3);
  });
  it("DeepSpeed's low-precision master weights and optimizer states are refused by key", () => {
    for (const [section, key] of [["bf16", "bf16_master_weights_and_grads"], ["bf16", "bf16_optimizer_states"], ["fp16", "fp16_master_weights_and_grads"]]) {
      const ds = tempFile(`lp-${key}.json`, JSON.stringify({ train_micro_batch_size_per_gpu: 1, zero_optimization: { stage: 2 }, [section]: { enabled: true, [key]: true } }));
      expect(fails(() => readConfigs([ds], ctx(GPT, 8)))).toBe(`lp-${key}.json: ${section}.${key} true (line 1): low-precision master weights and optimizer states are not modelled (paraplan prices Adam with fp32 master weights)`);
    }
  });
  it("torchtitan in fp32 (mixed_precision_param float32) is refused by key, not priced as bf16", () => {
    const t = tempFile("fp32.toml", '[training]\nmixed_precision_param = "float32"\n');
    expect(fails(() => readConfigs([t], ctx("llama3-8b", 8)))).toBe('fp32.toml: training.mixed_precision_param = "float32" (line 2): paraplan models 16-bit and fp8 training, not fp32');
    const odd = tempFile("fp16.toml", '[training]\nmixed_precision_param = "float16"\n');
    expect(fails(() => readConfigs([odd], ctx("llama3-8b", 8)))).toContain('training.mixed_precision_param = "float16" (line 2) is not bfloat16 or float32');
  });
  it("torchtitan FSDP beside a pipeline: ZeRO-1 (gradients unsharded until the last micro-batch); \"always\" there is refused by key", () => {
    // 64 GPUs = tp 2 · pp 4 · shard 8; torchtitan's "default" does not reshard under pp, "never" neither.
    for (const policy of ["default", "never"]) {
      const t = tempFile(`pp-${policy}.toml`, `[parallelism]\ntensor_parallel_degree = 2\npipeline_parallel_degree = 4\nfsdp_reshard_after_forward = "${policy}"\n[activation_checkpoint]\nmode = "full"\n`);
      const r = readConfigs([t], ctx("llama3-8b", 64));
      expect([r.plan.tp, r.plan.pp, r.plan.dp, r.plan.zero]).toEqual([2, 4, 8, 1]);
    }
    const always = tempFile("pp-always.toml", '[parallelism]\ntensor_parallel_degree = 2\npipeline_parallel_degree = 4\nfsdp_reshard_after_forward = "always"\n');
    expect(fails(() => readConfigs([always], ctx("llama3-8b", 64)))).toContain('parallelism.fsdp_reshard_after_forward = "always" (line 4) with pipeline_parallel_degree 4');
    // Without a pipeline the policy is the ZeRO stage: always 3, never 2.
    const flat = tempFile("flat-never.toml", '[parallelism]\nfsdp_reshard_after_forward = "never"\n[activation_checkpoint]\nmode = "none"\n');
    expect(readConfigs([flat], ctx("llama3-8b", 64)).plan.zero).toBe(2);
  });
  it("more than one configuration at once", () => {
    expect(fails(() => readConfigs([fixture("user-llama3-8b-torchtitan.toml"), fixture("user-gpt3-175b-megatron.sh")], ctx(GPT)))).toContain("give one configuration");
  });
});
