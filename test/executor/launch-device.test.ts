// The device a launch is for (src/app/device.ts through prepareFromArgs): a launch for other
// machines (--print-launch, several nodes) takes it from --device or the plan's profile, never
// from the GPUs this node happens to have; a mismatch with this node is said in one line.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { GpuInfo } from "../../executor/devices.js";
import { prepareFromArgs } from "../../src/app/prepare.js";
import { parseExecuteArgs } from "../../src/execute-args.js";
import { tempDir } from "../tmp-dirs.js";

const H100: GpuInfo = { name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20 };
const A100: GpuInfo = { name: "NVIDIA A100-SXM4-80GB", memory: 81920 * 2 ** 20 };

async function launch(argv: string[], here: GpuInfo[]) {
  const runDir = join(tempDir("paraplan-launch-"), "run");
  const said: string[] = [];
  const p = await prepareFromArgs(parseExecuteArgs([...argv, "--run-dir", runDir]), { detect: () => here, say: (l) => said.push(l) });
  const planJson = JSON.parse(readFileSync(join(runDir, "plan.json"), "utf8"));
  const spec = JSON.parse(readFileSync(join(runDir, "launch.json"), "utf8"));
  return { p, said, planJson, spec };
}

const TWO_H100_NODES = ["--model", "tiny", "--global-batch", "256", "--profile", "dgx-h100", "--gpus", "16", "--nnodes", "2", "--rdzv-endpoint", "10.0.0.1:29400", "--print-launch"];

describe("the device of a launch", () => {
  it("an H100 plan printed on a head node without GPUs is a CUDA launch, and the node's lack is said", async () => {
    const { p, said, planJson, spec } = await launch(TWO_H100_NODES, []);
    expect(spec.device).toBe("cuda");
    expect(planJson.device).toBe("cuda");
    expect(p.node.device).toBe("cuda");
    expect(p.node.perNode).toBe(8);
    expect(planJson.profile).toBe("dgx-h100");
    expect(said).toEqual([expect.stringMatching(/^the launch is for CUDA GPUs \(profile dgx-h100\); this node has none \(nvidia-smi lists none\)/)]);
  });

  it("the cpu profile is a CPU launch even where GPUs are present, and that is said", async () => {
    const { spec, said } = await launch(["--model", "tiny", "--profile", "cpu", "--gpus", "2", "--print-launch"], [H100, H100]);
    expect(spec.device).toBe("cpu");
    expect(said).toEqual([expect.stringMatching(/^the launch is for CPU ranks \(profile cpu\); this node has 2 × NVIDIA H100 80GB HBM3/)]);
  });

  it("--device decides over the profile; GPUs of another kind than the profile's are said", async () => {
    const flagged = await launch(["--model", "tiny", "--profile", "cpu", "--gpus", "2", "--device", "cuda", "--print-launch"], []);
    expect(flagged.spec.device).toBe("cuda");
    const other = await launch(["--model", "tiny", "--profile", "dgx-h100", "--gpus", "2", "--print-launch"], [A100, A100]);
    expect(other.spec.device).toBe("cuda");
    expect(other.said).toEqual([expect.stringMatching(/^profile dgx-h100 is not the one of the GPUs here \(NVIDIA A100-SXM4-80GB: dgx-a100-80g\)/)]);
  });

  it("a launch for this node only, with nothing said, as before: GPUs found → CUDA, none → CPU ranks", async () => {
    const none = await launch(["--model", "tiny", "--gpus", "2", "--print-launch"], []);
    expect(none.spec.device).toBe("cpu");
    expect(none.said).toEqual([]);
    const found = await launch(["--model", "tiny", "--print-launch"], [H100, H100]);
    expect(found.spec.device).toBe("cuda");
    expect(found.said).toEqual([]);
  });

  it("CPU ranks chosen by default for several nodes suggest --device cuda (and --print-launch)", async () => {
    const args = ["--model", "tiny", "--nnodes", "4", "--rdzv-endpoint", "10.0.0.1:29400", "--print-launch"];
    const { spec, said } = await launch(args, []);
    expect(spec.device).toBe("cpu");
    expect(said).toEqual([expect.stringMatching(/^no CUDA GPU found here, so the 4 nodes run CPU ranks .*--device cuda --profile NAME.*--print-launch/)]);
    const asked = await launch([...args, "--device", "cpu"], []);
    expect(asked.said).toEqual([]);
  });
});
