import { header } from "../../format/plan-text.js";
import { describe, expect, it } from "vitest";
import { sessionOf } from "../test-utils.js";
import { allGroupLinks, groupLink, groupSpan } from "./links.js";

describe("the link of each parallel group (tp innermost, then dp, then pp)", () => {
  it("keeps a tp group that fills a node on NVLink", () => {
    expect(groupSpan({ tp: 8, pp: 1, dp: 4 }, "tp", 8)).toBe("node");
    expect(groupSpan({ tp: 8, pp: 1, dp: 4 }, "dp", 8)).toBe("network");
  });

  it("keeps dp inside a node when tp·dp fits in it", () => {
    expect(groupSpan({ tp: 2, pp: 4, dp: 4 }, "dp", 8)).toBe("node");
    expect(groupSpan({ tp: 2, pp: 4, dp: 4 }, "pp", 8)).toBe("network");
  });

  it("finds groups that straddle nodes even when the first group fits (tp 3, dp 3, 8 per node)", () => {
    // dp groups {0,3,6} {1,4,7} {2,5,8}: the last crosses into the second node.
    expect(groupSpan({ tp: 3, pp: 1, dp: 3 }, "dp", 8)).toBe("mixed");
  });

  it("says a group of one does not communicate", () => {
    expect(groupSpan({ tp: 1, pp: 1, dp: 8 }, "tp", 8)).toBe("none");
    expect(groupSpan({ tp: 1, pp: 1, dp: 8 }, "pp", 8)).toBe("none");
  });

  it("names the profile's links and bandwidths", () => {
    const hw = sessionOf("gpt3-like", 128, 8).request.hw;
    const [tp, pp, dp] = allGroupLinks(hw, { tp: 8, pp: 16, dp: 8 });
    expect(tp).toMatchObject({ group: "tp", size: 8, where: "node", link: "NVLink", bandwidth: "450 GB/s" });
    expect(pp).toMatchObject({ group: "pp", where: "network", link: "network", bandwidth: "50.0 GB/s" });
    expect(dp).toMatchObject({ group: "dp", where: "network", span: 57 });
    const pcie = sessionOf("llama3-8b", 1, 8, 16, "h100-pcie").request.hw;
    expect(groupLink(pcie, { tp: 4, pp: 1, dp: 2 }, "tp").link).toBe("PCIe");
  });

  it("states the network per GPU, as the plan's header does: a dp ring's k ranks a node over k NICs as k×50.0 GB/s, not 400 GB/s", () => {
    // QA: the header said "50.0 GB/s network per GPU", the dp row "network 400 GB/s" (8 ranks of
    // a node on 8 NICs of 50 GB/s: their sum) for the same fabric.
    const req = sessionOf("gpt3-like", 128, 8).request;
    expect(header(req).split("\n")[0]).toMatch(/ and 50\.0 GB\/s network per GPU$/);
    // tp 1: dp's neighbours 1 apart, 8 on each node; tp 2: 2 apart, 4; tp 8: one a node
    expect(groupLink(req.hw, { tp: 1, pp: 1, dp: 1024 }, "dp")).toMatchObject({ where: "network", link: "network", bandwidth: "8×50.0 GB/s" });
    expect(groupLink(req.hw, { tp: 2, pp: 1, dp: 512 }, "dp").bandwidth).toBe("4×50.0 GB/s");
    expect(groupLink(req.hw, { tp: 8, pp: 1, dp: 128 }, "dp").bandwidth).toBe("50.0 GB/s");
    // the pipeline's p2p crosses a node on one NIC, whatever the stride
    expect(groupLink(req.hw, { tp: 1, pp: 2, dp: 512 }, "pp").bandwidth).toBe("50.0 GB/s");
  });

  it("names the node's link where it caps the ring's NICs", () => {
    // 8 NICs of 100 GB/s = 800 GB/s a node against a 450 GB/s NVLink: the ring runs at 450
    const base = sessionOf("gpt3-like", 128, 8).request.hw;
    const hw = { ...base, inter: { ...base.inter, bandwidth: 100e9 } };
    expect(groupLink(hw, { tp: 1, pp: 1, dp: 1024 }, "dp").bandwidth).toBe("450 GB/s (8 NICs, capped by NVLink)");
  });
});

