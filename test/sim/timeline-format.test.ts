// The Gantt chart and the Chrome trace of a simulated step (src/format/timeline-*.ts).
import { describe, expect, it } from "vitest";
import { uniformCosts } from "../../planner/sim/costs.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import type { Plan, Training } from "../../planner/types.js";
import { renderGantt } from "../../src/format/timeline-gantt.js";
import { chromeTrace, timelineTrace } from "../../executor/timeline-trace.js";
import { hardware, preset } from "../planner/fixtures.js";

const m = preset("gpt3-13b");
const t: Training = { gpus: 64, globalBatch: 256, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
const plan: Plan = { tp: 4, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "interleaved" };
const real = simulate(m, hardware("dgx-h100"), t, plan);

describe("Gantt chart", () => {
  // 1F1B, p = 2, m = 2, forward 1 s, backward 2 s, step (m + p − 1)(f + b) = 9 s:
  //   stage 0: F0 [0,1] F1 [1,2] idle B0 [4,6] idle B1 [7,9]
  //   stage 1: idle F0 [1,2] B0 [2,4] F1 [4,5] B1 [5,7] idle
  // Critical path: stage 0 F0 → stage 1 F0, B0, F1, B1 → stage 0 B1. At 27 columns one column
  // is ⅓ s; the label "stage 0" and " |", "|" leave 37 − 10 = 27.
  const tl = simulateCosts(uniformCosts({ schedule: "1f1b", pp: 2, microBatches: 2, forward: 1, backward: 2 }));
  const lines = renderGantt(tl, 37);
  it("draws one row per stage with forward, backward and idle, upper case on the critical path", () => {
    expect(tl.step).toBe(9);
    expect(lines).toContain("stage 0 |FFFfff......bbbbbb...BBBBBB|");
    expect(lines).toContain("stage 1 |...FFFBBBBBBFFFBBBBBB......|");
  });
  it("has a time axis and a legend, and fits the width", () => {
    expect(lines.some((l) => /^\s+0\s+9\.00 s$/.test(l))).toBe(true);
    expect(lines.join("\n")).toContain("f forward");
    expect(lines.join("\n")).toContain("critical path");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(37);
  });

  it.each([80, 120])("a real plan fits %i columns, one row per stage, with communication drawn", (width) => {
    const out = renderGantt(real, width);
    for (const l of out) expect(l.length).toBeLessThanOrEqual(width);
    const rows = out.filter((l) => l.startsWith("stage "));
    expect(rows.length).toBe(4);
    for (const r of rows) expect(r.length).toBe(width);
    expect(rows.join("")).toMatch(/[cC]/);
  });
});

describe("Chrome trace", () => {
  it("writes generic events as complete events: pid per stage, tid per stream, microseconds", () => {
    const trace = chromeTrace([
      { stage: 0, stream: "compute", name: "F0", start: 0, duration: 0.5 },
      { stage: 1, stream: "pp comm", name: "send", start: 0.5, duration: 0.001 },
      { stage: 1, stream: "measured", name: "x", start: 1, duration: 1 },
    ]);
    const complete = trace.traceEvents.filter((e) => e.ph === "X");
    expect(complete).toEqual([
      { name: "F0", ph: "X", pid: 0, tid: 0, ts: 0, dur: 500000 },
      { name: "send", ph: "X", pid: 1, tid: 2, ts: 500000, dur: 1000 },
      { name: "x", ph: "X", pid: 1, tid: 4, ts: 1e6, dur: 1e6 },
    ]);
    const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => [e.pid, e.tid, e.args?.name]);
    expect(names).toEqual([
      [0, 0, "compute"],
      [1, 2, "pp comm"],
      [1, 4, "measured"],
    ]);
  });

  it("a simulated plan's trace parses and holds work on every stage and every stream", () => {
    const parsed = JSON.parse(timelineTrace(real));
    expect(Array.isArray(parsed.traceEvents)).toBe(true);
    const work = parsed.traceEvents.filter((e: { ph: string }) => e.ph === "X");
    for (let s = 0; s < 4; s++) {
      const tids = new Set(work.filter((e: { pid: number }) => e.pid === s).map((e: { tid: number }) => e.tid));
      expect([...tids].sort()).toEqual([0, 1, 2, 3]); // compute, tp comm, pp comm, dp comm
    }
    for (const e of work) {
      expect(e.dur).toBeGreaterThan(0);
      expect(e.ts + e.dur).toBeLessThanOrEqual(real.step * 1e6 * (1 + 1e-12));
    }
    const processes = parsed.traceEvents.filter((e: { name: string }) => e.name === "process_name").map((e: { args: { name: string } }) => e.args.name);
    expect(processes).toEqual(["stage 0", "stage 1", "stage 2", "stage 3"]);
  });
});
