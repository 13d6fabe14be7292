// torchtitan main after the recorded @0014ac2c (b5bcd76c, fixtures/torchtitan-main-b5bcd76.txt):
// every key of its configs.py is known or placed (src/engines/titan-release-keys.ts
// TORCHTITAN_MAIN_LATER); async tensor parallel under its new [compile] name is read as before,
// the token-slot batch, CUDA-graph, SPMD-backend and torchcomms settings exit 2 naming the key.
import { afterAll, describe, expect, it } from "vitest";
import { recorded, removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";
import { TORCHTITAN_02_KEYS, TORCHTITAN_MAIN_KEYS } from "../../src/engines/known-keys.js";
import { TORCHTITAN_MAIN_LATER, TORCHTITAN_V022_NEW } from "../../src/engines/titan-release-keys.js";

afterAll(removeTemp);

describe("torchtitan main @b5bcd76c's keys", () => {
  it("the keys no recorded release has are exactly the placed ones", () => {
    const later = recorded("torchtitan-main-b5bcd76.txt");
    const fresh = [...later].filter((k) => !TORCHTITAN_02_KEYS.has(k) && !TORCHTITAN_MAIN_KEYS.has(k) && !Object.hasOwn(TORCHTITAN_V022_NEW, k));
    expect(fresh.sort()).toEqual(Object.keys(TORCHTITAN_MAIN_LATER).sort());
  });
});

const file = fileWriter("torchtitan-main-later");
/** Llama 3 8B on 16 GPUs: shard 8 · tp 2, compiled, 64 sequences of 2048 a step. */
const TP2 = `[model]\nname = "llama3"\nflavor = "8B"\n\n[training]\nlocal_batch_size = 8\nglobal_batch_size = 64\nseq_len = 2048\n\n[parallelism]\ndata_parallel_shard_degree = 8\ntensor_parallel_degree = 2\n\n[activation_checkpoint]\nmode = "full"\n\n[compile]\nenable = true\n`;
type Json = { from: { plan: { tokensPerSecond: number }; warnings: string[] } };
const run = async (toml: string) => (await accepted(["--gpus", "16", "--from", file("toml", toml)])) as unknown as Json;

describe("plan --from a TOML of torchtitan main", () => {
  it("[compile] enable_async_tensor_parallel is read as [parallelism]'s: the same prediction, faster than without", async () => {
    const old = await run(TP2.replace("tensor_parallel_degree = 2\n", "tensor_parallel_degree = 2\nenable_async_tensor_parallel = true\n"));
    const now = await run(TP2 + "enable_async_tensor_parallel = true\n");
    const none = await run(TP2);
    expect(now.from.plan.tokensPerSecond).toBe(old.from.plan.tokensPerSecond);
    expect(now.from.plan.tokensPerSecond).toBeGreaterThan(none.from.plan.tokensPerSecond);
    await refused(["--gpus", "16", "--from", file("toml", TP2.replace("enable = true\n", "enable = false\nenable_async_tensor_parallel = true\n"))], "compile.enable_async_tensor_parallel", "needs torch.compile");
  });
  it("the token-slot batch, CUDA graphs off, another SPMD backend, torchcomms: exit 2 naming the key", async () => {
    await refused(["--gpus", "16", "--from", file("toml", TP2.replace("seq_len = 2048\n", "seq_len = 2048\nnum_tokens_per_train_step = 131072\n"))], "training.num_tokens_per_train_step", "token slots");
    await refused(["--gpus", "16", "--from", file("toml", TP2.replace("seq_len = 2048\n", "seq_len = 2048\ndisable_cuda_graphs = true\n"))], "training.disable_cuda_graphs", "CUDA graphs");
    await refused(["--gpus", "16", "--from", file("toml", TP2.replace("tensor_parallel_degree = 2\n", 'tensor_parallel_degree = 2\nspmd_backend = "dtensor"\n'))], "parallelism.spmd_backend", "SPMD");
    await refused(["--gpus", "16", "--from", file("toml", TP2 + '\n[comm]\nmode = "torchcomms"\n')], "comm.mode", "torchcomms");
  });
  it("debug.spmd_typechecking = false, structured logging: nothing changes", async () => {
    const base = await run(TP2);
    const r = await run(TP2 + "\n[debug]\nspmd_typechecking = false\nenable_structured_logging = false\n");
    expect(r.from.plan.tokensPerSecond).toBe(base.from.plan.tokensPerSecond);
    expect(r.from.warnings).toEqual([]);
  });
});
