// --grad-reduce-in-fp32: fp32 gradients on the wire where the engine reduces 16-bit ones — FSDP's
// MixedPrecision reduce_dtype fp32, which llm-foundry's mixed_precision DEFAULT sets (Composer
// get_mixed_precision: param bf16, reduce fp32, buffer bf16) and 136 of the MPT calibration rows
// ran, against the fsdp engine's PURE (all bf16). Through plan, the DeepSpeed export
// (communication_data_type "fp32") and back through --from, and into the calibration rows.
import { afterAll, describe, expect, it } from "vitest";
import { withOverrides } from "../../planner/engine-overrides.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { loadEngine } from "../../src/load-engine.js";
import { loadCalibrationRows } from "../../bench/calibration/rows.js";
import { cli, h100, model, plan, removeTemp, tempFile, training } from "../export/helpers.js";

afterAll(removeTemp);

const LLAMA = ["--model", "llama3-8b", "--gpus", "64", "--json", "--top", "1"];

describe("plan --grad-reduce-in-fp32", () => {
  it("doubles what the fsdp engine (PURE, 2 bytes) reduces a gradient, and the header says so", async () => {
    const pure = await cli(["plan", ...LLAMA, "--engine", "fsdp", "--zero", "3"]);
    const fp32 = await cli(["plan", ...LLAMA, "--engine", "fsdp", "--zero", "3", "--grad-reduce-in-fp32"]);
    expect(pure.code, pure.stderr).toBe(0);
    expect(fp32.code, fp32.stderr).toBe(0);
    const [a, b] = [JSON.parse(pure.stdout), JSON.parse(fp32.stdout)];
    expect(a.gradReduceBytes).toBe(2);
    expect(b.gradReduceBytes).toBe(4);
    // Same plan dimensions, more bytes on the wire: never faster.
    expect(b.plans[0].tokensPerSecond).toBeLessThanOrEqual(a.plans[0].tokensPerSecond);
    const text = await cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "fsdp", "--grad-reduce-in-fp32", "--top", "1"]);
    expect(text.stdout).toContain("engine fsdp (--engine; fp32 gradients)");
  });

  it("on an engine that already reduces fp32 it changes nothing, and says so", async () => {
    const plain = await cli(["plan", ...LLAMA]);
    const fp32 = await cli(["plan", ...LLAMA, "--grad-reduce-in-fp32"]);
    expect(JSON.parse(fp32.stdout).plans[0].tokensPerSecond).toBe(JSON.parse(plain.stdout).plans[0].tokensPerSecond);
    const text = await cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--grad-reduce-in-fp32", "--top", "1"]);
    expect(text.stdout).toContain("fp32 gradients, as the engine keeps them");
  });

  it("with --grad-reduce-in-bf16 is exit 2, one line naming both", async () => {
    const r = await cli(["plan", "--model", "llama3-8b", "--grad-reduce-in-fp32", "--grad-reduce-in-bf16"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(["paraplan: --grad-reduce-in-bf16 and --grad-reduce-in-fp32 contradict each other: give one"]);
  });
});

describe("the DeepSpeed export writes the reduction it was priced with, and reads back", () => {
  const m = model("llama3-8b");
  const t = (fp32: boolean) => training({ engine: withOverrides(loadEngine("megatron-deepspeed", undefined), { gradReduceInFp32: fp32 }) });
  const p = plan({ tp: 2, zero: 2 });

  it("communication_data_type fp32 only where the prediction reduced fp32 (megatron-deepspeed reduces in the training dtype)", () => {
    const fp32 = exportPlan("deepspeed", m, p, t(true), h100, {});
    const plain = exportPlan("deepspeed", m, p, t(false), h100, {});
    const config = (e: typeof fp32) => JSON.parse(e.files.find((f) => f.name === "ds_config.json")!.content);
    expect(config(fp32).communication_data_type).toBe("fp32");
    expect(config(plain).communication_data_type).toBeUndefined();
    const back = readConfigs(fp32.files.map((f) => tempFile(`fp32-${f.name}`, f.content)), { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.gradReduceInFp32).toBe(true);
    const backPlain = readConfigs(plain.files.map((f) => tempFile(`plain-${f.name}`, f.content)), { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(backPlain.gradReduceInFp32 ?? false).toBe(false);
  });

  // DeepSpeed casts each bucket to fp32 and keeps 16-bit gradients (runtime/engine.py
  // allreduce_bucket): at ZeRO-0/1 the fp32 gradient buffer predicted is not what it holds.
  it("at ZeRO-0/1 fp32 reduction is refused, on export and on plan --from alike", async () => {
    expect(() => exportPlan("deepspeed", m, plan({ tp: 2, zero: 1 }), t(true), h100, {})).toThrow(/--grad-reduce-in-fp32\) at ZeRO-1: DeepSpeed's communication_data_type "fp32" reduces fp32 copies/);
    const ds = tempFile("z1-fp32.json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 1 }, communication_data_type: "fp32" }));
    const r = await cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--from", ds]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('z1-fp32.json: communication_data_type "fp32" (line 1) at ZeRO stage 1: DeepSpeed reduces fp32 copies of 16-bit gradients');
  });

  // BF16_Optimizer (ZeRO-0 under bf16) keeps fp32 gradients: reduced in fp32 they cost no cast, so
  // its stage is among those the export searches under the flag (review: only ZeRO-2/3 were).
  it("under --grad-reduce-in-fp32 the export also searches BF16_Optimizer's stage 0, and takes it where it is faster", async () => {
    const r = await cli(["export", "--format", "deepspeed", "--model", "gpt3-1.3b", "--gpus", "8", "--grad-reduce-in-fp32"]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.zero_optimization.stage).toBe(0);
    expect(config.communication_data_type).toBe("fp32");
    expect(config.data_types).toEqual({ grad_accum_dtype: "fp32" });
  });

  it("plan --from a Megatron fp16 run with --accumulate-allreduce-grads-in-fp32 prices 4 bytes a gradient, without it 2", async () => {
    const args = (extra: string) => tempFile(`fp16-${extra.length}.txt`, ["--tensor-model-parallel-size 2", "--micro-batch-size 1", "--global-batch-size 512", "--seq-length 8192", "--fp16", extra].join("\n"));
    const bytes = async (extra: string) => {
      const r = await cli(["plan", ...LLAMA, "--from", args(extra)]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).gradReduceBytes;
    };
    expect(await bytes("--accumulate-allreduce-grads-in-fp32")).toBe(4);
    expect(await bytes("")).toBe(2);
  });
});

describe("the calibration rows run their own mixed precision", () => {
  it("llm-foundry rows with MP mode DEFAULT reduce fp32, PURE rows bf16; other sources keep their engine's", () => {
    const rows = loadCalibrationRows();
    const mpt = rows.filter((r) => r.source === "MPT");
    const bytes = (r: (typeof rows)[number]) => r.training.engine!.dataParallel.gradReduceBytes;
    // 129 amp_bf16 + 7 amp_fp8 rows under DEFAULT, 80 bf16 rows under PURE (published-runs.csv notes).
    expect(mpt.filter((r) => bytes(r) === 4).length).toBe(136);
    expect(mpt.filter((r) => bytes(r) === 2).length).toBe(80);
    expect(bytes(rows.find((r) => r.id === "MPT-140")!)).toBe(2);
    expect(bytes(rows.find((r) => r.id === "MPT-021")!)).toBe(4);
    expect(bytes(rows.find((r) => r.id === "MEG21-01")!)).toBe(2);
  });
});
