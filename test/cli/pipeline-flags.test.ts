// Messages of the pipeline flags QA found naming the wrong thing: a pp taken from --stage-layers'
// length was named --pp, a pp above the layer count was "does not divide", --vpp under a stack
// with no interleaved schedule was "no valid configuration" (exit 1), and torchtitan's split was
// said to keep the first and last stages lighter.
import { describe, expect, it } from "vitest";
import { isOneLine, runCli } from "./helpers.js";

const GPT = ["plan", "--model", "gpt3-1.3b", "--gpus", "64", "--global-batch", "512", "--simulate-top", "0"];

describe("pipeline flags name what the user gave", () => {
  it("--stage-layers 8,8,8 on 64 GPUs: its 3 stages make pp 3, named by --stage-layers", async () => {
    const r = await runCli([...GPT, "--stage-layers", "8,8,8"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr.trim()).toBe("paraplan: --stage-layers: 3 stages make pp 3: 3 does not divide the 64 GPUs; pick a divisor of 64");
    // with --pp given, --pp is what is named
    const pp = await runCli([...GPT, "--pp", "3", "--stage-layers", "8,8,8"]);
    expect(pp.stderr).toMatch(/^paraplan: --pp: 3 does not divide the 64 GPUs/);
  });
  it("--stage-layers with --vpp: the pp is its length over vpp, and a length vpp does not divide is named", async () => {
    // 9 counts, vpp 2: no pp (it was "9 stages make pp 9: 9 does not divide the 64 GPUs")
    const odd = await runCli([...GPT, "--vpp", "2", "--stage-layers", "2,3,3,3,2,3,5,3,1"]);
    expect([odd.code, odd.stderr.trim()]).toEqual([2, "paraplan: --stage-layers: 9 counts with --vpp 2: the list gives the pp·vpp virtual stages, so its length must be a multiple of 2"]);
    // 9 counts, vpp 3: pp 3, which does not divide 64, said with the vpp that made it
    const three = await runCli([...GPT, "--vpp", "3", "--stage-layers", "2,3,3,3,2,3,5,3,1"]);
    expect([three.code, three.stderr.trim()]).toEqual([2, "paraplan: --stage-layers: 9 virtual stages over --vpp 3 make pp 3: 3 does not divide the 64 GPUs; pick a divisor of 64"]);
  });
  it("--schedule interleaved with --stage-layers and no --vpp: the --vpp values the list's length allows are named", async () => {
    // 8 counts of llama3-8b's 32 layers on 64 GPUs: vpp 2 → pp 4, vpp 4 → pp 2 (vpp 8 → pp 1 is no pipeline)
    const list = ["plan", "--model", "llama3-8b", "--simulate-top", "0", "--schedule", "interleaved", "--stage-layers", "4,4,4,4,4,4,4,4"];
    const r = await runCli([...list, "--gpus", "64"]);
    expect([r.code, r.stderr.trim()]).toEqual([2, "paraplan: --schedule: interleaved needs vpp > 1; --stage-layers' 8 counts are pp·vpp virtual stages with --vpp 2 (pp 4) or --vpp 4 (pp 2)"]);
    // each suggestion is a plan that runs
    for (const v of ["2", "4"]) expect((await runCli([...list, "--gpus", "64", "--vpp", v, "--json"])).code, `--vpp ${v}`).toBe(0);
    // on 4 GPUs pp 8 is refused first; the list still fits with --vpp 2 (pp 4) or 4 (pp 2)
    const four = await runCli([...list, "--gpus", "4"]);
    expect([four.code, four.stderr.trim()]).toEqual([2, "paraplan: --stage-layers: 8 stages make pp 8: 8 does not divide the 4 GPUs; pick a divisor of 4; --stage-layers' 8 counts are pp·vpp virtual stages with --vpp 2 (pp 4) or --vpp 4 (pp 2)"]);
    // on 3 GPUs no pp the list makes divides them
    const three = await runCli([...list, "--gpus", "3"]);
    expect(three.stderr.trim()).toMatch(/; no --vpp fits --stage-layers' 8 counts: pp = 8 \/ vpp must be above 1 and divide the 3 GPUs$/);
    // the other fixed degrees count: at tp 4 on 8 GPUs only pp 2 (--vpp 4) leaves tp·pp dividing them
    const tp4 = await runCli([...list, "--gpus", "8", "--tp", "4"]);
    expect([tp4.code, tp4.stderr.trim()]).toEqual([2, "paraplan: --tp/--pp/--dp: tp·pp·dp = 32 does not divide the 8 GPUs; --stage-layers' 8 counts are pp·vpp virtual stages with --vpp 4 (pp 2)"]);
  });
  it("--pp 32 on gpt3-1.3b's 24 layers: more stages than layers", async () => {
    const r = await runCli([...GPT, "--pp", "32"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toContain("--pp: 32 stages for 24 layers: every stage needs at least one; pick a pp up to 24");
  });
  it("--vpp 2 under megatron-deepspeed (1F1B only) is exit 2 naming --vpp and the schedules", async () => {
    const r = await runCli([...GPT, "--engine", "megatron-deepspeed", "--vpp", "2"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toMatch(/^paraplan: --vpp: engine megatron-deepspeed runs no schedule with virtual stages \(its schedules: [a-z0-9, ]+\), so not vpp 2/);
  });
  // "vpp > 1 needs the interleaved schedule" named one fix where the engine has several: torchtitan's
  // schedules (profiles/engines/torchtitan.json, which paraplan extends) take vpp > 1 in interleaved
  // and zb1p, and exactly 2 in zbv and dualpipev; megatron-core's only in interleaved.
  it("a schedule of one stage a rank with --vpp names the engine's schedules that take it", async () => {
    const LLAMA = ["plan", "--model", "llama3-8b", "--gpus", "16", "--pp", "4", "--simulate-top", "0"];
    const cases: [string[], string][] = [
      [["--engine", "paraplan", "--schedule", "1f1b", "--vpp", "2"], "paraplan: --schedule: 1f1b runs one stage per rank; with vpp 2 engine paraplan runs interleaved, zb1p, zbv or dualpipev"],
      [["--engine", "paraplan", "--schedule", "gpipe", "--vpp", "4"], "paraplan: --schedule: gpipe runs one stage per rank; with vpp 4 engine paraplan runs interleaved or zb1p"],
      [["--engine", "megatron-core", "--schedule", "1f1b", "--vpp", "2"], "paraplan: --schedule: 1f1b runs one stage per rank; with vpp 2 engine megatron-core runs interleaved"],
    ];
    for (const [flags, says] of cases) {
      const r = await runCli([...LLAMA, ...flags]);
      expect([r.code, isOneLine(r.stderr)], flags.join(" ")).toEqual([2, true]);
      expect(r.stderr.trim()).toBe(says);
    }
  });
  it("torchtitan's default split is said as torchtitan makes it: 32 layers on 3 stages 10, 11, 11", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "48", "--pp", "3", "--engine", "torchtitan", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("stage layers 10,11,11 (pp 3 does not divide 32 layers: torchtitan's generate_split_points, ⌊L/p⌋ on the first stage and one more on each next while the remainder lasts");
  });
});
