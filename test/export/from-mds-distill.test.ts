// plan --from a Megatron-DeepSpeed file with --kd or --mos: knowledge distillation builds a teacher
// model beside the student (megatron/training.py pretrain: setup_teacher_model) and runs its
// forward in each micro-batch (pretrain_gpt.py forward_step, calculate_mos_loss @ microsoft/
// Megatron-DeepSpeed 0782d753). paraplan prices the student alone: exit 2 naming the flag, not the
// student's step. Their settings alone (--kd-temp, …) change nothing without them.
import { afterAll, describe, it, expect } from "vitest";
import { removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-mds-distill");
const DS = JSON.stringify({ train_batch_size: 1024, train_micro_batch_size_per_gpu: 2, gradient_accumulation_steps: 64, bf16: { enabled: true }, zero_optimization: { stage: 1 } });
/** GPT-3 13B as the DeepSpeed export writes it for 32 GPUs: tp 2, pp 2, dp 8. */
const MDS = ["--num-layers 40", "--hidden-size 5120", "--ffn-hidden-size 20480", "--num-attention-heads 40", "--max-position-embeddings 2048", "--layernorm-epsilon 0.00001",
  "--seq-length 2048", "--tensor-model-parallel-size 2", "--pipeline-model-parallel-size 2", "--micro-batch-size 2", "--global-batch-size 1024", "--bf16",
  "--zero-stage 1", "--deepspeed", "--deepspeed_config ds_config.json"];
const from = (extra: string[]) => ["--model", "gpt3-13b", "--gpus", "32", "--from", file("json", DS), "--from", file("txt", [...MDS, ...extra].join("\n") + "\n")];

describe("Megatron-DeepSpeed knowledge distillation", () => {
  it("--kd and --mos are exit 2 naming the flag and its line", async () => {
    await refused(from(["--kd", "--load-teacher /ckpt/teacher", "--num-layers-teacher 24"]), "--kd (line 16) trains against a teacher model", "which paraplan does not model");
    await refused(from(["--mos"]), "--mos (line 16) trains against a teacher model");
  });

  it("the distillation's settings without --kd or --mos are read, the plan as without them", async () => {
    const plain = await accepted(from([]));
    const temp = await accepted(from(["--kd-temp 2.0", "--kd-beta-ce 1"]));
    expect(temp.from.plan).toEqual(plain.from.plan);
  });
});

// Flags that change a layer's tensors or kernels, read silently before (QA): Megatron's fp32
// residual stream (arguments.py "Move residual connections to fp32"), Megatron-DeepSpeed's split
// layers and tiled linears (_add_memoryopt_args @0782d753).
describe("residual and layer-splitting flags paraplan does not price", () => {
  it("--fp32-residual-connection, --split-transformers and --memory-centric-tiled-linear are exit 2 naming the flag and its line", async () => {
    await refused(from(["--fp32-residual-connection"]), "--fp32-residual-connection (line 16) keeps the residual stream in fp32");
    await refused(from(["--split-transformers"]), "--split-transformers (line 16) splits each transformer layer into two checkpointed parts");
    await refused(from(["--memory-centric-tiled-linear", "--tile-factor 4"]), "--memory-centric-tiled-linear (line 16) cuts each linear layer into tiles");
    // (FPDT's chunks offloaded to host memory: refused as the other CPU offloads are)
    await refused(from(["--ds-sequence-parallel-fpdt-offloading"]), "--ds-sequence-parallel-fpdt-offloading (line 16)", "CPU");
  });
});
