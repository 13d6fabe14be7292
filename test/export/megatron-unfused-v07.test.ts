// Megatron-LM core_v0.7 with --attention unfused: leaving --use-flash-attn out does not unfuse
// Transformer Engine's layers (--transformer-impl defaults to transformer_engine, whose
// TEDotProductAttention picks a fused kernel; megatron/training/arguments.py:618 @ core_v0.7.0),
// so the export writes --transformer-impl local: with --use-mcore-models (always written for
// core_v0.7: without it pretrain_gpt.py builds the legacy model) that is Megatron Core's local spec,
// whose DotProductAttention materialises the scores and whose FusedLayerNorm runs LayerNorm only.
// QA: exported 143,059 tokens/s at 77.2 GiB, read back fused at 161,282 tokens/s and 43.6 GiB.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withOverrides } from "../../planner/index.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { loadEngine } from "../../src/load-engine.js";
import { GPT, LLAMA2, argValue, cli, h100, model, plan, refusalMessage, removeTemp, tempDir, training } from "./helpers.js";

afterAll(removeTemp);

const V07 = { release: "core_v0.7" };

describe("export --format megatron --release core_v0.7 --attention unfused", () => {
  it("writes --use-mcore-models with --transformer-impl local and no --use-flash-attn; fused attention keeps Transformer Engine with --use-flash-attn", () => {
    const unfused = exportPlan("megatron", model(GPT), plan({ zero: 1 }), training({ fusedAttention: false }), h100, V07);
    const a = unfused.files[0]!.content;
    expect(argValue(a, "--use-mcore-models")).toBe("");
    expect(argValue(a, "--transformer-impl")).toBe("local");
    expect(argValue(a, "--use-flash-attn")).toBeUndefined();
    expect(unfused.notes).toContainEqual(expect.stringContaining("--transformer-impl local, Megatron Core's local layers (DotProductAttention materialises the scores"));
    const fused = exportPlan("megatron", model(LLAMA2), plan({ zero: 1 }), training(), h100, V07).files[0]!.content;
    // (Megatron Core's model, whose Transformer Engine layers group the query heads; the legacy one
    // would train 64 key/value heads)
    expect(argValue(fused, "--use-mcore-models")).toBe("");
    expect(argValue(fused, "--num-query-groups")).toBe("8");
    expect(argValue(fused, "--transformer-impl")).toBeUndefined();
    expect(argValue(fused, "--use-flash-attn")).toBe("");
  });

  it("gpt3-13b on 16 GPUs: read back unfused, at the export's prediction (tokens/s and memory)", async () => {
    const dir = join(tempDir(), "v07-unfused");
    const r = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--attention", "unfused", "--model", "gpt3-13b", "--gpus", "16", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const m = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB/.exec(r.stdout)!;
    const file = join(dir, "megatron-args.txt");
    expect(readFileSync(file, "utf8")).toMatch(/^--transformer-impl local$/m);
    const back = await cli(["plan", "--from", file, "--model", "gpt3-13b", "--gpus", "16", "--json", "--top", "1"]);
    expect(back.code, back.stderr).toBe(0);
    const j = JSON.parse(back.stdout);
    expect(j.fusedAttention).toBe(false);
    expect(Math.round(j.from.plan.tokensPerSecond)).toBe(Number(m[1]!.replace(/,/g, "")));
    expect((j.from.plan.memory.total / 2 ** 30).toFixed(1)).toBe(m[2]);
  });

  it("refused where the local layers cannot run the plan priced: RMSNorm, fp8 (Transformer Engine's only) and --tp-comm-overlap (its userbuffers)", () => {
    const rms = refusalMessage(() => exportPlan("megatron", model(LLAMA2), plan({ zero: 1 }), training({ fusedAttention: false }), h100, V07));
    expect(rms).toContain("--attention unfused on core_v0.7 is --transformer-impl local");
    expect(rms).toContain("whose FusedLayerNorm runs LayerNorm only, not llama2-70b's RMSNorm");
    const fp8 = refusalMessage(() => exportPlan("megatron", model(GPT), plan({ zero: 1 }), training({ fusedAttention: false, precision: "fp8" }), h100, V07));
    expect(fp8).toContain("--attention unfused on core_v0.7 is --transformer-impl local");
    expect(fp8).toContain("whose linear layers are Megatron's own, without fp8");
    // --tp-comm-overlap: the engine's tensor-parallel overlap switched on (overlapNeedsSp), beside SP
    const engine = withOverrides(loadEngine("megatron-core"), { tpCommOverlap: true, fusedAttention: false });
    const t = { ...training({ fusedAttention: false }), engine };
    const tpo = refusalMessage(() => exportPlan("megatron", model(GPT), plan({ tp: 2, zero: 1, sequenceParallel: true }), t, h100, V07));
    expect(tpo).toContain("is --transformer-impl local (Transformer Engine's layers pick a fused kernel), whose GEMMs --tp-comm-overlap does not overlap");
  });
});
