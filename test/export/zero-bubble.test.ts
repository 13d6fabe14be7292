// Zero-bubble schedules in the exports: torchtitan names them (torch's get_schedule_class names)
// and reads them back; Megatron-LM and DeepSpeed, whose schedules keep the backward whole, refuse
// them with their codes.
import { afterAll, describe, expect, it } from "vitest";
import type { Schedule } from "../../planner/index.js";
import { deepspeedRefusal, megatronRefusal } from "../../planner/layout/capabilities.js";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { parseToml } from "../../src/engines/toml.js";
import { LLAMA, h100, model, plan, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

const CASES: Array<[Schedule, number, string]> = [
  ["zb1p", 1, "InterleavedZeroBubble"],
  ["zb1p", 2, "InterleavedZeroBubble"],
  ["zbv", 2, "ZBVZeroBubble"],
  ["dualpipev", 2, "DualPipeV"],
];

describe("torchtitan", () => {
  it.each(CASES)("%s with vpp %i is pipeline_parallel_schedule %s and reads back as itself", (schedule, vpp, name) => {
    const p = plan({ tp: 8, pp: 4, vpp, zero: 2, schedule, sequenceParallel: true });
    const m = model(LLAMA);
    const r = exportPlan("torchtitan", m, p, training(), h100);
    const t = parseToml(r.files[0]!.content, "torchtitan.toml") as Record<string, Record<string, unknown>>;
    expect(t.parallelism!.pipeline_parallel_schedule).toBe(name);
    // pp 4 · vpp stages: 80 / (4 · vpp) layers each; zb1p at one stage per rank by module names, as
    // v0.2.0's pipeline_llm refuses a multi-stage schedule at 1 stage per rank from layers per stage
    if (vpp === 1) expect((t.parallelism!.module_fqns_per_model_part as string[][]).map((x) => x.filter((n) => n.startsWith("layers.")).length)).toEqual([20, 20, 20, 20]);
    else expect(t.parallelism!.pipeline_parallel_layers_per_stage).toBe(80 / (4 * vpp));
    const back = readConfigs([tempFile(`zb-${schedule}-${vpp}.toml`, r.files[0]!.content)], { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.plan).toEqual(r.plan);
    expect(back.plan.schedule).toBe(schedule);
    expect(back.notes.join(" ")).not.toContain("read as interleaved");
  });
});

describe("Megatron-LM and DeepSpeed refuse them", () => {
  const ctx = { precision: "bf16" as const, globalBatch: 512, seqLen: 2048, ffnHidden: 28672, gpus: 64, gpusPerNode: 8 };
  it.each(CASES)("%s (vpp %i)", (schedule, vpp) => {
    const p = plan({ tp: 8, pp: 4, vpp, zero: 1, schedule });
    expect(megatronRefusal(p, ctx)?.code).toBe("megatron_zero_bubble");
    expect(deepspeedRefusal(p)?.code).toBe("deepspeed_pipe_zero_bubble");
    for (const format of ["megatron", "deepspeed"] as const)
      expect(() => exportPlan(format, model(LLAMA), p, training(), h100)).toThrow(ExportRefused);
  });
});
