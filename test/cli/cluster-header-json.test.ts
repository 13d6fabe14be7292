// plan's header and --json's cluster state the same cluster. QA: the header's "50.0 GB/s network
// per GPU" had no --json field, and GB200 NVL72's "144 nodes × 4, NVLink 900 GB/s" named neither
// in the text nor in --json the 72-GPU NVLink domain the 4-GPU trays form (only with
// --gpus-per-domain), so it read as NVLink inside each tray.
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const base = ["plan", "--model", "llama3-8b", "--simulate-top", "0", "--top", "1"];

describe("plan header and --json cluster", () => {
  // Network per GPU from the NIC rates (bits → bytes, one NIC per GPU): DGX H100 and GB200 400 Gb/s
  // ConnectX-7 (hardware.md; hardware-2026.md) = 50e9 B/s; DGX A100 HDR 200 Gb/s = 25e9 B/s.
  it.each([
    ["dgx-h100", "16", 50e9, "50.0 GB/s"],
    ["dgx-a100-80g", "16", 25e9, "25.0 GB/s"],
    ["gb200-nvl72", "144", 50e9, "50.0 GB/s"],
  ] as const)("%s: --json cluster.networkPerGpu is the header's network per GPU", async (profile, gpus, bytes, shown) => {
    const args = [...base, "--profile", profile, "--gpus", gpus];
    const head = (await runCli(args)).stdout.split("\n")[0]!;
    expect(head).toContain(`and ${shown} network per GPU`);
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.cluster.networkPerGpu).toBe(bytes);
  });

  it("GB200 NVL72: 36 trays of 4 in 72-GPU NVLink domains (DGX SuperPOD GB200 RA), in the text and --json", async () => {
    const args = [...base, "--profile", "gb200-nvl72", "--gpus", "144"];
    const head = (await runCli(args)).stdout.split("\n")[0]!;
    expect(head).toContain("gb200-nvl72: 36 nodes × 4 (72-GPU NVLink domains), NVLink 900 GB/s and 50.0 GB/s network per GPU");
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.cluster).toMatchObject({ gpusPerNode: 4, nvlinkDomain: 72 });
    expect(j.cluster.gpusPerDomain).toBeUndefined();
    // a DGX's NVLink domain is its node: neither says a domain
    const dgx = [...base, "--profile", "dgx-b200", "--gpus", "16"];
    expect((await runCli(dgx)).stdout.split("\n")[0]).not.toContain("NVLink domain");
    expect(JSON.parse((await runCli([...dgx, "--json"])).stdout).cluster.nvlinkDomain).toBeUndefined();
  });
});
