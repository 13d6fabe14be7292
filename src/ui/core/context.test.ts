// Context-parallel plans in the interactive planner: the cp column, the cp group's link and the
// exchange line in the detail, and the long-context sequence presets of the setup.
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { detailView, shortPlan } from "./detail.js";
import { tableView } from "./results.js";
import { SEQ_CHOICES, nextSeq } from "./setup-reducer.js";

const s = sessionOf("llama3-8b", 8, 8).request;
const t = { ...s.training, seqLen: 131072, globalBatch: 8 };
const plan = (p: Partial<Plan>) =>
  evaluatePlan(s.model, s.hw, t, { tp: 8, pp: 1, dp: 1, cp: 8, cpComm: "allgather", cpSplit: "zigzag", ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: true, schedule: "1f1b", ...p });

describe("cp plans in the interactive planner", () => {
  it("the table has a cp column after tp with the exchange (ag, ring, a2a)", () => {
    const v = tableView([plan({}), plan({ cp: 4, dp: 2, cpComm: "ring" })], 0, 10);
    expect(v.header).toMatch(/^# +tp +cp +pp +dp +Z /);
    expect(v.rows[0]!.text).toMatch(/^1 +8 +8 ag +1 +1 /);
    expect(v.rows[1]!.text).toMatch(/^2 +8 +4 ring +1 +2 /);
    expect(tableView([plan({ cp: 1, dp: 8 })], 0, 10).header).not.toMatch(/ cp /);
  });
  it("the detail names the exchange, the K/V it moves, its share of the step, and the cp group's link", () => {
    const p = plan({});
    const v = detailView(p, s.hw, t, null, 160, s.model);
    // tp 8 leaves 1 K/V head of 128 a rank: 2·131,072·128·2 bytes = 64 MiB gathered per layer forward
    // (twice with the recompute's forward re-run: the line counts one forward).
    expect(v.context).toMatch(/^context parallel: cp 8 \(allgather, zig-zag\) · s\/cp = 16,384 tokens a rank · 0\.06 GiB per layer forward · exposed [\d.]+ m?s = [\d.]+% of the step$/);
    expect(v.timeLegend.flat().some((i) => i.key === "cpComm" && i.text.startsWith("↻ cp exchange "))).toBe(true);
    expect(v.comms.map((c) => c.link.group)).toEqual(["tp", "cp", "pp", "dp"]);
    // tp 8 fills a node: the cp group of 8 crosses nodes
    expect(v.comms.find((c) => c.link.group === "cp")!.text).toMatch(/^cp +8 ranks +network/);
    // gradients reduce over dp·cp = 8 ranks (dp 1 here)
    expect(v.comms.find((c) => c.link.group === "dp")!.text).toMatch(/^dp·cp +8 replicas +network/);
    expect(shortPlan(p)).toMatch(/^tp 8 · cp 8 allgather · pp 1/);
    expect(detailView(plan({ cp: 1, dp: 8 }), s.hw, t, null, 160, s.model).context).toBeNull();
  });
  it("← → on the sequence step through presets up to 1,048,576", () => {
    expect(SEQ_CHOICES.at(-1)).toBe(1048576);
    expect(nextSeq(8192, 1)).toBe(16384);
    expect(nextSeq(100000, 1)).toBe(131072);
    expect(nextSeq(131072, -1)).toBe(65536);
    expect(nextSeq(1048576, 1)).toBe(2097152);
  });
});
