// A ds_config.json written for the HuggingFace Trainer ("auto" values), and a ds_config without
// its Megatron-DeepSpeed arguments (issue 17: name the key, why, and what to pass instead).
import { afterAll, describe, expect, it } from "vitest";
import { runCli, removeTempFiles, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);

const HF = {
  train_batch_size: "auto",
  train_micro_batch_size_per_gpu: "auto",
  gradient_accumulation_steps: "auto",
  bf16: { enabled: "auto" },
  zero_optimization: { stage: 2 },
};

describe("plan --from ds_config.json with HuggingFace Trainer \"auto\" values", () => {
  it("says the batch keys are \"auto\", not missing, and names --global-batch and the file", async () => {
    const ds = tempFile("ds_auto.json", JSON.stringify(HF));
    const r = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--from", ds]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("is required");
    expect(r.stderr).toContain('"auto"');
    expect(r.stderr).toContain("train_micro_batch_size_per_gpu");
    expect(r.stderr).toContain("HuggingFace Trainer");
    expect(r.stderr).toContain("--global-batch");
  });

  it("with --global-batch the \"auto\" batch is read: micro-batch B / dp, and bf16 \"auto\" is not fp32", async () => {
    const ds = tempFile("ds_auto2.json", JSON.stringify(HF));
    const r = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--global-batch", "64", "--from", ds]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("tp 1 · pp 1 · dp 8 · ZeRO-2 · micro-batch 8");
    expect(r.stderr).not.toContain("fp32");
    expect(r.stdout).toMatch(/bf16.enabled is "auto"/);
  });

  it("a ds_config alone says to add the Megatron-DeepSpeed arguments as a second --from", async () => {
    const ds = tempFile("ds_plain.json", JSON.stringify({ train_batch_size: 64, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const ok = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--from", ds]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/second --from/);
    // 6 sequences over 8 GPUs only split with tp or pp: the error says where those come from.
    const bad = tempFile("ds_bad.json", JSON.stringify({ train_batch_size: 6, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true } }));
    const r = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--from", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Megatron-DeepSpeed arguments");
    expect(r.stderr).toContain("second --from");
  });
});
