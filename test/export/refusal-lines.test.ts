// `plan --from`: a refusal names the setting as the file has it, with its value and line, so the
// user finds it (Megatron-LM scripts: args-file.ts argAt; torchtitan jobs: setting-at.ts titanAt).
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { readConfigs } from "../../src/engines/read-back.js";
import type { ReadContext } from "../../src/engines/read-config.js";
import { model, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const ctx = (name: string, gpus: number): ReadContext => {
  const m = model(name);
  return { model: m, gpus, defaultGpus: gpus, defaultGpusFrom: "a test" };
};
const refusal = (path: string, c: ReadContext): string => {
  try {
    readConfigs([path], c);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error(`${path} was read`);
};

// A Megatron-LM launch: the flag under test on line 4.
const megatron = (flag: string) =>
  ["#!/bin/bash", "torchrun --nproc_per_node 8 pretrain_gpt.py \\", "  --tensor-model-parallel-size 2 --num-layers 24 --hidden-size 2048 --num-attention-heads 16 \\", `  ${flag} \\`,
    "  --seq-length 2048 --max-position-embeddings 2048 --micro-batch-size 2 --global-batch-size 64 --bf16"].join("\n") + "\n";

describe("Megatron-LM: the flag, its value and its line", () => {
  it.each([
    ["--recompute-granularity partial", "--recompute-granularity partial (line 4) is not full or selective"],
    ["--recompute-granularity selective --recompute-method uniform", "--recompute-method uniform (line 4) with selective recompute"],
    ["--optimizer sgd", "--optimizer sgd (line 4) holds other optimizer state than Adam"],
    ["--use-megatron-fsdp --data-parallel-sharding-strategy all", "--data-parallel-sharding-strategy all (line 4) is not one of"],
  ])("%s", (flag, says) => {
    const msg = refusal(tempFile("run.sh", megatron(flag)), ctx("gpt3-1.3b", 8));
    expect(msg).toMatch(/^run\.sh: /);
    expect(msg).toContain(says);
  });
});

describe("torchtitan: the setting, its value and its line", () => {
  const job = (extra: string) => `[model]\nname = "llama3"\nflavor = "8B"\n[training]\nlocal_batch_size = 1\nseq_len = 8192\n${extra}\n`;
  it.each([
    ['enable_cpu_offload = true', 'training.enable_cpu_offload = true (line 7) moves state to the CPU'],
    ['mixed_precision_reduce = "float16"', 'training.mixed_precision_reduce = "float16" (line 7): torchtitan takes "float32" only'],
    ['mixed_precision_reduce = "bfloat16"', 'training.mixed_precision_reduce = "bfloat16" (line 7): torchtitan takes "float32" only'],
    ['[activation_checkpoint]\nmode = "sometimes"', 'activation_checkpoint.mode = "sometimes" (line 8) is not none, selective, full or memory_budget'],
  ])("%s", (extra, says) => {
    const msg = refusal(tempFile("job.toml", job(extra)), ctx("llama3-8b", 8));
    expect(msg).toMatch(/^job\.toml: /);
    expect(msg).toContain(says);
  });
});
