// torchtitan's mixture-of-experts settings in `plan --from` (src/engines/read-titan-moe.ts): the
// expert tensor parallel degree and the forced round-robin balance are read into the plan, an
// ETP torchtitan asserts against and DualPipeV's all-to-all overlap are exit 2 naming the key.
// The stock torchtitan engine runs no experts (profiles/engines/torchtitan.json, Dec 2024); these
// plans run under a profile that extends it with supports.expertParallel, as a user's would.
import { afterAll, describe, expect, it } from "vitest";
import { removeTemp } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-titan-moe");
const engine = file("json", JSON.stringify({ name: "torchtitan-moe", extends: "torchtitan", description: "torchtitan 0.2 with its MoE models", supports: { expertParallel: { value: true, source: "torchtitan/models/moe @ v0.2.0" } } }));

/** torchtitan's deepseek_v3 "16B" (DeepSeek-V2-Lite's sizes, titan-flavors.ts) on 64 GPUs: FSDP
 *  over the data-parallel ranks, ep 8 borrowing them (v0.2.0 job_config.py Parallelism), full recompute. */
const job = (parallelism: string[], extra = "") =>
  `[model]\nname = "deepseek_v3"\nflavor = "16B"\n\n[training]\nlocal_batch_size = 1\nseq_len = 4096\n${extra}\n[parallelism]\ndata_parallel_shard_degree = -1\nexpert_parallel_degree = 8\n${parallelism.join("\n")}\n\n[activation_checkpoint]\nmode = "full"\n`;
const on = (text: string, more: string[] = [], model = "deepseek-v2-lite") => ["--engine", engine, "--model", model, "--gpus", "64", "--from", file("toml", text), ...more];
type Json = { moeImbalance: number; from: { plan: { ep: number; etp: number; tp: number; tokensPerSecond: number; time: unknown }; notes: string[] } };
const json = async (argv: string[]) => (await accepted(argv)) as unknown as Json;

describe("torchtitan's expert settings", () => {
  it("expert_tensor_parallel_degree = tensor_parallel_degree splits the experts over tp (etp 2), not priced as etp 1; another ETP is exit 2 (parallel_dims.py:58)", async () => {
    const etp1 = await json(on(job(["tensor_parallel_degree = 2"])));
    const etp2 = await json(on(job(["tensor_parallel_degree = 2", "expert_tensor_parallel_degree = 2"])));
    expect([etp1.from.plan.ep, etp1.from.plan.etp]).toEqual([8, 1]);
    expect([etp2.from.plan.ep, etp2.from.plan.etp]).toEqual([8, 2]);
    expect(etp2.from.plan.tokensPerSecond).not.toBe(etp1.from.plan.tokensPerSecond);
    await refused(on(job(["tensor_parallel_degree = 4", "expert_tensor_parallel_degree = 2"])), "expert_tensor_parallel_degree = 2", "with tensor_parallel_degree 4", "ETP = TP or ETP = 1");
  });

  it("the force-load-balance debug option (0.2.0 training.*, 0.2.1+ debug.*) is priced at imbalance 1, the figures --moe-imbalance 1 gives the file without it", async () => {
    const plain = job([]);
    const [p, one] = [await json(on(plain)), await json(on(plain, ["--moe-imbalance", "1"]))];
    expect(p.moeImbalance).toBe(1.25);
    for (const forced of [job([], "debug_moe_force_load_balance = true\n"), `${job([])}\n[debug]\nmoe_force_load_balance = true\n`]) {
      const f = await json(on(forced));
      expect(f.moeImbalance).toBe(1);
      expect(f.from.plan.time).toEqual(one.from.plan.time);
      expect(f.from.notes.join("\n")).toContain("routes tokens round-robin over the experts: priced at expert load imbalance 1");
    }
    // a contradicting --moe-imbalance names the option the file sets
    await refused(on(job([], "debug_moe_force_load_balance = true\n"), ["--moe-imbalance", "2"]), "--moe-imbalance 2 but", "debug_moe_force_load_balance = true", "forces balanced routing (priced at imbalance 1)");
  });

  it("the float8 linear converter beside experts is exit 2: GroupedExperts stay bf16 (Float8LinearConverter swaps nn.Linear only), not priced as fp8 experts", async () => {
    const fp8 = job([]).replace('name = "deepseek_v3"', 'name = "deepseek_v3"\nconverters = ["quantize.linear.float8"]');
    await refused(on(fp8), 'model.converters = ["quantize.linear.float8"] (line 3) converts the linear layers to fp8 but not the routed experts', "which paraplan does not model");
  });

  it("DualPipeV beside pipeline and expert parallel overlaps the all-to-all from 0.2.1 unless the file turns it off: exit 2; false is read", async () => {
    // (4 micro-batches of 1: DualPipeV needs 2·pp)
    const dual = ["pipeline_parallel_degree = 2", 'pipeline_parallel_schedule = "DualPipeV"', "pipeline_parallel_first_stage_less_layers = 0", "pipeline_parallel_last_stage_less_layers = 0", "pipeline_parallel_microbatch_size = 1"];
    // (Mixtral 8x7B's 32 layers cut four equal V stages, DeepSeek-V2-Lite's 27 do not: a job naming
    // no model, as paraplan's export of a model torchtitan does not ship, read as --model)
    const job4 = (parallelism: string[]) => job(parallelism).replace("local_batch_size = 1", "local_batch_size = 4").replace('name = "deepseek_v3"\nflavor = "16B"\n', "");
    const on = (text: string) => ["--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("toml", text)];
    await refused(on(job4(dual)), "DualPipeV with pipeline and expert parallel (pipeline_parallel_expert_parallel_overlap not set: true from torchtitan 0.2.1)", "which paraplan does not model");
    await refused(on(job4([...dual, "pipeline_parallel_expert_parallel_overlap = true"])), "pipeline_parallel_expert_parallel_overlap = true");
    expect((await json(on(job4([...dual, "pipeline_parallel_expert_parallel_overlap = false"])))).from.plan.ep).toBe(8);
  });
});
