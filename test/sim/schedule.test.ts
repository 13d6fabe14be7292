// Per-stage op order of GPipe, 1F1B and interleaved 1F1B (planner/sim/schedule.ts) against the
// counts of Narayanan et al. 2021 §2.2 and Megatron-LM's schedules.py, and orders written out
// by hand from those rules.
import { describe, expect, it } from "vitest";
import { phases, stageOrder } from "../../planner/sim/schedule.js";

const show = (order: ReturnType<typeof stageOrder>, v = 1) =>
  order.map((p) => `${p.kind}${p.mb}${v > 1 ? `.${p.chunk}` : ""}`).join(" ");

describe("1F1B (PipeDream-Flush)", () => {
  it("stage i of p warms up with p − i − 1 forwards, then m − (p − i − 1) pairs, then as many backwards", () => {
    const p = 4;
    const m = 8;
    expect([0, 1, 2, 3].map((i) => phases("1f1b", p, 1, m, i))).toEqual([
      { warmup: 3, steady: 5, cooldown: 3 },
      { warmup: 2, steady: 6, cooldown: 2 },
      { warmup: 1, steady: 7, cooldown: 1 },
      { warmup: 0, steady: 8, cooldown: 0 },
    ]);
  });

  it("caps the warm-up at m when there are fewer micro-batches than stages", () => {
    expect(phases("1f1b", 8, 1, 3, 0)).toEqual({ warmup: 3, steady: 0, cooldown: 3 });
    expect(phases("1f1b", 8, 1, 3, 6)).toEqual({ warmup: 1, steady: 2, cooldown: 1 });
  });

  it("orders stage 1 of 4 with 6 micro-batches as F0 F1 | F2 B0 F3 B1 F4 B2 F5 B3 | B4 B5", () => {
    expect(show(stageOrder("1f1b", 4, 1, 6, 1))).toBe("F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 B4 B5");
  });

  it("runs the last stage forward-backward from the start", () => {
    expect(show(stageOrder("1f1b", 4, 1, 3, 3))).toBe("F0 B0 F1 B1 F2 B2");
  });

  it("is plain gradient accumulation without a pipeline", () => {
    expect(show(stageOrder("1f1b", 1, 1, 3, 0))).toBe("F0 B0 F1 B1 F2 B2");
  });
});

describe("GPipe", () => {
  it("runs every forward, then every backward in reverse order (Huang et al. 2019, Fig. 2c)", () => {
    expect(show(stageOrder("gpipe", 4, 1, 4, 2))).toBe("F0 F1 F2 F3 B3 B2 B1 B0");
    expect(phases("gpipe", 4, 1, 4, 2)).toEqual({ warmup: 4, steady: 0, cooldown: 4 });
  });
});

describe("interleaved 1F1B (Megatron-LM forward_backward_pipelining_with_interleaving)", () => {
  it("warms up with (p − i − 1)·2 + (v − 1)·p chunk forwards on stage i", () => {
    const p = 4;
    const v = 3;
    const m = 8;
    for (let i = 0; i < p; i++) {
      const warmup = (p - i - 1) * 2 + (v - 1) * p;
      expect(phases("interleaved", p, v, m, i)).toEqual({ warmup, steady: m * v - warmup, cooldown: warmup });
    }
    expect(phases("interleaved", 4, 3, 8, 0).warmup).toBe(14);
    expect(phases("interleaved", 4, 3, 8, 3).warmup).toBe(8);
  });

  it("runs all forwards first when m = p, as Megatron-LM does", () => {
    expect(phases("interleaved", 4, 2, 4, 3)).toEqual({ warmup: 8, steady: 0, cooldown: 8 });
  });

  it("caps the warm-up at the m·v chunks there are", () => {
    expect(phases("interleaved", 8, 2, 2, 0)).toEqual({ warmup: 4, steady: 0, cooldown: 4 });
  });

  // p = 2, v = 2, m = 4. Virtual micro-batch k runs chunk ⌊(k mod 4)/2⌋ forward (1 − that
  // backward) of micro-batch ⌊k/4⌋·2 + k mod 2:
  //   forward  k = 0…7 → F0.0 F1.0 F0.1 F1.1 F2.0 F3.0 F2.1 F3.1
  //   backward k = 0…7 → B0.1 B1.1 B0.0 B1.0 B2.1 B3.1 B2.0 B3.0
  it("orders stage 0 of 2 (v = 2, m = 4): 4 warm-up forwards, 4 pairs, 4 backwards", () => {
    expect(show(stageOrder("interleaved", 2, 2, 4, 0), 2)).toBe(
      "F0.0 F1.0 F0.1 F1.1 " + "F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 " + "B2.1 B3.1 B2.0 B3.0",
    );
  });

  it("orders stage 1 of 2 (v = 2, m = 4): 2 warm-up forwards, 6 pairs, 2 backwards", () => {
    expect(show(stageOrder("interleaved", 2, 2, 4, 1), 2)).toBe(
      "F0.0 F1.0 " + "F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 " + "B2.0 B3.0",
    );
  });

  it("runs every chunk of every micro-batch once forward and once backward", () => {
    const order = stageOrder("interleaved", 4, 3, 8, 1);
    expect(order.length).toBe(2 * 8 * 3);
    const seen = new Set(order.map((p) => `${p.kind}${p.mb}.${p.chunk}`));
    expect(seen.size).toBe(2 * 8 * 3);
  });
});
