import { describe, expect, it } from "vitest";
import { comparePlans, search } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { planKey } from "./frontier.js";
import { type SearchProgress, searchAll, searchChunks, startSearchJob } from "./search-job.js";

describe("the chunked search", () => {
  it.each([
    ["llama3-8b", 1, 8, 16],
    ["tiny", 1, 4, 8],
    ["llama3-405b", 1, 8, undefined],
  ] as const)("adds up to the planner's whole search (%s on %i × %i)", (model, nodes, perNode, batch) => {
    const req = sessionOf(model, nodes, perNode, batch).request;
    const whole = search(req.model, req.hw, req.training, req.fixed, { top: 5, keepAll: true });
    const merged = searchAll(req);
    expect(merged.searched).toBe(whole.searched);
    expect(merged.feasible).toBe(whole.feasible);
    expect(merged.rejected).toEqual(whole.rejected);
    expect(merged.plans.map(planKey).sort()).toEqual(whole.all!.map(planKey).sort());
    expect([...merged.plans].sort(comparePlans).slice(0, 5).map(planKey)).toEqual(whole.plans.map(planKey));
    if (whole.feasible === 0) expect(merged.closest?.memory.total).toBe(whole.closest?.memory.total);
    else expect(merged.closest).toBeNull();
  });

  it("splits valid (tp, pp) pairs by micro-batch, and keeps rejected pairs whole", () => {
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    const chunks = searchChunks(req);
    expect(chunks.length).toBeGreaterThan(8);
    expect(chunks.every((c) => c.tp !== undefined && c.pp !== undefined)).toBe(true);
    expect(chunks.some((c) => c.microBatch !== undefined)).toBe(true);
  });

  it("reports after each slice, yields between slices, and stops when cancelled", () => {
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    const queue: (() => void)[] = [];
    const updates: SearchProgress[] = [];
    const cancel = startSearchJob(req, (p) => updates.push(p), { sliceMs: 0, defer: (fn) => (queue.push(fn), () => {}) });
    expect(updates).toHaveLength(0);
    queue.shift()!();
    queue.shift()!();
    expect(updates.map((u) => u.chunksDone)).toEqual([1, 2]);
    expect(updates[1]!.searched).toBeGreaterThanOrEqual(updates[0]!.searched);
    expect(updates[1]!.done).toBe(false);
    cancel();
    queue.shift()?.();
    expect(updates).toHaveLength(2);
  });

  it("ends with done and the whole search's counts (real setImmediate)", async () => {
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    const last = await new Promise<SearchProgress>((resolve) => startSearchJob(req, (p) => p.done && resolve(p)));
    expect(last.chunksDone).toBe(last.chunksTotal);
    expect(last.feasible).toBe(search(req.model, req.hw, req.training, {}, { top: 1 }).feasible);
  });
});

describe("the chunked search with one data-parallel replica", () => {
  it("gives the same distinct plans as the CLI's search: ZeRO-0 only at dp 1", () => {
    const req = sessionOf("tiny", 1, 1, 8).request;
    const merged = searchAll(req);
    const whole = search(req.model, req.hw, req.training, req.fixed, { top: 5, keepAll: true });
    expect(merged.plans.map(planKey).sort()).toEqual(whole.all!.map(planKey).sort());
    expect(merged.plans.length).toBeGreaterThan(0);
    for (const p of merged.plans) expect(p.zero).toBe(0);
  });
});
