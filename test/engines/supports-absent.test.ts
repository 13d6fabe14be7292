// A supports key a standalone engine file (no `extends`) leaves out takes Megatron-Core's value
// (schema/engine.ts parseSupports), the optional yes/no keys among them: a file with a supports
// section that omits moeNeedsSpWithTp must refuse what a file without any supports section refuses.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseEngineFile } from "../../planner/index.js";
import { MEGATRON_SUPPORTS } from "../../planner/engine.js";
import { checkFixed } from "../../planner/constraints.js";
import type { Training } from "../../planner/types.js";
import { preset } from "../planner/fixtures.js";

const core = JSON.parse(readFileSync(new URL("../../profiles/engines/megatron-core.json", import.meta.url), "utf8")) as Record<string, unknown> & { supports: Record<string, unknown> };
function parsed(file: Record<string, unknown>) {
  const r = parseEngineFile({ ...file, name: "mine" }, "mine.json");
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe("an engine file's supports without an optional key", () => {
  const { moeNeedsSpWithTp: _a, expertsLoopUnderFp16: _b, expertParallelUnderFp16: _c, ...rest } = core.supports;
  const omitted = parsed({ ...core, supports: rest });
  const noSection = parsed((({ supports: _s, ...r }) => r)(core));
  it("takes Megatron-Core's moeNeedsSpWithTp, expertsLoopUnderFp16 and expertParallelUnderFp16, as a file with no supports section", () => {
    expect(MEGATRON_SUPPORTS.moeNeedsSpWithTp).toBe(true);
    expect(omitted.supports.moeNeedsSpWithTp).toBe(true);
    expect(omitted.supports.expertsLoopUnderFp16).toBe(true);
    // (Megatron asserts no fp16 beside ep > 1: arguments.py:955-956 @ core_v0.14.0)
    expect(omitted.supports.expertParallelUnderFp16).toBe(false);
    expect(noSection.supports.expertParallelUnderFp16).toBe(false);
    expect(noSection.supports.moeNeedsSpWithTp).toBe(true);
    // the keys the built-in default leaves unset stay unset (absent: all of it runs)
    expect(omitted.supports.moeWithTensorParallel).toBeUndefined();
    expect(omitted.supports.zeroWithExpertParallel).toBeUndefined();
  });
  it("so Mixtral at tp 2 without sequence parallel is refused under both (rule moe_tp_sp)", () => {
    const t = (e: typeof omitted): Training => ({ gpus: 16, globalBatch: 16, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
    for (const e of [omitted, noSection]) expect(checkFixed(preset("mixtral-8x7b"), t(e), { tp: 2, sequenceParallel: false }, 8)?.code).toBe("moe_tp_sp");
    // a file that states false keeps it
    const stated = parsed({ ...core, supports: { ...rest, moeNeedsSpWithTp: { value: false, source: "a stack that splits duplicates itself" } } });
    expect(checkFixed(preset("mixtral-8x7b"), t(stated), { tp: 2, sequenceParallel: false }, 8)).toBeNull();
  });
});
