// A profile file that extends another with fewer GPUs a node (node.gpusPerNode below its base's)
// and no run.nodePower of its own inherited the base's whole-node power, which --power node
// divides by the file's GPUs a node: 2 GPUs of a 10.2 kW DGX H100 drew 5,100 W each. It now takes
// the per-GPU share, as `paraplan profile` writes it for a host of fewer GPUs (src/profile/build.ts)
// and the interactive planner's GPUs/node does (src/plan-request.ts onNodesOf): the same node,
// the same energy. A file with more GPUs a node than its base is still refused unless it states
// the node's power (test/planner/hardware-consistency.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveRunFigures } from "../../planner/run/index.js";
import { loadProfile } from "../../src/load.js";
import { sessionOf } from "../../src/ui/test-utils.js";
import { runCli } from "../cli/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-slice-power-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, body: object) => {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ extends: "dgx-h100", name, ...body }));
  return path;
};

describe("a file extending a profile of larger nodes, and the node's power", () => {
  it("2 GPUs a node of dgx-h100: 10,200 W × 2 / 8 = 2,550 W a node, 1,275 W a GPU (was 5,100 W a GPU)", () => {
    const hw = loadProfile(file("h100x2", { node: { gpusPerNode: { value: 2, source: "test" } } }));
    expect(hw.gpusPerNode).toBe(2);
    expect(hw.run!.nodePower).toBe(2550);
    expect(resolveRunFigures(hw, "node", {}).power!.value).toBe(1275);
    expect(hw.sources["run.nodePower"]).toMatch(/at its share for 2 GPUs a node of its 8 \(per-GPU share of the node's power\)$/);
    // the interactive planner's 4 nodes × 2 of dgx-h100: the same node power
    expect(sessionOf("llama3-8b", 4, 2, 16).request.hw.run!.nodePower).toBe(hw.run!.nodePower);
  });

  it("a file of 2 GPUs a node extending a file of 4 extending dgx-h100: 10,200 W × 2 / 8 = 2,550 W", () => {
    const four = file("h100x4", { node: { gpusPerNode: { value: 4, source: "test" } } });
    expect(loadProfile(four).run!.nodePower).toBe(5100);
    const path = join(dir, "h100x2of4.json");
    writeFileSync(path, JSON.stringify({ extends: four, name: "h100x2of4", node: { gpusPerNode: { value: 2, source: "test" } } }));
    expect(loadProfile(path).run!.nodePower).toBe(2550);
  });

  it("keeps a node power the file gives, and the base's own where the node size is the base's", () => {
    const own = loadProfile(file("h100x2own", { node: { gpusPerNode: { value: 2, source: "test" } }, run: { nodePower: { value: "3 kW", source: "test" } } }));
    expect(own.run!.nodePower).toBe(3000);
    expect(loadProfile(file("h100same", { node: { gpusPerNode: { value: 8, source: "test" } } })).run!.nodePower).toBe(10200);
  });

  it("plan --tokens --power node on that file: energy at 1,275 W a GPU", async () => {
    const path = file("h100x2cli", { node: { gpusPerNode: { value: 2, source: "test" } } });
    const r = await runCli(["plan", "--model", "llama3-8b", "--profile", path, "--gpus", "8", "--global-batch", "16", "--top", "1", "--simulate-top", "0", "--tokens", "1e12", "--power", "node"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/energy [\d,.]+ MWh = GPU-hours × 1,275 W node power per GPU × PUE 1\.09/);
  });
});
