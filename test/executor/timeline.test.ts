// The measured timeline's breakdown (executor/timeline.ts) on hand-built steps whose bubble and
// exposed communication are computed by hand, and the interval arithmetic under it.
import { describe, expect, it } from "vitest";
import { measure, subtract, union } from "../../executor/intervals.js";
import { type MeasuredEvent, type MeasuredTimeline, breakdown, parseTimeline } from "../../executor/timeline.js";

const F = (vstage: number, mb: number, start: number, duration = 1): MeasuredEvent => ({ stream: "compute", category: "forward", vstage, mb, start, duration });
const B = (vstage: number, mb: number, start: number, duration = 2): MeasuredEvent => ({ stream: "compute", category: "backward", vstage, mb, start, duration });
const OPT = (start: number, duration = 0.5): MeasuredEvent => ({ stream: "compute", category: "optimizer", start, duration });
const C = (stream: string, start: number, end: number, category = "all_reduce"): MeasuredEvent => ({ stream, category, start, duration: end - start });

const step = (pp: number, m: number, stages: MeasuredEvent[][]): MeasuredTimeline => ({
  step: 5,
  pp,
  vpp: 1,
  microBatches: m,
  schedule: "ScheduleGPipe",
  stages: stages.map((events, stage) => ({ stage, rank: stage, events })),
});

describe("intervals", () => {
  it("unions, subtracts and measures", () => {
    expect(union([[3, 4], [0, 1], [0.5, 2], [5, 5]])).toEqual([[0, 2], [3, 4]]);
    expect(subtract(union([[0, 10]]), union([[1, 2], [4, 6], [9, 12]]))).toEqual([[0, 1], [2, 4], [6, 9]]);
    expect(subtract([[0, 1], [2, 3]], [[0.5, 2.5]])).toEqual([[0, 0.5], [2.5, 3]]);
    expect(measure(subtract([[0, 4]], []))).toBe(4);
  });
});

describe("measured bubble", () => {
  // GPipe, p = 2, m = 2, forward 1 and backward 2 per micro-batch, no transfer time, backwards in
  // micro-batch order (torch's ScheduleGPipe). Stage 1 waits 1 for F0; stage 0 waits from 2 to 5
  // for stage 1's B0. Bubble of the last-ending stage (0) = (p − 1)(tF + tB) = 3, over its busy
  // time m(tF + tB) = 6: (p − 1)/m = 0.5.
  const gpipe = step(2, 2, [
    [F(0, 0, 0), F(0, 1, 1), B(0, 0, 5), B(0, 1, 7), OPT(9)],
    [F(1, 0, 1), F(1, 1, 2), B(1, 0, 3), B(1, 1, 5), OPT(7)],
  ]);

  it("is the wait for the other stage's compute, (p−1)/m of the busy time on uniform stages", () => {
    const b = breakdown(gpipe)!;
    expect(b.criticalStage).toBe(0);
    expect(b.step).toBe(9.5);
    expect(b.bubble).toBe(3);
    expect(b.bubbleFraction).toBe(0.5);
    expect(b.stages[1]).toMatchObject({ bubble: 1, compute: 6, optimizer: 0.5, end: 7.5, exposedComm: 0 });
    expect(b.exposedComm).toBe(0);
  });

  it("splits a wait into bubble and transfer once the producer has finished", () => {
    // every stage-to-stage hand-over takes 0.25: stage 1's F0 starts at 1.25, its p2p receive
    // runs from 0 (posted) to 1.25 (arrived)
    const t = step(2, 1, [
      [F(0, 0, 0), B(0, 0, 4.5), OPT(6.5)],
      [C("pp comm", 0, 1.25, "p2p"), F(1, 0, 1.25), B(1, 0, 2.25), OPT(4.25)],
    ]);
    const s1 = breakdown(t)!.stages[1]!;
    expect(s1.bubble).toBe(1); // until stage 0's F0 ended
    expect(s1.ppComm).toBe(0.25);
    expect(s1.exposedComm).toBe(0.25); // the receive counts once, its bubble part not at all
    const s0 = breakdown(t)!.stages[0]!;
    expect(s0.bubble).toBe(3.25); // from 1 to stage 1's B0 end at 4.25
    expect(s0.ppComm).toBe(0.25);
  });
});

describe("measured exposed communication", () => {
  it("adds nothing for a data-parallel all-reduce shorter than the backward it overlaps", () => {
    const t = step(1, 1, [[F(0, 0, 0), B(0, 0, 1), C("dp comm", 1.5, 2.9), OPT(3)]]);
    expect(breakdown(t)!.exposedComm).toBe(0);
  });

  it("counts the part of an all-reduce that outlasts the backward", () => {
    const t = step(1, 1, [[F(0, 0, 0), B(0, 0, 1), C("dp comm", 2.5, 3.25), OPT(3.25)]]);
    expect(breakdown(t)!.exposedComm).toBeCloseTo(0.25, 12);
    expect(breakdown(t)!.step).toBe(3.75);
  });

  it("on GPUs uses the compute kernels: a collective inside a span that no kernel overlaps is exposed", () => {
    const t = step(1, 1, [[F(0, 0, 0), B(0, 0, 1), C("tp comm", 0.4, 0.6), OPT(3)]]);
    expect(breakdown(t)!.exposedComm).toBe(0); // CPU ranks: inside a span, counted as compute
    t.stages[0]!.busy = [[0, 0.4], [0.6, 3.5]];
    expect(breakdown(t)!.exposedComm).toBeCloseTo(0.2, 12);
  });
});

describe("timeline event", () => {
  it("is validated", () => {
    const ok = parseTimeline({ step: 5, pp: 1, vpp: 1, microBatches: 1, schedule: "none", stages: [{ stage: 0, rank: 0, events: [F(0, 0, 0)] }] });
    expect(typeof ok).toBe("object");
    expect(parseTimeline({ step: 5, pp: 1, microBatches: 1 })).toMatch(/stages/);
    expect(parseTimeline({ step: 5, pp: 1, microBatches: 1, stages: [{ stage: 0, events: [{ stream: "compute" }] }] })).toMatch(/stage 0: an event/);
  });

  it("without compute spans gives no breakdown", () => {
    expect(breakdown(step(1, 1, [[C("dp comm", 0, 1)]]))).toBeNull();
  });
});

describe("measured stage imbalance (issue 17)", () => {
  it("a last stage twice as slow: the bubble stays (p−1)/m of the busy time, the rest is imbalance", () => {
    // GPipe, p = 2, m = 2; stage 1's forward 2 and backward 4 (stage 0: 1 and 2).
    // Stage 1: F0 1–3, F1 3–5, B0 5–9, B1 9–13. Stage 0: F0 0–1, F1 1–2, then waits for stage 1's
    // B0 (until 9) and B1 (11–13): B0 9–11, B1 13–15, OPT 15–15.5.
    const t = step(2, 2, [
      [F(0, 0, 0), F(0, 1, 1), B(0, 0, 9), B(0, 1, 13), OPT(15)],
      [F(1, 0, 1, 2), F(1, 1, 3, 2), B(1, 0, 5, 4), B(1, 1, 9, 4), OPT(13)],
    ]);
    const b = breakdown(t)!;
    expect(b.criticalStage).toBe(0);
    // stage 0 idles 2–9 and 11–13: 9; busy 6; the schedule's share (p−1)/m = 1/2 of 6 = 3
    expect(b.bubble).toBe(3);
    expect(b.imbalance).toBe(6);
    expect(b.bubbleFraction).toBe(0.5);
  });
});

describe("measured bubble of a zero-bubble schedule (weight-gradient spans apart)", () => {
  const I = (vstage: number, mb: number, start: number): MeasuredEvent => ({ stream: "compute", category: "backward", vstage, mb, start, duration: 1 });
  const W = (vstage: number, mb: number, start: number): MeasuredEvent => ({ stream: "compute", category: "weight", vstage, mb, start, duration: 1 });
  // torch's ScheduleInterleavedZeroBubble, p = 2, m = 2, F = I = W = 1 (test/sim/fixtures):
  //   rank 0: F0.0 F0.1 I0.0 W0.0 I0.1 W0.1    rank 1: F1.0 I1.0 F1.1 I1.1 W1.0 W1.1
  // Rank 0 waits 2 → 3 for I1.0; rank 1 waits 0 → 1 for F0.0: (p−1)(F + I − W) = 1 each.
  const zb: MeasuredTimeline = {
    step: 5,
    pp: 2,
    vpp: 1,
    microBatches: 2,
    schedule: "ScheduleInterleavedZeroBubble",
    stages: [
      { stage: 0, rank: 0, events: [F(0, 0, 0), F(0, 1, 1), I(0, 0, 3), W(0, 0, 4), I(0, 1, 5), W(0, 1, 6), OPT(7)] },
      { stage: 1, rank: 1, events: [F(1, 0, 1), I(1, 0, 2), F(1, 1, 3), I(1, 1, 4), W(1, 0, 5), W(1, 1, 6), OPT(7)] },
    ],
  };

  it("counts W as compute and the bubble against ZB-H1's (p−1)(F + B − W) share", () => {
    const b = breakdown(zb)!;
    expect(b.step).toBe(7.5);
    expect(b.stages[0]).toMatchObject({ compute: 6, bubble: 1 });
    expect(b.stages[1]).toMatchObject({ compute: 6, bubble: 1 });
    expect(b.bubble).toBe(1);
    expect(b.imbalance).toBe(0);
    expect(b.bubbleFraction).toBeCloseTo(1 / 6, 12);
  });
});
