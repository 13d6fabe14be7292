// torchtitan settings that change what paraplan prices and were read silently (QA of the readers):
// parallelism.disable_loss_parallel makes the output layer Replicate() on every tensor-parallel
// rank (torchtitan/models/llama3/infra/parallelize.py:174-175 @ v0.2.0: output_layouts=Shard(-1)
// if loss_parallel else Replicate()), where paraplan prices logits split over tp (planner/cost/
// compute.ts headTimes: (tokens·V)/tp); a float8 recipe_name other than tensorwise
// (job_config.py:656 @ v0.2.0) runs rowwise-scaled kernels paraplan does not price, as the
// Megatron reader refuses --fp8-recipe other than delayed or tensorwise. Both are exit 2 naming the
// key and its line.
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);
const file = fileWriter("torchtitan-loss-fp8");
// tp 2 · dp 8 (FSDP) on 16 GPUs, Llama 3 8B; `model`/`parallelism`/`extra` vary per case.
const job = (o: { model?: string; parallelism?: string; extra?: string } = {}) =>
  file(
    "toml",
    `[model]\nname = "llama3"\nflavor = "8B"\n${o.model ?? ""}\n[training]\nlocal_batch_size = 2\nglobal_batch_size = 512\nseq_len = 8192\n\n[parallelism]\ndata_parallel_shard_degree = 8\ntensor_parallel_degree = 2\n${o.parallelism ?? ""}\n[activation_checkpoint]\nmode = "none"\n${o.extra ?? ""}`,
  );
const base = ["--model", "llama3-8b", "--gpus", "16"];

describe("torchtitan: loss parallel off", () => {
  it("disable_loss_parallel = true is exit 2 naming the key and its line; false (the default) is read", async () => {
    // line 13: [model] 1-3, blank 4 (model ""), [training] 5-8, blank 9, [parallelism] 10-12, then the key
    await refused([...base, "--from", job({ parallelism: "disable_loss_parallel = true\n" })], "parallelism.disable_loss_parallel = true (line 13)", "Replicate()", "logits split over tp");
    const read = await accepted([...base, "--from", job({ parallelism: "disable_loss_parallel = false\n" })]);
    expect(read.from.plan).toMatchObject({ tp: 2, dp: 8 });
    // at tp 1 the output layer is whole on its rank either way: read
    const tp1 = file("toml", `[model]\nname = "llama3"\nflavor = "8B"\n[training]\nlocal_batch_size = 2\nglobal_batch_size = 512\nseq_len = 8192\n[parallelism]\ndata_parallel_shard_degree = 16\ndisable_loss_parallel = true\n[activation_checkpoint]\nmode = "none"\n`);
    expect((await accepted([...base, "--from", tp1])).from.plan).toMatchObject({ tp: 1, dp: 16 });
  });
  it("as a command-line override too", async () => {
    const overrides = file("sh", "torchrun -m torchtitan.train --parallelism.tensor_parallel_degree 2 --parallelism.data_parallel_shard_degree 8 --parallelism.disable_loss_parallel --activation_checkpoint.mode none --training.local_batch_size 2\n");
    await refused([...base, "--from", overrides], "--parallelism.disable_loss_parallel true (line 1)", "Replicate()");
  });
});

describe("torchtitan: float8 recipes", () => {
  it("rowwise and rowwise_with_gw_hp under the float8 converter are exit 2 naming the key; tensorwise is fp8 as priced", async () => {
    const fp8 = 'converters = ["float8"]\n';
    await refused([...base, "--from", job({ model: fp8, extra: '\n[float8]\nrecipe_name = "rowwise"\n' })], 'float8.recipe_name = "rowwise"', "rowwise scaling", "tensorwise");
    await refused([...base, "--from", job({ model: fp8, extra: '\n[quantize.linear.float8]\nrecipe_name = "rowwise_with_gw_hp"\n' })], 'quantize.linear.float8.recipe_name = "rowwise_with_gw_hp"');
    const tensorwise = await accepted([...base, "--from", job({ model: fp8, extra: '\n[quantize.linear.float8]\nrecipe_name = "tensorwise"\n' })]);
    expect(tensorwise.precision).toBe("fp8");
    // without the converter no float8 linear is built: the recipe is inert, the run bf16
    const inert = await accepted([...base, "--from", job({ extra: '\n[quantize.linear.float8]\nrecipe_name = "rowwise"\n' })]);
    expect(inert.precision).toBe("bf16");
  });
});

// QA: torchtitan's fp8 switch before the converters, [float8] enable_float8_linear (2024-07-30,
// 40f79d79f, to 2025-02-15, 57387af0e, which moved the same Float8Handler behind
// model.converters = ["float8"]), was "not a torchtitan setting paraplan knows; ignored" and priced
// bf16. At f6a9daa13 (2024-12-20) it swaps every Linear but "output" for torchao's Float8Linear,
// dynamic tensorwise scaling by default (torchtitan/float8.py): the converter's meaning.
describe("torchtitan: the 2024 [float8] enable_float8_linear switch", () => {
  const switched = (extra = "") => job({ extra: `\n[float8]\nenable_float8_linear = true\n${extra}` });
  it("true is fp8, priced as the float8 converter is, with no unknown-key warning", async () => {
    const old = await accepted([...base, "--from", switched()]);
    expect(old.precision).toBe("fp8");
    expect(old.from.warnings.join("\n")).not.toContain("enable_float8_linear");
    const converter = await accepted([...base, "--from", job({ model: 'converters = ["float8"]\n' })]);
    expect(old.from.plan.tokensPerSecond).toBe(converter.from.plan.tokensPerSecond);
    const off = await accepted([...base, "--from", job({ extra: "\n[float8]\nenable_float8_linear = false\n" })]);
    expect(off.precision).toBe("bf16");
    expect(off.from.plan.tokensPerSecond).not.toBe(old.from.plan.tokensPerSecond);
  });
  it("its delayed scaling (scaling_type_*) and fp8 all-gathers are exit 2 naming the key; dynamic is read", async () => {
    await refused([...base, "--from", switched('scaling_type_weight = "delayed"\n')], 'float8.scaling_type_weight = "delayed"', "dynamic tensorwise");
    await refused([...base, "--from", switched("enable_fsdp_float8_all_gather = true\n")], "float8.enable_fsdp_float8_all_gather = true", "gathers the FSDP parameters in fp8");
    expect((await accepted([...base, "--from", switched('scaling_type_input = "dynamic"\n')])).precision).toBe("fp8");
  });
});
