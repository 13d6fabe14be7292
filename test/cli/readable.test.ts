// What `plan` says when nothing is valid, and how it prints absurd values (issue 17: "every
// input answered truly"), in-process through main().
import { afterAll, describe, expect, it } from "vitest";
import { compact, count, gib, percent } from "../../src/format/units.js";
import { removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

describe("nothing valid: the message names what to change", () => {
  // 97 is prime: tp 1 (97 heads do not divide 96), pp 1 (97 > 96 layers), so dp 97, which does
  // not divide the global batch 1536. Nothing was fixed, so nothing is to relax. (On nodes of one
  // GPU: 97 GPUs are not whole 8-GPU nodes, which is refused first.)
  it("--gpus 97 suggests --global-batch, a multiple of 97, not relaxing fixed dimensions", async () => {
    const oneGpuNodes = tempFile("one-gpu-nodes.json", JSON.stringify({ name: "one-gpu-nodes", extends: "dgx-h100", node: { gpusPerNode: { value: 1, source: "test: nodes of one GPU" } } }));
    const r = await runCli(["plan", "--model", "gpt3-like", "--gpus", "97", "--profile", oneGpuNodes]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("Relax the fixed dimensions");
    expect(r.stderr).toContain("--global-batch");
    expect(r.stderr).toMatch(/multiple of 97\b/);
    expect(r.stderr).toContain("1,552"); // the nearest multiple of 97 above 1536
  });

  // A partial node was planned as a whole one ("22 nodes × 3" for 64 GPUs on 3-GPU nodes).
  it("--gpus beyond one node that is not whole nodes: exit 2 naming --gpus and the node size", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "12"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--gpus.*12 is not a whole number of dgx-h100's 8-GPU nodes.*use 8 or 16/);
    // one node or less stays a plan
    expect((await runCli(["plan", "--model", "llama3-8b", "--gpus", "4", "--simulate-top", "0"])).code).toBe(0);
  });

  it("with a fixed dimension it still says to relax it", async () => {
    const r = await runCli(["plan", "--model", "gpt3-like", "--gpus", "1024", "--dp", "1024"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--dp|fixed/);
  });

  it("a fixed tp whose groups straddle GB200 NVL72 racks names the domain, not the 4-GPU tray", async () => {
    // 1,152 GPUs = 16 racks of 72; tp 16 groups tile blocks of 16, and 72 / 16 = 4.5: the group of
    // ranks 64–79 holds 8 GPUs of rack 0 and 8 of rack 1. tp 16 is not larger than the domain.
    const r = await runCli(["plan", "--model", "gpt3-175b", "--profile", "gb200-nvl72", "--gpus", "1152", "--global-batch", "1152", "--tp", "16"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("[tp_spans_nodes]: tp 16 groups would cross the boundaries of 72-GPU NVLink domains (tensor parallel stays inside an NVLink domain). Relax the fixed dimensions.");
    expect(r.stderr).not.toContain("larger than the GPUs in a node");
  });

  it("--gpus 1000000 lists no reason with a count of 0", async () => {
    const r = await runCli(["plan", "--model", "gpt3-like", "--gpus", "1000000"]);
    expect(r.code).toBe(1);
    const all = `${r.stdout}\n${r.stderr}`;
    expect(all).toContain("[batch_dp]");
    expect(all).not.toMatch(/(^|[;:] )0 [a-z]/m);
    const json = JSON.parse((await runCli(["plan", "--model", "gpt3-like", "--gpus", "1000000", "--json"])).stdout);
    for (const [code, n] of Object.entries(json.rejected as Record<string, number>)) expect(n, code).toBeGreaterThan(0);
  });
});

describe("absurd values print readably", () => {
  it("compact: thousands separators above 999 of the largest unit, scientific beyond a million", async () => {
    expect(compact(175e9)).toBe("175B");
    expect(compact(1.3e9)).toBe("1.3B");
    expect(compact(24e15)).toBe("24,000T");
    expect(compact(2.4e31)).toBe("2.4e31");
    expect(compact(13194139547e12)).toBe("1.3e22");
  });

  it("compact: a figure that rounds to 1,000 of a unit is 1.0 of the next (QA: Gemma 3 1B read \"1,000M parameters\")", async () => {
    expect(compact(999_885_952)).toBe("1.0B");
    expect(compact(999_960)).toBe("1.0M");
    expect(compact(999.6)).toBe("1.0k");
    expect(compact(-999.6e6)).toBe("-1.0B");
    expect(compact(99.96e6)).toBe("100M");
    expect(compact(999.96e12)).toBe("1,000T");
    expect(compact(124_439_808)).toBe("124M");
    const gemma = tempFile("gemma3-1b.json", JSON.stringify({ model_type: "gemma3_text", head_dim: 256, hidden_activation: "gelu_pytorch_tanh", hidden_size: 1152, intermediate_size: 6912, max_position_embeddings: 32768, num_attention_heads: 4, num_hidden_layers: 26, num_key_value_heads: 1, rms_norm_eps: 1e-6, rope_theta: 1000000, sliding_window: 512, sliding_window_pattern: 6, vocab_size: 262144 }));
    const r = await runCli(["plan", "--model", gemma, "--gpus", "8", "--top", "1", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^gemma3_text \(1\.0B parameters\)/);
  });

  it("gib, percent and count keep separators", async () => {
    expect(gib(3406246413 * 2 ** 30)).toBe("3,406,246,413 GiB");
    expect(percent(42766540.117)).toBe("4,276,654,011.7%");
    expect(count(1e6)).toBe("1,000,000");
  });

  it("the plan header separates GPU and node counts and scales the parameters", async () => {
    const model = tempFile(
      "huge.json",
      // At the model-file bounds (layers 10,000, hidden 1,048,576: README "Inputs"; a larger
      // hidden is refused since the bounds landed): 12·L·h² ≈ 1.3e17 parameters.
      JSON.stringify({ name: "huge", layers: 10000, hidden: 1048576, heads: 8, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true, globalBatch: 8 }),
    );
    const r = await runCli(["plan", "--model", model, "--gpus", "1000000", "--global-batch", "1000000", "--pp", "1000", "--tp", "8"]);
    expect(r.code).toBe(1);
    const head = r.stdout.split("\n")[0]!;
    expect(head).toContain("(131,942T parameters)");
    expect(head).toContain("1,000,000 × H100");
    expect(head).toContain("125,000 nodes");
    expect(r.stderr).not.toMatch(/\d{5,}/); // every long number has separators
  });
});

describe("ZeRO with dp = 1", () => {
  it("the table lists distinct plans: no two rows differ only in the ZeRO stage", async () => {
    const j = JSON.parse((await runCli(["plan", "--model", "tiny", "--gpus", "1", "--json"])).stdout);
    const keys = j.plans.map((p: Record<string, unknown>) => ["tp", "pp", "dp", "vpp", "microBatch", "recompute", "sequenceParallel", "schedule"].map((k) => p[k]).join(","));
    expect(keys.length).toBe(10);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("--zero 2 with dp 1 evaluates, and the output says ZeRO has nothing to shard", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--gpus", "1", "--zero", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ZeRO-2");
    expect(r.stdout).toMatch(/ZeRO-2 with dp 1: nothing to shard/);
  });

  it("with context parallel ZeRO shards over the cp ranks: dp 1 · cp 2 gets no such note", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "16", "--seq", "32768", "--global-batch", "2", "--tp", "8", "--cp", "2", "--dp", "1", "--zero", "1", "--top", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/best plan: tp 8 · cp 2 .*· dp 1 · ZeRO-1/);
    expect(r.stdout).not.toMatch(/nothing to shard/);
  });
});

describe("a CPU plan's small figures are shown, not rounded to 0", () => {
  // QA: plan --profile cpu --model tiny printed "0 model TFLOP/s per GPU, MFU 14.6%" and a
  // TFLOP/s/GPU column of 0, beside "weights 0.00 GiB + gradients 0.00 GiB"; the interactive
  // planner's detail already said GFLOP/s and KiB (ui/core/detail.ts, now shared from units.ts).
  it("the rate in GFLOP/s and the column to three figures; the memory parts in KiB or MiB", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--simulate-top", "0", "--top", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout).plans[0];
    expect(p.tflopsPerGpu).toBeGreaterThan(1e-3);
    expect(p.tflopsPerGpu).toBeLessThan(1);
    const t = await runCli(["plan", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--simulate-top", "0", "--top", "1"]);
    // three significant figures of the same figure --json gives, in GFLOP/s on the line and TFLOP/s in the column
    const g = Number((p.tflopsPerGpu * 1e3).toPrecision(3));
    expect(t.stdout).toContain(`${g} model GFLOP/s per GPU, MFU ${percent(p.mfu)}`);
    expect(t.stdout).toMatch(new RegExp(` ${String(Number(p.tflopsPerGpu.toPrecision(3))).replace(".", "\\.")}  +${percent(p.mfu).replace(".", "\\.")}\\n`));
    expect(t.stdout).not.toMatch(/ 0 model TFLOP\/s|0\.00 GiB/);
    // the weights: below 1 MiB, in KiB to one decimal (bytes / 1024)
    expect(t.stdout).toContain(`weights ${(p.memory.weights / 1024).toFixed(1)} KiB + `);
    expect(p.memory.weights).toBeLessThan(2 ** 20);
  });
  it("a GPU's stays whole TFLOP/s with separators", async () => {
    const t = await runCli(["plan", "--model", "llama3-70b", "--profile", "gb200-nvl72", "--gpus", "64", "--simulate-top", "0", "--top", "1"]);
    expect(t.stdout).toMatch(/ \d,\d{3} model TFLOP\/s per GPU/);
  });
});
