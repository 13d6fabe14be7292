// plan --from an llm-foundry YAML: MPT's attn_config sub-keys, dropouts and biases, which QA found
// never checked (a window, query/key norms, dropout or a bias the --model lacks was priced as the
// --model). Each is compared with --model, exit 2 naming the key and its line, or refused where
// llm-foundry would not build the model. Sources: llm-foundry @ 8c8dd48 (mosaicml/llm-foundry):
// llmfoundry/models/utils/config_defaults.py attn_config_defaults (attn_pdrop 0.0, qk_ln and
// qk_gn False, sliding_window_size -1, attn_type multihead_attention, no kv_n_heads);
// models/mpt/configuration_mpt.py:37-44 (resid_pdrop 0.0, emb_pdrop 0.0, no_bias False);
// models/layers/attention.py:463 (GroupedQueryAttention's kv_n_heads: no default), :541 (qk_ln and
// qk_gn exclusive), :601-615 (q_ln over head_dim under qk_gn, n_heads·head_dim under qk_ln).
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp, tempFile } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);
const file = fileWriter("foundry-attn");

// MPT-7B as llm-foundry builds it (mpt-7b preset: ALiBi, GELU MLP of 4·d, tied, no dropout).
// Line numbers: `top` lines follow `  vocab_size` (line 8); attn_config's keys start at line 13 + the lines of `top`.
const mpt = (o: { top?: string; attn?: string } = {}) =>
  file(
    "yaml",
    `max_seq_len: 2048
model:
  name: mpt_causal_lm
  d_model: 4096
  n_heads: 32
  n_layers: 32
  max_seq_len: 2048
  vocab_size: 50432
${o.top ?? ""}  no_bias: true
  attn_config:
    attn_impl: flash
    alibi: true
${o.attn ?? ""}global_train_batch_size: 16
device_train_microbatch_size: 1
precision: amp_bf16
fsdp_config:
  sharding_strategy: FULL_SHARD
`,
  );
const mpt7b = (path: string) => ["--model", "mpt-7b", "--gpus", "16", "--from", path];

// A rotary MPT with Llama 3 8B's sizes (as export --format llm-foundry writes llama3-8b):
// grouped-query 32/8, SwiGLU of 3.5·d = 14336, RoPE θ 500000, untied, no biases.
const llama = (bias: string, attn = "") =>
  file(
    "yaml",
    `max_seq_len: 8192
model:
  name: mpt_causal_lm
  d_model: 4096
  n_heads: 32
  n_layers: 32
  expansion_ratio: 3.5
  vocab_size: 128256
  norm_type: rmsnorm
  tie_word_embeddings: false
${bias}  attn_config:
    attn_type: grouped_query_attention
    kv_n_heads: 8
    rope: true
    rope_theta: 500000
${attn}  ffn_config:
    ffn_type: mptglu
    ffn_act_fn:
      name: silu
global_train_batch_size: 32
device_train_microbatch_size: 1
`,
  );
const llama8b = (path: string) => ["--model", "llama3-8b", "--gpus", "16", "--from", path];

describe("llm-foundry attn_config against --model", () => {
  it("the plain MPT-7B file is read (no window, no q/k norm, no dropout: mpt-7b's)", async () => {
    const r = await accepted(mpt7b(mpt()));
    expect(r.from.plan).toMatchObject({ dp: 16, zero: 3 });
    expect(r.from.warnings).toEqual([]);
  });
  it("sliding_window_size 512 against a model without a window is exit 2 naming it; -1 is MPT's default", async () => {
    await refused(mpt7b(mpt({ attn: "    sliding_window_size: 512\n" })), "model.attn_config.sliding_window_size: 512 (line 13) but the model mpt-7b has slidingWindow none");
    await refused(mpt7b(mpt({ attn: "    sliding_window_size: 0\n" })), "-1 (no window) or a whole number above 0");
    expect((await accepted(mpt7b(mpt({ attn: "    sliding_window_size: -1\n" })))).from.plan).toMatchObject({ dp: 16 });
  });
  it("qk_ln is a norm over the whole projections, qk_gn over each head: against mpt-7b's none, exit 2; both at once llm-foundry refuses", async () => {
    await refused(mpt7b(mpt({ attn: "    qk_ln: true\n" })), "model.attn_config.qk_ln: true (line 13) but the model mpt-7b has qkNorm none");
    await refused(mpt7b(mpt({ attn: "    qk_gn: true\n" })), "model.attn_config.qk_gn: true (line 13) but the model mpt-7b has qkNorm none");
    await refused(mpt7b(mpt({ attn: "    qk_ln: true\n    qk_gn: true\n" })), "Only one of qk_ln and qk_gn");
  });
  it("a model with per-head query/key norms needs qk_gn: without it, exit 2 naming MPT's default", async () => {
    const qwen3ish = tempFile("llama3-8b-qknorm.json", JSON.stringify({ name: "llama3-8b-qk", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffnHidden: 14336, vocab: 128256, seqLen: 8192, mlp: "swiglu", positional: "rope", ropeTheta: 500000, tiedEmbeddings: false, dropout: false, qkNorm: "head" }));
    await refused(["--model", qwen3ish, "--gpus", "16", "--from", llama("  no_bias: true\n")], "model.attn_config.qk_ln absent (MPT's default: no query/key norm) but the model llama3-8b-qk has qkNorm head");
    expect((await accepted(["--model", qwen3ish, "--gpus", "16", "--from", llama("  no_bias: true\n", "    qk_gn: true\n")])).from.plan).toMatchObject({ dp: 16 });
  });
  it("grouped_query_attention without kv_n_heads, and kv_n_heads under multi-head attention, build no MPT: exit 2", async () => {
    await refused(mpt7b(mpt({ attn: "    attn_type: grouped_query_attention\n" })), 'model.attn_config.attn_type: "grouped_query_attention" (line 13) without model.attn_config.kv_n_heads', "attention.py:463");
    await refused(mpt7b(mpt({ attn: "    kv_n_heads: 8\n" })), "model.attn_config.kv_n_heads: 8 (line 13) with attn_type multihead_attention (MPT's default)");
  });
  it("attn_uses_sequence_id, nope and kv_dim are refused; an unknown attn_config key is warned of with its line", async () => {
    await refused(mpt7b(mpt({ attn: "    attn_uses_sequence_id: true\n" })), "attn_uses_sequence_id: true (line 13): paraplan does not model attention restricted to each packed sequence");
    await refused(mpt7b(mpt({ attn: "    nope: true\n" })), "nope: true (line 13): paraplan does not model attention without any position encoding");
    await refused(mpt7b(mpt({ attn: "    kv_dim: 1024\n" })), "kv_dim: 1024 (line 13)");
    const r = await accepted(mpt7b(mpt({ attn: "    flux: 3\n" })));
    expect(r.from.warnings.join("\n")).toContain("model.attn_config.flux (line 13) is not an MPT attention setting paraplan knows; ignored");
  });
});

describe("llm-foundry dropout against --model", () => {
  it("dropout on attention, residual and embeddings together against mpt-7b's none: exit 2 naming attn_pdrop", async () => {
    // mpt-7b has dropout false (profiles/models/mpt-7b.json: "dropout 0")
    await refused(mpt7b(mpt({ top: "  resid_pdrop: 0.1\n  emb_pdrop: 0.1\n", attn: "    attn_pdrop: 0.1\n" })), "model.attn_config.attn_pdrop: 0.1 (line 15) but the model mpt-7b has dropout false");
  });
  it("one dropout alone (resid_pdrop, or attn_pdrop) is exit 2: paraplan's dropout is all three masks or none", async () => {
    await refused(mpt7b(mpt({ top: "  resid_pdrop: 0.1\n" })), "model.resid_pdrop: 0.1 (line 9) beside model.attn_config.attn_pdrop absent (0) and model.emb_pdrop absent (0)", "all or none");
    await refused(mpt7b(mpt({ attn: "    attn_pdrop: 0.1\n" })), "model.attn_config.attn_pdrop: 0.1 (line 13) beside model.resid_pdrop absent (0)");
    await refused(mpt7b(mpt({ top: "  resid_pdrop: 1\n" })), "model.resid_pdrop: 1 (line 9): must be a dropout probability");
  });
  it("stated zeros are no dropout, as mpt-7b", async () => {
    expect((await accepted(mpt7b(mpt({ top: "  resid_pdrop: 0\n  emb_pdrop: 0.0\n", attn: "    attn_pdrop: 0\n" })))).from.plan).toMatchObject({ dp: 16 });
  });
});

describe("llm-foundry biases against a rotary --model", () => {
  it("no_bias true is Llama 3 8B's none; no_bias absent is MPTConfig's False, a bias in every layer: exit 2", async () => {
    expect((await accepted(llama8b(llama("  no_bias: true\n")))).from.plan).toMatchObject({ dp: 16 });
    await refused(llama8b(llama("")), "model.no_bias absent (MPTConfig's default False: a bias in every linear layer) but the model llama3-8b has biases none");
    await refused(llama8b(llama("  no_bias: false\n")), "model.no_bias: false (line 11) but the model llama3-8b has biases none");
    // attention_bias true keeps Q/K/V's (configuration_mpt.py:181): Qwen2's, not Llama's
    await refused(llama8b(llama("  no_bias: true\n  attention_bias: true\n")), "model.attention_bias: true (line 12) but the model llama3-8b has biases none");
  });
  it("head_dim and attention_bias came after v0.21.0, llm-foundry's newest release: read as main builds them, with a note naming them", async () => {
    // Llama 3 8B's head_dim is 4096 / 32 = 128, so head_dim: 128 is the same model
    const r = await accepted(llama8b(llama("  no_bias: true\n  attention_bias: false\n  head_dim: 128\n")));
    expect(r.from.notes).toContainEqual(expect.stringContaining("model.head_dim: 128 (line 13), model.attention_bias: false (line 12) read as llm-foundry main (@8c8dd48) builds the model; its newest release, v0.21.0, has no such MPT setting"));
    const plain = await accepted(llama8b(llama("  no_bias: true\n")));
    expect(plain.from.notes.join("\n")).not.toContain("v0.21.0");
    expect(r.from.plan).toEqual(plain.from.plan);
  });
  it("an ALiBi model's biases are counted whatever no_bias says (planner/model.ts's upper bound): mpt-7b without no_bias is read", async () => {
    const text = (await import("node:fs")).readFileSync(mpt(), "utf8").replace("  no_bias: true\n", "");
    expect((await accepted(mpt7b(tempFile("foundry-attn-nobias.yaml", text)))).from.plan).toMatchObject({ dp: 16 });
  });
});
