// export --plan of a plan that does not fit in memory: exit 1 and nothing written, as execute
// refuses the same plan (src/app/choose.ts runnable), not a config written with a stderr note.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";

afterAll(removeTemp);

describe("export --plan of a plan over the GPU's memory", () => {
  // llama3-8b (8.03e9 parameters) at ZeRO-0 on dp 8 keeps every parameter's bf16 weight (2 B),
  // fp32 gradient (4 B) and fp32 master weight and Adam moments (12 B) on each GPU:
  // 18 B × 8.03e9 = 144.5e9 B = 134.6 GiB before any activation, over an H100's 80 GB.
  const plan = { tp: 1, pp: 1, dp: 8, zero: 0, microBatch: 1 };

  it("is exit 1, one line naming the file and the memory, and writes nothing", async () => {
    const dir = tempDir();
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(plan));
    const out = join(dir, "out");
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--plan", file, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(new RegExp(`^paraplan: --plan ${file}: tp 1 · pp 1 · dp 8 · ZeRO-0 .* needs (\\d+) GiB per GPU, .* it would run out of memory; nothing written`));
    expect(Number(/needs (\d+) GiB/.exec(r.errLines[0]!)![1])).toBeGreaterThan(134);
    expect(existsSync(out)).toBe(false);
    // Printed to stdout instead: nothing printed either.
    const printed = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--plan", file]);
    expect([printed.code, printed.stdout]).toEqual([1, ""]);
  });

  it("the same plan with ZeRO-1 and full recompute fits and is written (exit 0)", async () => {
    // ZeRO-1 shards the 12 B of optimizer states over dp 8: (2 + 4 + 12/8) B × 8.03e9 = 56.1 GiB.
    const dir = tempDir();
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify({ ...plan, zero: 1, recompute: "full" }));
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--plan", file, "--out", join(dir, "out")]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, "out"))).toEqual(["megatron-args.txt"]);
  });

  // QA: the torchrun search's best for llama3-70b on 64 H100s was tp 8 · pp 2 · vpp 2 · ZB1P, priced
  // compiled (77.9 GiB) but run eager by the worker (zero-bubble stages cannot compile), where it
  // needs 93.0 GiB: written with a note. The search now prices each plan as the worker runs it.
  it("the torchrun search exports a plan that fits as the worker runs it", async () => {
    const r = await cli(["export", "--format", "torchrun", "--model", "llama3-70b", "--gpus", "64", "--out", tempDir()]);
    expect(r.code, r.stderr).toBe(0);
    const pct = Number(/GiB per GPU \((\d+)% of capacity\)/.exec(r.stdout)![1]);
    expect(pct).toBeLessThanOrEqual(100);
    expect(r.stdout).not.toMatch(/run out of memory/);
  });
});
