// What execute compares: figures the planner predicts for another device than the one that ran
// (or for another quantity: CPU ranks' tensor bytes against a device's memory model) are
// labelled "not comparable" in the summary JSON and text; the bubble's percentage says its base.
import { describe, expect, it } from "vitest";
import type { StepFigures, TimelineSummary } from "../../executor/step-timeline.js";
import { buildSummary } from "../../executor/summary.js";
import { type Plan, type Training, evaluatePlan } from "../../planner/index.js";
import { summaryText, timelineLines } from "../../src/format/execute-text.js";
import { loadModel, loadProfile } from "../../src/load.js";

const tiny = loadModel("tiny");
const t: Training = { gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true };
const dp2: Plan = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

function summaryOn(device: "cpu" | "cuda", profile: string) {
  const hw = loadProfile(profile);
  const r = evaluatePlan(tiny, hw, t, dp2);
  const worker = { stepTime: 0.05, tokensPerSecond: 5000, peakMemory: 2.7 * 2 ** 20, flopsPerStep: 352_321_536, loss: [5.5, 5.4], comms: {} };
  return buildSummary({ model: tiny, hw, profile, training: t, result: r, device, runDir: "/runs/x", steps: 2, worker });
}

describe("comparable figures", () => {
  it("CPU ranks on the cpu profile: time comparable; peak memory (MemTracker's tensors against the memory model) labelled, not an error", () => {
    const s = summaryOn("cpu", "cpu");
    expect(Object.keys(s.notComparable ?? {})).toEqual(["peakMemory"]);
    expect(s.notComparable?.peakMemory).toMatch(/MemTracker.*reserve/);
    const text = summaryText(s);
    expect(text).toMatch(/peak memory\s+2\.7 MiB\s+\S+ MiB\s+not comparable/);
    expect(text).not.toMatch(/peak memory.*%/);
    expect(text).toMatch(/step time\s+50\.0 ms\s+[\d.]+ \S+\s+[+-][\d.]+%/);
    expect(text).toMatch(/^\(peak memory not comparable: .*MemTracker/m);
  });

  it("CPU ranks with a GPU profile: time and memory not comparable; FLOPs are", () => {
    const s = summaryOn("cpu", "dgx-h100");
    expect(Object.keys(s.notComparable ?? {}).sort()).toEqual(["mfu", "peakMemory", "stepTime", "tokensPerSecond"]);
    expect(s.notComparable?.stepTime).toMatch(/predicted for .*H100.* \(profile dgx-h100\), measured on CPU ranks/);
    const text = summaryText(s);
    expect(text).toMatch(/step time\s+50\.0 ms\s+[\d.]+ \S+\s+not comparable/);
    expect(text).not.toMatch(/cpu profile's peak/);
    expect(text).toMatch(/FLOPs\/step\s+352M\s+352M\s+\+0\.0%/);
  });

  // --steps 1 or 2: the worker can time only the warm-up or the instrumented step (counters on),
  // which was compared with the prediction as a plain step (+4000% on CPU ranks).
  it("a step time from the warm-up or the instrumented step only: labelled, once for its three figures", () => {
    const hw = loadProfile("dgx-h100");
    const r = evaluatePlan(tiny, hw, t, dp2);
    const base = { stepTime: 0.5, tokensPerSecond: 500, peakMemory: 1, flopsPerStep: 352_321_536, loss: [5.5, 5.4], comms: {} };
    const on = (extra: Record<string, unknown>) =>
      buildSummary({ model: tiny, hw, profile: "dgx-h100", training: t, result: r, device: "cuda", runDir: "/runs/x", steps: 2, worker: { ...base, extra } });
    const probe = on({ timedSteps: [2], measuredStep: 2 });
    expect(Object.keys(probe.notComparable ?? {}).sort()).toEqual(["mfu", "stepTime", "tokensPerSecond"]);
    expect(probe.notComparable?.stepTime).toMatch(/step 2, the instrumented step/);
    expect(on({ timedSteps: [1], measuredStep: 1 }).notComparable?.stepTime).toMatch(/step 1, the warm-up/);
    expect(on({ timedSteps: [3, 4], measuredStep: 2 }).notComparable).toEqual({});
    const lines = summaryText(probe).split("\n").filter((l) => l.includes("not comparable:"));
    expect(lines).toEqual([expect.stringMatching(/^\(step time, tokens\/s, MFU not comparable: measured on step 2/)]);
  });

  // execute said on stderr that 4 ranks on 2 cores are "not comparable", then reported their
  // step time against the prediction as an error (+2000%) in the table and summary.json.
  it("more CPU ranks than cores: time figures labelled, as the note before the run says", () => {
    const hw = loadProfile("cpu");
    const r = evaluatePlan(tiny, hw, t, dp2);
    const worker = { stepTime: 0.2, tokensPerSecond: 1000, peakMemory: 1, flopsPerStep: 352_321_536, loss: [5.5, 5.4, 5.3], comms: {} };
    const on = (cpuShare: { ranks: number; cores: number }, device: "cpu" | "cuda" = "cpu") =>
      buildSummary({ model: tiny, hw, profile: "cpu", training: t, result: r, device, runDir: "/runs/x", steps: 3, worker, cpuShare });
    expect(on({ ranks: 4, cores: 2 }).notComparable?.stepTime).toMatch(/4 CPU ranks shared 2 cores/);
    expect(on({ ranks: 2, cores: 1 }).notComparable?.stepTime).toMatch(/^2 CPU ranks shared 1 core: each ran at about 1\/2\.0 of the core/);
    expect(Object.keys(on({ ranks: 4, cores: 2 }).notComparable ?? {}).sort()).toEqual(["mfu", "peakMemory", "stepTime", "tokensPerSecond"]);
    expect(Object.keys(on({ ranks: 2, cores: 2 }).notComparable ?? {})).toEqual(["peakMemory"]);
  });

  it("GPUs on a GPU profile: everything compared, nothing labelled", () => {
    const s = summaryOn("cuda", "dgx-h100");
    expect(s.notComparable).toEqual({});
    expect(summaryText(s)).not.toMatch(/not comparable/);
  });
});

describe("pipeline bubble", () => {
  const fig = (step: number, bubble: number, compute: number): StepFigures => ({ step, bubble, bubbleFraction: bubble / compute, exposedComm: 0, criticalStage: 1 });

  it("says what its percentage is of (the stage's compute), and its share of the step", () => {
    // a stage that waited 1.1 s for 1 s of compute: 110% of its compute, 52.4% of its 2.1 s step
    const tl: TimelineSummary = { tracedStep: 4, trace: "trace.json", measured: fig(2.1, 1.1, 1), simulated: fig(1.5, 0.5, 1), stages: [], errors: [] };
    const lines = timelineLines(tl, "/runs/x");
    expect(lines.find((l) => l.startsWith("pipeline bubble"))).toMatch(/pipeline bubble \(critical stage\)\s+1\.10 s \(110\.0%\)\s+500 ms \(50\.0%\)/);
    // (without the run's plan, an older summary's, no formula is claimed)
    expect(lines).toContain("(bubble %: of the critical stage's compute; of the step: measured 52.4%, simulated 33.3%)");
  });

  // QA: "(p−1)/m" was printed whatever the schedule, beside an interleaved run's 25%. Each
  // schedule's own (Narayanan et al. 2021 Eq. 1 and §2.2.2; Qi et al. 2024 ZB-H1), by hand:
  // p 2, m 2: 1F1B (2−1)/2 = 50%; interleaved v 2 (2−1)/(2·2) = 25%.
  it("names the schedule's own formula, with its value at the run's p, v and m where it has one", () => {
    const tl: TimelineSummary = { tracedStep: 4, trace: "trace.json", measured: fig(2.1, 1.1, 1), simulated: fig(1.5, 0.5, 1), stages: [], errors: [], microBatches: 2 };
    const said = (plan: Pick<Plan, "pp" | "vpp" | "schedule">, t = tl) => timelineLines(t, "/runs/x", undefined, plan).find((l) => l.startsWith("(bubble %"));
    expect(said({ pp: 2, vpp: 1, schedule: "1f1b" })).toBe("(bubble %: of the critical stage's compute, 1f1b: (p−1)/m = 50.0% at p 2, m 2 on an even pipeline; of the step: measured 52.4%, simulated 33.3%)");
    expect(said({ pp: 2, vpp: 2, schedule: "interleaved" })).toBe("(bubble %: of the critical stage's compute, interleaved: (p−1)/(v·m) = 25.0% at p 2, v 2, m 2 on an even pipeline; of the step: measured 52.4%, simulated 33.3%)");
    // GPipe's is 1F1B's: (4−1)/6 = 50% at p 4, m 6.
    expect(said({ pp: 4, vpp: 1, schedule: "gpipe" }, { ...tl, microBatches: 6 })).toContain("gpipe: (p−1)/m = 50.0% at p 4, m 6 on an even pipeline");
    // The zero-bubble schedules' depends on the pass split: the formula, no value.
    expect(said({ pp: 2, vpp: 2, schedule: "zb1p" })).toContain("zb1p: (p−1)(F + B − W)/(v·m·(F + B + W)) at p 2, v 2, m 2 on an even pipeline (F, B, W: a stage's forward, input- and weight-gradient passes)");
    expect(said({ pp: 2, vpp: 2, schedule: "zbv" }, { ...tl, microBatches: 3 })).toContain("zbv: (p−1)(F + B − W)/(2·m·(F + B + W)) at p 2, v 2, m 3");
    // zb1p with m < p: torch's order cannot fill the cool-down with W passes (cost/zb-few.ts).
    expect(said({ pp: 4, vpp: 2, schedule: "zb1p" })).toContain("zb1p: the critical path of torch's order on uniform stages (m < p: too few W passes to fill the cool-down) at p 4, v 2, m 2");
    expect(said({ pp: 2, vpp: 2, schedule: "interleaved" }, { ...tl, microBatches: undefined } as TimelineSummary)).toContain("interleaved: (p−1)/(v·m) at p 2, v 2 on an even pipeline;");
  });

  // QA: the summary's step time (mean of the timed steps) and the traced step's differed unexplained.
  it("says the step time above is the timed steps', the traced step's ran instrumented", () => {
    const tl: TimelineSummary = { tracedStep: 5, trace: "trace.json", measured: fig(2.1, 0, 1), simulated: fig(1.5, 0, 1), stages: [], errors: [] };
    expect(timelineLines(tl, "/runs/x", [3, 4])).toContain("(the traced step ran with the trace's instrumentation on; the step time above is the mean of steps 3, 4, untraced)");
    expect(timelineLines(tl, "/runs/x", [3])).toContain("(the traced step ran with the trace's instrumentation on; the step time above is step 3's, untraced)");
    expect(summaryText({ ...summaryOn("cpu", "cpu"), timeline: tl, worker: { timedSteps: [3, 4, 5, 6] } })).toContain("the mean of steps 3–6, untraced");
    // not said where the worker does not say which steps it timed
    expect(timelineLines(tl, "/runs/x").join("\n")).not.toContain("untraced");
  });

  // tp 2 without sp on CPU ranks measured 0 exposed communication beside 52 blocking all-reduces.
  it("on CPU ranks says the measured exposed communication is a lower bound", () => {
    const tl: TimelineSummary = { tracedStep: 4, trace: "trace.json", measured: fig(2.1, 0, 1), simulated: fig(1.5, 0, 1), stages: [], errors: [] };
    const note = /exposed communication on CPU ranks: .* lower bound/;
    expect(summaryText({ ...summaryOn("cpu", "cpu"), timeline: tl })).toMatch(note);
    expect(summaryText({ ...summaryOn("cuda", "dgx-h100"), timeline: tl })).not.toMatch(note);
  });
});
