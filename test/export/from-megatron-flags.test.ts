// `plan --from` a Megatron-LM arguments file: flags whose meaning validate_args settles from others
// (src/engines/megatron-flags.ts, moe-args.ts expertKernels), each read as Megatron runs it, or
// refused by name (exit 2, one line), or named on a warning line, never priced as another run.
// Line numbers: megatron/training/arguments.py @ core_v0.14.0 unless said otherwise.
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp } from "./helpers.js";
import { LLAMA8B_MEGATRON, MIXTRAL_MEGATRON, accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-megatron-flags");

/** Llama 3 8B as the Megatron export writes it (tp 1, pp 1, ZeRO-1 on 16 GPUs: dp 16). */
const LLAMA8B = [...LLAMA8B_MEGATRON, "--attention-backend flash"];
const llama = (lines: string[], drop: string[] = []) => ["--model", "llama3-8b", "--gpus", "16", "--from", file("txt", [...LLAMA8B.filter((l) => !drop.some((d) => l.startsWith(d))), ...lines].join("\n") + "\n")];

/** Llama 3 8B's parameters Ψ: embedding and output 2 × 128256 × 4096 = 1,050,673,152; a layer's Q
 *  and O 2 × 4096², K and V 2 × 4096 × 1024, MLP 3 × 4096 × 14336, two norms 2 × 4096:
 *  218,112,000, × 32 = 6,979,584,000; the final norm 4096. Ψ = 8,030,261,248. */
const PSI = 8_030_261_248;

type Json = { gradReduceBytes: number; from: { plan: { memory: { gradients: number }; tokensPerSecond: number }; notes: string[]; warnings: string[] } };
const json = async (argv: string[]) => (await accepted(argv)) as unknown as Json;

describe("the gradients' dtype (validate_args, arguments.py:653-668)", () => {
  it("--grad-reduce-in-bf16 wins over --accumulate-allreduce-grads-in-fp32 under --bf16: 2 bytes a parameter, Ψ·2 of gradients at ZeRO-1, tp 1", async () => {
    // `if args.grad_reduce_in_bf16: args.accumulate_allreduce_grads_in_fp32 = False` (:662-663)
    const both = await json(llama(["--bf16", "--grad-reduce-in-bf16", "--accumulate-allreduce-grads-in-fp32"]));
    expect(both.gradReduceBytes).toBe(2);
    expect(both.from.plan.memory.gradients).toBeCloseTo(2 * PSI, -3);
    expect(both.from.notes.join("\n")).toContain("--grad-reduce-in-bf16 (line 24) wins over --accumulate-allreduce-grads-in-fp32 (line 25)");
    // --main-grads-dtype bf16 without the precision-aware optimizer: OptimizerConfig asserts
    // "main_grads_dtype can only be fp32" (optimizer_config.py:259) — refused, not read as fp32
    await refused(llama(["--bf16", "--main-grads-dtype bf16"]), "--main-grads-dtype bf16 (line 24) without --use-precision-aware-optimizer");
    // --bf16 alone: accumulate_allreduce_grads_in_fp32 forced on (:664-665), 4 bytes: Ψ·4.
    const alone = await json(llama(["--bf16"]));
    expect(alone.gradReduceBytes).toBe(4);
    expect(alone.from.plan.memory.gradients).toBeCloseTo(4 * PSI, -3);
  });

  it("under --fp16 the bf16 branch does not run: --accumulate-allreduce-grads-in-fp32 holds (4 bytes); fp8 on --fp16 keeps 16-bit gradients", async () => {
    expect((await json(llama(["--fp16", "--grad-reduce-in-bf16", "--accumulate-allreduce-grads-in-fp32"]))).gradReduceBytes).toBe(4);
    // fp16 + fp8 GEMMs: accumulate_allreduce_grads_in_fp32 stays off (its default), Ψ·2.
    const fp8 = await json(llama(["--fp16", "--fp8-format", "hybrid"]));
    expect(fp8.gradReduceBytes).toBe(2);
    expect(fp8.from.plan.memory.gradients).toBeCloseTo(2 * PSI, -3);
  });
});

describe("widths validate_args derives when the file leaves them out", () => {
  it("no --ffn-hidden-size under --swiglu is int(4·4096·2/3 / 64)·64 = int(170.67)·64 = 10880 (arguments.py:742-751), not Llama 3 8B's 14336", async () => {
    await refused(llama(["--bf16"], ["--ffn-hidden-size"]), "no --ffn-hidden-size", "= 10880", "has ffnHidden 14336");
  });

  it("without --swiglu 4h: GPT-3 1.3B's 4 · 2048 = 8192 matches, so its file without --ffn-hidden-size is read", async () => {
    const gpt = ["--num-layers 24", "--hidden-size 2048", "--num-attention-heads 16", "--max-position-embeddings 2048", "--seq-length 2048", "--micro-batch-size 1", "--global-batch-size 512", "--bf16"];
    const r = await json(["--model", "gpt3-1.3b", "--gpus", "8", "--from", file("txt", gpt.join("\n") + "\n")]);
    expect(r.from.plan).toBeDefined();
  });

  it("no --kv-channels is hidden/heads (arguments.py:753-755): 3584/16 = 224 against a head width of 256; stated, it is read", async () => {
    const wide = file("json", JSON.stringify({ name: "wide-heads", layers: 2, hidden: 3584, heads: 16, kvHeads: 8, headDim: 256, ffnHidden: 14336, vocab: 32000, seqLen: 4096, positional: "rope", mlp: "swiglu", tiedEmbeddings: false }));
    const lines = ["--num-layers 2", "--hidden-size 3584", "--ffn-hidden-size 14336", "--num-attention-heads 16", "--group-query-attention", "--num-query-groups 8", "--position-embedding-type rope", "--swiglu", "--normalization RMSNorm", "--untie-embeddings-and-output-weights", "--attention-dropout 0", "--hidden-dropout 0", "--disable-bias-linear", "--seq-length 4096", "--micro-batch-size 1", "--global-batch-size 64", "--bf16"];
    const on = (extra: string[]) => ["--model", wide, "--gpus", "8", "--from", file("txt", [...lines, ...extra].join("\n") + "\n")];
    await refused(on([]), "no --kv-channels", "3584/16 = 224", "has headDim 256");
    expect((await json(on(["--kv-channels 256"]))).from.plan).toBeDefined();
    // 4096/30 is no whole width: validate_args asserts (arguments.py:754)
    await refused(llama(["--bf16", "--num-attention-heads 30"], ["--num-attention-heads"]), "no --kv-channels", "--num-attention-heads 30", "does not divide");
  });
});

describe("flags refused by name", () => {
  it("--num-distributed-optimizer-instances 4: states sharded over dp·cp/4 (parallel_state.py:743-790), not the ZeRO-1 paraplan prices; 1 is the default", async () => {
    await refused(llama(["--bf16", "--num-distributed-optimizer-instances 4"]), "--num-distributed-optimizer-instances 4 (line 24)", "dp·cp/4", "paraplan does not model");
    expect((await json(llama(["--bf16", "--num-distributed-optimizer-instances 1"]))).from.plan).toBeDefined();
  });

  it("--fp8-format without --bf16 or --fp16 keeps fp32 parameters (params_dtype torch.float, :642): the fp32 refusal, not fp8", async () => {
    await refused(llama(["--fp8-format hybrid"]), "neither --bf16 nor --fp16", "--fp8-format hybrid (line 23)", "trains in fp32");
    expect((await accepted(llama(["--bf16", "--fp8-format hybrid"]))).precision).toBe("fp8");
  });
});

/** Mixtral 8x7B on 64 GPUs: tp 8, pp 2, vpp 4, ep 8 (the Megatron export's plan). */
const MIXTRAL = MIXTRAL_MEGATRON;
const mixtral = (lines: string[]) => ["--model", "mixtral-8x7b", "--gpus", "64", "--from", file("txt", [...MIXTRAL, ...lines].join("\n") + "\n")];

describe("MoE: the alltoall dispatcher and grouped GEMM paraplan prices (moe-args.ts expertKernels)", () => {
  it("no --moe-token-dispatcher-type is Megatron's allgather (arguments.py:2869-2872), refused like allgather and flex stated", async () => {
    const ep8 = ["--bf16", "--moe-grouped-gemm", "--expert-model-parallel-size 8"];
    await refused(mixtral(ep8), "no --moe-token-dispatcher-type (Megatron's default allgather", "prices --moe-token-dispatcher-type alltoall");
    await refused(mixtral([...ep8, "--moe-token-dispatcher-type allgather"]), "--moe-token-dispatcher-type allgather (line 33)", "prices --moe-token-dispatcher-type alltoall");
    await refused(mixtral([...ep8, "--moe-token-dispatcher-type flex"]), "--moe-token-dispatcher-type flex (line 33)");
    // an engine that prices no experts at all says so first, not the dispatcher it would ask for
    const old = await refused(["--engine", "megatron-2021", ...mixtral(ep8)], "--engine: engine megatron-2021 runs no mixture-of-experts layers as paraplan prices them");
    expect(old).not.toContain("dispatcher");
  });

  it("no --moe-grouped-gemm is SequentialMLP: 8 experts over ep 4 are 2 local experts a rank, refused; over ep 8 one, read with a note", async () => {
    const a2a = ["--bf16", "--moe-token-dispatcher-type alltoall"];
    await refused(mixtral([...a2a, "--expert-model-parallel-size 4"]), "no --moe-grouped-gemm", "2 local experts", "prices the grouped GEMM");
    const one = await json(mixtral([...a2a, "--expert-model-parallel-size 8"]));
    expect(one.from.notes.join("\n")).toContain("one local expert a rank (8 experts over ep 8)");
    // grouped GEMM asserts bf16 (arguments.py:790-791), before the fp16 expert-parallel assert (:955-956)
    await refused(mixtral(["--fp16", "--moe-token-dispatcher-type alltoall", "--moe-grouped-gemm", "--expert-model-parallel-size 8"]), "--moe-grouped-gemm (line 32) without --bf16", "stops at start");
  });

  it("--fp16 with ep > 1 stops at start (assert not args.fp16, arguments.py:955-956), said before the dispatcher; at ep 1 the loop names --bf16", async () => {
    // (no dispatcher stated: the assert is Megatron's, the allgather refusal paraplan's own)
    await refused(mixtral(["--fp16", "--expert-model-parallel-size 8"]), "--fp16 (line 30) with --expert-model-parallel-size 8 (line 31)", "Expert parallelism is not supported with fp16 training", "[moe_fp16_ep]");
    await refused(mixtral(["--fp16", "--moe-token-dispatcher-type alltoall", "--expert-model-parallel-size 4"]), "--fp16 (line 30) with --expert-model-parallel-size 4 (line 32)");
    // ep 1: 8 experts / 1 = 8 local experts in SequentialMLP's loop; the grouped GEMM needs --bf16
    await refused(mixtral(["--fp16"]), "8 local experts", "which needs --bf16");
  });

  it("the export refuses fp16 for Megatron-Core's experts: exit 1 counting both rules when ep is searched, exit 2 naming --precision when fixed", async () => {
    const fp16 = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--precision", "fp16"]);
    expect(fp16.code, fp16.stdout).toBe(1);
    const why = fp16.errLines.join("\n");
    for (const s of ["no valid configuration", "[moe_fp16_ep]", "[moe_fp16_local_experts]", "use --precision bf16 or fp8"]) expect(why).toContain(s);
    expect(fp16.stdout).not.toContain("--fp16");
    for (const ep of ["8", "4"]) {
      const fixed = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--precision", "fp16", "--ep", ep]);
      expect(fixed.code).toBe(2);
      expect(fixed.errLines.join("\n")).toContain(`--precision: fp16 with ep ${ep}: Megatron asserts "Expert parallelism is not supported with fp16 training"`);
    }
    const ep1 = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--precision", "fp16", "--ep", "1"]);
    expect(ep1.code).toBe(2);
    expect(ep1.errLines.join("\n")).toContain("--precision: engine megatron-core runs a rank's 8 local experts one after another under fp16");
    expect((await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64"])).stdout).toMatch(/^--moe-grouped-gemm$/m);
  });
});

describe("--ddp-bucket-size: the gradient bucket in parameters (distributed_data_parallel_config.py:41-44), 2 bytes each as the engine's", () => {
  // ZeRO-0 with --overlap-grad-reduce: the last bucket's all-reduce is exposed (cost/time.ts).
  const zero0 = (lines: string[]) => llama(["--bf16", ...lines], ["--use-distributed-optimizer"]);

  it("40,000,000 at dp 16 is Megatron's default max(40M, 1M·16) = 40M (distributed_data_parallel.py:62-65): the same step; 200,000,000 exposes a larger last bucket", async () => {
    const none = (await json(zero0([]))).from.plan.tokensPerSecond;
    expect((await json(zero0(["--ddp-bucket-size 40000000"]))).from.plan.tokensPerSecond).toBe(none);
    expect((await json(zero0(["--ddp-bucket-size 200000000"]))).from.plan.tokensPerSecond).toBeLessThan(none);
  });

  it("10,000,000 parameters are 2 × 10^7 B = 19.1 MiB in the engine line; below 2^19 = 524,288 refused; with --ddp-num-buckets refused (training.py:930)", async () => {
    const r = await cli(["plan", ...zero0(["--ddp-bucket-size 10000000"]), "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("gradient bucket 19.1 MiB");
    await refused(zero0(["--ddp-bucket-size 1000"]), "--ddp-bucket-size 1000 (line 23)", "from 524,288 parameters");
    await refused(zero0(["--ddp-bucket-size 10000000", "--ddp-num-buckets 4"]), "contradict", "training.py:930");
  });

  it("without --overlap-grad-reduce Megatron drops it (one bucket, distributed_data_parallel.py:66-68): noted, not priced", async () => {
    const r = await json(llama(["--bf16", "--ddp-bucket-size 10000000"], ["--overlap-grad-reduce"]));
    expect(r.from.notes.join("\n")).toContain("--ddp-bucket-size 10000000 (line 23) is not used without --overlap-grad-reduce");
  });
});

describe("kernel fusions switched off (_add_training_args)", () => {
  it("--no-bias-swiglu-fusion keeps the SiLU output too: 2·b·s·f/tp = 2·1·8192·14336 B = 224 MiB a layer more, refused; under full recompute a warning", async () => {
    await refused(llama(["--bf16", "--no-bias-swiglu-fusion"]), "--no-bias-swiglu-fusion (line 24)", "(224 MiB a layer here)", "paraplan does not model");
    const full = await json(llama(["--bf16", "--no-bias-swiglu-fusion", "--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1"]));
    expect(full.from.warnings.join("\n")).toContain("--no-bias-swiglu-fusion (line 24) runs SwiGLU unfused");
  });

  it("the others each get a warning line saying what they change and that paraplan does not price it; masked softmax is noted as no change under fused attention", async () => {
    const r = await json(llama(["--bf16", "--no-gradient-accumulation-fusion", "--no-masked-softmax-fusion", "--no-rope-fusion", "--no-bias-dropout-fusion"]));
    const warned = (flag: string) => r.from.warnings.filter((w) => w.includes(`${flag} (line`) && w.endsWith("paraplan does not price it: ignored"));
    for (const flag of ["--no-gradient-accumulation-fusion", "--no-rope-fusion", "--no-bias-dropout-fusion"]) expect(warned(flag), flag).toHaveLength(1);
    expect(r.from.notes.join("\n")).toContain("--no-masked-softmax-fusion (line 25) changes nothing with fused attention");
    const unfused = await json(llama(["--bf16", "--no-masked-softmax-fusion", "--attention-backend unfused"], ["--attention-backend"]));
    expect(unfused.from.warnings.join("\n")).toContain("--no-masked-softmax-fusion (line 23) scales, masks and softmaxes unfused attention's scores");
  });
});
