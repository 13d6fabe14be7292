// A row's sweep (bench/calibration/sweeps.ts): the rows of the same published table that hold its
// model, GPU, stack, tp, pp and recompute and change one of GPU count and sequence. The expected
// neighbours are read off published-runs.csv by hand.
import { describe, expect, it } from "vitest";
import { loadCalibrationRows } from "../../bench/calibration/rows.js";
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
