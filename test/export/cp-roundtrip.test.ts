// Context parallel read back: every cp plan an engine writes (cp 2 and 4, each exchange and cut it
// states) comes back from its files as the same plan, exchange and cut included (samePlan); what
// the readers assume when a file leaves the exchange or the cut out; and `plan --from` carrying cp.
import { afterAll, describe, expect, it } from "vitest";
import type { CpComm, CpSplit, Plan } from "../../planner/index.js";
import { type ExportFormat, samePlan } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import type { ReadContext } from "../../src/engines/read-config.js";
import { LLAMA, LLAMA2, cli, cpPlan, h100, model, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

const ctx = (name: string): ReadContext => ({ model: model(name), gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });

/** (format, release, model, plan) the engine writes exactly, or as its nearest plan. */
const CASES: [ExportFormat, string, string, Plan][] = [];
for (const cp of [2, 4]) {
  for (const comm of ["allgather", "ring", "a2a"] as CpComm[]) CASES.push(["megatron", "core_r0.14", LLAMA, cpPlan(cp, comm, "zigzag")]);
  CASES.push(["megatron", "core_v0.7", LLAMA2, cpPlan(cp, "ring", "zigzag", { pp: 2 })]);
  for (const split of ["zigzag", "contiguous"] as CpSplit[]) CASES.push(["deepspeed", "0.16", LLAMA, cpPlan(cp, "a2a", split, { zero: 1 })]);
  for (const comm of ["ring", "allgather"] as CpComm[]) {
    CASES.push(["torchtitan", "0.2", LLAMA, cpPlan(cp, comm, "zigzag", { tp: 1, zero: 3 })]);
    CASES.push(["torchtitan", "0.2.2", LLAMA, cpPlan(cp, comm, "zigzag", { tp: 1, zero: 3 })]);
    for (const split of ["zigzag", "contiguous"] as CpSplit[]) CASES.push(["torchtitan", "main", LLAMA, cpPlan(cp, comm, split, { tp: 4, sequenceParallel: true, zero: 2 })]);
  }
  // ZeRO-0: torchtitan shards over cp all the same; its nearest, ZeRO-2, comes back.
  CASES.push(["torchtitan", "main", LLAMA, cpPlan(cp, "ring", "zigzag", { tp: 4, sequenceParallel: true, zero: 0 })]);
}

let n = 0;
function writeAndRead(format: ExportFormat, release: string, name: string, p: Plan) {
  const exported = exportPlan(format, model(name), p, training(), h100, { release });
  const paths = exported.files.map((f) => tempFile(`cp-${n++}-${f.name}`, f.content));
  return { exported, back: readConfigs(paths, ctx(name)) };
}

describe("context parallel round trips", () => {
  for (const [format, release, name, p] of CASES)
    it(`${format} ${release}: cp ${p.cp} ${p.cpComm} ${p.cpSplit}, tp ${p.tp} · pp ${p.pp} · dp ${p.dp}`, () => {
      const { exported, back } = writeAndRead(format, release, name, p);
      expect(back.plan).toEqual(exported.plan);
      expect(samePlan(back.plan, exported.plan)).toBe(true);
      expect([back.plan.cp, back.plan.dp, back.gpus]).toEqual([p.cp, p.dp, 64]);
      expect(back.warnings).toEqual([]);
      // The exchange always stays; only Megatron-DeepSpeed maps a zigzag plan to its contiguous cut.
      expect([exported.plan.cp, exported.plan.cpComm, exported.plan.cpSplit]).toEqual([p.cp, p.cpComm, format === "deepspeed" ? "contiguous" : p.cpSplit]);
    });
  it("covers every written variant: Megatron's three exchanges, DeepSpeed's a2a, torchtitan's ring and all-gather, both cuts", () => {
    const seen = new Set(CASES.map(([f, , , p]) => `${f} ${p.cpComm} ${p.cpSplit}`));
    expect(seen.size).toBe(3 + 2 + 4);
  });
});

describe("what a file leaves out", () => {
  const read = (file: string, text: string, name = LLAMA) => readConfigs([tempFile(file, text)], ctx(name));
  const llama = "--num-layers 80 --hidden-size 8192 --ffn-hidden-size 28672 --num-attention-heads 64 --group-query-attention --num-query-groups 8 --swiglu --position-embedding-type rope --rotary-base 500000 --normalization RMSNorm --attention-dropout 0 --hidden-dropout 0 --untie-embeddings-and-output-weights --seq-length 8192 --bf16 --micro-batch-size 1 --global-batch-size 512\n";
  it("Megatron-LM without --cp-comm-type runs p2p: the ring, zigzag; dp = 64 / (tp 8 · cp 4) = 2", () => {
    const r = read("cp-default.txt", llama + "--tensor-model-parallel-size 8 --context-parallel-size 4");
    expect(r.plan).toMatchObject({ tp: 8, cp: 4, dp: 2, cpComm: "ring", cpSplit: "zigzag" });
  });
  it("--context-parallel-size 1 is no context parallel: no exchange or cut in the plan", () => {
    const r = read("cp-one.txt", llama + "--tensor-model-parallel-size 8 --context-parallel-size 1 --cp-comm-type a2a");
    expect(r.plan.cp).toBe(1);
    expect("cpComm" in r.plan || "cpSplit" in r.plan).toBe(false);
  });
  it("--cp-comm-type per layer (nargs='+'; TransformerConfig asserts one type per layer, 80 here): one type throughout is that type; mixed types or another length exit 2 naming it", () => {
    const cp = (types: string[], text = llama) => read(`cp-list-${n++}.txt`, text + `--tensor-model-parallel-size 8 --context-parallel-size 4 --cp-comm-type ${types.join(" ")}`);
    const times = (k: number, t: string) => Array<string>(k).fill(t);
    expect(cp(["a2a"]).plan).toMatchObject({ cp: 4, cpComm: "a2a", cpSplit: "zigzag" });
    expect(cp(times(80, "a2a")).plan).toEqual(cp(["a2a"]).plan);
    expect(cp(times(80, "all_gather")).plan).toMatchObject({ cp: 4, cpComm: "allgather" });
    expect(() => cp(["p2p", "a2a"])).toThrow(/--cp-comm-type p2p a2a \(line 2\) gives 2 types for 80 layers: Megatron asserts one type, or one per layer/);
    expect(() => cp(times(79, "a2a"))).toThrow("gives 79 types for 80 layers");
    expect(() => cp([...times(40, "p2p"), ...times(40, "a2a")])).toThrow("mixes exchanges per layer (p2p, a2a), which paraplan does not model");
    // A file without --num-layers is checked against the model's layers (llama3-70b: 80).
    const noLayers = llama.replace("--num-layers 80 ", "");
    expect(cp(times(80, "p2p"), noLayers).plan).toMatchObject({ cp: 4, cpComm: "ring" });
    expect(() => cp(times(32, "p2p"), noLayers)).toThrow("gives 32 types for 80 layers");
    // Any a2a+p2p in the list is the hierarchical exchange.
    expect(() => cp([...times(79, "a2a"), "a2a+p2p"])).toThrow("hierarchical context parallel");
  });
  it("Megatron-DeepSpeed: --ds-sequence-parallel-size is Ulysses (a2a, contiguous); Megatron-LM's --context-parallel-size is refused by name", () => {
    const ds = tempFile("cp-ds.json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, train_batch_size: 512, zero_optimization: { stage: 1 }, bf16: { enabled: true } }));
    const mds = (extra: string) => readConfigs([ds, tempFile(`cp-mds-${n++}.txt`, `--tensor-model-parallel-size 4 --micro-batch-size 1 --global-batch-size 512 ${extra}`)], ctx(LLAMA));
    expect(mds("--ds-sequence-parallel-size 4").plan).toMatchObject({ tp: 4, cp: 4, dp: 4, cpComm: "a2a", cpSplit: "contiguous" });
    expect(() => mds("--context-parallel-size 4")).toThrow("--context-parallel-size is Megatron-LM's; Megatron-DeepSpeed's context parallel is --ds-sequence-parallel-size");
  });
  it("torchtitan: the default allgather rotation is the all-gather exchange, alltoall the ring; main's default balancer is headtail (zigzag), None contiguous", () => {
    const r = read("cp.toml", "[parallelism]\ncontext_parallel_degree = 4\ndata_parallel_shard_degree = -1\n[activation_checkpoint]\nmode = \"full\"\n");
    expect(r.plan).toMatchObject({ cp: 4, dp: 16, cpComm: "allgather", cpSplit: "zigzag" });
    const ring = read("cp-a2a.toml", "[parallelism]\ncontext_parallel_degree = 4\ncontext_parallel_rotate_method = \"alltoall\"\ndata_parallel_shard_degree = -1\n[activation_checkpoint]\nmode = \"full\"\n");
    expect(ring.plan).toMatchObject({ cp: 4, cpComm: "ring" });
    const none = read("cp-overrides.txt", "--parallelism.context_parallel_degree 2 --parallelism.context_parallel_load_balancer None --parallelism.context_parallel_rotate_method alltoall\n");
    expect(none.plan).toMatchObject({ cp: 2, dp: 32, cpComm: "ring", cpSplit: "contiguous" });
  });
  it('torchtitan TOML: context_parallel_load_balancer = "None" is the string torchtitan v0.2.2 refuses at the first step (manager.py:180, context_parallel.py:207-211), exit 2 naming the key, not a contiguous split', async () => {
    const text = "[parallelism]\ncontext_parallel_degree = 4\ndata_parallel_shard_degree = -1\ncontext_parallel_load_balancer = \"None\"\n[activation_checkpoint]\nmode = \"full\"\n";
    expect(() => read("cp-none.toml", text)).toThrow('cp-none.toml: parallelism.context_parallel_load_balancer = "None" (line 4): torchtitan keeps the TOML string "None" as a string');
    // "headtail" in the same place is read (zigzag): the refusal is the word None's, not the key's.
    expect(read("cp-headtail.toml", text.replace('"None"', '"headtail"')).plan).toMatchObject({ cp: 4, cpSplit: "zigzag" });
    const r = await cli(["plan", "--model", LLAMA, "--gpus", "64", "--from", tempFile("cp-none-cli.toml", text)]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain("parallelism.context_parallel_load_balancer");
    expect(r.errLines[0]).toContain("Invalid load_balancer_type 'None'");
  });
});

describe("plan --engine torchtitan, then export --format torchtitan", () => {
  it("the all-gather plans the search ranks are written with rotate method allgather (they were refused), and read back as ranked", async () => {
    const args = ["--model", "llama3-8b", "--seq", "131072", "--gpus", "64", "--engine", "torchtitan"];
    const j = JSON.parse((await cli(["plan", ...args, "--json", "--top", "5", "--simulate-top", "0"])).stdout);
    const gathered = (j.plans as Plan[]).filter((p) => p.cp > 1 && p.cpComm === "allgather");
    expect(gathered.length).toBeGreaterThan(0);
    const p = gathered[0]!;
    for (const release of ["0.2.2", "main"]) {
      const r = await cli(["export", "--format", "torchtitan", "--release", release, ...args, "--plan", tempFile(`titan-ag-${release}.json`, JSON.stringify(p))]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(release === "main" ? /--parallelism\.context_parallel_rotate_method allgather/ : /context_parallel_rotate_method = "allgather"/);
    }
  }, 120_000);
});

describe("paraplan plan --from", () => {
  it("a Megatron-LM file with cp 2 all_gather is evaluated as that plan and its comparison names cp", async () => {
    const p = cpPlan(2, "allgather", "zigzag", { tp: 8 });
    const args = exportPlan("megatron", model(LLAMA), p, training(), h100).files[0]!;
    const path = tempFile("cp-from.txt", args.content);
    const r = await cli(["plan", "--model", LLAMA, "--gpus", "64", "--from", path, "--json"]);
    expect(r.stderr).toBe("");
    const from = JSON.parse(r.stdout).from;
    expect(from.plan).toMatchObject({ tp: 8, cp: 2, dp: 4 });
    // The exported file's header and the text comparison name the exchange and the cut.
    expect(args.content).toContain("# plan: tp 8 · cp 2 (K/V all-gather, zig-zag) · pp 1 · dp 4 · ZeRO-1");
    const text = await cli(["plan", "--model", LLAMA, "--gpus", "64", "--from", path]);
    expect(text.stdout).toContain("(megatron): tp 8 · cp 2 (K/V all-gather, zig-zag) · pp 1 · dp 4 · ZeRO-1 · micro-batch 1 · no recompute");
  });

  it("paraplan export --plan with cp: written for core_r0.14; core_v0.7 refuses the all-gather exchange in one line, exit 2", async () => {
    // (full recompute: without it the plan needs more than an H100's memory, which export refuses)
    const p = cpPlan(2, "allgather", "zigzag", { tp: 8, recompute: "full" });
    const planFile = tempFile("cp-plan.json", JSON.stringify(p));
    const ok = await cli(["export", "--format", "megatron", "--model", LLAMA, "--gpus", "64", "--plan", planFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("\n--context-parallel-size 2\n--cp-comm-type all_gather\n");
    const old = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", LLAMA2, "--gpus", "64", "--plan", planFile]);
    expect(old.code).toBe(2);
    expect(old.errLines).toEqual([
      "paraplan: --format megatron: Megatron-LM core_v0.7 has no --cp-comm-type: its context parallel passes K/V around the ring point to point (p2p), not allgather; use --release core_r0.14, or a plan with the ring exchange",
    ]);
  });
});
