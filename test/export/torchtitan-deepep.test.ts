// torchtitan's DeepEP backend (parallelism.expert_parallel_comm_backend = "deepep", v0.2.1+):
// `plan --from` reads it as the deepep dispatcher where torchtitan v0.2.2 runs DeepEP as paraplan
// prices it (src/engines/read-titan-deepep.ts), and refuses it by key where torchtitan raises or
// runs something else (the exports: export-deepep.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("torchtitan-deepep");
const supportsEp = { expertParallel: { value: true, source: "torchtitan/models/moe @ v0.2.2" } };
const engine = file("json", JSON.stringify({ name: "torchtitan-moe", extends: "torchtitan", description: "torchtitan with its MoE models", supports: supportsEp }));
const deepepEngine = file("json", JSON.stringify({ name: "torchtitan-deepep", extends: "torchtitan", description: "torchtitan with DeepEP", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "job_config.py:474 @ v0.2.2" } } }));

/** Qwen3-30B-A3B's sizes (128 experts, top-8, no shared experts) in a job naming no model (a
 *  registry entry of the user's, read as --model) on 32 GPUs of dgx-h100 (4 nodes of 8): FSDP over
 *  32, ep 16 over 2 nodes, full recompute. */
const job = (backend: string, parallelism: string[] = [], model = "") =>
  `${model}[training]\nlocal_batch_size = 2\nglobal_batch_size = 64\nseq_len = 4096\n\n[parallelism]\ndata_parallel_shard_degree = -1\nexpert_parallel_degree = 16\nexpert_parallel_comm_backend = "${backend}"\n${parallelism.join("\n")}\n\n[activation_checkpoint]\nmode = "full"\n`;
const on = (text: string, eng = engine, model = "qwen3-30b-a3b") => ["--engine", eng, "--model", model, "--gpus", "32", "--from", file("toml", text)];
type Json = { from: { plan: { tokensPerSecond: number; time: { epComm: number } }; notes: string[] } };
const json = async (argv: string[]) => (await accepted(argv)) as unknown as Json;

describe("plan --from a torchtitan TOML with expert_parallel_comm_backend", () => {
  it('"deepep" is the deepep dispatcher: the figures of an engine file with moe.dispatcher deepep, the ep all-to-all at (N−1)·P(hit)/k over (n − local)/n of the standard one', async () => {
    const deep = await json(on(job("deepep")));
    const standard = await json(on(job("standard")));
    const viaEngine = await json(on(job("standard"), deepepEngine));
    expect(deep.from.plan.tokensPerSecond).toBe(viaEngine.from.plan.tokensPerSecond);
    expect(deep.from.notes.join("\n")).toContain('expert_parallel_comm_backend = "deepep" (line 9): DeepEP\'s dispatch');
    // ep 16 over N = 2 nodes, k = 8: (2 − 1)·(1 − (1/2)^8)/8 = 0.12451 of the buffer on the NIC
    // against the standard all-to-all's (16 − 8)/16 = 0.5; the NVLink fan-out, 7/8 at 450 GB/s,
    // is below 0.12451 at 50 GB/s: 0.24902 of the bandwidth time, which the latency terms
    // ((n − 1)·α in both) lift a little (priced as the standard one: 1)
    const ratio = deep.from.plan.time.epComm / standard.from.plan.time.epComm;
    expect(ratio).toBeGreaterThan(0.249);
    expect(ratio).toBeLessThan(0.28);
  });

  it("deepseek_v3's DeepEP MoE runs the shared experts beside the combine in the forward: the engine's moe.sharedExpertOverlap, as an engine file stating it prices the run", async () => {
    // deepseek_v3 "16B" (DeepSeek-V2-Lite's sizes, 2 shared experts), ep 16 over 2 nodes
    const v3 = (backend: string) => job(backend, [], '[model]\nname = "deepseek_v3"\nflavor = "16B"\n\n');
    const deep = await json(on(v3("deepep"), engine, "deepseek-v2-lite"));
    expect(deep.from.notes.join("\n")).toContain("deepseek-v2-lite's shared experts beside its combine in the forward (moe/moe_deepep.py:69-77 @ v0.2.2)");
    const overlapEngine = file("json", JSON.stringify({ name: "torchtitan-deepep-shared", extends: "torchtitan", description: "torchtitan's DeepEP MoE", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "job_config.py:474 @ v0.2.2" }, sharedExpertOverlap: { value: { dispatch: "none", combine: "all", backward: false }, source: "moe/moe_deepep.py:69-77 @ v0.2.2" } } }));
    expect(deep.from.plan.tokensPerSecond).toBe((await json(on(v3("standard"), overlapEngine, "deepseek-v2-lite"))).from.plan.tokensPerSecond);
    // Faster than DeepEP with the shared experts after the routed ones, by at most the combine of
    // the forward and its recompute: under full recompute 2 of a layer's 3 passes, each half of
    // the pass's all-to-all (dispatch and combine both 16-bit over the same link), so at most
    // 2/3 · 1/2 = 1/3 of the all-to-all time hides; the backward's as before.
    const after = await json(on(v3("standard"), deepepEngine, "deepseek-v2-lite"));
    expect(deep.from.plan.time.epComm).toBeLessThan(after.from.plan.time.epComm);
    expect(deep.from.plan.time.epComm).toBeGreaterThanOrEqual((after.from.plan.time.epComm * 2) / 3);
  });

  it("qwen3, whose parallelize never reads it, runs (and is priced with) the standard all-to-all, said in a note", async () => {
    const standard = await json(on(job("standard")));
    const named = await json(on(job("deepep", [], '[model]\nname = "qwen3"\nflavor = "30B-A3B"\n\n')));
    expect(named.from.plan.tokensPerSecond).toBe(standard.from.plan.tokensPerSecond);
    expect(named.from.notes.join("\n")).toContain("torchtitan never reads expert_parallel_comm_backend for qwen3");
  });

  it("exit 2 naming the key where torchtitan v0.2.2 raises or runs other than paraplan prices", async () => {
    const key = 'parallelism.expert_parallel_comm_backend = "deepep" (line 9)';
    await refused(on(job("deepep").replace("expert_parallel_degree = 16", "expert_parallel_degree = 1")), key, "DeepEP requires expert parallelism", "parallelize.py:100-106 @ v0.2.2");
    await refused(on(job("deepep", ["tensor_parallel_degree = 2", "expert_tensor_parallel_degree = 2"])), key, "with expert_tensor_parallel_degree 2", "not supported yet");
    await refused(on(job("deepep", ["tensor_parallel_degree = 2"])), key, "with tensor_parallel_degree 2", "moe/moe_deepep.py:37");
    await refused(on(job("hybridep")), 'expert_parallel_comm_backend = "hybridep" (line 9)', 'is not "standard" or "deepep"');
  });
});
