// Stage imbalance is not the pipeline bubble (issue 17): with a heavy last stage (the output layer
// and its large vocabulary) the other stages wait for it; that wait is named imbalance, and the
// bubble stays the schedule's (p−1)/(v·m) of the critical stage's busy time.
import { describe, expect, it } from "vitest";
import { uniformCosts } from "../../planner/sim/costs.js";
import { simulateCosts } from "../../planner/sim/simulate.js";
import { runCli } from "../cli/helpers.js";
import { tempFile, removeTempFiles } from "../cli/helpers.js";
import { afterAll } from "vitest";

afterAll(removeTempFiles);

describe("simulated idle time: the schedule's bubble and stage imbalance", () => {
  it("uniform stages have no imbalance", async () => {
    const tl = simulateCosts(uniformCosts({ schedule: "1f1b", pp: 4, microBatches: 8, forward: 1, backward: 2 }));
    expect(tl.summary.imbalance).toBeCloseTo(0, 9);
    expect(tl.bubbleFraction).toBeCloseTo(3 / 8, 12);
  });

  it.each([
    ["1f1b", 1],
    ["gpipe", 1],
    ["interleaved", 2],
  ] as const)("a head 5× a layer on the last stage (%s): bubble (p−1)/(v·m) of busy, the rest imbalance", (schedule, vpp) => {
    const c = uniformCosts({ schedule, pp: 2, vpp, microBatches: 4, forward: 1, backward: 2 });
    c.head = { ...c.layer, forward: { compute: 5, tp: 0 }, backward: { compute: 10, tp: 0 } };
    const tl = simulateCosts(c);
    const s = tl.stages[tl.criticalStage]!;
    const busy = s.forward + s.backward + s.recompute + s.tpComm + s.ppComm;
    const idle = s.bubble;
    const share = 1 / (vpp * 4);
    expect(tl.summary.bubble).toBeCloseTo(Math.min(idle, share * busy), 9);
    expect(tl.summary.bubble + tl.summary.imbalance).toBeCloseTo(idle, 9);
    expect(tl.summary.imbalance).toBeGreaterThan(tl.summary.bubble);
    expect(tl.bubbleFraction).toBeLessThanOrEqual(share + 1e-12);
  });
});

describe("plan --timeline with a large vocabulary on pp 2", () => {
  // 4 layers of hidden 256 and a 256,000-token vocabulary: the output layer is several times the
  // last stage's layers.
  const model = () =>
    tempFile("bigvocab.json", JSON.stringify({ name: "bigvocab", layers: 4, hidden: 256, heads: 4, vocab: 256000, seqLen: 512, mlp: "gelu", positional: "learned", tiedEmbeddings: false, globalBatch: 16 }));
  const argv = () => ["plan", "--model", model(), "--gpus", "2", "--pp", "2", "--tp", "1", "--vpp", "1", "--schedule", "1f1b", "--micro-batch", "4", "--top", "1"];

  it("--json: the simulated bubble is (p−1)/m of the critical stage's busy time at most, the rest imbalance", async () => {
    const j = JSON.parse((await runCli([...argv(), "--json"])).stdout);
    const s = j.plans[0].simulated;
    expect(s.imbalance).toBeGreaterThan(3 * s.bubble);
    // m = 16 / 4 = 4 micro-batches: the bubble is at most a quarter of the step's work
    expect(s.bubble).toBeLessThanOrEqual((1 / 4) * s.step);
  });

  it("the text names the imbalance beside the bubble, in the simulation line and the chart", async () => {
    const r = await runCli([...argv(), "--timeline"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bubble [\d.]+ (us|ms)[^\n]*stage imbalance [\d.]+ (us|ms)/);
    expect(r.stdout).toMatch(/simulated step [^\n]*imbalance/);
  });
});
