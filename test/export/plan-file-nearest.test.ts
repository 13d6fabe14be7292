// `export --plan FILE` gets the engine's nearest plan, with its note, as the search's best does
// (README "paraplan export", "Which plan"; torchtitan's ZeRO table; llm-foundry's Layout). QA:
// checkStructure refused the file's plan before the engine's translate ran ("field "zero": engine
// torchtitan runs ZeRO stages 0, 2, 3, not 1"). A plan the engine cannot run at all stays refused,
// named by the file's field.
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const planFile = (name: string, over: object) =>
  tempFile(`${name}.json`, JSON.stringify({ tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b", ...over }));

async function exportPlanFile(format: string, modelName: string, path: string) {
  const r = await cli(["export", "--format", format, "--model", modelName, "--plan", path]);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stderr.split("\n");
  return { described: lines[0]!, notes: lines.filter((l) => l.startsWith("paraplan: note: ")), stdout: r.stdout };
}

describe("export --plan FILE: the nearest plan the engine runs, noted", () => {
  it("torchtitan, ZeRO-1 without a pipeline: exported as FSDP2 \"never\", ZeRO-2", async () => {
    const r = await exportPlanFile("torchtitan", "llama3-8b", planFile("tt-z1", {}));
    expect(r.described).toBe("paraplan: torchtitan (0.2.2): tp 1 · pp 1 · dp 16 · ZeRO-2 · micro-batch 1 · full recompute");
    expect(r.notes).toContainEqual(expect.stringContaining("ZeRO-1 has no torchtitan equivalent without a pipeline"));
    expect(r.stdout).toMatch(/^fsdp_reshard_after_forward = "never"$/m);
  });

  it("torchtitan, ZeRO-3 beside a pipeline (pp 2): exported as ZeRO-1, FSDP2 \"never\" beside the pipeline", async () => {
    // (tp 4: at tp 1 the ZeRO-1 it becomes needs 178 GiB per GPU, which export refuses, exit 1)
    const r = await exportPlanFile("torchtitan", "llama3-8b", planFile("tt-z3pp", { tp: 4, sequenceParallel: true, pp: 2, dp: 8, zero: 3 }));
    expect(r.described).toBe("paraplan: torchtitan (0.2.2): tp 4 · pp 2 · dp 8 · ZeRO-1 · micro-batch 1 · full recompute · sequence parallel · 1F1B");
    expect(r.notes).toContainEqual(expect.stringContaining("ZeRO-3 beside a pipeline"));
  });

  it("torchtitan 0.2.2 (the default) as 0.2, ZeRO-0 with tp 2: DDP runs alone there; exported as ZeRO-2 with sequence parallel", async () => {
    const r = await exportPlanFile("torchtitan", "llama3-8b", planFile("tt-z0tp", { tp: 2, dp: 8, zero: 0, sequenceParallel: true }));
    expect(r.described).toBe("paraplan: torchtitan (0.2.2): tp 2 · pp 1 · dp 8 · ZeRO-2 · micro-batch 1 · full recompute · sequence parallel");
    expect(r.notes).toContainEqual(expect.stringContaining("torchtitan 0.2.2 runs DDP only without other parallelism"));
  });

  it("llm-foundry, ZeRO-1: exported as SHARD_GRAD_OP, ZeRO-2", async () => {
    const r = await exportPlanFile("llm-foundry", "mpt-7b", planFile("lf-z1", {}));
    expect(r.described).toBe("paraplan: llm-foundry (8c8dd48): tp 1 · pp 1 · dp 16 · ZeRO-2 · micro-batch 1 · full recompute");
    expect(r.notes).toContainEqual(expect.stringContaining("ZeRO-1 has no FSDP sharding strategy"));
    expect(r.stdout).toMatch(/sharding_strategy: SHARD_GRAD_OP/);
  });

  it("the nearest plan is predicted as the search's export of it is (the same plan fixed by flags)", async () => {
    const viaFile = await cli(["export", "--format", "llm-foundry", "--model", "mpt-7b", "--plan", planFile("lf-z1b", {})]);
    const viaFlags = await cli(["export", "--format", "llm-foundry", "--model", "mpt-7b", "--gpus", "16", "--tp", "1", "--pp", "1", "--zero", "2", "--micro-batch", "1", "--recompute", "full"]);
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFlags.code, viaFlags.stderr).toBe(0);
    const predicted = (s: string) => s.split("\n").find((l) => l.startsWith("paraplan: predicted "));
    expect(predicted(viaFile.stderr)).toBe(predicted(viaFlags.stderr));
    expect(viaFile.stdout).toBe(viaFlags.stdout);
  });

  it("a plan no engine mapping rescues is still refused by the file's field (tp 3 does not divide 32 heads)", async () => {
    const path = planFile("tt-tp3", { tp: 3, dp: 16 });
    const r = await cli(["export", "--format", "torchtitan", "--model", "llama3-8b", "--plan", path]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`paraplan: --plan ${path}: field "tp": 3 does not divide the 32 attention heads`]);
  });

  it("etp 3 beside ep 8 on 64 GPUs is named by its own field: 14336 / 3 = 4778.67 (etp_ffn), before etp·ep = 24 not dividing 64 (expert_fold)", async () => {
    const path = planFile("mx-etp3", { dp: 64, ep: 8, etp: 3, zero: 2, recompute: "none" });
    const r = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--global-batch", "64", "--seq", "4096", "--plan", path]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`paraplan: --plan ${path}: field "etp": etp 3 does not divide the routed experts' FFN width 14336 (each etp rank holds width/etp of every expert)`]);
    // etp 2 divides the width (7168 a rank); beside ep 8 on 8 GPUs, etp·ep = 16 does not divide 8: the fold's rule
    const fold = planFile("mx-fold", { dp: 8, ep: 8, etp: 2, zero: 2, recompute: "full" });
    const f = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "8", "--global-batch", "64", "--seq", "4096", "--plan", fold]);
    expect(f.code).toBe(2);
    expect(f.errLines).toEqual([`paraplan: --plan ${fold}: field "ep": etp·ep = 16 does not divide tp·cp·dp = 8: the expert groups must fold onto the same ranks (Megatron-Core MoE parallel folding)`]);
  });
});
