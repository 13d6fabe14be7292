// A row's sweep (bench/calibration/sweeps.ts): the rows of the same published table that hold its
// model, GPU, stack, tp, pp and recompute and change one of GPU count and sequence. The expected
// neighbours are read off published-runs.csv by hand.
import { describe, expect, it } from "vitest";
import { loadCalibrationRows, readCalibrationCsv } from "../../bench/calibration/rows.js";
import { sweepNeighbours } from "../../bench/calibration/sweeps.js";

const rows = loadCalibrationRows();
const row = (id: string) => rows.find((r) => r.id === id)!;
const ids = (id: string) => sweepNeighbours(row(id), rows, () => null).map((n) => `${n.id} ${n.differs}`);

describe("a calibration row's sweep", () => {
  it("MPT-179 (MPT-1b, 32 A100 40GB, 2,048 tokens, no recompute): the same at 128, 64, 16 and 8 GPUs", () => {
    expect(ids("MPT-179")).toEqual(["MPT-177 128 GPUs", "MPT-178 64 GPUs", "MPT-180 16 GPUs", "MPT-181 8 GPUs"]);
  });
  it("MPT-120 (MPT-760m, 8 A100 80GB, 1,024 tokens): the other sequences without recompute, not the 65,536-token row with full recompute", () => {
    expect(ids("MPT-120")).toEqual(["MPT-115 32,768 tokens", "MPT-116 16,384 tokens", "MPT-117 8,192 tokens", "MPT-118 4,096 tokens", "MPT-119 2,048 tokens", "MPT-121 512 tokens"]);
  });
  it("TT24-05 (Llama 3.1 8B at 65,536 tokens, cp 2): the other context-parallel lengths, whose cp and batch follow the sequence", () => {
    expect(ids("TT24-05")).toEqual(["TT24-04 32,768 tokens", "TT24-06 131,072 tokens", "TT24-07 262,144 tokens"]);
  });
  it("a row whose GPU count and sequence both differ is not in the sweep; the errors are handed through", () => {
    // MPT-140: 70b on 64 A100 40GB at 2,048 tokens; MPT-139 at 128 GPUs. No 70b row at another sequence there.
    const near = sweepNeighbours(row("MPT-140"), rows, (id) => (id === "MPT-139" ? -0.028 : null));
    expect(near).toEqual([{ id: "MPT-139", differs: "128 GPUs", error: -0.028 }]);
  });
});

// README "How the figures were calibrated", MPT: the 30B pair at 4,096 and 8,192 tokens on 8 A100s
// (MPT-081, MPT-080) fits no time of the form fixed + per token + per token × sequence. Solved for
// the pair, the matmuls at 4,096 tokens would run above the A100's 312 TFLOP/s peak.
describe("MPT-080 against its own sweep", () => {
  it("the pair's per-token time leaves its matmuls above the A100's peak: no compute model reaches both rows", () => {
    const csv = readCalibrationCsv();
    const r = (id: string) => csv.find((x) => x.id === id)!;
    // a micro-batch of one sequence: the step (global batch tokens / tokens per second) over 21 accumulations
    const micro = (id: string) => (Number(r(id).global_batch) * Number(r(id).seq_len)) / (Number(r(id).measured_value) * 8) / 21;
    const t4 = micro("MPT-081"), t8 = micro("MPT-080");
    expect([t4, t8].map((x) => +x.toFixed(2))).toEqual([5.03, 14.27]);
    // T(s) = s·L + s²·A for one sequence of s tokens: T(8192) − 2·T(4096) = 2·4096²·A
    const attention4 = (t8 - 2 * t4) / 2;
    const linear4 = t4 - attention4;
    // 8 FLOPs a weight a token under full recompute (forward, recompute, backward 2×), 30.0B weights
    // in matmuls (48 layers of 12·7168² and the 50,368 × 7168 output layer)
    const flops = 8 * (48 * 12 * 7168 ** 2 + 50368 * 7168) * 4096;
    expect(flops / linear4 / 1e12).toBeGreaterThan(312);
  });
});
