import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../../planner/index.js";
import { runEstimate, runInputsFor, resolveRunFigures } from "../../../planner/run/index.js";
import { compact, seconds } from "../../format/units.js";
import { sessionOf } from "../test-utils.js";
import { detailView } from "./detail.js";
import { wholeRunLines } from "./whole-run.js";
import { allDetailLines, detailLines } from "./detail-lines.js";
import { wholeRun } from "../../app/whole-run.js";

const gpt3 = sessionOf("gpt3-like", 128, 8).request;
const p = evaluatePlan(gpt3.model, gpt3.hw, gpt3.training, { tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "1f1b" });

describe("the plan detail's whole run", () => {
  it("per trillion tokens and under failures, with the planner's figures", () => {
    const lines = wholeRunLines(gpt3.model, gpt3.hw, gpt3.training, p);
    const e = runEstimate(p.time.step, runInputsFor(gpt3.model, gpt3.training, p, resolveRunFigures(gpt3.hw, "board", {}), { tokens: 1e12, price: null, mode: "sync" }));
    expect(lines[0]).toBe(`for 1.0T tokens at ${seconds(p.time.step)} a step (closed form): ${e.days.toFixed(1)} days · ${compact(e.gpuHours)} GPU-hours · ${Math.round(e.energyMWh!).toLocaleString("en-US")} MWh (board power × PUE 1.09)`);
    expect(lines[1]).toMatch(/^goodput \d+\.\d% · job MTBF [\d.]+ (h|days) · checkpoint every [\d.]+ (min|h) \(Daly 2006\), write [\d.]+ s · lost [\d.]+ (min|h) per failure$/);
    expect(lines[1]).toContain(`goodput ${(100 * e.goodput).toFixed(1)}% · job MTBF ${(e.checkpoint.jobMtbf / 3600).toFixed(2)} h`);
  });

  it("is timed by the step the detail's header presents, the closed form's (the screen simulates nothing)", () => {
    const v = detailView(p, gpt3.hw, gpt3.training, null, 200, gpt3.model);
    const headerStep = /^step ([\d.]+ m?s) · /.exec(v.timeHeader)![1];
    const run = v.run.map((rows) => rows.join(" "));
    expect(run[0]).toContain(`at ${headerStep} a step (closed form): `);
    // By hand: 1e12 tokens in whole steps of global batch × sequence, each p.time.step long,
    // divided by the goodput the next line prints (to its 0.1%).
    const steps = Math.ceil(1e12 / (gpt3.training.globalBatch * gpt3.training.seqLen));
    const goodput = Number(/^goodput ([\d.]+)%/.exec(run[1]!)![1]) / 100;
    const days = Number(/: ([\d,.]+) days · /.exec(run[0]!)![1]!.replace(/,/g, ""));
    expect(Math.abs(days - (steps * p.time.step) / goodput / 86400)).toBeLessThan(0.1 + days * 0.001);
  });

  it("for the tokens and at the price the user set (w, $): the days by hand, the cost GPU-hours × price", () => {
    const lines = wholeRunLines(gpt3.model, gpt3.hw, gpt3.training, p, { tokens: 15.6e12, price: 2.5 });
    expect(lines[0]).toMatch(/^for 15\.6T tokens at [\d.]+ m?s a step \(closed form\): [\d,.]+ days · [\d.]+M GPU-hours · [\d,]+ MWh \(board power × PUE 1\.09\) · cost \$[\d.]+M at \$2\.5\/GPU-hour$/);
    // By hand: 15.6e12 tokens in whole steps of 1,536 × 2,048 = 3,145,728 tokens: 4,959,107 steps.
    const steps = Math.ceil(15.6e12 / (1536 * 2048));
    expect(steps).toBe(4959107);
    const goodput = Number(/^goodput ([\d.]+)%/.exec(lines[1]!)![1]) / 100;
    const days = Number(/: ([\d,.]+) days · /.exec(lines[0]!)![1]!.replace(/,/g, ""));
    expect(Math.abs(days - (steps * p.time.step) / goodput / 86400)).toBeLessThan(0.1 + days * 0.001);
    // 1,024 GPUs for the wall-clock days: GPU-hours; at $2.5 each, the cost (both printed to three
    // digits, "12.1M": within half the last digit, 0.05 / 12.1 = 0.41%).
    const gpuHours = days * 24 * 1024;
    const printedHours = Number(/ ([\d.]+)M GPU-hours/.exec(lines[0]!)![1]) * 1e6;
    const cost = Number(/cost \$([\d.]+)M/.exec(lines[0]!)![1]) * 1e6;
    expect(Math.abs(printedHours - gpuHours) / gpuHours).toBeLessThan(0.005);
    expect(Math.abs(cost - gpuHours * 2.5) / (gpuHours * 2.5)).toBeLessThan(0.005);
  });

  it("no price: no cost part; a price of 0 costs $0.00, as plan --price 0 prints it", () => {
    expect(wholeRunLines(gpt3.model, gpt3.hw, gpt3.training, p, { tokens: 1e12, price: null })[0]).not.toContain("cost");
    expect(wholeRunLines(gpt3.model, gpt3.hw, gpt3.training, p, { tokens: 1e12, price: 0 })[0]).toMatch(/ · cost \$0\.00 at \$0\/GPU-hour$/);
  });

  it("a run under 1% goodput is one line saying so, as plan --tokens refuses it (no days, no goodput 0.0%)", () => {
    // 1,024 GPUs at 0.05 failures per GPU-hour: M = 3600 / 51.2 = 70 s against the 10 min restart;
    // Daly's expected wall time is e^{600/70} ≈ 5,000 times the work.
    const hw = { ...gpt3.hw, run: { ...gpt3.hw.run, failuresPerGpuHour: 0.05 } };
    const lines = wholeRunLines(gpt3.model, hw, gpt3.training, p);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^for 1\.0T tokens: the run hardly progresses \(goodput under 0\.1%\): interruptions every 70 s on average against a restart of 10 min/);
  });

  it("a failure rate of 0: no interruptions expected, not a loss per failure (the planner's NaN)", () => {
    const hw = { ...gpt3.hw, run: { ...gpt3.hw.run, failuresPerGpuHour: 0 } };
    const lines = wholeRunLines(gpt3.model, hw, gpt3.training, p);
    expect(lines[1]).toMatch(/ · no interruptions expected \(a failure rate of 0\)$/);
    expect(lines[1]).not.toContain("per failure");
  });

  it("days as plan --tokens prints them: separators from a thousand (llama3-70b on 16 GPUs: 1,167.0 days, was 1167.0)", () => {
    const s = sessionOf("llama3-70b", 2, 8).request;
    const q = evaluatePlan(s.model, s.hw, s.training, { tp: 8, pp: 2, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "full", sequenceParallel: true, schedule: "1f1b" });
    const e = runEstimate(q.time.step, runInputsFor(s.model, s.training, q, resolveRunFigures(s.hw, "board", {}), { tokens: 1e12, price: null, mode: "sync" }));
    expect(e.days).toBeGreaterThan(1000);
    const [first] = wholeRunLines(s.model, s.hw, s.training, q);
    expect(first).toMatch(/^for 1\.0T tokens at [\d.]+ s a step \(closed form\): \d,\d{3}\.\d days · /);
    expect(first).toContain(`(closed form): ${e.days.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} days`);
  });

  it("is in the detail view with the model, each line over rows of the width, whole; absent without it", () => {
    // QA: at 80 columns the lines were cut ("… 30.6k GPU-hours ·…"): the energy and the
    // checkpoint's write never showed. Each line now breaks between its " · " parts.
    const lines = wholeRunLines(gpt3.model, gpt3.hw, gpt3.training, p);
    for (const width of [60, 80]) {
      const v = detailView(p, gpt3.hw, gpt3.training, null, width, gpt3.model);
      expect(v.run).toHaveLength(2);
      for (const rows of v.run) for (const r of rows) expect(r.length).toBeLessThanOrEqual(width - 2);
      expect(v.run.map((rows) => rows.join(" "))).toEqual(lines);
      expect(v.run[0]!.length).toBeGreaterThan(1);
      expect(v.run[0]!.at(-1)).toMatch(/ MWh \(board power × PUE 1\.09\)$/);
    }
    expect(detailView(p, gpt3.hw, gpt3.training, null, 60).run).toEqual([]);
  });
});

describe("what of the whole run fits the detail screen's height", () => {
  const v = detailView(p, gpt3.hw, gpt3.training, null, 80, gpt3.model);
  const all = allDetailLines(v);
  const texts = (height: number) => detailLines(v, height).map((l) => (l.kind === "text" ? l.text : l.kind));
  // The run block is the last lines (title, the per-tokens line's rows, the goodput line's rows)
  // and the first to go, a line's rows together: the goodput line before the run's time,
  // GPU-hours and energy.
  it("a titled block with room, then the lines alone, then the per-tokens line, then nothing", () => {
    const n = all.length;
    const [a, b] = [v.run[0]!.map((r) => `  ${r}`), v.run[1]!.map((r) => `  ${r}`)];
    expect(a.length + b.length).toBeGreaterThan(2);
    expect(texts(n).slice(-(1 + a.length + b.length))).toEqual(["whole run", ...a, ...b]);
    expect(texts(n - 1).slice(-(a.length + b.length))).toEqual([...a, ...b]);
    expect(texts(n - 1)).not.toContain("whole run");
    // one row fewer: the goodput line goes whole (no row of it left alone)
    expect(texts(n - 2).slice(-a.length)).toEqual(a);
    for (const r of b) expect(texts(n - 2)).not.toContain(r);
    expect(texts(n - 2)).toHaveLength(n - 1 - b.length);
    // then the per-tokens line, whole
    expect(texts(n - 1 - b.length - 1).some((t) => t.includes("for 1.0T tokens"))).toBe(false);
  });
});

describe("a node of another size (the setup's GPUs/node) and the node's power", () => {
  // QA: the GPUs-per-node override kept the profile's whole-node power (run.nodePower, dgx-h100's
  // 10.2 kW for 8 GPUs), which the energy divides by the node's GPUs (planner/run/figures.ts): 2
  // GPUs a node drew 10,200 / 2 = 5,100 W each, 3 a node 3,400 W. A slice keeps the per-GPU share
  // of its node's power, as `paraplan profile` writes it for a host of fewer GPUs
  // (src/profile/build.ts): 10,200 W / 8 = 1,275 W a GPU on any node size (more GPUs a node than
  // the profile's is refused: session.test.ts).
  it("--power node: 1,275 W a GPU on 2, 3 or 8 GPUs a node of dgx-h100", () => {
    for (const [nodes, perNode] of [[4, 2], [2, 3], [1, 8]] as const) {
      const hw = sessionOf("llama3-8b", nodes, perNode, 16).request.hw;
      expect(hw.gpusPerNode).toBe(perNode);
      // 10,200 W × perNode / 8: the slice's node power
      expect(hw.run!.nodePower).toBeCloseTo((10200 * perNode) / 8, 9);
      expect(resolveRunFigures(hw, "node", {}).power!.value, `${perNode} a node`).toBeCloseTo(1275, 9);
      // the board's power is a GPU's whatever the node
      expect(resolveRunFigures(hw, "board", {}).power!.value).toBe(700);
    }
  });

  it("the whole run's energy on 2-GPU nodes: node basis over board basis is 1,275 / 700", () => {
    const s = sessionOf("llama3-8b", 4, 2, 16).request;
    const plan = evaluatePlan(s.model, s.hw, s.training, { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: false, schedule: "1f1b" });
    const run = (power: "board" | "node") => wholeRun(s.model, s.hw, s.training, plan, plan.time.step, false, { tokens: 1e12, price: null, power, ckpt: "sync" }).estimate;
    const board = run("board");
    const node = run("node");
    // Same GPU-hours; energy = GPU-hours × W × PUE 1.09 / 1e6: the ratio of the powers,
    // 1,275 / 700 = 1.8214… (it was 5,100 / 700 = 7.29 with the whole node's power).
    expect(node.gpuHours).toBe(board.gpuHours);
    expect(node.energyMWh! / board.energyMWh!).toBeCloseTo(1275 / 700, 12);
    expect(node.energyMWh!).toBeCloseTo((board.gpuHours * 1275 * 1.09) / 1e6, 6);
  });
});
