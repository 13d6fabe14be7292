// `plan` with HuggingFace configs and bounded model files, in-process: the sequence length a
// config.json is planned at is said on the assumed line (and --seq overrides it); a count beyond
// its bound is exit 2 naming the key and the bound, at once.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);
const hf = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "planner", "hf", name), "utf8");
const assumed = (stdout: string) => stdout.split("\n").find((l) => l.startsWith("assumed")) ?? "";

describe("plan --model config.json (Qwen2.5-7B, max_position_embeddings 131072)", () => {
  const path = tempFile("config.json", hf("qwen2.5-7b.json"));
  it("plans at sequence 8192 and says so on the assumed line", async () => {
    const r = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--top", "1"]);
    expect(r.code).toBe(0);
    expect(assumed(r.stdout)).toContain("sequence 8192 = min(max_position_embeddings 131072, 8192) of config.json (--seq to change)");
    const j = JSON.parse((await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--top", "1", "--json"])).stdout);
    expect(j.model.seqLen).toBe(8192);
    expect(j.assumed).toContain("sequence 8192 = min(max_position_embeddings 131072, 8192) of config.json (--seq to change)");
  });
  it("--seq overrides it, and then nothing about the sequence is assumed", async () => {
    const r = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--top", "1", "--seq", "4096"]);
    expect(r.code).toBe(0);
    expect(assumed(r.stdout)).not.toContain("sequence");
  });
  it("Gemma-2-9B is planned at 9.24B parameters", async () => {
    const r = await runCli(["plan", "--model", tempFile("gemma.json", hf("gemma-2-9b.json")), "--gpus", "8", "--global-batch", "8", "--top", "1", "--json"]);
    expect(r.code).toBe(0);
    expect(Math.abs(JSON.parse(r.stdout).model.params / 9.2417e9 - 1)).toBeLessThan(0.005);
  });
  it("a Mixtral config is planned as MoE (46.7B, experts in the table), an unknown architectural key is exit 2 naming it; GPT-2 is planned", async () => {
    const mix = await runCli(["plan", "--model", tempFile("mixtral.json", hf("mixtral-8x7b.json")), "--gpus", "64", "--global-batch", "64", "--seq", "4096", "--top", "3", "--json", "--simulate-top", "0"]);
    expect(mix.code).toBe(0);
    const j = JSON.parse(mix.stdout);
    expect(Math.abs(j.model.params / 46.7e9 - 1)).toBeLessThan(0.01);
    expect(j.model.moe).toMatchObject({ experts: 8, topK: 2 });
    const odd = await runCli(["plan", "--model", tempFile("mixtral-odd.json", JSON.stringify({ ...JSON.parse(hf("mixtral-8x7b.json")), expert_capacity_mode: "dropless" }))]);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain('"expert_capacity_mode": an unknown key that looks architectural');
    expect((await runCli(["plan", "--model", tempFile("gpt2.json", hf("gpt2.json")), "--gpus", "8", "--global-batch", "8", "--top", "1"])).code).toBe(0);
  });
});

// GPT-2's learned position table has n_positions = 1024 rows: 124,439,808 parameters (the
// published count) at any sequence; it was sized by the sequence planned (125.2M at --seq 2048,
// a length the table cannot train).
describe("a config.json with learned positions (GPT-2)", () => {
  const path = tempFile("gpt2.json", hf("gpt2.json"));
  it("counts n_positions rows whatever the sequence, and refuses a longer sequence naming --seq", async () => {
    for (const seq of ["256", "1024"]) {
      const r = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--seq", seq, "--top", "1", "--json", "--simulate-top", "0"]);
      expect(JSON.parse(r.stdout).model.params).toBe(124_439_808);
    }
    const long = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--seq", "2048"]);
    expect(long.code).toBe(2);
    expect(long.stderr.trim()).toBe("paraplan: --seq 2048: gpt2 has a learned position table of 1024 rows (max_position_embeddings / n_positions): it cannot train longer sequences");
  });
});

// A Llama 3 8B file without "mlp" was priced as GELU (6.2B parameters, not 8.0B) with no word.
describe("a paraplan model file that leaves architecture fields to their defaults", () => {
  const llama = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "profiles", "models", "llama3-8b.json"), "utf8"));
  it("says which and the values taken on the assumed line; a complete file and the presets say nothing", async () => {
    const { mlp: _mlp, kvHeads: _kv, ...partial } = llama;
    const r = await runCli(["plan", "--model", tempFile("partial.json", JSON.stringify(partial)), "--top", "1", "--json", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).assumed).toContain("mlp gelu, kvHeads 32 (= heads): the model file leaves them to paraplan's defaults");
    const full = await runCli(["plan", "--model", tempFile("full.json", JSON.stringify(llama)), "--top", "1", "--json", "--simulate-top", "0"]);
    expect(JSON.parse(full.stdout).assumed.join(" ")).not.toContain("defaults");
    const preset = await runCli(["plan", "--model", "gpt3-like", "--top", "1", "--json", "--simulate-top", "0"]);
    expect(JSON.parse(preset.stdout).assumed.join(" ")).not.toContain("defaults");
  });
});

describe("a config.json that leaves architecture keys to its config class's defaults", () => {
  it("says which and the values on the assumed line (Qwen2.5-7B without intermediate_size: Qwen2Config's 22016)", async () => {
    const { intermediate_size: _i, ...partial } = JSON.parse(hf("qwen2.5-7b.json"));
    const r = await runCli(["plan", "--model", tempFile("cut.json", JSON.stringify(partial)), "--gpus", "8", "--global-batch", "8", "--top", "1", "--json", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).assumed).toContain("intermediate_size 22016: cut.json leaves it to Qwen2Config's defaults");
    const full = await runCli(["plan", "--model", tempFile("full.json", hf("qwen2.5-7b.json")), "--gpus", "8", "--global-batch", "8", "--top", "1", "--json", "--simulate-top", "0"]);
    expect(JSON.parse(full.stdout).assumed.join(" ")).not.toContain("defaults");
  });
});

describe("model-file counts beyond their bounds", () => {
  it("layers: 1e12 is exit 2 naming the key and the bound, in well under a second", async () => {
    const path = tempFile("huge.json", JSON.stringify({ name: "huge", layers: 1e12, hidden: 64, heads: 4, vocab: 256, seqLen: 32 }));
    const t0 = Date.now();
    const r = await runCli(["plan", "--model", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('field "layers": must be at most 10,000');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe("a model file of thousands of stray keys", () => {
  it("names the first eight and counts the rest: still one short line", async () => {
    const raw: Record<string, unknown> = { name: "stray", layers: 2, hidden: 64, heads: 4, vocab: 100, seqLen: 32 };
    for (let i = 0; i < 3000; i++) raw[`k${i}`] = 1;
    const r = await runCli(["plan", "--model", tempFile("stray.json", JSON.stringify(raw))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('paraplan: stray.json: unknown field "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7" and 2992 more; remove it or check its spelling');
  });
});

// QA: a width, a vocabulary or a depth under a name none of the lists had ("d_head",
// "padded_vocab_size", "depth") was read as metadata: planned at Qwen2.5-7B's sizes, exit 0.
describe("an unknown key naming a head, a vocabulary or a depth", () => {
  it.each([
    ["d_head", 64, "head"],
    ["padded_vocab_size", 152_064, "vocab"],
    ["depth", 40, "depth"],
  ])("%s is exit 2 naming the key", async (key, value, fragment) => {
    const path = tempFile(`odd-${key}.json`, JSON.stringify({ ...JSON.parse(hf("qwen2.5-7b.json")), [key]: value }));
    const r = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--top", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`paraplan: odd-${key}.json: "${key}": an unknown key that looks architectural (it contains "${fragment}"): paraplan cannot tell whether it changes the work, so it refuses rather than ignore it`);
  });
});
