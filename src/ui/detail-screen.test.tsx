import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../planner/index.js";
import { DetailScreen } from "./detail-screen.js";
import { header, searchedAsItRuns } from "../format/plan-text.js";
import { overflow, sessionOf } from "./test-utils.js";

const req = sessionOf("gpt3-like", 128, 8).request;
const plan = (p: Partial<Plan> = {}) =>
  evaluatePlan(req.model, req.hw, req.training, { tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "interleaved", ...p });

describe("the plan detail screen", () => {
  it("shows memory bars against capacity, the step breakdown, links per group and the bubble, within 80 × 20", () => {
    const p = plan();
    const f = render(<DetailScreen plan={p} previous={null} hw={req.hw} training={req.training} width={80} height={20} />).lastFrame()!;
    expect(f).toContain("tp 8 · pp 16 · vpp 2 · dp 8 · ZeRO-1 · mb 1 · recompute sel · SP · interleaved");
    expect(f).toMatch(/memory per GPU \(first stage, the fullest\): [\d.]+ GiB of 79\.6 GiB/);
    for (const k of ["weights", "gradients", "optimizer", "activations", "other"] as const) {
      const g = p.memory[k] / 2 ** 30;
      expect(f).toMatch(new RegExp(`^  ${k}\\s+[█▓▒░▪·]+\\s+${(g >= 100 ? g.toFixed(0) : g >= 10 ? g.toFixed(1) : g.toFixed(2)).replace(".", "\\.")} GiB$`, "m"));
    }
    expect(f).toMatch(/^  total\s+█+▓+▒+░+▪*·+$/m);
    expect(f).toMatch(/^step [\d.]+ m?s · [\d,]+ tokens\/s · MFU [\d.]+% · \d+ TFLOP\/s per GPU$/m);
    expect(f).toMatch(/█ compute [\d.]+ m?s/);
    expect(f).toMatch(/^  tp  8 ranks\s+NVLink 450 GB\/s/m);
    expect(f).toMatch(/^  pp  16 stages\s+network 50\.0 GB\/s/m);
    expect(f).toMatch(/^  dp  8 replicas\s+network 50\.0 GB\/s/m);
    expect(f).toMatch(/^bubble [\d.]+ m?s = [\d.]+% of the step \(16 stages, 2 chunks each, 192 micro-batches\)$/m);
    expect(f).not.toContain("vs previous");
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("shows the difference from the previous plan", () => {
    const f = render(<DetailScreen plan={plan({ pp: 8, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, schedule: "1f1b" })} previous={plan()} hw={req.hw} training={req.training} width={80} height={20} />).lastFrame()!;
    expect(f).toContain("vs previous: pp 16→8, vpp 2→1, dp 8→16, schedule interleaved→1f1b");
    expect(f).toMatch(/tokens\/s [+−][\d.]+% · memory\/GPU [+−][\d.]+ GiB · step [+−][\d.]+ m?s · MFU [+−][\d.]+ pts/);
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("shows the whole run under the rest where the terminal has room, and keeps within the height where not", () => {
    const tall = render(<DetailScreen plan={plan()} previous={null} hw={req.hw} training={req.training} model={req.model} width={80} height={30} />).lastFrame()!;
    expect(tall).toMatch(/^whole run$/m);
    expect(tall).toMatch(/^  for 1\.0T tokens at [\d.]+ s a step \(closed form\): [\d.]+ days · [\d.]+[kM] GPU-hours/m);
    // (each line over rows broken between its parts, "· " opening a continued one: the rows joined)
    const joined = tall.replace(/\n {2}· /g, " · ");
    expect(joined).toMatch(/^  for 1\.0T tokens at .* · [\d,]+ MWh \(board power × PUE 1\.09\)$/m);
    expect(joined).toMatch(/^  goodput \d+\.\d% · job MTBF [\d.]+ (h|days) · checkpoint every .* per failure$/m);
    const short = render(<DetailScreen plan={plan()} previous={plan({ pp: 8, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, schedule: "1f1b" })} hw={req.hw} training={req.training} model={req.model} width={80} height={20} />).lastFrame()!;
    expect(short.split("\n").length).toBeLessThanOrEqual(20);
    expect(short).not.toContain("whole run");
  });

  it("prices the run the user set (w, $): ten times the tokens, ten times the days; the cost at the price", () => {
    const show = (run: { tokens: number; price: number | null }) =>
      render(<DetailScreen plan={plan()} previous={null} hw={req.hw} training={req.training} model={req.model} run={run} width={100} height={30} />).lastFrame()!.replace(/\n {2}· /g, " · ");
    const days = (f: string) => Number(/ \(closed form\): ([\d,.]+) days/.exec(f)![1]!.replace(/,/g, ""));
    const one = show({ tokens: 1e12, price: null });
    const ten = show({ tokens: 10e12, price: 2 });
    expect(ten).toMatch(/^ {2}for 10\.0T tokens at /m);
    expect(one).not.toContain("cost");
    // 1e12 and 1e13 tokens in steps of 1,536 × 2,048: 317,892 and 3,178,915 steps, ×10.0000 (the
    // goodput the same: Daly's interval does not depend on the run's length); days printed to 0.1.
    expect(Math.abs(days(ten) - 10 * days(one))).toBeLessThan(1.1);
    // 1,024 GPUs × the days × 24 h × $2 (printed to three digits)
    const cost = Number(/ · cost \$([\d.]+)M at \$2\/GPU-hour/.exec(ten)![1]) * 1e6;
    expect(Math.abs(cost - days(ten) * 24 * 1024 * 2) / cost).toBeLessThan(0.005);
  });
});

describe("the engine's notes on the detail", () => {
  // QA: a ZeRO-0 row on megatron-deepspeed under bf16 showed gradients 7.35 GiB and optimizer
  // 1.84 GiB with nothing saying they are DeepSpeed's BF16_Optimizer's (fp32 gradients, whole).
  const ds = sessionOf("gpt3-1.3b", 1, 8, 64, "dgx-h100", "megatron-deepspeed").request;
  const zero0 = evaluatePlan(ds.model, ds.hw, ds.training, { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
  const flat = (f: string) => f.split("\n").join(" ");

  it("says the CLI header's 'searched as it runs' (BF16_Optimizer first for ZeRO 0), at 80 × 20 and 60 × 16", () => {
    const cli = searchedAsItRuns(ds.training)!;
    expect(cli).toContain("ZeRO 0 is DeepSpeed's BF16_Optimizer (Adam states partitioned, fp32 gradients kept whole)");
    expect(header(ds)).toContain(`\n  ${cli}`);
    const wide = render(<DetailScreen plan={zero0} previous={null} hw={ds.hw} training={ds.training} model={ds.model} width={80} height={20} />).lastFrame()!;
    expect(flat(wide)).toContain(searchedAsItRuns(ds.training, true));
    expect(overflow(wide, 80, 20)).toEqual([]);
    // 60 × 20's body: the note's first two lines stay, the BF16_Optimizer's whole sentence in them.
    const narrow = render(<DetailScreen plan={zero0} previous={null} hw={ds.hw} training={ds.training} model={ds.model} width={60} height={16} />).lastFrame()!;
    expect(flat(narrow)).toContain("searched as it runs: ZeRO 0 is DeepSpeed's BF16_Optimizer (Adam states partitioned, fp32 gradients kept whole)");
    expect(narrow).toMatch(/^  gradients +▓+·+ +7\.35 GiB$/m);
    expect(overflow(narrow, 60, 16)).toEqual([]);
  });

  it("says nothing for megatron-core's default (no limits on this search)", () => {
    expect(searchedAsItRuns(req.training)).toBeNull();
    const f = render(<DetailScreen plan={plan()} previous={null} hw={req.hw} training={req.training} width={80} height={30} />).lastFrame()!;
    expect(f).not.toContain("searched as it runs");
  });
});
