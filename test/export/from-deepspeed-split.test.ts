// `plan --from` of Megatron-DeepSpeed's pipeline split (src/engines/deepspeed-partition.ts): the
// split DeepSpeed's PipelineModule balances by itself, by the partition_balanced of the DeepSpeed
// the files run on — ≤ 0.12.4's bottleneck search or 0.12.5's smallest spread (deepspeed/runtime/
// utils.py:583-621 @ v0.16.0). paraplan's export states 0.16 in its header and reads back as
// written; a file that does not state its version is exit 2 where the two rules differ, naming the
// engine file's supports.stageSplit that states it. The 0.16 splits below are DeepSpeed v0.16.0's
// partition_balanced / partition_uniform run under Python on the same weights; the ≤ 0.12.4 ones
// DeepSpeed v0.12.4's (and by hand where ⌈units/p⌉ a stage from the first holds).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-ds-split");
/** An engine file extending megatron-deepspeed that states the user's DeepSpeed by its split. */
const engine = (split: string) => ["--engine", file("json", JSON.stringify({ name: `mds-${split}`, extends: "megatron-deepspeed", supports: { stageSplit: { value: split, source: "test: the user's DeepSpeed" } } }))];
const OLD = engine("first-heavy");
const NEW = engine("min-spread");

/** `export --format deepspeed` of the model on 96 GPUs at pp: its two files and predicted tokens/s. */
async function exported(model: string, pp: number): Promise<{ ds: string; args: string; tokens: number; stdout: string }> {
  const out = join(tempDir(), `ds-split-${model}-${pp}`);
  const e = await cli(["export", "--format", "deepspeed", "--model", model, "--gpus", "96", "--pp", String(pp), "--out", out]);
  expect(e.code, e.stderr).toBe(0);
  const tokens = Number(/predicted ([\d,]+) tokens\/s/.exec(e.stdout)![1]!.replace(/,/g, ""));
  return { ds: join(out, "ds_config.json"), args: join(out, "megatron-deepspeed-args.txt"), tokens, stdout: e.stdout };
}

describe("paraplan's DeepSpeed 0.16 export reads back as written", () => {
  // 32 layers on 12 stages: 0.16 [3 × 8, 2 × 4]; ≤ 0.12.4 [3 × 10, 2, 0]. 80 on 6: 0.16 [14, 14, 13 × 4]; ≤ 0.12.4 [14 × 5, 10].
  for (const [model, pp, split] of [["llama3-8b", 12, [3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2]], ["llama2-70b", 6, [14, 14, 13, 13, 13, 13]]] as const)
    it(`${model} pp ${pp}: stage layers ${split.join(",")} both ways, at the export's tokens/s; the header is what states 0.16`, async () => {
      const e = await exported(model, pp);
      expect(e.stdout).toContain(`pp ${pp} (stage layers`);
      const r = await accepted(["--model", model, "--gpus", "96", "--from", e.ds, "--from", e.args]);
      expect(r.from.plan).toMatchObject({ pp, stageLayers: [...split] });
      expect(Math.round(r.from.plan.tokensPerSecond as number)).toBe(e.tokens);
      expect(r.from.notes.join("\n")).toContain(`as ${split.join(",")} layers (DeepSpeed 0.12.5 and later's partition_balanced over GPTModelPipe's ${split.reduce((a, b) => a + b, 0) + 5} specs, as the file's header names DeepSpeed 0.16+)`);
      // The header wins over an --engine file's split: the files say which DeepSpeed they are for.
      expect((await accepted([...OLD, "--model", model, "--gpus", "96", "--from", e.ds, "--from", e.args])).from.plan).toMatchObject({ stageLayers: [...split] });
      // Without the header nothing states the version, and the two rules differ: exit 2 naming the key.
      const bare = join(tempDir(), `ds-split-bare-${model}.txt`);
      writeFileSync(bare, readFileSync(e.args, "utf8").split("\n").filter((l) => !l.startsWith("#")).join("\n"));
      await refused(["--model", model, "--gpus", "96", "--from", e.ds, "--from", bare], `and as ${split.join(",")} under DeepSpeed 0.12.5 and later's partition_balanced`, "the files do not state the DeepSpeed version", '--engine FILE', 'supports.stageSplit "first-heavy" (DeepSpeed ≤ 0.12.4) or "min-spread" (0.12.5 and later)');
      expect((await accepted([...NEW, "--model", model, "--gpus", "96", "--from", e.ds, "--from", bare])).from.plan).toMatchObject({ stageLayers: [...split] });
    });

  it("stated ≤ 0.12.4, the header-less llama3-8b file is DeepSpeed's 3 × 10, 2, 0: refused for the empty stage", async () => {
    const e = await exported("llama3-8b", 12);
    const bare = join(tempDir(), "ds-split-bare-old.txt");
    writeFileSync(bare, readFileSync(e.args, "utf8").replace(/^#.*\n/gm, ""));
    await refused([...OLD, "--model", "llama3-8b", "--gpus", "96", "--from", e.ds, "--from", bare], "as 3,3,3,3,3,3,3,3,3,3,2,0 (DeepSpeed ≤ 0.12.4's partition_balanced over GPTModelPipe's 39 specs, as --engine", "leaving stage 11 without a transformer layer");
  });
});

describe("Megatron-DeepSpeed scripts (bigscience's --pp-partition-method)", () => {
  // BLOOM's own script (bigscience tr11-176B-ml.slurm): 70 layers on 12 stages by
  // --pp-partition-method 'type:transformer|embedding' was refused as "12 does not divide 70".
  it("bigscience's --pp-partition-method type:transformer|embedding is the split DeepSpeed balances: 70 layers and 2 embeddings on 12 stages, 5,6×10,5", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 2048, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const model = file("json", JSON.stringify({ name: "bloom-like", layers: 70, hidden: 14336, heads: 112, vocab: 250880, seqLen: 2048, positional: "alibi", mlp: "gelu", kvHeads: 112, ffnHidden: 57344, tiedEmbeddings: true }));
    const mds = (method: string) => file("txt", `--tensor-model-parallel-size 4\n--pipeline-model-parallel-size 12\n--num-layers 70\n--micro-batch-size 2\n--bf16\n--position-embedding-type alibi\n--pp-partition-method '${method}'\n`);
    const r = await accepted([...OLD, "--model", model, "--gpus", "384", "--from", ds, "--from", mds("type:transformer|embedding")]);
    expect(r.from.plan).toMatchObject({ tp: 4, pp: 12, dp: 8, stageLayers: [5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5] });
    await refused([...OLD, "--model", model, "--gpus", "384", "--from", ds, "--from", mds("profile")], "--pp-partition-method profile", "balances the stages by its own measure");
  });

  // "parameters" weighs GPTModelPipe's specs by their parameters on one tensor-parallel rank
  // (planner/layout/gpt-model-pipe.ts); each split as DeepSpeed v0.12.4's partition_balanced gives
  // it for those weights, run under Python.
  it("bigscience's --pp-partition-method parameters: BLOOM's 70 layers on 12 stages 5, 6 × 10, 5; a 24-layer GPT with learned positions on 4 stages 5, 7, 7, 5", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 2048, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const model = file("json", JSON.stringify({ name: "bloom-like", layers: 70, hidden: 14336, heads: 112, vocab: 250880, seqLen: 2048, positional: "alibi", mlp: "gelu", kvHeads: 112, ffnHidden: 57344, tiedEmbeddings: true }));
    const mds = file("txt", "--tensor-model-parallel-size 4\n--pipeline-model-parallel-size 12\n--num-layers 70\n--micro-batch-size 2\n--bf16\n--position-embedding-type alibi\n--embed-layernorm\n--pp-partition-method 'parameters'\n");
    const r = await accepted([...OLD, "--model", model, "--gpus", "384", "--from", ds, "--from", mds]);
    expect(r.from.plan).toMatchObject({ tp: 4, pp: 12, dp: 8, stageLayers: [5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5] });
    // the embedding (250,880 / 4) · 14,336 at each end; a layer (12h² + 7h)/4 + 6h
    expect(r.from.notes.join("\n")).toContain("(the embedding 899,153,920 at each end, a layer 616,673,792; vocabulary 250,880 padded) over 12 stages as 5,6,6,6,6,6,6,6,6,6,6,5 layers");
    const gpt = file("json", JSON.stringify({ name: "gpt-1b", layers: 24, hidden: 2048, heads: 16, vocab: 50257, seqLen: 2048, positional: "learned", mlp: "gelu", kvHeads: 16, ffnHidden: 8192, tiedEmbeddings: true }));
    const gptArgs = (pp: number) => file("txt", `--tensor-model-parallel-size 1\n--pipeline-model-parallel-size ${pp}\n--num-layers 24\n--hidden-size 2048\n--num-attention-heads 16\n--max-position-embeddings 2048\n--seq-length 2048\n--micro-batch-size 2\n--bf16\n--pp-partition-method parameters\n`);
    const small = file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    // 50,257 padded to 50,304 (a multiple of 128); 2,048 position rows
    const four = await accepted([...OLD, "--model", gpt, "--gpus", "32", "--from", small, "--from", gptArgs(4)]);
    expect(four.from.plan).toMatchObject({ pp: 4, stageLayers: [5, 7, 7, 5] });
    expect(four.from.notes.join("\n")).toContain("vocabulary 50,304 padded");
    // On 8 stages the balance leaves the last without a layer: 1, 4, 4, 4, 4, 4, 3, 0.
    await refused([...OLD, "--model", gpt, "--gpus", "64", "--from", small, "--from", gptArgs(8)], "as 1,4,4,4,4,4,3,0", "leaving stage 7 without a transformer layer");
  });

  // DeepSpeed ≤ 0.12.4's partition_balanced over unit weights (planner/layout/gpt-model-pipe.ts);
  // each split as DeepSpeed v0.12.4's own function gives it, and worked by hand where ⌈units/p⌉ a
  // stage from the first holds.
  it("a split DeepSpeed balances unevenly is read as DeepSpeed makes it, said in the notes; one that leaves a stage without a layer is refused", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 2048, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const bloom = (layers: number) => file("json", JSON.stringify({ name: "bloom-like", layers, hidden: 14336, heads: 112, vocab: 250880, seqLen: 2048, positional: "alibi", mlp: "gelu", kvHeads: 112, ffnHidden: 57344, tiedEmbeddings: true }));
    const mds = (layers: number, pp: number, method?: string) =>
      file("txt", `--tensor-model-parallel-size 4\n--pipeline-model-parallel-size ${pp}\n--num-layers ${layers}\n--micro-batch-size 2\n--bf16\n--position-embedding-type alibi\n${method ? `--pp-partition-method '${method}'\n` : ""}`);
    // No flag: GPTModelPipe's type:transformer. 70 layers on 12: ⌈70/12⌉ = 6 on eleven stages, 4 on the last.
    const plain = await accepted([...OLD, "--model", bloom(70), "--gpus", "384", "--from", ds, "--from", mds(70, 12)]);
    expect(plain.from.plan).toMatchObject({ pp: 12, stageLayers: [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4] });
    expect(plain.from.notes.join("\n")).toContain("the default partition_method type:transformer splits 70 layers over 12 stages as 6,6,6,6,6,6,6,6,6,6,6,4 layers");
    // type:transformer|embedding, 126 layers and 2 tied embeddings on 12: ⌈128/12⌉ = 11 units on eleven stages, 7 on the last;
    // the first and the last stage each give one unit to an embedding: 10, 11 × 10, 6.
    const emb = await accepted([...OLD, "--model", bloom(126), "--gpus", "384", "--from", ds, "--from", mds(126, 12, "type:transformer|embedding")]);
    expect(emb.from.plan).toMatchObject({ stageLayers: [10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 6] });
    // uniform: partition_uniform over GPTModelPipe's 70 + 7 items, ⌊77/12⌋ = 6 a stage and 11 on the last;
    // the layers are items 3…72: 3, 6 × 10, 7.
    const uniform = await accepted([...OLD, "--model", bloom(70), "--gpus", "384", "--from", ds, "--from", mds(70, 12, "uniform")]);
    expect(uniform.from.plan).toMatchObject({ stageLayers: [3, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7] });
    expect(uniform.from.notes.join("\n")).toContain("partition_uniform: ⌊77/12⌋ items a stage, the rest on the last");
    // 9 layers on 4 stages: 3, 3, 3 and none.
    await refused([...OLD, "--model", bloom(9), "--gpus", "128", "--from", ds, "--from", mds(9, 4)], "the default partition_method type:transformer balances 9 layers over 4 stages as 3,3,3,0", "leaving stage 3 without a transformer layer");
  });

  it("where the rules differ, 0.12.5 on splits by the smallest spread: 70 on 12 [6 × 10, 5, 5], 9 on 4 [3, 2, 2, 2], uniform [4, 7 × 4, 6 × 6, 2], 126 and 2 embeddings [10, 11 × 7, 10 × 3, 9]", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 2048, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const bloom = (layers: number) => file("json", JSON.stringify({ name: "bloom-like", layers, hidden: 14336, heads: 112, vocab: 250880, seqLen: 2048, positional: "alibi", mlp: "gelu", kvHeads: 112, ffnHidden: 57344, tiedEmbeddings: true }));
    const mds = (layers: number, pp: number, method?: string) =>
      file("txt", `--tensor-model-parallel-size 4\n--pipeline-model-parallel-size ${pp}\n--num-layers ${layers}\n--micro-batch-size 2\n--bf16\n--position-embedding-type alibi\n${method ? `--pp-partition-method '${method}'\n` : ""}`);
    const read = async (layers: number, pp: number, method?: string) => (await accepted([...NEW, "--model", bloom(layers), "--gpus", String(32 * pp), "--from", ds, "--from", mds(layers, pp, method)])).from;
    // (no flag: deepspeedai's GPTModelPipe, L + 5 specs; with the flag bigscience's, L + 7)
    expect((await read(70, 12)).plan.stageLayers).toEqual([6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5]);
    expect((await read(9, 4)).plan.stageLayers).toEqual([3, 2, 2, 2]);
    const uniform = await read(70, 12, "uniform");
    expect(uniform.plan.stageLayers).toEqual([4, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 2]);
    expect(uniform.notes.join("\n")).toContain("DeepSpeed 0.10.1 and later's partition_uniform: ⌊77/12⌋ items a stage, the first 5 one more");
    expect((await read(126, 12, "type:transformer|embedding")).plan.stageLayers).toEqual([10, 11, 11, 11, 11, 11, 11, 11, 10, 10, 10, 9]);
    // Unstated, each is exit 2 naming both splits.
    await refused(["--model", bloom(70), "--gpus", "384", "--from", ds, "--from", mds(70, 12, "uniform")], "as 3,6,6,6,6,6,6,6,6,6,6,7 under DeepSpeed ≤ 0.10.0's partition_uniform", "as 4,7,7,7,7,6,6,6,6,6,6,2 under DeepSpeed 0.10.1 and later's partition_uniform", "supports.stageSplit");
    // A split both rules make needs no version: BLOOM's 70 layers and 2 embeddings, 5, 6 × 10, 5.
    const both = await accepted(["--model", bloom(70), "--gpus", "384", "--from", ds, "--from", mds(70, 12, "type:transformer|embedding")]);
    expect(both.from.plan).toMatchObject({ stageLayers: [5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5] });
    expect(both.from.notes.join("\n")).toContain("as 5,6,6,6,6,6,6,6,6,6,6,5 layers (DeepSpeed ≤ 0.12.4's partition_balanced over GPTModelPipe's 77 specs; DeepSpeed 0.12.5 and later's the same)");
  });

  it("parameters under 0.12.5 on: the 24-layer GPT on 8 stages is 1, 4, 4, 4, 4, 3, 3, 1 (≤ 0.12.4: 1, 4, 4, 4, 4, 4, 3, 0, refused)", async () => {
    const gpt = file("json", JSON.stringify({ name: "gpt-1b", layers: 24, hidden: 2048, heads: 16, vocab: 50257, seqLen: 2048, positional: "learned", mlp: "gelu", kvHeads: 16, ffnHidden: 8192, tiedEmbeddings: true }));
    const args = file("txt", "--tensor-model-parallel-size 1\n--pipeline-model-parallel-size 8\n--num-layers 24\n--hidden-size 2048\n--num-attention-heads 16\n--max-position-embeddings 2048\n--seq-length 2048\n--micro-batch-size 2\n--bf16\n--pp-partition-method parameters\n");
    const small = file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 2, bf16: { enabled: true }, zero_optimization: { stage: 1 } }));
    const r = await accepted([...NEW, "--model", gpt, "--gpus", "64", "--from", small, "--from", args]);
    expect(r.from.plan).toMatchObject({ pp: 8, stageLayers: [1, 4, 4, 4, 4, 3, 3, 1] });
    await refused(["--model", gpt, "--gpus", "64", "--from", small, "--from", args], "as 1,4,4,4,4,4,3,0 under DeepSpeed ≤ 0.12.4's partition_balanced and as 1,4,4,4,4,3,3,1 under DeepSpeed 0.12.5 and later's", "supports.stageSplit");
  });
});
