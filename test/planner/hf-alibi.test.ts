// The ALiBi families' config.json (Press et al. 2022), in their own key names: MPT (mosaicml/mpt-7b,
// read as llm-foundry's MPTConfig builds it) and BLOOM (bigscience/bloom, transformers'
// BloomConfig). Checked against the published parameter counts and by hand; what neither family's
// code lets paraplan price is refused naming the key as the file wrote it.
import { afterAll, describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok, raw } from "./hf-helpers.js";
import { removeTempFiles, runCli, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);
const parse = (o: Record<string, unknown>) => parseHfConfig(o, "c.json", "x");
const near = (x: number, want: number, tol: number) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);
const MPT = raw("mpt-7b.json");
const attn = MPT.attn_config as Record<string, unknown>;
const mpt = (over: Record<string, unknown>, attnOver: Record<string, unknown> = {}) => ({ ...MPT, ...over, attn_config: { ...attn, ...attnOver } });
const foundry = { auto_map: undefined };

describe("MPT (model_type mpt)", () => {
  it("mosaicml/mpt-7b: ALiBi with no position table, an MLP of 4·d_model, tied, 6.65B parameters", () => {
    const m = ok(parse(MPT));
    expect(m).toMatchObject({ layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffnHidden: 16384, vocab: 50432, mlp: "gelu", positional: "alibi", tiedEmbeddings: true, dropout: false, defaultSeqLen: 2048 });
    expect(m.positionTable).toBeUndefined();
    // By hand: 32 layers × 12·4096² + the tied 50,432 × 4096 embedding + LayerNorm weights
    // (2 a layer, 1 final) = 6,649,286,656 (its model card: 6.7B). paraplan counts biases and
    // LayerNorm biases on every ALiBi model (an upper bound: MPT's no_bias drops them), 0.02 % more.
    near(totalParams(m, 2048), 32 * 12 * 4096 ** 2 + 50432 * 4096 + (2 * 32 + 1) * 4096, 0.0003);
  });
  it("reads llm-foundry's settings where the config names its code (auto_map): width, attention heads, gated MLP, learned positions, window", () => {
    expect(ok(parse(mpt({ expansion_ratio: 2.5 }))).ffnHidden).toBe(10240);
    expect(ok(parse(mpt({ ffn_config: { ffn_type: "mptmlp", ffn_hidden_size: 11008 } }))).ffnHidden).toBe(11008);
    expect(ok(parse(mpt({}, { attn_type: "grouped_query_attention", kv_n_heads: 8 }))).kvHeads).toBe(8);
    expect(ok(parse(mpt({}, { attn_type: "multiquery_attention" }))).kvHeads).toBe(1);
    // llm-foundry ffn.py MPTGLU: down(act(gate(x)) · up(x)), GELU unless ffn_act_fn says otherwise
    expect(ok(parse(mpt({ ffn_config: { ffn_type: "mptglu" } }))).mlp).toBe("geglu");
    expect(ok(parse(mpt({ ffn_config: { ffn_type: "mptglu", ffn_act_fn: { name: "silu" } } }))).mlp).toBe("swiglu");
    // alibi false: learned_pos_emb (default true) is a table of max_seq_len rows
    const learned = ok(parse(mpt({}, { alibi: false })));
    expect([learned.positional, learned.positionTable]).toEqual(["learned", 2048]);
    expect(ok(parse(mpt({}, { sliding_window_size: 1024 })))).toMatchObject({ slidingWindow: 1024, slidingWindowLayers: 32 });
    // dropout: attn_config.attn_pdrop, resid_pdrop, emb_pdrop
    expect(ok(parse(mpt({ emb_pdrop: 0.1 }))).dropout).toBe(true);
    expect(ok(parse(mpt({}, { attn_pdrop: 0.1 }))).dropout).toBe(true);
  });
  it("without auto_map, what transformers' MptForCausalLM does not build is refused naming the key", () => {
    const port = (over: Record<string, unknown>, a: Record<string, unknown> = {}) => fail(parse({ ...mpt(over, a), ...foundry }));
    expect(port({ expansion_ratio: 2.5 })).toBe(`c.json: "expansion_ratio" 2.5: transformers' MptForCausalLM builds an MLP of 4·d_model whatever this says; a config read with llm-foundry's MPT code names it in "auto_map"`);
    expect(port({}, { alibi: false })).toContain(`"attn_config.alibi" false: transformers' MptForCausalLM builds ALiBi whatever`);
    expect(port({}, { attn_type: "multiquery_attention" })).toContain('"attn_config.attn_type" "multiquery_attention"');
    // the published config as transformers reads it is the same model
    expect(ok(parse({ ...MPT, ...foundry }))).toEqual(ok(parse(MPT)));
  });
  it("what neither builds as paraplan prices is refused naming the key; settings of no cost are read", () => {
    expect(fail(parse(mpt({}, { qk_ln: true })))).toBe('c.json: "attn_config.qk_ln" true: paraplan does not model a LayerNorm of the queries and keys');
    expect(fail(parse(mpt({}, { prefix_lm: true })))).toContain("a Prefix LM");
    expect(fail(parse(mpt({}, { attn_uses_sequence_id: true })))).toContain("restricted to each packed sequence");
    expect(fail(parse(mpt({}, { rope: true })))).toContain('"attn_config.rope" true');
    expect(fail(parse(mpt({}, { my_kernel_knob: 3 })))).toContain('"attn_config.my_kernel_knob" 3: an attention setting paraplan does not know');
    expect(fail(parse(mpt({}, { kv_dim: 64 })))).toContain('"attn_config.kv_dim" 64');
    expect(fail(parse(mpt({}, { nope: true })))).toContain("without any position encoding");
    // llm-foundry's newer MPTConfig keys (@8c8dd48): head_dim is read, norm_eps is no work
    expect(ok(parse(mpt({ head_dim: 256, norm_eps: 1e-6 }))).headDim).toBe(256);
    expect(fail(parse(mpt({ ffn_config: { ffn_type: "mb_dmoe" } })))).toContain('"ffn_config.ffn_type" "mb_dmoe"');
    expect(fail(parse(mpt({ ffn_config: { ffn_type: "mptmlp", moe_num_experts: 8 } })))).toContain('"ffn_config.moe_num_experts"');
    expect(fail(parse(mpt({ block_overrides: { order: [] } })))).toContain('"block_overrides"');
    expect(fail(parse(mpt({ norm_type: "groupnorm" })))).toContain('"norm_type" "groupnorm"');
    expect(fail(parse(mpt({ norm_type: null })))).toContain('"norm_type" null');
    // malformed values are named by their own key, never dropped
    expect(fail(parse(mpt({}, { sliding_window_size: "big" })))).toContain('"attn_config.sliding_window_size" "big": -1 (no window) or a whole number above 0');
    expect(fail(parse(mpt({ ffn_config: { ffn_type: "mptmlp", ffn_hidden_size: -5 } })))).toContain('"ffn_config.ffn_hidden_size" -5: a whole number above 0');
    const { n_layers: _n, ...cut } = MPT;
    expect(fail(parse(cut))).toBe(`c.json: field "n_layers": missing (llm-foundry's MPTConfig would build its default; state it)`);
    expect(fail(parse(mpt({ learned_pos_emb: false }, { alibi: false })))).toContain("no position encoding");
    // unstated, the two codes disagree: llm-foundry's default is false, transformers' true
    const { alibi: _, ...noAlibi } = attn;
    expect(fail(parse({ ...MPT, attn_config: noAlibi }))).toContain('"attn_config.alibi" not stated');
    // the kernel, the softmax scale, clipping, logit scale: no change
    expect(ok(parse(mpt({ logit_scale: 0.5, no_bias: false }, { attn_impl: "triton", clip_qkv: 6, softmax_scale: 0.1 })))).toEqual(ok(parse(MPT)));
  });
  it("messages name MPT's own keys", () => {
    expect(fail(parse(mpt({ n_heads: 7 })))).toMatch(/"d_model" \(4096\) must be a multiple of "n_heads" \(7\)/);
  });
});

describe("BLOOM (model_type bloom)", () => {
  it("bigscience/bloom: 176,247,271,424 parameters (its model card), ALiBi, MLP of 4·hidden, planned at its training length 2048", () => {
    const m = ok(parse(raw("bloom.json")));
    expect(m).toMatchObject({ layers: 70, hidden: 14336, heads: 112, kvHeads: 112, ffnHidden: 57344, vocab: 250880, mlp: "gelu", positional: "alibi", tiedEmbeddings: true, defaultSeqLen: 2048 });
    // all but the word-embedding LayerNorm's 2·14,336 weights, which paraplan does not count
    expect(176_247_271_424 - totalParams(m, 2048)).toBe(2 * 14336);
    expect(m.defaultSeqLenAssumed).toContain("BLOOM's training length");
  });
  it("n_embed is hidden_size's older name; an n_inner BloomMLP ignores and a position table it has not are refused", () => {
    const { hidden_size: h, ...rest } = raw("bloom.json");
    expect(ok(parse({ ...rest, n_embed: h }))).toEqual(ok(parse(raw("bloom.json"))));
    expect(fail(parse({ ...rest, n_embed: h, hidden_size: 1024 }))).toContain('"n_embed" 14336 and "hidden_size" 1024 disagree');
    expect(fail(parse({ ...raw("bloom.json"), n_inner: 4096 }))).toContain("BloomMLP builds 4·hidden_size");
    expect(fail(parse({ ...raw("bloom.json"), max_position_embeddings: 4096 }))).toContain("BloomConfig has no such key");
    const { n_layer: _l, ...cut } = raw("bloom.json");
    expect(fail(parse(cut))).toBe(`c.json: field "n_layer": missing (BloomConfig would build its default; state it)`);
  });
});

describe("plan --model config.json", () => {
  it("an MPT config plans on fsdp (llm-foundry, as MPT trained) and is exit 2 on an engine without ALiBi", async () => {
    const file = tempFile("mpt-7b-config.json", JSON.stringify(MPT));
    const r = await runCli(["plan", "--model", file, "--gpus", "8", "--engine", "fsdp", "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toMatchObject({ layers: 32, vocab: 50432, ffnHidden: 16384 });
    const refused = await runCli(["plan", "--model", file, "--gpus", "8"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("has ALiBi positions; engine megatron-core builds learned or rotary positions only");
  });
});
