// The event engine (planner/sim/events.ts): overlap on separate streams, shared link bandwidth,
// partial dependencies, queued streams. Every expected time is worked out by hand.
import { describe, expect, it } from "vitest";
import { Engine } from "../../planner/sim/events.js";
import { linkId } from "../../planner/sim/links.js";

describe("a data-parallel all-reduce on its own stream overlaps the backward", () => {
  // compute: backward (B = 4 s) then optimizer (1 s), which also waits for the all-reduce that
  // starts with the backward on the dp stream.
  const step = (allReduce: number) => {
    const e = new Engine();
    const compute = e.addStream(true);
    const dp = e.addStream(false);
    e.add({ stream: compute, pre: 4 });
    const ar = e.add({ stream: dp, pre: allReduce });
    const opt = e.add({ stream: compute, pre: 1 });
    e.dep(opt, ar);
    return e.run().makespan;
  };
  it("shorter than the backward: adds nothing", () => {
    expect(step(0)).toBe(5);
    expect(step(2.5)).toBe(5);
    expect(step(4)).toBe(5);
  });
  it("longer than the backward: adds exactly the excess", () => {
    expect(step(6)).toBe(5 + (6 - 4));
    expect(step(4.75)).toBe(5 + 0.75);
  });
});

describe("a link carrying two transfers at once shares its bandwidth", () => {
  const out = linkId(0, true, false);
  const other = linkId(1, true, false);
  it("one transfer of 2 s alone takes 2 s; two equal ones at once take 4 s each", () => {
    const one = new Engine();
    one.add({ stream: one.addStream(false), pre: 0, work: 2, links: [out] });
    expect(one.run().makespan).toBe(2);
    const two = new Engine();
    const a = two.add({ stream: two.addStream(false), pre: 0, work: 2, links: [out] });
    const b = two.add({ stream: two.addStream(false), pre: 0, work: 2, links: [out] });
    const r = two.run();
    expect(r.end[a]).toBe(4);
    expect(r.end[b]).toBe(4);
  });
  it("latency is not shared: α = 0.5 s then 2 s of bandwidth each, together → 0.5 + 4", () => {
    const e = new Engine();
    e.add({ stream: e.addStream(false), pre: 0.5, work: 2, links: [out] });
    e.add({ stream: e.addStream(false), pre: 0.5, work: 2, links: [out] });
    expect(e.run().makespan).toBe(4.5);
  });
  it("transfers on different links do not slow each other", () => {
    const e = new Engine();
    e.add({ stream: e.addStream(false), pre: 0, work: 2, links: [out] });
    e.add({ stream: e.addStream(false), pre: 0, work: 2, links: [other] });
    expect(e.run().makespan).toBe(2);
  });
  it("a later, shorter transfer: A (2 s) alone for 1 s, then both at half rate", () => {
    // A: 1 s of its work alone, 1 s left. B (0.5 s) starts at 1: both at ½ → B done at 2,
    // A has 0.5 left at 2, alone again → done at 2.5.
    const e = new Engine();
    const s = e.addStream(true);
    const a = e.add({ stream: e.addStream(false), pre: 0, work: 2, links: [out] });
    e.add({ stream: s, pre: 1 });
    const b = e.add({ stream: s, pre: 0, work: 0.5, links: [out] });
    const r = e.run();
    expect(r.end[b]).toBe(2);
    expect(r.end[a]).toBe(2.5);
  });
  it("a transfer crossing two links goes at the pace of the busier one", () => {
    // X uses [out, other]; Y uses [out]: both at ½ while both run (X is 1 s, Y is 3 s).
    // X done at 2; Y then alone with 3 − 1 = 2 s left → 4.
    const e = new Engine();
    const x = e.add({ stream: e.addStream(false), pre: 0, work: 1, links: [out, other] });
    const y = e.add({ stream: e.addStream(false), pre: 0, work: 3, links: [out] });
    const r = e.run();
    expect(r.end[x]).toBe(2);
    expect(r.end[y]).toBe(4);
  });
});

describe("dependencies and streams", () => {
  it("a partial dependency fires part-way through a fixed-time operation", () => {
    const e = new Engine();
    const y = e.add({ stream: e.addStream(true), pre: 4 });
    const x = e.add({ stream: e.addStream(false), pre: 1 });
    e.dep(x, y, 0.25);
    const r = e.run();
    expect(r.start[x]).toBe(1);
    expect(r.end[x]).toBe(2);
  });
  it("a queued stream runs one operation at a time in the order they became ready", () => {
    const e = new Engine();
    const c = e.addStream(true);
    const q = e.addStream(false);
    const first = e.add({ stream: c, pre: 2 });
    const second = e.add({ stream: c, pre: 1 });
    const late = e.add({ stream: q, pre: 3 }); // ready at 2
    const early = e.add({ stream: q, pre: 3 }); // ready at 3, queued behind `late`
    e.dep(late, first);
    e.dep(early, second);
    const r = e.run();
    expect([r.start[late], r.end[late]]).toEqual([2, 5]);
    expect([r.start[early], r.end[early]]).toEqual([5, 8]);
    expect(r.binder[early]).toBe(late);
  });
  it("an ordered stream runs in insertion order", () => {
    const e = new Engine();
    const c = e.addStream(true);
    const a = e.add({ stream: c, pre: 1 });
    const b = e.add({ stream: c, pre: 2 });
    const r = e.run();
    expect([r.start[a], r.start[b], r.end[b]]).toEqual([0, 1, 3]);
  });
  it("reports a cycle instead of hanging", () => {
    const e = new Engine();
    const a = e.add({ stream: e.addStream(false), pre: 1 });
    const b = e.add({ stream: e.addStream(false), pre: 1 });
    e.dep(a, b);
    e.dep(b, a);
    expect(() => e.run()).toThrow(/deadlocked/);
  });
});
