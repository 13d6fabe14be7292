// torchtitan trains in 16 bits beside tensor or pipeline parallel only under FSDP (maybe_enable_amp,
// torchtitan/distributed/utils.py: "Mixed precision training with TP or PP is only supported when
// FSDP/HSDP/CP is enabled", else fp32), and its 2024 job files named the local batch
// training.batch_size. QA found both priced wrong: a tp 8 job without FSDP as bf16, and
// torchtitan's own llama3_8b.toml at the default local batch 8 (global 512, not 64).
import { afterAll, describe, expect, it } from "vitest";
import { search } from "../../planner/search.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { cli, removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);
const file = fileWriter("torchtitan-precision");
const job = (parallelism: string, training = "local_batch_size = 1\nseq_len = 8192") =>
  file("toml", `[model]\nname = "llama3"\nflavor = "8B"\n\n[training]\n${training}\n\n[activation_checkpoint]\nmode = "full"\n\n[parallelism]\n${parallelism}\n`);

describe("torchtitan without FSDP beside TP or PP", () => {
  it("a job file is exit 2 naming the degree; with the data-parallel ranks sharded (or context parallel) it is read", async () => {
    await refused(["--model", "llama3-8b", "--gpus", "8", "--from", job("data_parallel_shard_degree = 1\ntensor_parallel_degree = 8")], "tensor_parallel_degree 8 without FSDP", "trains in fp32");
    await refused(["--model", "llama3-8b", "--gpus", "16", "--from", job("data_parallel_replicate_degree = 2\ndata_parallel_shard_degree = 1\npipeline_parallel_degree = 8")], "pipeline_parallel_degree 8 without FSDP");
    const sharded = await accepted(["--model", "llama3-8b", "--gpus", "16", "--from", job("data_parallel_shard_degree = 2\ntensor_parallel_degree = 8")]);
    expect(sharded.from.plan).toMatchObject({ tp: 8, dp: 2, zero: 3 });
    // DDP alone runs under torch.autocast: read as ZeRO-0
    expect((await accepted(["--model", "llama3-8b", "--gpus", "8", "--from", job("data_parallel_replicate_degree = 8\ndata_parallel_shard_degree = 1")])).from.plan).toMatchObject({ tp: 1, dp: 8, zero: 0 });
  });
  it("the search leaves ZeRO-0 out beside tp or pp, and tp filling every GPU is exit 2; export refuses such a plan", async () => {
    const t = { gpus: 64, globalBatch: 128, seqLen: 2048, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true, engine: loadEngine("torchtitan") };
    const all = search(preset("gpt3-1.3b"), hardware("dgx-h100"), t, {}, { top: 5, keepAll: true }).all!;
    expect(all.some((p) => p.tp > 1)).toBe(true);
    expect(all.filter((p) => p.tp > 1 || p.pp > 1).every((p) => p.zero !== 0)).toBe(true);
    expect(all.some((p) => p.tp === 1 && p.pp === 1 && p.zero === 0)).toBe(true);
    // the worker (paraplan) runs autocast under tp: ZeRO-0 beside tp is searched there
    const worker = search(preset("gpt3-1.3b"), hardware("dgx-h100"), { ...t, engine: loadEngine("paraplan") }, {}, { top: 5, keepAll: true }).all!;
    expect(worker.some((p) => p.tp > 1 && p.zero === 0)).toBe(true);
    const tp8 = await cli(["plan", "--engine", "torchtitan", "--model", "llama3-8b", "--gpus", "8", "--tp", "8", "--global-batch", "16"]);
    expect(tp8.code).toBe(2);
    expect(tp8.stderr).toContain("--tp: tp 8 · pp 1 takes all 8 GPUs, leaving no data-parallel rank for FSDP");
    const exp = await cli(["export", "--format", "torchtitan", "--model", "llama3-8b", "--gpus", "8", "--tp", "8", "--global-batch", "16"]);
    expect(exp.code).toBe(2);
    expect(exp.stderr).toContain("leaving no data-parallel rank for FSDP");
  });
});

describe("torchtitan of 2024: training.batch_size is the local batch", () => {
  it("llama3_8b.toml's batch_size 1 on 64 GPUs is global batch 64, as local_batch_size 1; both, disagreeing, contradict", async () => {
    const older = await accepted(["--model", "llama3-8b", "--gpus", "64", "--from", job("data_parallel_shard_degree = -1", "batch_size = 1\nseq_len = 8192")]);
    const newer = await accepted(["--model", "llama3-8b", "--gpus", "64", "--from", job("data_parallel_shard_degree = -1")]);
    expect(older.from.plan).toMatchObject({ microBatch: 1, dp: 64 });
    expect(older.from.plan).toEqual(newer.from.plan);
    expect(older.from.warnings.join("\n")).not.toContain("batch_size");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", job("data_parallel_shard_degree = -1", "batch_size = 2\nlocal_batch_size = 1")], "training.batch_size = 2", "contradict");
  });
});
