// QA defects in megatron-core's citations: --grad-reduce-in-bf16 was cited at core_r0.8.0, whose
// arguments.py has no such flag (it forces fp32 under bf16 unconditionally; the flag is there at
// core_r0.12.0 and core_v0.12.0: `git show core_v0.12.0:megatron/training/arguments.py`, line 1999);
// bucketSize's "80 MB" said 2-byte gradients where the same file reduces fp32 under bf16.
import { describe, expect, it } from "vitest";
import { engineBucketBytes } from "../../planner/cost/engine-terms.js";
import { loadEngine } from "../../src/load-engine.js";

describe("megatron-core data-parallel citations", () => {
  const e = loadEngine("megatron-core", undefined);

  it("--grad-reduce-in-bf16 is cited at a tag that has it", () => {
    const s = e.sources["dataParallel.gradReduceBytesPerParam"]!;
    expect(s).toMatch(/--grad-reduce-in-bf16 \(megatron\/training\/arguments\.py @ core_v0\.12\.0;/);
    expect(s).not.toMatch(/arguments\.py @ core_r0\.8\.0/);
  });

  it("bucketSize is 40M elements written as bytes of 16-bit elements, not 2-byte gradients on the wire", () => {
    // max(40M, 1M·dp) elements at dp 8: 40M; × 2 B = 80 MB as written.
    expect(engineBucketBytes(e, 8)).toBe(80e6);
    // dp 64: 1M·64 = 64M elements × 2 B = 128 MB.
    expect(engineBucketBytes(e, 64)).toBe(128e6);
    const s = e.sources["dataParallel.bucketSize"]!;
    expect(s).toMatch(/bytes of 16-bit elements/);
    expect(s).not.toMatch(/2-byte gradients/);
  });
});
