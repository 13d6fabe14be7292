// Sequence parallel splits each rank's tokens along the sequence over tp (layout rule sp_seq):
// Megatron-Core's _split_along_first_dim asserts the split is exact, so a tp that does not divide
// s/cp is refused where fixed and rejected by the search, never planned or exported.
import { describe, expect, it } from "vitest";
import { validate } from "../../planner/layout/layout.js";
import type { Dims, RuleContext } from "../../planner/layout/rules.js";
import { runCli } from "../cli/helpers.js";

const CTX: RuleContext = { gpus: 16, globalBatch: 32, seqLen: 2047, layers: 12, heads: 12, kvHeads: 12, ffnHidden: 3072, experts: 0, gpusPerNode: 8 };
const DIMS: Dims = { tp: 2, cp: 1, dp: 8, pp: 1, ep: 1, etp: 1, vpp: 1, microBatch: 1, schedule: "1f1b", sequenceParallel: true, zero: 0, recompute: "none" };
const codes = (c: Partial<RuleContext>, d: Partial<Dims>) => validate({ ...CTX, ...c }, { ...DIMS, ...d }).map((i) => i.code);

describe("layout rule sp_seq", () => {
  it("tp must divide each rank's tokens: 2,047 over tp 2 no, 2,048 yes; without sequence parallel any", () => {
    expect(codes({}, {})).toContain("sp_seq");
    expect(codes({ seqLen: 2048 }, {})).toEqual([]);
    expect(codes({}, { sequenceParallel: false })).not.toContain("sp_seq");
  });
  it("with context parallel a rank holds s/cp tokens: 4,100 over cp 2 is 2,050, which tp 4 does not divide and tp 2 does", () => {
    expect(codes({ seqLen: 4100 }, { cp: 2, tp: 4, dp: 2 })).toContain("sp_seq");
    expect(codes({ seqLen: 4100 }, { cp: 2, tp: 2, dp: 4 })).not.toContain("sp_seq");
  });
});

describe("on the command line", () => {
  it("a fixed --sequence-parallel is exit 2 naming the numbers; the search plans tp > 1 without it", async () => {
    const bad = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--seq", "2047", "--tp", "2", "--sequence-parallel"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("--sequence-parallel: sequence parallel splits each rank's 2,047 tokens over tp 2, which does not divide them");
    const r = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--seq", "2047", "--tp", "2", "--json", "--top", "50", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { plans: { sequenceParallel: boolean }[]; rejected: Record<string, number> };
    expect(out.plans.length).toBeGreaterThan(0);
    expect(out.plans.every((p) => !p.sequenceParallel)).toBe(true);
    expect(out.rejected.sp_seq).toBeGreaterThan(0);
  });
});
