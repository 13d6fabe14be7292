// The setup's GPUs/node: nodes of that size, as a profile of that node size would describe them.
// (QA: 3 nodes × 4 on dgx-h100, the split the setup itself proposes for 12 GPUs, was refused as
// "--gpus: 12 is not a whole number of dgx-h100's 8-GPU nodes"; 4 nodes × 2 kept the profile's
// 8-GPU NVLink domain, so tp 8 spanned four nodes over NVLink and the data-parallel reduction
// was priced on NVLink: 72,198 tokens/s, one full node's figure, where the network gives 67,744.)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { search } from "../../../planner/index.js";
import { parsePlanArgs } from "../../plan-args.js";
import { buildRequest } from "../../plan-request.js";
import { allOptions, best, sessionOf } from "../test-utils.js";
import { searchAll } from "./search-job.js";
import { clusterFor, sessionFor } from "./setup.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-session-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `paraplan plan` on a profile whose nodes hold `perNode` GPUs (dgx-h100 otherwise). */
function cliOnNodesOf(perNode: number, args: string[]) {
  const file = join(dir, `h100x${perNode}.json`);
  writeFileSync(file, JSON.stringify({ extends: "dgx-h100", name: `dgx-h100-${perNode}`, node: { gpusPerNode: { value: perNode, source: "test" } } }));
  const req = buildRequest(parsePlanArgs(["--profile", file, ...args]));
  return search(req.model, req.hw, req.training, {}, { top: 1 });
}

describe("GPUs per node other than the profile's", () => {
  it("plans 3 nodes × 4 (the setup's own split of 12 GPUs), as a 4-GPU-node profile does", () => {
    expect(clusterFor(12, 8)).toEqual({ nodes: 3, perNode: 4 });
    const s = sessionOf("llama3-8b", 3, 4, 48);
    expect([s.request.training.gpus, s.request.hw.gpusPerNode, s.request.hw.fabric?.nvlinkDomain]).toEqual([12, 4, 4]);
    const top = best(searchAll(s.request).plans);
    const cli = cliOnNodesOf(4, ["--model", "llama3-8b", "--gpus", "12", "--global-batch", "48"]).plans[0]!;
    expect([top.tp, top.pp, top.dp, top.zero, top.microBatch, top.tokensPerSecond, top.memory.total]).toEqual([cli.tp, cli.pp, cli.dp, cli.zero, cli.microBatch, cli.tokensPerSecond, cli.memory.total]);
  });

  it("keeps tensor parallel and NVLink inside 2-GPU nodes (4 × 2), priced as a 2-GPU-node profile", () => {
    const s = sessionOf("llama3-8b", 4, 2, 16);
    expect(s.request.hw.fabric?.nvlinkDomain).toBe(2);
    const plans = searchAll(s.request).plans;
    expect(Math.max(...plans.map((p) => p.tp))).toBe(2);
    const top = best(plans);
    const cli = cliOnNodesOf(2, ["--model", "llama3-8b", "--gpus", "8", "--global-batch", "16"]).plans[0]!;
    expect(top.tokensPerSecond).toBe(cli.tokensPerSecond);
    // slower than one full node, whose reduction stays on NVLink
    expect(top.tokensPerSecond).toBeLessThan(best(searchAll(sessionOf("llama3-8b", 1, 8, 16).request).plans).tokensPerSecond);
  });

  it("a domain of several nodes keeps its node count (GB200 NVL72: 18 nodes, 2 GPUs used of 4 each)", () => {
    const whole = sessionOf("llama3-8b", 18, 4, 72, "gb200-nvl72").request.hw;
    const half = sessionOf("llama3-8b", 36, 2, 72, "gb200-nvl72").request.hw;
    expect([whole.gpusPerNode, whole.fabric?.nvlinkDomain, whole.fabric?.leaf?.gpus]).toEqual([4, 72, 576]);
    expect([half.gpusPerNode, half.fabric?.nvlinkDomain, half.fabric?.leaf?.gpus]).toEqual([2, 36, 288]);
  });
});

describe("more GPUs a node than the profile's node holds", () => {
  // QA: GPUs/node 16 on dgx-h100 priced tp 16 inside one "node" over NVLink 450 GB/s, a 16-GPU
  // NVLink domain no DGX H100 has (gpt3-1.3b, 2 × 16). `paraplan` refuses such a node too: an
  // extending profile with node.gpusPerNode 16 (16 × 700 W above its 10.2 kW), and execute
  // --print-launch with more ranks a node than the profile's ("not priced as one node that does
  // not exist", src/app/choose.ts checkProfileNode).
  it("is refused naming the GPUs/node field and the profile's node size; the profile's own size and less plan", () => {
    const o = allOptions();
    const choice = { model: o.models.find((m) => m.arg === "gpt3-1.3b")!, profile: o.profiles.find((p) => p.arg === "dgx-h100")!, engine: o.engines[0]!, batch: 64, seq: 2048 };
    expect(() => sessionFor({ ...choice, nodes: 2, perNode: 16 })).toThrow(
      "GPUs/node: 16 is more than the 8 GPUs of a dgx-h100 node (node.gpusPerNode): plan 4 nodes × 8, or give a profile of larger nodes",
    );
    // 3 GPUs a node of 7 nodes: 21 GPUs, the fewest nodes of at most 8 that split them evenly are 3 × 7
    expect(() => sessionFor({ ...choice, nodes: 1, perNode: 21 })).toThrow("plan 3 nodes × 7,");
    expect(sessionFor({ ...choice, nodes: 2, perNode: 8 }).request.hw.gpusPerNode).toBe(8);
    expect(sessionFor({ ...choice, nodes: 8, perNode: 2 }).request.hw.gpusPerNode).toBe(2);
  });
});

describe("the GPU count", () => {
  it("is refused past the plan command's 1,048,576 (each field within its own bound, the product not)", () => {
    // (QA: 9,999,999 nodes × 8 planned 79,999,992 GPUs, where `plan --gpus` stops at 2^20)
    const o = allOptions();
    const choice = { model: o.models.find((m) => m.arg === "llama3-8b")!, profile: o.profiles.find((p) => p.arg === "dgx-h100")!, engine: o.engines[0]!, batch: 2048, seq: 8192 };
    expect(() => sessionFor({ ...choice, nodes: 2048, perNode: 1024 })).toThrow("GPUs: 2,097,152 = 2,048 nodes × 1,024 is too many: at most 1,048,576");
    expect(sessionFor({ ...choice, nodes: 131072, perNode: 8 }).request.training.gpus).toBe(1048576);
  });
});
