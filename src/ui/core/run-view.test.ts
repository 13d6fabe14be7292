import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../../planner/index.js";
import { sessionOf, step, summaryFor } from "../test-utils.js";
import { summaryText } from "../../format/execute-text.js";
import { errors } from "../../../executor/summary.js";
import { comparisonRows, runView } from "./run-view.js";
import type { RunState } from "./state.js";

const s = sessionOf("tiny", 1, 1);
const plan = evaluatePlan(s.request.model, s.request.hw, s.request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
const base: RunState = { status: "running", plan, totalSteps: 10, note: "no GPU here: on 1 CPU rank (cpu profile)", runDir: "/tmp/r", steps: [], summary: null, message: null };

describe("the execute screen's view-model", () => {
  it("shows progress, the loss as a sparkline, and the last step time", () => {
    const v = runView({ ...base, steps: [step(1, 5.5), step(2, 5.3), step(3, 5.4), step(4, 5.1)] }, 80);
    expect(v.progress).toBe(`step 4/10 [${"█".repeat(16)}${"░".repeat(24)}] 40%`);
    expect(v.loss).toBe("loss 5.1000  █▅▆▁");
    expect(v.speed).toBe("step time 250 ms · 1,024 tokens/s");
    expect(v.title).toBe("tp 1 · pp 1 · dp 1 · ZeRO-0 · mb 8 · no recompute");
    expect(v.runDir).toBe("run dir: /tmp/r");
    // a directory name with a newline or an escape stays one printable line (QA: it split the line)
    expect(runView({ ...base, runDir: "/tmp/a\nb\u001b[2J" }, 80).runDir).toBe("run dir: /tmp/a\\nb\\x1b[2J");
  });

  it("compares measured with predicted when the run ends", () => {
    const summary = summaryFor({ session: s, plan, steps: 10 }, 10);
    const rows = comparisonRows(summary.measured, summary.predicted, summary.error);
    expect(rows[0]).toMatch(/^\s+measured\s+predicted\s+error$/);
    expect(rows[1]).toMatch(/^step time\s+250 ms\s+200 ms\s+−20\.0%$/);
    expect(rows[2]).toMatch(/^tokens\/s\s+1,024\s+1,280\s+\+25\.0%$/);
    expect(rows[3]).toMatch(/^MFU\s+—\s+19\.0%\s+—$/);
    const v = runView({ ...base, status: "done", summary }, 80);
    expect(v.table.slice(0, 6)).toEqual(rows);
    expect(v.table[6]).toContain("cpu profile");
  });

  it("prints a small peak memory in MiB or KiB, as paraplan execute does (not 0.00 GiB)", () => {
    const small = summaryFor({ session: s, plan, steps: 10 }, 10);
    small.measured = { ...small.measured, peakMemory: 4.7 * 2 ** 20 };
    small.predicted = { ...small.predicted, peakMemory: 300 * 1024 };
    small.error = errors(small.measured, small.predicted);
    const row = comparisonRows(small.measured, small.predicted, small.error)[4]!;
    // 300 KiB predicted against 4.7 MiB measured: 307,200 / 4,928,307 − 1 = −93.8 %
    expect(row).toMatch(/^peak memory\s+4\.7 MiB\s+300\.0 KiB\s+−93\.8%$/);
    // The CLI's summary of the same run shows the same two figures.
    expect(summaryText(small)).toMatch(/^peak memory\s+4\.7 MiB\s+300\.0 KiB\s/m);
    expect(comparisonRows(summaryFor({ session: s, plan, steps: 10 }, 10).measured, small.predicted, small.error)[4]).toMatch(/^peak memory\s+1\.00 GiB\s/);
  });

  // QA: the CLI names the prediction's engine ("— engine profile paraplan"), the screen did not.
  it("names the engine the prediction was made with, and at the end how the worker ran the plan", () => {
    expect(runView(base, 120).engine).toBe(""); // not known before the run is prepared
    expect(runView({ ...base, engine: "paraplan-compile" }, 120).engine).toBe("predicted with the worker's engine paraplan-compile");
    const why = "schedule zbv: torch cannot compile zero-bubble stages (split backward)";
    expect(runView({ ...base, engine: "paraplan", eager: why }, 200).engine).toBe(`predicted with the worker's engine paraplan (it runs this plan eager: ${why})`);
    const summary = summaryFor({ session: s, plan, steps: 10 }, 10);
    summary.execution = { mode: "eager", engine: "paraplan", compileRequested: false, eagerReason: null, compiledBlocks: 0, compileTime: 0, dynamoCompileTime: null, optimizer: "foreach", sdpaBackends: ["flash-cpu"], sdpaSource: null, fsdpMixedPrecision: null, float8Linears: null };
    const v = runView({ ...base, status: "done", summary, engine: "paraplan" }, 160);
    expect(v.table).toContain("execution: eager · AdamW foreach · attention flash-cpu — engine profile paraplan");
  });

  it("says which figures are not comparable instead of an error, and why", () => {
    const summary = { ...summaryFor({ session: s, plan, steps: 10 }, 10), notComparable: { peakMemory: "measured: the tensors MemTracker counts" } };
    const v = runView({ ...base, status: "done", summary }, 120);
    expect(v.table).toEqual(expect.arrayContaining([expect.stringMatching(/^peak memory\s+1\.00 GiB\s+2\.00 GiB\s+not comparable$/), "(peak memory not comparable: measured: the tensors MemTracker counts)"]));
    expect(v.table.join("\n")).not.toMatch(/−50\.0%/);
  });

  it("shows the traced step's bubble and exposed communication beside the simulated ones", () => {
    const summary = summaryFor({ session: s, plan, steps: 10 }, 10);
    const fig = (step: number, bubble: number, bubbleFraction: number, exposedComm: number) => ({ step, bubble, imbalance: 0, bubbleFraction, exposedComm, criticalStage: 0 });
    summary.timeline = { tracedStep: 10, trace: "trace.json", measured: fig(0.3, 0.06, 0.25, 0.012), simulated: fig(0.25, 0.05, 0.2, 0.01), stages: [], errors: [] };
    const v = runView({ ...base, status: "done", summary }, 120);
    const at = v.table.findIndex((l) => l.startsWith("step 10 traced"));
    expect(at).toBeGreaterThan(0);
    expect(v.table.slice(at)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pipeline bubble \(critical stage\)\s+60\.0 ms \(25\.0%\)\s+50\.0 ms \(20\.0%\)$/),
        expect.stringMatching(/^exposed communication\s+12\.0 ms\s+10\.0 ms$/),
        expect.stringMatching(/^timeline: \/tmp\/runs\/fake\/trace\.json/),
      ]),
    );
  });

  it("shows a refusal without a progress bar", () => {
    const v = runView({ ...base, status: "refused", runDir: null, message: "no CUDA GPU found on this node" }, 80);
    expect([v.status, v.progress, v.loss, v.message, v.runDir]).toEqual(["not run", "", "", "no CUDA GPU found on this node", ""]);
  });
});
