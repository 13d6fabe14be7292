// A DeepSpeed export with a ds_config alone (tp = pp = 1, no Megatron-DeepSpeed arguments): the
// config builds no model, so the notes say what the user's model code must do for the run to be the
// one priced (DeepSpeed's engine never applies activation_checkpointing, runtime/engine.py @
// v0.16.0; the attention kernel is the model's), and plan --from says on its assumed line which
// attention it prices the file with. The ZeRO buckets written are the ones priced, and read back.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir, tempFile } from "./helpers.js";

afterAll(removeTemp);

const BASE = ["--format", "deepspeed", "--model", "llama3-8b", "--gpus", "16", "--zero", "2"];
function predicted(text: string): [number, number] {
  const m = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB/.exec(text);
  expect(m, text).not.toBeNull();
  return [Number(m![1]!.replace(/,/g, "")), Number(m![2])];
}
async function exported(name: string, extra: string[] = []): Promise<{ out: string; path: string }> {
  const dir = join(tempDir(), name);
  const r = await cli(["export", ...BASE, ...extra, "--out", dir]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).not.toContain("megatron-deepspeed-args.txt"); // a ds_config alone
  return { out: r.stdout, path: join(dir, "ds_config.json") };
}
async function readBack(path: string, extra: string[] = []) {
  const r = await cli(["plan", "--from", path, "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  return { tokens: j.from.plan.tokensPerSecond as number, bytes: j.from.plan.memory.total as number, assumed: j.assumed as string[], fused: j.fusedAttention as boolean, plan: j.from.plan };
}
const gib = (bytes: number) => Number((bytes / 2 ** 30).toFixed(1));

describe("export --format deepspeed, a ds_config alone: what the model code must do", () => {
  it("full recompute: the note says activation_checkpointing only configures it and every layer must go through deepspeed.checkpointing.checkpoint", async () => {
    const { out } = await exported("ds-full");
    expect(out).toMatch(/ZeRO-2 · micro-batch \d+ · full recompute/);
    const note = out.split("\n").find((l) => l.startsWith("note: full recompute priced"));
    expect(note).toBeDefined();
    expect(note).toContain("DeepSpeed's engine never applies (runtime/engine.py @ v0.16.0)");
    expect(note).toContain("deepspeed.checkpointing.configure(None, deepspeed_config=\"ds_config.json\")");
    expect(note).toContain("every transformer layer through deepspeed.checkpointing.checkpoint(layer, hidden_states), one layer per call");
    // the engine's default attention (megatron-deepspeed: materialised scores) is said too
    expect(out).toContain("note: unfused attention priced (softmax(QKᵀ)V with the s×s scores kept");
  });

  it("fused attention (--attention fused): the note asks for flash / SDPA; read back without the flag the assumed line says unfused and names --attention fused, with it the prediction comes back", async () => {
    const { out, path } = await exported("ds-fused", ["--attention", "fused"]);
    expect(out).toContain("note: fused attention priced: your model code must run a flash kernel (flash-attn, or torch.nn.functional.scaled_dot_product_attention on its flash or cuDNN backend)");
    expect(out).toMatch(/note: no recompute priced: your model code must not checkpoint its transformer layers/);
    const [tokens, memory] = predicted(out);
    // Without --attention the file is priced unfused, and the assumed line says so and how to change it
    // (QA: 96,928 tokens/s at 201 GiB read back, silently, against 113,982 at 66.4 GiB exported).
    const plain = await readBack(path);
    expect(plain.fused).toBe(false);
    expect(plain.assumed[0]).toBe("unfused attention, the engine's default: ds_config.json does not say which attention your model code runs (--attention fused for flash attention or scaled_dot_product_attention, --attention unfused for the s×s scores kept)");
    expect(gib(plain.bytes)).toBeGreaterThan(memory);
    // With --attention fused, the export's prediction, and no such assumption.
    const fused = await readBack(path, ["--attention", "fused"]);
    expect(fused.fused).toBe(true);
    expect([Math.round(fused.tokens), gib(fused.bytes)]).toEqual([tokens, memory]);
    expect(fused.assumed.join(" ")).not.toContain("attention");
  });

  it("a sequence other than the model's: the note says the ds_config states none and which --seq reads it back; plan --from names the model's sequence on its assumed line", async () => {
    // QA: exported at 2,048 tokens (122,152 tokens/s), read back silently at llama3-8b's 8,192 (97,707)
    const { out, path } = await exported("ds-seq", ["--seq", "2048", "--global-batch", "48", "--tp", "1"]);
    expect(out).toContain("note: sequences of 2048 tokens priced: your data loader must give them (a ds_config states no sequence length); plan --from reads a ds_config at llama3-8b's 8192 unless given --seq 2048");
    const [tokens, memory] = predicted(out);
    const plain = await readBack(path);
    expect(plain.assumed).toContain("sequence 8192, the model's: ds_config.json does not state the length your data loader gives (--seq S)");
    // 8,192-token sequences are slower per token than 2,048 ones: not the export's prediction
    expect(plain.tokens).toBeLessThan(tokens * 0.9);
    const back = await readBack(path, ["--seq", "2048"]);
    expect([Math.round(back.tokens), gib(back.bytes)]).toEqual([tokens, memory]);
    expect(back.assumed.join(" ")).not.toContain("sequence");
    // at the model's own sequence there is nothing to say
    expect((await exported("ds-seq-default")).out).not.toContain("sequences of");
  });

  it("a config.json model beside a ds_config alone: the sequence is one assumption, said once with where it came from", async () => {
    // QA: the assumed line said "sequence 8192, the model's: …" and "sequence 8192 = max_position_embeddings of config.json" both
    const { path } = await exported("ds-hf");
    const model = join(tempDir(), "config.json");
    writeFileSync(model, JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_key_value_heads: 8, num_hidden_layers: 32, vocab_size: 128256, max_position_embeddings: 8192 }));
    const r = await cli(["plan", "--from", path, "--model", model, "--gpus", "16", "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const seq = (JSON.parse(r.stdout).assumed as string[]).filter((a) => a.includes("sequence"));
    expect(seq).toEqual(["sequence 8192 = max_position_embeddings of config.json: ds_config.json does not state the length your data loader gives (--seq S)"]);
  });

  it("with the Megatron-DeepSpeed arguments the attention is theirs (--use-flash-attn-v2): no assumption", async () => {
    const dir = join(tempDir(), "ds-tp");
    const r = await cli(["export", "--format", "deepspeed", "--model", "llama3-8b", "--gpus", "16", "--tp", "2", "--zero", "1", "--attention", "fused", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const back = await cli(["plan", "--from", join(dir, "ds_config.json"), "--from", join(dir, "megatron-deepspeed-args.txt"), "--model", "llama3-8b", "--json", "--top", "1"]);
    expect(back.code, back.stderr).toBe(0);
    const j = JSON.parse(back.stdout);
    expect(j.fusedAttention).toBe(true);
    expect(j.assumed.join(" ")).not.toContain("attention");
    expect(j.assumed.join(" ")).not.toContain("sequence"); // --seq-length is theirs too
    // arguments without --seq-length: the model's sequence, said (Megatron asserts one is given)
    const args = join(dir, "megatron-deepspeed-args.txt");
    writeFileSync(args, readFileSync(args, "utf8").replace(/^--seq-length \d+\n/m, ""));
    const cut = await cli(["plan", "--from", join(dir, "ds_config.json"), "--from", args, "--model", "llama3-8b", "--json", "--top", "1"]);
    expect(cut.code, cut.stderr).toBe(0);
    expect(JSON.parse(cut.stdout).assumed).toContain("sequence 8192, the model's: megatron-deepspeed-args.txt has no --seq-length and ds_config.json does not state the length your data loader gives (--seq S)");
  });
});

describe("DeepSpeed ZeRO buckets: written as priced, read back as written", () => {
  it("reduce and allgather buckets are the engine's priced 5e8 elements (1 GB of 16-bit gradients), whatever the model or tp", async () => {
    const { path } = await exported("ds-bucket");
    const z = JSON.parse(readFileSync(path, "utf8")).zero_optimization;
    // megatron-deepspeed profile dataParallel.bucketSize "1 GB" = 1e9 bytes / 2 bytes = 5e8 elements
    expect([z.reduce_bucket_size, z.allgather_bucket_size]).toEqual([500_000_000, 500_000_000]);
    const dir = join(tempDir(), "ds-70b");
    const r = await cli(["export", "--format", "deepspeed", "--model", "llama3-70b", "--gpus", "64", "--tp", "2", "--zero", "1", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    // (was h²/tp = 8192²/2 = 33,554,432)
    expect(JSON.parse(readFileSync(join(dir, "ds_config.json"), "utf8")).zero_optimization.reduce_bucket_size).toBe(500_000_000);
  });

  it("plan --from prices the file's reduce_bucket_size: 16,777,216 elements hold 2 × (1e9 − 33,554,432) × 1.05 bytes less than the default", async () => {
    const { out, path } = await exported("ds-bucket-read");
    const written = await readBack(path);
    expect([Math.round(written.tokens), gib(written.bytes)]).toEqual(predicted(out));
    const cfg = JSON.parse(readFileSync(path, "utf8"));
    cfg.zero_optimization.reduce_bucket_size = 16_777_216;
    const small = tempFile("ds-small-bucket.json", JSON.stringify(cfg));
    const read = await readBack(small);
    // two separate buckets (bucketMemory "separate") of 16-bit gradients, plus 5 % fragmentation
    // (dgx-h100): 2 · (1,000,000,000 − 2 · 16,777,216) · 1.05 = 2,029,535,692.8 bytes
    expect(written.bytes - read.bytes).toBeCloseTo(2 * (1e9 - 2 * 16_777_216) * 1.05, 0);
    // without the key: DeepSpeed's default 5e8, the same as written
    delete cfg.zero_optimization.reduce_bucket_size;
    expect((await readBack(tempFile("ds-no-bucket.json", JSON.stringify(cfg)))).bytes).toBe(written.bytes);
  });

  it("\"auto\" is the HuggingFace Trainer's hidden_size² (noted); below 1 MiB of gradients is exit 2 naming the key", async () => {
    const { path } = await exported("ds-bucket-auto");
    const cfg = JSON.parse(readFileSync(path, "utf8"));
    cfg.zero_optimization.reduce_bucket_size = "auto";
    const auto = tempFile("ds-auto-bucket.json", JSON.stringify(cfg));
    const r = await cli(["plan", "--from", auto, "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).from.notes).toContainEqual(expect.stringContaining('reduce_bucket_size is "auto": read as the HuggingFace Trainer fills it, hidden_size² = 16,777,216 elements')); // 4096²
    // the same as 16,777,216 written out
    cfg.zero_optimization.reduce_bucket_size = 16_777_216;
    const stated = tempFile("ds-h2-bucket.json", JSON.stringify(cfg));
    expect((await readBack(auto)).bytes).toBe((await readBack(stated)).bytes);
    cfg.zero_optimization.reduce_bucket_size = 1000;
    const tiny = join(tempDir(), "ds-tiny-bucket.json");
    writeFileSync(tiny, JSON.stringify(cfg, null, 2));
    const bad = await cli(["plan", "--from", tiny, "--model", "llama3-8b", "--gpus", "16"]);
    expect(bad.code).toBe(2);
    expect(bad.errLines).toHaveLength(1);
    expect(bad.errLines[0]).toContain("zero_optimization.reduce_bucket_size");
    expect(bad.errLines[0]).toContain("from 524,288 elements");
  });
});
