// torchtitan v0.2.1 / v0.2.2 TOML keys (src/engines/titan-release-keys.ts): every key of
// fixtures/torchtitan-v0.2.2.txt is known; the new ones are placed with a reason or refused; a TOML
// file with a key of v0.2.1 or later is read as that release, whose trainer frees the last pipeline
// stage's logits (train.py return_outputs=False @ v0.2.1), and one without stays v0.2.0's.
import { afterAll, describe, expect, it } from "vitest";
import { recorded, removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";
import { TORCHTITAN_02_KEYS, TORCHTITAN_MAIN_KEYS } from "../../src/engines/known-keys.js";
import { TORCHTITAN_020_ONLY, TORCHTITAN_AFTER_020, TORCHTITAN_V022_NEW } from "../../src/engines/titan-release-keys.js";

afterAll(removeTemp);

describe("torchtitan v0.2.2's keys", () => {
  const v022 = recorded("torchtitan-v0.2.2.txt");
  const v020 = recorded("torchtitan-0.2.txt");
  it("every key is known; the 11 new ones each have a reason or a refusal, and are v0.2.2's", () => {
    expect(v022.size).toBe(149);
    const fresh = [...v022].filter((k) => !TORCHTITAN_02_KEYS.has(k) && !TORCHTITAN_MAIN_KEYS.has(k));
    expect(fresh.sort()).toEqual(Object.keys(TORCHTITAN_V022_NEW).sort());
    expect(fresh.length).toBe(11);
  });
  it("the keys that date a file are exactly v0.2.2's less v0.2.0's, and the other way round", () => {
    expect([...TORCHTITAN_AFTER_020].sort()).toEqual([...v022].filter((k) => !v020.has(k)).sort());
    expect([...TORCHTITAN_020_ONLY].sort()).toEqual([...v020].filter((k) => !v022.has(k)).sort());
  });
});

const file = fileWriter("torchtitan-v022");
/** Llama 3 8B (the llama3 "8B" flavor) on 16 GPUs: shard 4 · tp 2 · pp 2, full recompute, 64
 *  sequences of 2048 a step: 16 a data-parallel rank, 16 micro-batches of 1 (the pipeline's default). */
const PP2 = `[model]\nname = "llama3"\nflavor = "8B"\n\n[training]\nlocal_batch_size = 16\nglobal_batch_size = 64\nseq_len = 2048\n\n[parallelism]\ndata_parallel_shard_degree = 4\ntensor_parallel_degree = 2\npipeline_parallel_degree = 2\n\n[activation_checkpoint]\nmode = "full"\n`;
const PP1 = PP2.replace("local_batch_size = 16", "local_batch_size = 8").replace("data_parallel_shard_degree = 4", "data_parallel_shard_degree = 8").replace("pipeline_parallel_degree = 2", "pipeline_parallel_degree = 1");
type Json = { from: { plan: { tokensPerSecond: number; memory: { total: number } }; notes: string[]; warnings: string[] } };
const run = async (toml: string) => (await accepted(["--gpus", "16", "--from", file("toml", toml)])) as unknown as Json;

describe("plan --from a v0.2.2 TOML job", () => {
  it("a new data-loader key without a pipeline: no warning, the same prediction", async () => {
    const base = await run(PP1);
    const r = await run(PP1 + "\n[training.dataloader]\nnum_workers = 4\npin_memory = true\n\n[job]\nsave_config_file = \"config.json\"\n");
    expect(r.from.warnings).toEqual([]);
    expect(r.from.plan.tokensPerSecond).toBe(base.from.plan.tokensPerSecond);
    expect(r.from.plan.memory.total).toBe(base.from.plan.memory.total);
  });
  it("beside a pipeline the key dates the file v0.2.1+: the last stage frees its logits, the same step time", async () => {
    const v020 = await run(PP2);
    const v022 = await run(PP2 + "\n[training.dataloader]\nnum_workers = 4\n");
    expect(v022.from.plan.tokensPerSecond).toBe(v020.from.plan.tokensPerSecond);
    // v0.2.0 keeps 16 micro-batches of 2048 × 128,256/2 bf16 logits on the last stage, 2 B each:
    // 16 × 2048 × 64,128 × 2 = 4,202,692,608 bytes that v0.2.1 frees
    expect(v020.from.plan.memory.total - v022.from.plan.memory.total).toBeGreaterThanOrEqual(16 * 2048 * 64_128 * 2);
  });
  it("the DeepEP backend on a model without experts changes nothing, said (torchtitan-deepep.test.ts: with experts); a fake communication backend: exit 2 naming the key", async () => {
    const deepep = await run(PP1.replace("[parallelism]\n", '[parallelism]\nexpert_parallel_comm_backend = "deepep"\n'));
    expect(deepep.from.plan.tokensPerSecond).toBe((await run(PP1)).from.plan.tokensPerSecond);
    expect(deepep.from.notes.join("\n")).toContain('expert_parallel_comm_backend = "deepep" (line 11): no effect on llama3-8b, which has no experts');
    expect((await run(PP1.replace("[parallelism]\n", '[parallelism]\nexpert_parallel_comm_backend = "standard"\n'))).from.warnings).toEqual([]);
    await refused(["--gpus", "16", "--from", file("toml", PP1 + '\n[comm]\nmode = "fake_backend"\n')], "comm.mode", "runs no real collectives");
  });
  it("a file mixing v0.2.0's [training] seed with v0.2.1's [training.dataloader] is told", async () => {
    const r = await run(PP1.replace("seq_len = 2048\n", "seq_len = 2048\nseed = 7\n") + "\n[training.dataloader]\nnum_workers = 2\n");
    expect(r.from.warnings).toEqual([expect.stringContaining("training.dataloader.num_workers is a torchtitan v0.2.1-or-later key and training.seed one v0.2.1 removed")]);
  });
});
