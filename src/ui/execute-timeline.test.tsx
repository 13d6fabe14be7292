// QA (a CPU run of tiny at 80 × 24): the traced step's table beside the simulator kept its title,
// header and rule and lost its rows ("measured  simulated" over "----" and nothing under it), the
// screen dropping lines one at a time from the bottom; and after the run the "step time" line
// showed the last step, the traced one (36 ms with the trace's instrumentation on), above the
// comparison's measured 16 ms without saying so. The table is now whole or absent, and the line
// names its step.
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/index.js";
import type { RunState } from "./core/state.js";
import { ExecuteScreen } from "./execute-screen.js";
import { overflow, sessionOf, step, summaryFor } from "./test-utils.js";

const s = sessionOf("tiny", 1, 1);
const plan = evaluatePlan(s.request.model, s.request.hw, s.request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });

function doneRun(): RunState {
  const summary = summaryFor({ session: s, plan, steps: 10 }, 10);
  const fig = (stepTime: number) => ({ step: stepTime, bubble: 0, imbalance: 0, bubbleFraction: 0, exposedComm: 0, criticalStage: 0 });
  summary.timeline = { tracedStep: 10, trace: "trace.json", measured: fig(0.0131), simulated: fig(0.0202), stages: [], errors: [] };
  summary.worker = { ...(summary.worker ?? {}), timedSteps: [3, 4, 5, 6, 7, 8, 9] } as typeof summary.worker;
  // (the last step is the traced one, slower with the instrumentation on)
  const steps = Array.from({ length: 10 }, (_, i) => ({ ...step(i + 1, 5.5 - i / 10), ...(i === 9 ? { stepTime: 0.0363, tokensPerSecond: 7059 } : {}) }));
  return { status: "done", plan, totalSteps: 10, note: "no GPU here: on 1 CPU rank (cpu profile)", runDir: "/tmp/runs/t", steps, summary: { ...summary, notComparable: { peakMemory: "the CPU allocator's peak, not the GPU's" } }, message: null };
}

const TABLE = [/^step 10 traced \(one rank per pipeline stage\), beside the simulator:$/, /^ +measured +simulated$/, /^-+ +-+ +-+$/, /^step +13\.1 ms +20\.2 ms$/, /^pipeline bubble \(critical stage\) /, /^stage imbalance \(waits beyond it\) /, /^exposed communication /];

describe("the execute screen after a traced run", () => {
  it("shows the traced step's table whole or not at all, at every height from 14 to 40 rows", () => {
    const seen = new Set<boolean>();
    for (let h = 14; h <= 40; h++) {
      const f = render(<ExecuteScreen run={doneRun()} width={80} height={h} />).lastFrame()!;
      expect(overflow(f, 80, h)).toEqual([]);
      const lines = f.split("\n");
      const present = TABLE.map((r) => lines.some((l) => r.test(l)));
      expect(new Set(present).size, `${h} rows:\n${f}`).toBe(1);
      seen.add(present[0]!);
      // the comparison's figures stay at every height
      expect(f).toMatch(/^step time\s+250 ms\s+200 ms\s+−20\.0%$/m);
    }
    // (both cases were met: the heights span the table dropped and kept)
    expect(seen).toEqual(new Set([true, false]));
  });

  it("names the last step's time as the traced step's once the run is done", () => {
    const f = render(<ExecuteScreen run={doneRun()} width={80} height={40} />).lastFrame()!;
    expect(f).toMatch(/^step time 36\.3 ms · 7,059 tokens\/s \(step 10, traced: instrumentation on\)$/m);
    // while it runs (no summary yet) the line is the last step's, as before
    const running = { ...doneRun(), status: "running" as const, summary: null, steps: doneRun().steps.slice(0, 4) };
    expect(render(<ExecuteScreen run={running} width={80} height={40} />).lastFrame()).toMatch(/^step time 250 ms · 1,024 tokens\/s$/m);
  });
});
