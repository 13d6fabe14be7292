// EngineSupports.recomputeWithZeroBubble: paraplan's worker cannot checkpoint activations beside a
// zero-bubble schedule (torch.utils.checkpoint does not follow the split backward of
// torch.distributed.pipelining; planner/layout/capabilities.ts worker_zb_recompute), so `plan
// --engine paraplan` must not rank such a plan first — it did, and execute then refused it.
import { describe, expect, it } from "vitest";
import { search } from "../../planner/search.js";
import { checkFixed } from "../../planner/constraints.js";
import { type Engine, parseEngineFile, resolveExtends } from "../../planner/index.js";
import type { Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { builtinEngineRaw } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const ZB = new Set(["zb1p", "zbv", "dualpipev"]);
const training = (e: Engine): Training => ({ gpus: 8, globalBatch: 32, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: e.dataParallel.overlapGradReduce, engine: e });
const plans = (e: Engine) => search(preset("gpt3-1.3b"), hardware("dgx-h100"), training(e), { pp: 2 }, { top: 1, keepAll: true }).all ?? [];

describe("recompute beside a zero-bubble schedule", () => {
  it("paraplan searches zero-bubble schedules without recompute only; 1F1B keeps every recompute", () => {
    const all = plans(loadEngine("paraplan", undefined));
    const zb = all.filter((p) => ZB.has(p.schedule));
    expect(zb.length).toBeGreaterThan(0);
    expect(new Set(zb.map((p) => p.recompute))).toEqual(new Set(["none"]));
    expect(new Set(all.filter((p) => p.schedule === "1f1b").map((p) => p.recompute))).toEqual(new Set(["none", "selective", "full"]));
  });

  it("torchtitan, whose profile does not say otherwise, keeps recompute beside them; torchtitan-compile runs none of them (torch raises for ZB with a compiled model)", () => {
    const zb = plans(loadEngine("torchtitan", undefined)).filter((p) => ZB.has(p.schedule));
    expect(new Set(zb.map((p) => p.recompute))).toEqual(new Set(["none", "selective", "full"]));
    const compiled = plans(loadEngine("torchtitan-compile", undefined));
    expect(compiled.filter((p) => p.pp > 1).length).toBeGreaterThan(0);
    expect(compiled.filter((p) => ZB.has(p.schedule))).toEqual([]);
  });

  it("a fixed pair is refused naming --recompute; a file extending paraplan may state it runs them", () => {
    const e = loadEngine("paraplan", undefined);
    const bad = checkFixed(preset("gpt3-1.3b"), training(e), { pp: 2, vpp: 2, schedule: "zbv", recompute: "full" });
    expect(bad?.code).toBe("engine_unsupported");
    expect(bad?.flag).toBe("--recompute");
    expect(bad?.message).toContain("runs the zbv schedule without activation recompute only, not with full");
    expect(checkFixed(preset("gpt3-1.3b"), training(e), { pp: 2, vpp: 2, schedule: "zbv", recompute: "none" })).toBeNull();
    const raw = { name: "mine", extends: "paraplan", supports: { recomputeWithZeroBubble: { value: true, source: "test: a worker whose checkpointing follows the split" } } };
    const merged = resolveExtends(raw, builtinEngineRaw, "mine.json");
    if (!merged.ok) throw new Error(merged.message);
    const parsed = parseEngineFile(merged.value, "mine.json");
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.value.supports.recomputeWithZeroBubble).toBe(true);
    expect(checkFixed(preset("gpt3-1.3b"), training(parsed.value), { pp: 2, vpp: 2, schedule: "zbv", recompute: "full" })).toBeNull();
  });
});
