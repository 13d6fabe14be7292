// Context parallel in the export formats: the flags written for cp 2 and 4 in each exchange and
// cut an engine states, checked against the recorded release lists, and the refusals, each with
// the release, flag or mechanism that rules the variant out.
import { describe, expect, it } from "vitest";
import type { CpComm, Plan, Training } from "../../planner/index.js";
import { MEGATRON_CP_ARGS, megatronCpRefusal, torchtitanCpRefusal } from "../../planner/layout/cp-capabilities.js";
import { ExportRefused, type ExportFormat } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { MEGATRON_RELEASES } from "../../src/engines/megatron.js";
import { parseToml } from "../../src/engines/toml.js";
import { loadEngine } from "../../src/load-engine.js";
import { LLAMA, LLAMA2, argFlags, cpPlan, argValue, h100, model, overrideKeys, recorded, training } from "./helpers.js";

const FIXTURE: Record<string, string> = { "core_r0.14": "megatron-lm-core_r0.14.txt", "core_v0.7": "megatron-lm-core_v0.7.0.txt" };

function refusal(format: ExportFormat, p: Plan, release: string, t: Training = training(), name = LLAMA): string {
  try {
    exportPlan(format, model(name), p, t, h100, { release });
  } catch (e) {
    expect(e).toBeInstanceOf(ExportRefused);
    return (e as Error).message;
  }
  throw new Error(`${format} ${release} exported ${JSON.stringify(p)}`);
}

describe("Megatron-LM", () => {
  it("the table of context-parallel flags per release is what the recorded argument lists hold", () => {
    for (const r of MEGATRON_RELEASES) {
      const names = recorded(FIXTURE[r.id]!);
      expect(MEGATRON_CP_ARGS[r.id], r.id).toEqual({ contextParallelSize: names.has("--context-parallel-size"), cpCommType: names.has("--cp-comm-type") });
    }
    // core_v0.7.0 has the size and not the exchange type (megatron-lm-core_v0.7.0.txt line 227).
    expect(MEGATRON_CP_ARGS["core_v0.7"]).toEqual({ contextParallelSize: true, cpCommType: false });
  });

  const TYPE: Record<CpComm, string> = { ring: "p2p", allgather: "all_gather", a2a: "a2a" };
  for (const cp of [2, 4])
    for (const comm of ["allgather", "ring", "a2a"] as const)
      it(`core_r0.14, cp ${cp} ${comm}: --context-parallel-size ${cp} --cp-comm-type ${TYPE[comm]}, dp ${32 / cp}`, () => {
        const r = exportPlan("megatron", model(LLAMA), cpPlan(cp, comm, "zigzag"), training(), h100, { release: "core_r0.14" });
        const args = r.files[0]!.content;
        expect(argValue(args, "--context-parallel-size")).toBe(String(cp));
        expect(argValue(args, "--cp-comm-type")).toBe(TYPE[comm]);
        expect(argValue(args, "--tensor-model-parallel-size")).toBe("2");
        const names = recorded(FIXTURE["core_r0.14"]!);
        for (const f of argFlags(args)) expect(names.has(f), f).toBe(true);
      });

  it("core_v0.7: the ring (p2p, its only exchange) as --context-parallel-size alone; other exchanges refused naming --cp-comm-type", () => {
    for (const cp of [2, 4]) {
      const args = exportPlan("megatron", model(LLAMA2), cpPlan(cp, "ring", "zigzag"), training(), h100, { release: "core_v0.7" }).files[0]!.content;
      expect(argValue(args, "--context-parallel-size")).toBe(String(cp));
      expect(argValue(args, "--cp-comm-type")).toBeUndefined();
      // pretrain_gpt.py @ core_v0.7.0 asserts context_parallel_size == 1 for the legacy model it
      // builds without --use-mcore-models
      expect(argFlags(args)).toContain("--use-mcore-models");
      for (const f of argFlags(args)) expect(recorded(FIXTURE["core_v0.7"]!).has(f), f).toBe(true);
      for (const comm of ["allgather", "a2a"] as const)
        expect(refusal("megatron", cpPlan(cp, comm, "zigzag"), "core_v0.7", training(), LLAMA2)).toBe(
          `--format megatron: Megatron-LM core_v0.7 has no --cp-comm-type: its context parallel passes K/V around the ring point to point (p2p), not ${comm}; use --release core_r0.14, or a plan with the ring exchange`,
        );
    }
    expect(megatronCpRefusal(cpPlan(2, "a2a", "zigzag"), "core_v0.7")?.code).toBe("megatron_cp_comm");
  });

  it("a contiguous cut is refused in every release: Megatron always cuts zigzag", () => {
    for (const release of ["core_r0.14", "core_v0.7"]) {
      const msg = refusal("megatron", cpPlan(2, "ring", "contiguous"), release, training(), release === "core_v0.7" ? LLAMA2 : LLAMA);
      expect(msg).toContain("gives cp rank r chunks r and 2cp−1−r (get_batch_on_this_cp_rank");
      expect(megatronCpRefusal(cpPlan(2, "ring", "contiguous"), release)?.code).toBe("megatron_cp_split");
    }
  });

  it("unfused attention, a sequence that does not cut into 2·cp chunks, heads that do not split for a2a", () => {
    expect(refusal("megatron", cpPlan(2, "ring", "zigzag"), "core_r0.14", training({ fusedAttention: false }))).toContain("Transformer Engine's flash and fused attention only");
    // 2052 = 4 · 513: cp 2 cuts it into 4 chunks, cp 4 would need 8.
    expect(() => exportPlan("megatron", model(LLAMA), cpPlan(2, "ring", "zigzag"), training({ seqLen: 2052 }), h100)).not.toThrow();
    expect(refusal("megatron", cpPlan(4, "ring", "zigzag"), "core_r0.14", training({ seqLen: 2052 }))).toContain("2·cp = 8 equal chunks; the sequence length 2052 does not divide");
    // Llama 3 70B: 64 query and 8 key/value heads; tp 8 leaves 8 and 1 per rank, which cp 2 cannot split.
    expect(refusal("megatron", cpPlan(2, "a2a", "zigzag", { tp: 8 }), "core_r0.14")).toContain("each tensor-parallel rank's 8 query and 1 key/value heads must split 2 ways");
  });
});

describe("DeepSpeed (Megatron-DeepSpeed Ulysses)", () => {
  const mds = (p: Plan) => exportPlan("deepspeed", model(LLAMA), p, training(), h100);
  it("cp 2 and 4 all-to-all: --ds-sequence-parallel-size, a recorded flag; contiguous exactly, zigzag as its nearest", () => {
    for (const cp of [2, 4]) {
      const exact = mds(cpPlan(cp, "a2a", "contiguous"));
      const args = exact.files.find((f) => f.name === "megatron-deepspeed-args.txt")!.content;
      expect(argValue(args, "--ds-sequence-parallel-size")).toBe(String(cp));
      for (const f of argFlags(args)) expect(recorded("megatron-deepspeed.txt").has(f), f).toBe(true);
      expect(exact.plan.cpSplit).toBe("contiguous");
      const near = mds(cpPlan(cp, "a2a", "zigzag"));
      expect(near.plan).toEqual(cpPlan(cp, "a2a", "contiguous"));
      expect(near.notes.join(" ")).toContain("contiguous part of the sequence (pretrain_gpt.py get_batch)");
    }
  });
  it("the ring and the all-gather exchange are refused: Ulysses is an all-to-all of heads", () => {
    expect(refusal("deepspeed", cpPlan(2, "ring", "zigzag"), "0.16")).toContain("DeepSpeed's context parallel is Ulysses (Megatron-DeepSpeed --ds-sequence-parallel-size");
    expect(refusal("deepspeed", cpPlan(4, "allgather", "zigzag"), "0.16")).toContain("it has no all-gather-K/V attention");
  });
  it("with Megatron's sequence parallel, get_batch cuts by tensor-parallel rank: refused", () => {
    expect(refusal("deepspeed", cpPlan(2, "a2a", "contiguous", { sequenceParallel: true }), "0.16")).toContain("does not combine with Megatron's sequence parallel");
  });
});

describe("torchtitan (torch's ring attention)", () => {
  const titan = (p: Plan, release: string) => exportPlan("torchtitan", model(LLAMA), p, training(), h100, { release });
  it("0.2 TOML: degree and the alltoall rotation, recorded keys; no load-balancer key (torch balances zigzag)", () => {
    for (const cp of [2, 4]) {
      const r = titan(cpPlan(cp, "ring", "zigzag", { tp: 1, zero: 3 }), "0.2");
      const t = parseToml(r.files[0]!.content, "torchtitan.toml") as Record<string, Record<string, unknown>>;
      expect(t.parallelism).toMatchObject({ context_parallel_degree: cp, context_parallel_rotate_method: "alltoall", data_parallel_shard_degree: 64 / cp });
      expect(t.parallelism!.context_parallel_load_balancer).toBeUndefined();
      for (const k of Object.keys(t.parallelism!)) expect(recorded("torchtitan-0.2.txt").has(`parallelism.${k}`), k).toBe(true);
    }
    expect(refusal("torchtitan", cpPlan(2, "ring", "contiguous", { tp: 1, zero: 3 }), "0.2")).toContain("torchtitan 0.2 has no context-parallel load-balancer setting");
    expect(torchtitanCpRefusal(cpPlan(2, "ring", "contiguous"), "0.2")?.code).toBe("torchtitan_cp_split");
  });
  it("main overrides: the load balancer headtail for zigzag, None for contiguous", () => {
    for (const [cp, split, balancer] of [[2, "zigzag", "headtail"], [4, "contiguous", "None"]] as const) {
      const content = titan(cpPlan(cp, "ring", split, { tp: 1, zero: 3 }), "main").files[0]!.content;
      expect(argValue(content, "--parallelism.context_parallel_degree")).toBe(String(cp));
      expect(argValue(content, "--parallelism.context_parallel_rotate_method")).toBe("alltoall");
      expect(argValue(content, "--parallelism.context_parallel_load_balancer")).toBe(balancer);
      for (const k of overrideKeys(content)) expect(recorded("torchtitan-main.txt").has(k), k).toBe(true);
    }
  });
  it("ZeRO-0 with cp: FSDP shards over dp_shard·cp whenever cp > 1, so the nearest is ZeRO-2, said in a note", () => {
    for (const release of ["0.2", "main"]) {
      const r = titan(cpPlan(2, "ring", "zigzag", { tp: 1, zero: 0 }), release);
      expect(r.plan).toEqual(cpPlan(2, "ring", "zigzag", { tp: 1, zero: 2 }));
      expect(r.notes[0]).toContain("the dp_shard_cp mesh");
    }
    // dp 1: cp alone is sharded (ZeRO-3 stays ZeRO-3, resharding after forward).
    const flat = titan(cpPlan(2, "ring", "zigzag", { tp: 8, zero: 3 }), "main").files[0]!.content;
    expect(argValue(flat, "--parallelism.data_parallel_shard_degree")).toBe("4");
    expect(argValue(flat, "--parallelism.fsdp_reshard_after_forward")).toBe("always");
    // Beside a pipeline FSDP2 is ZeRO-1 (never resharded; cp alone sharded at dp 1).
    const piped = titan(cpPlan(2, "ring", "zigzag", { tp: 8, pp: 4, zero: 3 }), "main");
    expect(piped.plan.zero).toBe(1);
    expect(argValue(piped.files[0]!.content, "--parallelism.data_parallel_shard_degree")).toBe("1");
    expect(argValue(piped.files[0]!.content, "--parallelism.fsdp_reshard_after_forward")).toBe("never");
  });
  it("the all-gather exchange is the allgather rotate method (torch's _AllGatherRotater) in every release; all-to-all (Ulysses) is refused", () => {
    const rotate = (content: string, release: string) =>
      release === "main" ? argValue(content, "--parallelism.context_parallel_rotate_method") : (parseToml(content, "torchtitan.toml") as Record<string, Record<string, unknown>>).parallelism!.context_parallel_rotate_method;
    for (const release of ["0.2", "0.2.2", "main"]) {
      const r = titan(cpPlan(2, "allgather", "zigzag", { tp: 1, zero: 3 }), release);
      expect(r.plan.cpComm, release).toBe("allgather");
      expect(rotate(r.files[0]!.content, release), release).toBe("allgather");
      expect(rotate(titan(cpPlan(2, "ring", "zigzag", { tp: 1, zero: 3 }), release).files[0]!.content, release), release).toBe("alltoall");
      expect(refusal("torchtitan", cpPlan(2, "a2a", "zigzag", { tp: 1, zero: 3 }), release)).toContain("it has no all-to-all (Ulysses) attention");
    }
  });
  it("every exchange the torchtitan engines search (supports.contextParallel) is one each release's file states (QA: plan --engine torchtitan ranked all-gather plans the export refused)", () => {
    for (const name of ["torchtitan", "torchtitan-compile"]) {
      const comms = loadEngine(name, undefined).supports!.contextParallel;
      expect(comms, name).toContain("allgather");
      expect(comms, name).not.toContain("a2a");
      for (const comm of comms) for (const release of ["0.2", "0.2.2", "main"]) expect(torchtitanCpRefusal(cpPlan(2, comm, "zigzag"), release), `${name} ${comm} ${release}`).toBeNull();
    }
  });
});

describe("launchers", () => {
  it("torchrun and Slurm hand the worker the plan with cp, its exchange and its cut", () => {
    for (const format of ["torchrun", "slurm"] as const) {
      const p = cpPlan(4, "ring", "contiguous", { tp: 8, zero: 0 });
      const r = exportPlan(format, model(LLAMA), p, training(), h100);
      const spec = JSON.parse(r.files.find((f) => f.name === "launch.json")!.content);
      expect(spec.plan).toEqual(p);
      expect([spec.plan.cp, spec.plan.dp, spec.plan.cpComm, spec.plan.cpSplit]).toEqual([4, 2, "ring", "contiguous"]);
    }
  });
});
