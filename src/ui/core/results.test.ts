import { beforeAll, describe, expect, it } from "vitest";
import { REJECTION_CODES, comparePlans, evaluatePlan } from "../../../planner/index.js";
import { finished, sessionOf } from "../test-utils.js";
import { planKey } from "./frontier.js";
import {
  calibrationNote,
  cycleFilter,
  emptyLines,
  filterLine,
  filterValues,
  rankLine,
  REJECTION_SHORT,
  rejectionLine,
  sortPlans,
  statusLine,
  tableView,
  visiblePlans,
} from "./results.js";
import type { SearchProgress } from "./search-job.js";

let done: SearchProgress;
beforeAll(() => {
  done = finished(sessionOf("llama3-8b", 1, 8, 16));
});

describe("the ranked table's view-model", () => {
  it("sorts by throughput (the planner's order), memory per GPU, or MFU", () => {
    const byTp = sortPlans(done.plans, "throughput");
    expect(byTp.map(planKey)).toEqual([...done.plans].sort(comparePlans).map(planKey));
    const byMem = sortPlans(done.plans, "memory");
    expect(byMem[0]!.memory.total).toBe(Math.min(...done.plans.map((p) => p.memory.total)));
    const byMfu = sortPlans(done.plans, "mfu");
    expect(byMfu[0]!.mfu).toBe(Math.max(...done.plans.map((p) => p.mfu)));
  });

  it("filters by fixing tp, pp, dp, ZeRO stage or recompute, cycling through the values present", () => {
    expect(filterValues(done.plans, "recompute")).toEqual(["none", "selective", "full"]);
    expect(filterValues(done.plans, "tp")).toEqual([1, 2, 4, 8]);
    let f = cycleFilter(done.plans, {}, "tp");
    expect(f).toEqual({ tp: 1 });
    f = cycleFilter(done.plans, { ...f, zero: 3 }, "tp");
    expect(f).toEqual({ tp: 2, zero: 3 });
    const shown = visiblePlans(done.plans, "throughput", f);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((p) => p.tp === 2 && p.zero === 3)).toBe(true);
    expect(filterLine("throughput", f, shown.length, done.plans.length)).toMatch(/^sort: throughput · filter tp 2, ZeRO 3 \([\d,]+ of [\d,]+\)$/);
    expect(cycleFilter(done.plans, { tp: 8 }, "tp")).toEqual({});
  });

  it("cycles a filter through the values the other filters leave (QA: it offered values of all plans)", () => {
    // Pick a dp where not every pp is present: the pp filter must skip the pp values absent there.
    const ppAll = filterValues(done.plans, "pp");
    const dp = filterValues(done.plans, "dp").find((d) => filterValues(done.plans.filter((p) => p.dp === d), "pp").length < ppAll.length)!;
    expect(dp).toBeDefined();
    const ppHere = filterValues(done.plans.filter((p) => p.dp === dp), "pp");
    let f = { dp } as Parameters<typeof cycleFilter>[1];
    const seen: unknown[] = [];
    for (let i = 0; i <= ppHere.length; i++) {
      f = cycleFilter(done.plans, f, "pp");
      seen.push(f.pp);
      if (f.pp !== undefined) expect(visiblePlans(done.plans, "throughput", f).length).toBeGreaterThan(0);
    }
    expect(seen).toEqual([...ppHere, undefined]);
    expect(f).toEqual({ dp });
  });

  it("leaves out sp, cap, recompute, schedule, mb (in that order) before the step, tokens/s and MFU where the width is short", () => {
    const plans = visiblePlans(done.plans, "throughput", {});
    const full = tableView(plans, 0, 10);
    const cols = (h: string) => h.trim().split(/ +/);
    expect(cols(full.header)).toEqual(["#", "tp", "pp", "dp", "Z", "mb", "recomp", "sp", "sched", "mem/GPU", "cap", "step", "tokens/s", "MFU"]);
    // At the full width nothing goes; one column short of it, sp (2 wide + a space) goes first.
    expect(tableView(plans, 0, 10, false, false, full.header.length).header).toBe(full.header);
    const w = full.header.length;
    expect(cols(tableView(plans, 0, 10, false, false, w - 1).header)).not.toContain("sp");
    const narrow = tableView(plans, 0, 10, false, false, 58);
    expect(cols(narrow.header).slice(-3)).toEqual(["step", "tokens/s", "MFU"]);
    expect(narrow.header.length).toBeLessThanOrEqual(58);
    for (const r of narrow.rows) {
      expect(r.text.length).toBeLessThanOrEqual(58);
      expect(r.text).toMatch(/ [\d.]+ m?s +[\d,]+ +[\d.]+%$/);
    }
  });

  it("with an engine that runs some plans eager, a comp column after sched: no for a plan the planner prices eager; it goes after mb", () => {
    // Two plans of llama3-8b under paraplan-compile: cp 2 runs eager (executor/worker/compile.py:
    // context parallel), cp 1 with 1F1B compiles.
    const s = sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "paraplan-compile").request;
    const t = { ...s.training, seqLen: 16384 };
    const base = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" } as const;
    const plans = [evaluatePlan(s.model, s.hw, t, base), evaluatePlan(s.model, s.hw, t, { ...base, cp: 2, dp: 4, cpComm: "allgather", cpSplit: "zigzag" })];
    const cols = (h: string) => h.trim().split(/ +/);
    const v = tableView(plans, 0, 10, false, true, Infinity, true);
    expect(cols(v.header)).toEqual(["#", "tp", "cp", "pp", "dp", "Z", "mb", "recomp", "sp", "sched", "comp", "mem/GPU", "cap", "step", "tokens/s", "MFU"]);
    expect(v.rows[0]!.text).toMatch(/^1 +1 +1 +1 +8 +1 +1 full +- +yes /);
    expect(v.rows[1]!.text).toMatch(/^2 +1 +2 ag +1 +4 +1 +1 full +- +no /);
    // Without the flag (an engine that compiles nothing, or every plan eager) no column.
    expect(cols(tableView(plans, 0, 10, false, true).header)).not.toContain("comp");
    // 60 columns (the smallest terminal): sp, cap, recomp and sched go; one column short of that, mb
    // too; comp goes only after mb (then the step, tokens/s and MFU are all that is left).
    const at60 = tableView(plans, 0, 10, false, true, 60, true);
    expect(cols(at60.header)).toEqual(["#", "tp", "cp", "pp", "dp", "Z", "mb", "comp", "mem/GPU", "step", "tokens/s", "MFU"]);
    expect(at60.rows[1]!.text).toMatch(/^2 +1 +2 ag +1 +4 +1 +1 no +[\d.]+ GiB /);
    expect(cols(tableView(plans, 0, 10, false, true, at60.header.length - 1, true).header)).toEqual(["#", "tp", "cp", "pp", "dp", "Z", "comp", "mem/GPU", "step", "tokens/s", "MFU"]);
  });

  it("names every rejection code shortly (QA saw the raw cp_heads)", () => {
    expect(rejectionLine({ cp_heads: 12, out_of_memory: 3 }, 80)).toBe("rejected: 12 cp∤heads of a tp rank, 3 out of memory");
    for (const code of Object.keys(REJECTION_CODES)) expect(REJECTION_SHORT[code], code).toBeDefined();
  });

  it("lays out a window of rows around the cursor, within 80 columns", () => {
    const plans = visiblePlans(done.plans, "throughput", {});
    const t = tableView(plans, 40, 10);
    expect(t.rows).toHaveLength(10);
    expect(t.rows.filter((r) => r.selected).map((r) => r.index)).toEqual([40]);
    expect(t.header).toMatch(/^\s*# tp pp dp Z mb recomp sp sched\s+mem\/GPU cap\s+step tokens\/s\s+MFU$/);
    for (const r of [t.header, ...t.rows.map((x) => x.text)]) expect(r.length).toBeLessThanOrEqual(80);
    expect(t.position).toBe(`rows 36–45 of ${plans.length.toLocaleString("en-US")}`);
    const p = plans[40]!;
    expect(t.rows.find((r) => r.selected)!.text).toMatch(new RegExp(`^\\s*41\\s+${p.tp}\\s+${p.pp}\\s+${p.dp}\\s+${p.zero}\\s+${p.microBatch}\\s`));
    expect(rankLine(plans, p, "throughput")).toBe(`#41 of ${plans.length.toLocaleString("en-US")} by throughput`);
  });

  it("counts rejections by reason on one line, most first", () => {
    expect(rejectionLine({ out_of_memory: 1200, tp_heads: 30, pp_layers: 4500 }, 80)).toBe("rejected: 4.5k pp∤layers, 1.2k out of memory, 30 tp∤heads");
    expect(rejectionLine({}, 80)).toBe("rejected: none");
    const long = rejectionLine({ out_of_memory: 1, tp_heads: 2, pp_layers: 3, tp_kv_heads: 4, vpp_layers: 5, batch_dp: 6, tp_spans_nodes: 7, interleaved_microbatches: 8 }, 80);
    expect(long.length).toBe(80);
    expect(long.endsWith("…")).toBe(true);
  });

  it("adds where the request lies beyond the published runs its engine was fitted on", () => {
    // megatron-core's runs are 2,048–4,096 tokens on 48–6,144 H100s (profiles/calibration.json):
    // Llama 3 8B's 8,192 tokens on 8 GPUs is beyond both.
    const s = sessionOf("llama3-8b", 1, 8, 16);
    // (and megatron-core's error out of sample, on NVIDIA's NeMo tables, which nothing was fitted
    // to: 10.6%)
    const v = s.request.calibration!.validation!;
    expect(v.mean).toBeGreaterThan(0);
    expect(calibrationNote(s)).toBe(`beyond the calibration runs: sequence of 8,192 tokens; 8 GPUs; ${(v.mean * 100).toFixed(1)}% off out of sample`);
    expect(statusLine(done, calibrationNote(s))).toMatch(/^done in 12\.0 ms: [\d,]+ searched · [\d,]+ feasible · beyond the calibration runs: sequence of 8,192 tokens; 8 GPUs; \d+\.\d% off out of sample$/);
    // (an engine with no such runs says only where the request lies)
    expect(calibrationNote(sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "torchtitan"))).toBe("beyond the calibration runs: torchtitan has no run on dgx-h100");
    // (the paraplan engines: no published run, but the worker's own H200 runs; the eager engine's
    // one fitted run, profiles/calibration.json ownRuns)
    const own = (sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "paraplan").request.calibration!.ownRuns!.fitted.mean * 100).toFixed(1);
    expect(calibrationNote(sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "paraplan"))).toBe(
      `no published run calibrates engine paraplan; ${own}% off on its own run (beyond it here: dgx-h100 (its runs were on hgx-h200); sequence of 8,192 tokens; 8 GPUs (its runs had 1 GPU: communication is the cost model's alone))`,
    );
    // Inside megatron-core's runs: their errors (DGXC's and MEG24's, the bench's figures).
    expect(calibrationNote(sessionOf("gpt3-175b", 16, 8, 1536))).toBe("within the calibration runs: step time off by 3.7% on average there, 5.0% fitted without a run's source");
  });

  it("says what it is doing: searching, done, or why nothing fits", () => {
    expect(statusLine({ ...done, done: false, chunksDone: 3, chunksTotal: 9 })).toMatch(/^searching… 3\/9 · [\d,]+ searched · [\d,]+ feasible · /);
    expect(statusLine(done)).toMatch(/^done in 12\.0 ms: [\d,]+ searched · [\d,]+ feasible$/);
    const none = finished(sessionOf("llama3-405b", 1, 8));
    expect(none.plans).toHaveLength(0);
    const lines = emptyLines(none, 80);
    expect(lines[0]).toBe("No plan fits in memory.");
    expect(lines.join(" ")).toMatch(/needs [\d.]+ GiB per GPU, [\d.]+% over the 79\.6 GiB capacity/);
  });
});
