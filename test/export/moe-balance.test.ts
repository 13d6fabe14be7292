// Megatron's --moe-router-force-load-balancing (megatron/core/transformer/moe/router.py: the
// router's scores replaced by random ones, a benchmarking option) spreads tokens evenly over the
// experts: plan --from prices the file at expert load imbalance 1, as --moe-imbalance 1 does, not at
// the default 1.25 of learned routing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir, tempFile } from "./helpers.js";

describe("--moe-router-force-load-balancing in plan --from", () => {
  it("is priced at imbalance 1, the figures --moe-imbalance 1 gives the file without it; a contradicting --moe-imbalance is exit 2", async () => {
    const out = join(tempDir(), "mixtral");
    // (ep 8: at ep 1 every rank holds every expert and the imbalance does not apply, moe-facts.ts
    // rankImbalanceOf, so forcing the balance would change nothing)
    const e = await cli(["export", "--model", "mixtral-8x7b", "--gpus", "64", "--ep", "8", "--format", "megatron", "--out", out]);
    expect(e.code, e.stderr).toBe(0);
    const args = readFileSync(join(out, "megatron-args.txt"), "utf8");
    const plain = tempFile("mixtral-args.txt", args);
    const forced = tempFile("mixtral-forced.txt", `${args}\n--moe-router-force-load-balancing\n`);
    const run = async (argv: string[]) => {
      const r = await cli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--json", "--top", "1", ...argv]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [p, f, one] = [await run(["--from", plain]), await run(["--from", forced]), await run(["--from", plain, "--moe-imbalance", "1"])];
    expect(p.moeImbalance).toBe(1.25);
    expect(f.moeImbalance).toBe(1);
    expect(f.from.plan.time).toEqual(one.from.plan.time);
    expect(f.from.plan.tokensPerSecond).toBeGreaterThan(p.from.plan.tokensPerSecond);
    expect(f.from.notes.some((n: string) => n.includes("--moe-router-force-load-balancing routes tokens uniformly"))).toBe(true);
    const c = await cli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--from", forced, "--moe-imbalance", "1.5"]);
    expect(c.code).toBe(2);
    // what the file sets: the forced balance (its line after the export's and a blank one), not an imbalance value it does not state
    const line = `${args}\n`.split("\n").length;
    expect(c.stderr).toContain(`--moe-imbalance 1.5 but mixtral-forced.txt: --moe-router-force-load-balancing (line ${line}) forces balanced routing (priced at imbalance 1); drop the flag or change the file`);
    expect(c.stderr).not.toContain("has 1");
  });
});
