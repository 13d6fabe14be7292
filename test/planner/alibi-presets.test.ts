// The ALiBi presets (mpt-7b, mpt-30b, bloom-176b) against their published sizes and against the
// same models read from their published config.json (hf-alibi.ts), two independent paths.
// Convention as totalParams: trainable weights, unpadded vocabulary, a tied matrix once; paraplan
// counts biases on every ALiBi model (MPT's no_bias drops them: an upper bound of 0.02 %).
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { loadModel } from "../../src/load.js";
import { ok, raw } from "./hf-helpers.js";
import { runCli } from "../cli/helpers.js";

const near = (x: number, want: number, tol: number) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);
const shape = (m: ReturnType<typeof loadModel>) => [m.layers, m.hidden, m.heads, m.kvHeads, m.ffnHidden, m.vocab, m.mlp, m.positional, m.tiedEmbeddings, m.dropout, m.defaultSeqLen];

describe("ALiBi presets", () => {
  it("mpt-7b is mosaicml/mpt-7b's config.json as read, 6.65B (by hand without biases: 6,649,286,656; card 6.7B)", () => {
    const m = loadModel("mpt-7b");
    expect(shape(m)).toEqual(shape(ok(parseHfConfig(raw("mpt-7b.json"), "c.json", "x"))));
    expect(m.positionTable).toBeUndefined();
    near(totalParams(m, 2048), 32 * 12 * 4096 ** 2 + 50432 * 4096 + 65 * 4096, 0.0003);
  });
  it("mpt-30b: 48 layers of d_model 7168 and 64 heads, 29.95B on its card (by hand 29,957,200,896)", () => {
    const m = loadModel("mpt-30b");
    expect([m.layers, m.hidden, m.heads, m.ffnHidden, m.vocab, m.positional, m.defaultSeqLen]).toEqual([48, 7168, 64, 28672, 50432, "alibi", 8192]);
    const byHand = 48 * 12 * 7168 ** 2 + 50432 * 7168 + 97 * 7168;
    expect(byHand).toBe(29_957_200_896);
    near(totalParams(m, 8192), byHand, 0.0003);
    near(totalParams(m, 8192), 29.95e9, 0.001);
  });
  it("bloom-176b is bigscience/bloom's config.json as read: 176,247,271,424 on its card less the embedding LayerNorm; 384 GPUs, batch 2048", () => {
    const m = loadModel("bloom-176b");
    // The preset trains with dropout 0.1 as BLOOM did (tr11-176B-ml README: "The default
    // Megatron-LM dropout settings are inherited"); the released config.json says 0.0, for inference.
    const read = ok(parseHfConfig(raw("bloom.json"), "c.json", "x"));
    expect([m.dropout, read.dropout]).toEqual([true, false]);
    expect(shape(m)).toEqual(shape({ ...read, dropout: true }));
    expect(totalParams(m, 2048)).toBe(176_247_271_424 - 2 * 14336);
    expect([m.gpus, m.globalBatch]).toEqual([384, 2048]);
  });
  // BigScience trained with activation checkpointing (full recompute) and dropout; among the plans
  // that recompute as it did, its layout is within 2 % of the fastest (without recompute, tp 8
  // plans at 84–93 % of memory rank first).
  it("bloom-176b on its 48 DGX A100 nodes with its stack and full recompute: BigScience's own layout, tp 4 · pp 12 · dp 8 (tr11-176B-ml), within 2 % of the fastest", async () => {
    const r = await runCli(["plan", "--model", "bloom-176b", "--engine", "megatron-deepspeed", "--profile", "dgx-a100-80g", "--recompute", "full", "--json", "--top", "10", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const plans = JSON.parse(r.stdout).plans as Array<{ tp: number; pp: number; dp: number; tokensPerSecond: number }>;
    const theirs = plans.find((p) => `${p.tp}·${p.pp}·${p.dp}` === "4·12·8");
    expect(theirs).toBeDefined();
    expect(theirs!.tokensPerSecond / plans[0]!.tokensPerSecond).toBeGreaterThan(0.98);
  });
});
