// README's DeepSeek-V3 command (section "Time to train") with the example engine of DeepSeek's own
// stack, profiles/engines/examples/deepseek-v3-report.json: DeepEP-style dispatch (a token once
// per node, under the model's node-limited routing), the dispatch in fp8 and the all-to-all
// overlapped with another micro-batch's compute (report §3.2.1, §3.2.2, §3.3.3, §3.5.1).
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { cli, removeTemp } from "../export/helpers.js";
import { ROOT } from "../planner/fixtures.js";

afterAll(removeTemp);

const COMMAND = ["plan", "--model", "deepseek-v3", "--profile", "h800", "--gpus", "2048", "--tokens", "14.8T", "--precision", "fp8", "--optimizer-states", "bf16", "--tp", "1", "--pp", "16", "--ep", "64", "--json", "--top", "1"];
type Out = { plans: { stageLayers: number[]; recompute: string; recomputeLayers?: number; time: Record<string, number> }[]; run: { gpuHours: number; steps: number } };
const run = async (extra: string[] = []): Promise<Out> => {
  const r = await cli([...COMMAND, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Out;
};

describe("DeepSeek-V3 on 2,048 H800 as its report trained it", () => {
  it("the ep all-to-all by hand, and the run well below megatron-core's alltoall dispatcher", async () => {
    const report = await run(["--engine", join(ROOT, "profiles/engines/examples/deepseek-v3-report.json")]);
    const core = await run();
    const p = report.plans[0]!;
    expect([p.stageLayers.join(","), p.recompute]).toEqual(["3,4,4,4,4,4,4,4,4,4,4,4,4,4,4,2", "full"]);
    expect(p.recomputeLayers).toBe(3);
    // Per rank and MoE layer pass: T_r·k = 4096·8 = 32,768 copies of h = 7168, ρ = 1.25:
    //   dispatch M_d = 1.25 · 1.03125 · 32,768 · 7168 = 302,776,320 B (fp8 + a 4-byte scale per 128)
    //   combine  M_c = 1.25 · 2 · 32,768 · 7168 = 587,202,560 B
    // DeepEP over ep 64 = 8 nodes of 8, 4 of 8 groups a token (one group a node): a given other
    // node is hit with probability ½·(1 − (3/4)^8) = 0.449944, so 7 · 0.449944 / 8 = 0.393701 of the
    // buffer crosses the NIC (50 GB/s at 0.8 = 40 GB/s); the NVLink fan-out, 7/8 of it at 160 GB/s,
    // is the faster; 63 · 6 µs of latency a call:
    //   a = 0.393701 · (302,776,320 + 587,202,560) / 40e9 + 2 · 63 · 6e-6 = 0.00951563 s a pass.
    // Overlapped with the other micro-batch's MoE layer (a mean pass of ~ 20 ms > a): hidden, the
    // compute beside it 20/132 = 0.15152 slower: 0.15152 · a a pass. The pacing rank is the last
    // stage (2 layers and the MTP module: 3 MoE layers), 15,360 / 128 = 120 micro-batches, 3
    // passes (full recompute: of each stage's first 3 layers, both of its 2 and the MTP module):
    //   ep = 120 · 3 · 3 · 0.15152 · 0.00951563 = 1.55715 s.
    const a = 0.39370059967 * (302_776_320 + 587_202_560) / 40e9 + 2 * 63 * 6e-6;
    expect(p.time.epComm).toBeCloseTo(120 * 3 * 3 * 0.15152 * a, 6);
    expect(p.time.epComm).toBeCloseTo(1.55715, 4);
    // The step is the sum of its terms (cost/time.ts).
    const t = p.time;
    expect(t.step).toBeCloseTo(t.compute! + t.recompute! + t.tpComm! + t.ppComm! + t.epComm! + t.cpComm! + t.bubble! + t.dpComm! + t.optimizer!, 9);
    // megatron-core (alltoall, 16-bit, on the critical path): every copy, 56/64 of it off the node:
    //   per pass 0.875 · 1.25 · (2 + 2) · 32,768 · 7168 / 40e9 + 2 · 63 · 6e-6 = 0.0264461 s, on
    //   a stage of 4 MoE layers, which paces the step there, with full recompute of its first 3
    //   (the least depth that fits: 2 + 3/4 passes): 120 · 2.75 · 4 · 0.0264461 = 34.91 s.
    expect(core.plans[0]!.recomputeLayers).toBe(3);
    expect(core.plans[0]!.time.epComm).toBeCloseTo(120 * 2.75 * 4 * (0.875 * 1.25 * 4 * 32768 * 7168 / 40e9 + 2 * 63 * 6e-6), 6);
    expect(core.plans[0]!.time.epComm).toBeCloseTo(34.9089, 3);
    expect(t.step).toBeLessThan(core.plans[0]!.time.step / 2);
    // the report's Table 1: 2.664M H800 GPU-hours of pre-training (≈ 19.9 s a step of 62.9M
    // tokens); the run here 3.5M, megatron-core's 8.8M
    expect(report.run.steps).toBe(core.run.steps);
    expect(report.run.gpuHours / 1e6).toBeGreaterThan(2.664);
    expect(report.run.gpuHours / 1e6).toBeLessThan(4);
    expect(core.run.gpuHours / 1e6).toBeGreaterThan(8);
  }, 60_000);
});
