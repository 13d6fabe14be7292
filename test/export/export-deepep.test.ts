// An engine whose dispatcher is deepep in the exports that cannot state it (src/engines/
// engine-dispatch.ts): exit 2 naming moe.dispatcher rather than a file that runs the plain
// all-to-all. (plan --from a torchtitan DeepEP job: torchtitan-deepep.test.ts.)
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp } from "./helpers.js";
import { fileWriter } from "./from-cli.js";
import { runCli } from "../cli/helpers.js";

afterAll(removeTemp);

const file = fileWriter("export-deepep");
const supportsEp = { expertParallel: { value: true, source: "torchtitan/models/moe @ v0.2.2" } };
const deepepEngine = file("json", JSON.stringify({ name: "torchtitan-deepep", extends: "torchtitan", description: "torchtitan with DeepEP", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "job_config.py:474 @ v0.2.2" } } }));

const exportWith = (format: string, eng: string, model: string, gpus: string, more: string[] = []) =>
  runCli(["export", "--format", format, "--model", model, "--gpus", gpus, "--engine", eng, "--out", file("d", "").replace(/\.d$/, ""), ...more]);

describe("an engine whose dispatcher is deepep in the exports that cannot state it", () => {
  it("torchtitan 0.2 (v0.2.0's names) and main (overrides): exit 2 naming moe.dispatcher and why", async () => {
    for (const [release, says] of [["0.2", "job_config.py:451 @ v0.2.1"], ["main", "config_utils.py:360 @ b5bcd76c"]]) {
      const r = await exportWith("torchtitan", deepepEngine, "qwen3-30b-a3b", "32", ["--release", release!, "--ep", "16"]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toContain("the engine torchtitan-deepep dispatches with DeepEP (moe.dispatcher deepep)");
      expect(r.stderr).toContain(says);
    }
  });
  it("DeepSpeed (DeepSpeed-MoE's all-to-all) and torchrun (paraplan's worker) likewise", async () => {
    const ds = file("json", JSON.stringify({ name: "mds-deepep", extends: "megatron-deepspeed", description: "x", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "x" } } }));
    const r = await exportWith("deepspeed", ds, "mixtral-8x7b", "16", ["--ep", "8"]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain("moe.dispatcher deepep), and Megatron-DeepSpeed dispatches through DeepSpeed-MoE's 16-bit all-to-all");
    const worker = file("json", JSON.stringify({ name: "worker-deepep", extends: "paraplan-compile", description: "x", moe: { dispatcher: { value: "deepep", source: "x" } } }));
    const w = await exportWith("torchrun", worker, "qwen3-30b-a3b", "32", ["--ep", "16"]);
    expect(w.code, w.stdout).toBe(2);
    expect(w.stderr).toContain("paraplan's worker dispatches with torch.distributed's 16-bit all_to_all_single");
  });
  it("searched, the export writes the best plan torchtitan runs as priced and says which faster plan it does not write, and why", async () => {
    const r = await exportWith("torchtitan", deepepEngine, "qwen3-30b-a3b", "32");
    expect(r.code, r.stderr).toBe(0);
    const [head, predicted] = r.stdout.split("\n");
    expect(head).not.toMatch(/ep \d/); // (ep 1: no tokens move, no dispatcher asked for)
    // the fastest plan is plan's own best on the same engine, independently searched
    const p = await runCli(["plan", "--model", "qwen3-30b-a3b", "--gpus", "32", "--engine", deepepEngine, "--json", "--top", "1"]);
    const top = (JSON.parse(p.stdout) as { plans: { tokensPerSecond: number; ep: number }[] }).plans[0]!;
    expect(top.ep).toBeGreaterThan(1);
    const note = r.stdout.split("\n").find((l) => l.startsWith("note: the fastest plan of all"))!;
    expect(note).toContain(`ep ${top.ep} `);
    expect(note).toContain(`(${Math.round(top.tokensPerSecond).toLocaleString("en-US")} tokens/s, `);
    const written = Number(/predicted ([\d,]+) tokens\/s/.exec(predicted!)![1]!.replace(/,/g, ""));
    const faster = Number(/, ([\d.]+)% faster\)/.exec(note)![1]);
    expect(faster).toBeCloseTo((top.tokensPerSecond / written - 1) * 100, 0);
    expect(note).toContain("is not written: the engine torchtitan-deepep dispatches with DeepEP (moe.dispatcher deepep)");
  });
});
