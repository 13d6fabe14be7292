// Issue 13's done-when checks through the CLI: ranked plans with ep and their memory and time
// breakdowns for DeepSeek-V3 on 2048 GPUs and Mixtral-8x7B on 64; the MoE flags.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers.js";

describe("plan on MoE presets", () => {
  // (with the input embedding, 129,280 × 7,168 = 0.93B more: 37.6B)
  it("deepseek-v3 --gpus 2048: ranked plans with ep and etp columns, expert memory and the all-to-all in the breakdown", async () => {
    const r = await runCli(["plan", "--model", "deepseek-v3", "--gpus", "2048", "--top", "5", "--simulate-top", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/deepseek-v3 \(671B parameters, 36\.6B active per token, 37\.6B counting the input embedding: 256 experts, top-8 \+ 1 shared\)/);
    expect(r.stdout).toMatch(/^# +tp +pp +vpp +dp +ep +etp +zero/m);
    // ep is ranked with the other dimensions: plans with ep > 1 among the top five (the ep column)
    const eps = r.stdout.split("\n").filter((l) => /^\d+ /.test(l)).map((l) => Number(l.trim().split(/ +/)[5]));
    expect(eps.some((ep) => ep > 1)).toBe(true);
    expect(r.stdout).toMatch(/of which routed experts \(weights, gradients, optimizer; ÷ ep·etp = \d+, states sharded over edp = \d+\)/);
    expect(r.stdout).toContain("expert load imbalance 1.25");
    // with ep fixed, the breakdown shows the all-to-all's time and share
    const fixed = await runCli(["plan", "--model", "deepseek-v3", "--gpus", "2048", "--ep", "8", "--top", "1", "--simulate-top", "0"]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/best plan: .*· ep 8/);
    expect(fixed.stdout).toMatch(/ep all-to-all [\d.]+ (ms|s) \([\d.]+%\)/);
  });
  it("mixtral-8x7b --gpus 64 --json: ep in every plan, epComm in the time breakdown, experts in memory", async () => {
    const r = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--top", "5", "--json", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toMatchObject({ moe: { experts: 8, topK: 2 } });
    expect(Math.abs(j.model.activeParams / 12.6e9 - 1)).toBeLessThan(0.02);
    // Mistral counts the input embedding: "12.9B active" (mistral.ai/news/mixtral-of-experts);
    // 12.6–12.7B + 32,000 × 4,096 = 0.13B
    expect(Math.abs(j.model.activeParamsWithInputEmbedding / 12.9e9 - 1)).toBeLessThan(0.01);
    expect(j.moeImbalance).toBe(1.25);
    for (const p of j.plans) {
      expect(p.ep).toBeGreaterThanOrEqual(1);
      expect(typeof p.time.epComm).toBe("number");
      expect(p.memory.experts).toBeGreaterThan(0);
    }
    expect(j.plans.some((p: { ep: number }) => p.ep > 1)).toBe(true);
  });
  it("--ep --etp fix the expert groups; --moe-imbalance and --optimizer-states change the prediction", async () => {
    const base = ["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--top", "1", "--json", "--simulate-top", "0", "--tp", "8", "--dp", "8", "--pp", "1"];
    const a = JSON.parse((await runCli([...base, "--ep", "4", "--etp", "2"])).stdout).plans[0];
    expect([a.ep, a.etp]).toEqual([4, 2]);
    const b = JSON.parse((await runCli([...base, "--ep", "4", "--etp", "2", "--moe-imbalance", "2"])).stdout).plans[0];
    expect(b.time.step).toBeGreaterThan(a.time.step);
    const c = JSON.parse((await runCli([...base, "--ep", "4", "--etp", "2", "--optimizer-states", "bf16", "--zero", "1"])).stdout).plans[0];
    const d = JSON.parse((await runCli([...base, "--ep", "4", "--etp", "2", "--zero", "1"])).stdout).plans[0];
    expect(c.memory.optimizer / d.memory.optimizer).toBeCloseTo(8 / 12, 9);
  });
  it("bad MoE flags are exit 2 naming the flag", async () => {
    const ep = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--ep", "3"]);
    expect(ep.code).toBe(2);
    expect(ep.stderr).toContain("--ep: 3 does not divide the 8 experts");
    const dense = await runCli(["plan", "--model", "gpt3-like", "--ep", "2"]);
    expect(dense.code).toBe(2);
    expect(dense.stderr).toContain("--ep: ep 2 needs a mixture-of-experts model");
    const rho = await runCli(["plan", "--model", "mixtral-8x7b", "--moe-imbalance", "0.5"]);
    expect(rho.code).toBe(2);
    expect(rho.stderr).toContain("--moe-imbalance");
    // 128 | 256 experts but 128 ∤ 64 GPUs: no fold exists (was exit 1, "no valid configuration")
    const wide = await runCli(["plan", "--model", "deepseek-v3", "--gpus", "64", "--ep", "128"]);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain("--ep: ep 128 does not divide the 64 GPUs");
    // 14336 / 3 is no whole width (was priced at 4778.67 columns per etp rank, exit 0)
    const etp = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "24", "--global-batch", "48", "--seq", "4096", "--tp", "1", "--ep", "8", "--etp", "3"]);
    expect(etp.code).toBe(2);
    expect(etp.stderr).toContain("--etp: etp 3 does not divide the routed experts' FFN width 14336");
    // Megatron-Core raises on MoE beside tp > 1 without sequence parallel (was exit 0, and exported)
    const sp = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--tp", "2", "--ep", "2", "--no-sequence-parallel"]);
    expect(sp.code).toBe(2);
    expect(sp.stderr).toContain("--no-sequence-parallel: tp 2 with a mixture-of-experts model needs sequence parallel");
    for (const r of [wide, etp, sp]) expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
  it("the Megatron-LM export carries the experts and the expert layout (test/export/moe.test.ts has the details)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paraplan-moe-"));
    const r = await runCli(["export", "--format", "megatron", "--model", "tiny-moe", "--gpus", "2", "--ep", "2", "--out", dir]);
    expect(r.code).toBe(0);
    const args = readFileSync(join(dir, "megatron-args.txt"), "utf8");
    expect(args).toMatch(/^--num-experts 4$/m);
    expect(args).toMatch(/^--expert-model-parallel-size 2$/m);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("a mixture of one expert", () => {
  it("QA: the header said \"1 experts, top-1\"", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paraplan-moe1-"));
    try {
      const file = join(dir, "one-expert.json");
      writeFileSync(file, JSON.stringify({ model_type: "mixtral", hidden_size: 1024, intermediate_size: 3584, num_attention_heads: 8, num_hidden_layers: 4, num_key_value_heads: 8, num_local_experts: 1, num_experts_per_tok: 1, vocab_size: 32000, max_position_embeddings: 2048, sliding_window: null }));
      const r = await runCli(["plan", "--model", file, "--gpus", "8", "--top", "1", "--simulate-top", "0"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split("\n")[0]).toMatch(/: 1 expert, top-1\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
