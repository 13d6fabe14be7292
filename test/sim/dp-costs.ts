// The simulator tests' data-parallel fixture. Not a test file.
import { type SimCosts, type Transfer, uniformCosts } from "../../planner/sim/costs.js";

/** One stage, one micro-batch, four layers (forward 0.5 s, backward 1 s, 100 bytes of weights
 *  each); a collective costs `latency` plus `seconds` per 100 bytes. */
export function dpCosts(zero: 0 | 1 | 3, seconds: number, latency = 0, over: Partial<SimCosts> = {}): SimCosts {
  const c = uniformCosts({ schedule: "1f1b", pp: 1, microBatches: 1, forward: 0.5, backward: 1, layersPerChunk: 4 });
  return {
    ...c,
    layer: { ...c.layer, bytes: 100 },
    dp: 8,
    zero,
    gatherUpdatedWeights: zero === 1,
    bucketBytes: 100,
    dpCollective: (_kind, bytes): Transfer => ({ latency, work: (seconds * bytes) / 100, post: 0, inter: true }),
    ...over,
  };
}
