// bf16 Adam moments (--optimizer-states bf16) through the exports and back: the prediction holds
// 8 bytes of optimizer state a parameter instead of 12, so an export must write the setting that
// gives it or refuse — a config that keeps fp32 moments needs more memory than predicted.
import { afterAll, describe, expect, it } from "vitest";
import { argFlags, argValue, cli, recorded, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const LLAMA = ["--model", "llama3-8b", "--gpus", "64", "--optimizer-states", "bf16"];

describe("export --optimizer-states bf16", () => {
  it("megatron core_r0.14: the precision-aware optimizer with both moments bf16, beside the distributed optimizer it needs", async () => {
    const r = await cli(["export", "--format", "megatron", ...LLAMA]);
    expect(r.code).toBe(0);
    expect(r.errLines[0]).toMatch(/· ZeRO-1 ·/);
    expect(argValue(r.stdout, "--use-precision-aware-optimizer")).toBe("");
    expect(argValue(r.stdout, "--exp-avg-dtype")).toBe("bf16");
    expect(argValue(r.stdout, "--exp-avg-sq-dtype")).toBe("bf16");
    expect(argValue(r.stdout, "--use-distributed-optimizer")).toBe("");
    // Names arguments.py of core_r0.14 defines (NVIDIA/Megatron-LM @000c4ac).
    const known = recorded("megatron-lm-core_r0.14.txt");
    expect(argFlags(r.stdout).filter((f) => !known.has(f))).toEqual([]);
    // Without bf16 moments none of these flags.
    const plain = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "64"]);
    expect(argValue(plain.stdout, "--use-precision-aware-optimizer")).toBeUndefined();
  });

  it("megatron refuses a plan without the distributed optimizer, and core_v0.7, which has no such optimizer", async () => {
    const z0 = await cli(["export", "--format", "megatron", ...LLAMA, "--zero", "0"]);
    expect(z0.code).toBe(2);
    expect(z0.stderr).toMatch(/--optimizer-states bf16: Megatron's precision-aware optimizer runs only with the distributed optimizer \(ZeRO-1/);
    // gpt3-1.3b: a model core_v0.7 can build (Llama's RoPE base is refused there first).
    const v07 = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", "gpt3-1.3b", "--gpus", "8", "--optimizer-states", "bf16"]);
    expect(v07.code).toBe(2);
    expect(v07.stderr).toContain("Megatron-LM core_v0.7 has no precision-aware optimizer");
  });

  it.each([
    ["deepspeed", /paraplan does not write DeepSpeed's low-precision optimizer states/],
    ["torchtitan", /torchtitan's job file has no optimizer-state dtype/],
  ])("%s: refused, one line naming the flag", async (format, message) => {
    const r = await cli(["export", "--format", format, ...LLAMA]);
    expect(r.code).toBe(2);
    expect(r.errLines.length).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});

describe("plan --from reads Megatron's precision-aware optimizer", () => {
  const args = (extra: string[]) =>
    tempFile(`m-${extra.join("_").replace(/[^a-z0-9_]/gi, "")}.txt`, ["--tensor-model-parallel-size 2", "--sequence-parallel", "--micro-batch-size 1", "--global-batch-size 512", "--seq-length 8192", "--bf16", "--use-distributed-optimizer", ...extra].join("\n"));
  const from = (extra: string[]) => cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--from", args(extra), "--json", "--top", "1"]);
  const momentsOf = async (extra: string[]) => {
    const r = await from(extra);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).from;
  };

  it("both moments bf16 is --optimizer-states bf16: 4 bytes a parameter less optimizer state than fp32 moments", async () => {
    const bf16 = await momentsOf(["--use-precision-aware-optimizer", "--exp-avg-dtype bf16", "--exp-avg-sq-dtype bf16"]);
    const fp32 = await momentsOf(["--use-precision-aware-optimizer"]);
    const plain = await momentsOf([]);
    expect(fp32.plan).toEqual(plain.plan);
    // llama3-8b over tp 2 and, ZeRO-1, dp 32: 8.03e9 / 2 / 32 parameters a GPU, 4 bytes fewer each.
    const perGpu = (r: { plan: { memory: { optimizer: number } } }) => r.plan.memory.optimizer;
    expect(perGpu(fp32) - perGpu(bf16)).toBeCloseTo((4 * 8.03e9) / 2 / 32, -7);
  });

  it("moments paraplan does not model are exit 2 naming the flag, not priced as fp32", async () => {
    for (const [extra, flag] of [
      [["--use-precision-aware-optimizer", "--exp-avg-dtype fp8", "--exp-avg-sq-dtype bf16"], "--exp-avg-dtype fp8"],
      [["--use-precision-aware-optimizer", "--main-params-dtype fp16"], "--main-params-dtype fp16"],
      [["--exp-avg-dtype bf16"], "without --use-precision-aware-optimizer"],
    ] as const) {
      const r = await from([...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });
});
