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
});
