// --print-launch for a profile's nodes: the ranks per node are at most the profile's
// node.gpusPerNode (dgx-h100: 8), else exit 2 with the --nnodes that splits them; and a refusal
// is one line on stderr, not the device notice ("this node has none") followed by the error.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../tmp-dirs.js";
import { CLI, build } from "./e2e-helpers.js";

beforeAll(() => build(), 120_000);

const noSmi = { PATH: dirname(process.execPath) }; // no nvidia-smi: the "this node has none" notice
function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, "execute", ...args], { cwd, env: noSmi, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, lines: r.stderr.trim().split("\n") };
}
const H100 = ["--model", "llama3-8b", "--profile", "dgx-h100", "--print-launch", "--rdzv-endpoint", "h:29500"];

describe("execute --print-launch on a profile's nodes", () => {
  it("more ranks per node than the profile's node.gpusPerNode is exit 2 naming the --nnodes that fits", () => {
    const cwd = tempDir();
    // 16 on one node: ceil(16 / 8) = 2 nodes of 8.
    const one = cli([...H100, "--gpus", "16", "--run-dir", join(cwd, "a")], cwd);
    expect([one.code, one.lines]).toEqual([2, ["paraplan: --gpus 16: all on one node is more than the 8 GPUs of a dgx-h100 node (node.gpusPerNode); pass --nnodes 2 --rdzv-endpoint HOST:PORT"]]);
    // 48 on 2 nodes is 24 each; ceil(48 / 8) = 6 nodes of 8.
    const three = cli([...H100, "--gpus", "48", "--nnodes", "2", "--run-dir", join(cwd, "b")], cwd);
    expect([three.code, three.lines]).toEqual([2, ["paraplan: --gpus 48: 24 on each of --nnodes 2 is more than the 8 GPUs of a dgx-h100 node (node.gpusPerNode); pass --nnodes 6"]]);
    // 16 on 2 nodes is 8 each, the node: two torchrun lines of --nproc-per-node 8.
    const two = cli([...H100, "--gpus", "16", "--nnodes", "2", "--run-dir", join(cwd, "c")], cwd);
    expect(two.code, two.lines.join("\n")).toBe(0);
    const lines = two.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/--nnodes 2 --nproc-per-node 8 /);
  });

  it("a refusal is the error line alone; the device notice comes only with a launch", () => {
    const cwd = tempDir();
    // llama3-70b on 8 H100s does not fit (exit 1); an engine execute does not run (exit 2).
    const big = cli(["--model", "llama3-70b", "--profile", "dgx-h100", "--print-launch", "--gpus", "8", "--run-dir", join(cwd, "a")], cwd);
    expect(big.code).toBe(1);
    expect(big.lines).toEqual([expect.stringMatching(/^paraplan: no plan fits in memory/)]);
    const engine = cli([...H100, "--gpus", "8", "--engine", "megatron-core", "--run-dir", join(cwd, "b")], cwd);
    expect(engine.code).toBe(2);
    expect(engine.lines).toEqual([expect.stringMatching(/^paraplan: --engine megatron-core: execute runs paraplan's worker/)]);
    const ok = cli([...H100, "--gpus", "8", "--run-dir", join(cwd, "c")], cwd);
    expect(ok.code).toBe(0);
    expect(ok.lines[0]).toMatch(/^paraplan: the launch is for CUDA GPUs \(profile dgx-h100\); this node has none/);
  });
});
