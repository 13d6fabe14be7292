// A profile of one GPU a node (profile's output on a 1-GPU host, or a file extending dgx-h100 with
// node.gpusPerNode 1): every group crosses the network, so the header quotes no NVLink figure
// (QA: it said "NVLink 450 GB/s" no group could use) and --json's cluster.intraNodeLink is null.
import { afterAll, describe, expect, it } from "vitest";
import { removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

describe("the node's link in plan's header", () => {
  it("one GPU a node: no NVLink quoted, said unused in the text, null in --json; every plan's groups cross nodes (tp 1)", async () => {
    const profile = tempFile("one-a-node.json", JSON.stringify({ extends: "dgx-h100", name: "one-a-node", node: { gpusPerNode: 1 } }));
    const args = ["plan", "--model", "llama3-8b", "--profile", profile, "--gpus", "8", "--simulate-top", "0"];
    const text = await runCli(args);
    expect(text.code).toBe(0);
    const head = text.stdout.split("\n")[0]!;
    expect(head).toContain(": 8 nodes × 1, 50.0 GB/s network per GPU (one GPU a node: no intra-node link in use)");
    expect(head).not.toContain("NVLink");
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.cluster).toMatchObject({ gpusPerNode: 1, intraNodeLink: null });
    // independent of the header: no plan found puts a tensor-parallel group inside a node
    expect(j.plans.length).toBeGreaterThan(0);
    for (const p of j.plans) expect(p.tp).toBe(1);
  });
  it("eight GPUs a node, and GB200 NVL72's 4-GPU nodes in a 72-GPU NVLink domain, quote the link in both", async () => {
    for (const [profile, gpus, link, bw] of [["dgx-h100", "8", "NVLink 450 GB/s and", 450e9], ["gb200-nvl72", "72", "NVLink 900 GB/s and", 900e9]] as const) {
      const args = ["plan", "--model", "llama3-8b", "--profile", profile, "--gpus", gpus, "--simulate-top", "0"];
      expect((await runCli(args)).stdout.split("\n")[0]).toContain(link);
      expect(JSON.parse((await runCli([...args, "--json"])).stdout).cluster.intraNodeLink).toEqual({ kind: "nvlink", bandwidth: bw });
    }
  });
});
