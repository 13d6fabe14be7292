// Rank groups of the layout (Megatron-Core's tp-cp-dp-pp order and MoE folding) and where each
// group lies on the nodes, against an independent brute force over each rank's coordinates.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Degrees,
  GROUP_NAMES,
  type GroupName,
  type Span,
  edpOf,
  groupRanks,
  groupShape,
  place,
  span,
  worldOf,
} from "../../planner/layout/groups.js";
import { withoutFabric } from "./fixtures.js";
import { loadProfile } from "../../src/load.js";
import { divisorsOf } from "./oracle.js";

const H100 = withoutFabric(loadProfile("dgx-h100")); // the plain placement: the profile's own link objects
const deg = (tp: number, cp: number, dp: number, pp: number, ep = 1, etp = 1): Degrees => ({ tp, cp, dp, pp, ep, etp });
const sorted = (groups: number[][]) => groups.map((g) => g.join(",")).sort();

/** Brute force: the coordinates of a rank in the dense and the expert folding, and the key that
 *  names its group of each kind (ranks that agree on every other coordinate). */
function coordKey(d: Degrees, g: GroupName, r: number): string {
  const t = r % d.tp;
  const c = Math.floor(r / d.tp) % d.cp;
  const dd = Math.floor(r / (d.tp * d.cp)) % d.dp;
  const p = Math.floor(r / (d.tp * d.cp * d.dp));
  const edp = edpOf(d);
  const et = r % d.etp;
  const e = Math.floor(r / d.etp) % d.ep;
  const ed = Math.floor(r / (d.etp * d.ep)) % edp;
  switch (g) {
    case "tp": return `${c}/${dd}/${p}`;
    case "cp": return `${t}/${dd}/${p}`;
    case "dp": return `${t}/${c}/${p}`;
    case "pp": return `${t}/${c}/${dd}`;
    case "shard": return `${t}/${p}`; // the dp·cp ranks that hold the same dense weights
    case "etp": return `${e}/${ed}/${p}`;
    case "ep": return `${et}/${ed}/${p}`;
    case "edp": return `${et}/${e}/${p}`;
  }
}
function bruteGroups(d: Degrees, g: GroupName): number[][] {
  const by = new Map<string, number[]>();
  for (let r = 0; r < worldOf(d); r++) {
    const k = coordKey(d, g, r);
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  return [...by.values()];
}

describe("groupRanks", () => {
  // tp2·cp2·dp2·pp2: rank = t + 2c + 4d + 8p, 16 ranks.
  const d = deg(2, 2, 2, 2);
  it("places tp2·cp2·dp2·pp2 in Megatron-Core's tp-cp-dp-pp order", () => {
    expect(groupRanks(d, "tp")).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]]);
    expect(groupRanks(d, "cp")).toEqual([[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9, 11], [12, 14], [13, 15]]);
    expect(groupRanks(d, "dp")).toEqual([[0, 4], [1, 5], [2, 6], [3, 7], [8, 12], [9, 13], [10, 14], [11, 15]]);
    expect(groupRanks(d, "pp")).toEqual([[0, 8], [1, 9], [2, 10], [3, 11], [4, 12], [5, 13], [6, 14], [7, 15]]);
    // dp·cp = 4 ranks stride tp = 2, inside each stage.
    expect(groupRanks(d, "shard")).toEqual([[0, 2, 4, 6], [1, 3, 5, 7], [8, 10, 12, 14], [9, 11, 13, 15]]);
    // Without expert parallel the expert groups are: etp singletons, ep singletons, edp = every
    // tp·cp·dp rank of a stage.
    expect(groupRanks(d, "edp")).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
    expect(groupRanks(d, "ep")).toHaveLength(16);
  });

  it("folds expert groups onto the dense ranks: etp1·ep4 on tp2·dp4 (8 ranks, edp 2)", () => {
    // edp = tp·cp·dp / (etp·ep) = 8 / 4 = 2; rank = e + 4·ed.
    const e = deg(2, 1, 4, 1, 4, 1);
    expect(edpOf(e)).toBe(2);
    expect(groupRanks(e, "ep")).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(groupRanks(e, "edp")).toEqual([[0, 4], [1, 5], [2, 6], [3, 7]]);
    expect(groupRanks(e, "etp")).toEqual([[0], [1], [2], [3], [4], [5], [6], [7]]);
    // The dense groups of the same ranks are unchanged by the folding.
    expect(groupRanks(e, "tp")).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
    expect(groupRanks(e, "dp")).toEqual([[0, 2, 4, 6], [1, 3, 5, 7]]);
  });

  it("folds etp2·ep2 on tp2·dp2·pp2 (8 ranks, edp 1 per stage)", () => {
    // rank = et + 2·e + 4·p.
    const e = deg(2, 1, 2, 2, 2, 2);
    expect(edpOf(e)).toBe(1);
    expect(groupRanks(e, "etp")).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
    expect(groupRanks(e, "ep")).toEqual([[0, 2], [1, 3], [4, 6], [5, 7]]);
    expect(groupRanks(e, "edp")).toEqual([[0], [1], [2], [3], [4], [5], [6], [7]]);
  });

  const degreesArb = fc
    .record({ tp: fc.integer({ min: 1, max: 4 }), cp: fc.integer({ min: 1, max: 3 }), dp: fc.integer({ min: 1, max: 4 }), pp: fc.integer({ min: 1, max: 3 }), a: fc.nat(), b: fc.nat() })
    .map(({ tp, cp, dp, pp, a, b }) => {
      const n = tp * cp * dp;
      const etps = divisorsOf(n);
      const etp = etps[a % etps.length]!;
      const eps = divisorsOf(n / etp);
      return deg(tp, cp, dp, pp, eps[b % eps.length]!, etp);
    });

  it("property: every group kind partitions the world and matches the coordinates' brute force", () => {
    fc.assert(
      fc.property(degreesArb, (d) => {
        const world = worldOf(d);
        for (const g of GROUP_NAMES) {
          const groups = groupRanks(d, g);
          const { size } = groupShape(d, g);
          // every rank exactly once, groups of `size` ascending ranks
          const flat = groups.flat().sort((x, y) => x - y);
          expect(flat.every((r, i) => r === i) && flat.length === world, `${g}: a partition of ${world} ranks`).toBe(true);
          expect(groups.every((grp) => grp.length === size && grp.every((r, i) => i === 0 || r > grp[i - 1]!)), `${g}: shape`).toBe(true);
          expect(sorted(groups)).toEqual(sorted(bruteGroups(d, g)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Brute force over the ranks: in how many groups do the first and last node differ. */
function bruteSpan(d: Degrees, g: GroupName, perNode: number): Span {
  const groups = groupRanks(d, g);
  if (groups[0]!.length <= 1) return "none";
  const crossing = groups.filter((grp) => new Set(grp.map((r) => Math.floor(r / perNode))).size > 1).length;
  if (crossing === 0) return "node";
  return crossing === groups.length ? "network" : "mixed";
}

describe("span", () => {
  const at = (d: Degrees, g: GroupName, perNode: number) => span(groupShape(d, g), worldOf(d), perNode);

  it("tp 8 on 8-GPU nodes stays in a node; dp with tp 8 crosses the network", () => {
    const d = deg(8, 1, 4, 1); // 32 ranks: tp {0..7}, dp {0,8,16,24}
    expect(at(d, "tp", 8)).toBe("node");
    expect(at(d, "dp", 8)).toBe("network");
    expect(at(d, "pp", 8)).toBe("none");
  });

  it("tp 3·dp 3 on 8-GPU nodes: tp and dp groups are mixed", () => {
    // 9 ranks, node 0 = 0..7, node 1 = 8: tp {0,1,2},{3,4,5} inside, {6,7,8} across;
    // dp {0,3,6},{1,4,7} inside, {2,5,8} across.
    const d = deg(3, 1, 3, 1);
    expect(at(d, "tp", 8)).toBe("mixed");
    expect(at(d, "dp", 8)).toBe("mixed");
  });

  it("tp1·dp3·pp4 on 4-GPU nodes (12 ranks): dp is mixed, pp crosses", () => {
    // dp {0,1,2} in node 0, {3,4,5} nodes 0–1, {6,7,8} nodes 1–2, {9,10,11} in node 2.
    const d = deg(1, 1, 3, 4);
    expect(at(d, "dp", 4)).toBe("mixed");
    // pp {0,3,6,9}, … each spans 3 nodes.
    expect(at(d, "pp", 4)).toBe("network");
  });

  it("a group of one is 'none', and place() maps spans to the profile's links", () => {
    const p = place(H100, deg(8, 1, 2, 2)); // 32 ranks on 8-GPU nodes
    expect(p.tp).toMatchObject({ size: 8, stride: 1, where: "node" });
    expect(p.tp.link).toBe(H100.intra);
    expect(p.dp).toMatchObject({ size: 2, stride: 8, where: "network" });
    expect(p.dp.link).toBe(H100.inter);
    expect(p.pp).toMatchObject({ size: 2, stride: 16, where: "network" });
    expect(p.cp).toMatchObject({ size: 1, where: "none", link: null });
    // a mixed ring runs at its slowest link: the network
    const mixed = place(H100, deg(3, 1, 3, 1));
    expect(mixed.dp.where).toBe("mixed");
    expect(mixed.dp.link).toBe(H100.inter);
  });

  it("property: span equals a brute force over groupRanks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(),
        (tp, cp, dp, pp, perNode, pick) => {
          const n = tp * cp * dp;
          const ep = divisorsOf(n)[pick % divisorsOf(n).length]!;
          const d = deg(tp, cp, dp, pp, ep, 1);
          for (const g of GROUP_NAMES) expect(at(d, g, perNode), `${g} on ${perNode}/node`).toBe(bruteSpan(d, g, perNode));
        },
      ),
      { numRuns: 400 },
    );
  });
});

// A hand-made rule context: 16 GPUs on 8-GPU nodes, 12 layers, 12 heads and 4 kv heads.
