// What an engine puts on the wire and how fast it moves, and a power-capped part's kernels, each
// against a hand computation: Megatron-LM reduces bf16 runs' gradients in fp32
// (megatron/training/arguments.py accumulate_allreduce_grads_in_fp32), torchtitan's FSDP2
// reduce-scatters in fp32 (mixed_precision_reduce), llm-foundry's PURE FSDP and 2021's fp16 stacks
// in 16 bits; DeepSpeed 2021's ZeRO-3 collectives run at a share of the link's rate; torchtitan's
// async TP is --tp-comm-overlap on the compiled engine; a 500 W H100 runs an engine's attention
// kernel at the clock it sustains (planner/power.ts).
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { attentionEfficiency } from "../../planner/cost/engine-terms.js";
import { allReduceTime, callTime } from "../../planner/cost/collectives.js";
import { simulate } from "../../planner/sim/simulate.js";
import { stepTime } from "../../planner/cost/time.js";
import { microBatchCosts, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import { wireOf } from "../../planner/wire/wire.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { cli, removeTemp, tempFile } from "../export/helpers.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string) => loadEngine(name, undefined);
const h100 = hardware("dgx-h100");
const plan: Plan = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const m = preset("gpt3-1.3b");
const training = (name: string, overrides: { gradReduceInBf16?: boolean; gradReduceInFp32?: boolean } = {}): Training => ({
  gpus: 8, globalBatch: 8, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: false, engine: withOverrides(engine(name), overrides),
});

afterAll(removeTemp);

describe("bytes per gradient element on the wire", () => {
  it("each built-in engine states it: fp32 for Megatron-Core (bf16), torchtitan and the worker; 16 bits for 2021's fp16 stacks and PURE FSDP", () => {
    const bytes = Object.fromEntries(["megatron-core", "megatron-2021", "megatron-deepspeed", "fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"].map((n) => [n, engine(n).dataParallel.gradReduceBytes]));
    expect(bytes).toEqual({ "megatron-core": 4, "megatron-2021": 2, "megatron-deepspeed": 2, fsdp: 2, torchtitan: 4, "torchtitan-compile": 4, paraplan: 4, "paraplan-compile": 4 });
  });

  it("DDP after the backward: the exposed all-reduce moves 4 bytes a parameter, 2 with --grad-reduce-in-bf16; PURE FSDP's 2, 4 with --grad-reduce-in-fp32", () => {
    // One node of 8: the all-reduce of Ψ·bytes on NVLink (NVLS, the tuner's choice on DGX H100),
    // nothing else in dpComm.
    const psi = stageParamsPerGpu(m, 2048, 1, 1, m.layers, "only");
    const links = wireLinks(h100, place(h100, { tp: 1, cp: 1, dp: 8, pp: 1, ep: 1, etp: 1 }));
    const cases = [
      [training("megatron-core"), 4],
      [training("megatron-core", { gradReduceInBf16: true }), 2],
      [training("fsdp"), 2],
      // llm-foundry's mixed_precision DEFAULT (reduce_dtype fp32), as 136 MPT calibration rows ran.
      [training("fsdp", { gradReduceInFp32: true }), 4],
      [training("megatron-core", { gradReduceInFp32: true }), 4],
    ] as const;
    for (const [t, bytes] of cases) {
      const grads = wireOf(m, t, plan, links).find((i) => i.id === "dp-gradients")!;
      expect(grads.bytes).toBe(bytes * psi);
      const time = stepTime(m, h100, t, plan, microBatchCosts(m, h100, t, plan));
      expect(time.dpComm).toBeCloseTo(allReduceTime(bytes * psi, 8, links.dp.link), 12);
      expect(time.dpComm).toBeCloseTo(25e-6 + (bytes * psi) / (450e9 * 0.61), 12);
    }
  });
});

describe("a power-capped part runs an engine's kernel at its sustained clock", () => {
  it("torchtitan's H100 attention figure × ∛(500/700) on the 500 W H100, as is on the 700 W one", () => {
    const tt = engine("torchtitan");
    const capped = hardware("h100-96g-500w");
    const figure = tt.attention.efficiency.H100!;
    expect(attentionEfficiency(h100, tt)).toBe(figure);
    expect(attentionEfficiency(capped, tt)).toBeCloseTo(figure * Math.cbrt(500 / 700), 12);
    // The profile's own figure (no engine entry) comes derated at parse already, once.
    expect(attentionEfficiency(capped, undefined)).toBe(capped.attentionEfficiency);
  });
});

describe("the CLI: --grad-reduce-in-bf16, --from and the exports", () => {
  it("plan --json names the bytes; the flag halves them and the header says so", async () => {
    const base = ["plan", "--model", "gpt3-1.3b", "--gpus", "16", "--top", "1"];
    const fp32 = JSON.parse((await cli([...base, "--json"])).stdout);
    const bf16 = JSON.parse((await cli([...base, "--json", "--grad-reduce-in-bf16"])).stdout);
    expect(fp32.gradReduceBytes).toBe(4);
    expect(bf16.gradReduceBytes).toBe(2);
    expect((await cli([...base, "--grad-reduce-in-bf16"])).stdout).toContain("engine megatron-core (default; 16-bit gradients)");
    expect((await cli([...base, "--engine", "fsdp", "--grad-reduce-in-bf16"])).stdout).toContain("16-bit gradients, as the engine keeps them");
  });

  it("Megatron: the export writes --grad-reduce-in-bf16 and --from reads it", async () => {
    const out = (await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16", "--grad-reduce-in-bf16"])).stdout;
    expect(out).toContain("--grad-reduce-in-bf16");
    expect((await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16"])).stdout).not.toContain("--grad-reduce-in-bf16");
    // core_v0.7 cannot say it: exit 2 naming the flag, not an export that reduces fp32 gradients.
    const old = await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16", "--release", "core_v0.7", "--grad-reduce-in-bf16"]);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("--grad-reduce-in-bf16: Megatron-LM core_v0.7 has no such flag");
    const script = tempFile("bf16-reduce.sh", out);
    const read = JSON.parse((await cli(["plan", "--model", "gpt3-1.3b", "--from", script, "--json"])).stdout);
    expect(read.gradReduceBytes).toBe(2);
  });

  it("torchtitan: mixed_precision_reduce is Literal[\"float32\"] in every release, so --grad-reduce-in-bf16 is exit 2 and the reader refuses bfloat16", async () => {
    for (const release of ["0.2", "main"]) {
      const r = await cli(["export", "--format", "torchtitan", "--release", release, "--model", "llama3-8b", "--gpus", "8", "--grad-reduce-in-bf16"]);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(/^paraplan: --format torchtitan: --grad-reduce-in-bf16: torchtitan's training\.mixed_precision_reduce takes "float32" only/)]);
    }
    const out = (await cli(["export", "--format", "torchtitan", "--model", "llama3-8b", "--gpus", "8"])).stdout;
    expect(out).toMatch(/mixed_precision_reduce = "float32"/);
    const toml = tempFile("reduce.toml", out);
    const read = JSON.parse((await cli(["plan", "--model", "llama3-8b", "--from", toml, "--json"])).stdout);
    expect(read.gradReduceBytes).toBe(4);
    for (const dtype of ["bfloat16", "float16"]) {
      const bad = tempFile(`bad-reduce-${dtype}.toml`, out.replace('mixed_precision_reduce = "float32"', `mixed_precision_reduce = "${dtype}"`));
      const r = await cli(["plan", "--model", "llama3-8b", "--from", bad]);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(new RegExp(`training\\.mixed_precision_reduce = "${dtype}" \\(line \\d+\\): torchtitan takes "float32" only`))]);
    }
    expect(readFileSync(toml, "utf8")).toContain("[training]");
  });
});

describe("DeepSpeed 2021's ZeRO-3 collectives at a share of the link's rate", () => {
  const deepspeed = engine("megatron-deepspeed");
  const z3: Plan = { ...plan, dp: 16, zero: 3, recompute: "full" };
  const t = (share: number): Training => ({
    gpus: 16, globalBatch: 16, seqLen: 2048, precision: "fp16", fusedAttention: false, overlapGradReduce: false,
    engine: { ...deepspeed, dataParallel: { ...deepspeed.dataParallel, zero3BandwidthShare: share } },
  });
  const hw = hardware("dgx-a100-80g");
  const links = wireLinks(hw, place(hw, { tp: 1, cp: 1, dp: 16, pp: 1, ep: 1, etp: 1 }));

  it("every ZeRO-3 item crosses the dp link at share × its bandwidth, latency unchanged; other plans keep the link", () => {
    const share = deepspeed.dataParallel.zero3BandwidthShare;
    expect(share).toBeLessThan(1);
    const items = wireOf(m, t(share), z3, links).filter((i) => i.group === "dp");
    // (gpt3-1.3b's layers are within DeepSpeed's reuse distance: no re-gather after the recompute)
    expect(items.map((i) => i.id).sort()).toEqual(["zero3-gather-backward", "zero3-gather-forward", "zero3-reduce-scatter"]);
    for (const i of items) {
      expect(i.link.bandwidth).toBeCloseTo(links.dp.link.bandwidth * share, 3);
      expect(i.link.latency).toBe(links.dp.link.latency);
    }
    const zero1 = wireOf(m, t(share), { ...z3, zero: 1 }, links).filter((i) => i.group === "dp");
    for (const i of zero1) expect(i.link).toBe(links.dp.link);
  });

  it("halving the share doubles the bandwidth part of the exposed communication, in the closed form and the simulation", () => {
    const time = (share: number) => stepTime(m, hw, t(share), z3, microBatchCosts(m, hw, t(share), z3));
    const sim = (share: number) => simulate(m, hw, t(share), z3).step;
    expect(time(0.5).dpComm).toBeGreaterThan(time(1).dpComm);
    expect(sim(0.5)).toBeGreaterThan(sim(1));
    // The exposed gathers' bytes at rate B: (n−1)/n·M/B; at B/2 twice that, latency unchanged.
    const gather = (share: number) => wireOf(m, t(share), z3, links).find((i) => i.id === "zero3-gather-forward")!;
    const bw = (share: number) => callTime(gather(share)) - callTime({ ...gather(share), link: { ...gather(share).link, bandwidth: Infinity } });
    expect(bw(0.5)).toBeCloseTo(2 * bw(1), 9);
  });
});

describe("torchtitan's async TP is --tp-comm-overlap on the compiled engine", () => {
  it("accepted on torchtitan-compile (sequence-parallel plans only), refused on eager torchtitan", async () => {
    const ok = await cli(["plan", "--model", "llama3-70b", "--gpus", "64", "--engine", "torchtitan-compile", "--tp", "8", "--tp-comm-overlap", "--json", "--simulate-top", "0"]);
    const j = JSON.parse(ok.stdout);
    expect([j.engine, j.tpCommOverlap]).toEqual(["torchtitan-compile", true]);
    expect(j.plans.every((p: { sequenceParallel: boolean }) => p.sequenceParallel)).toBe(true);
    const eager = await cli(["plan", "--model", "llama3-70b", "--gpus", "64", "--engine", "torchtitan", "--tp-comm-overlap"]);
    expect(eager.code).toBe(2);
    expect(eager.errLines).toEqual([expect.stringMatching(/^paraplan: --tp-comm-overlap: the torchtitan engine has no tensor-parallel communication overlap/)]);
  });
});

describe("routed experts' gradients travel at the engine's type too", () => {
  it("Mixtral 8×7B, ep 8 · dp 16 (edp 2), ZeRO-1: the expert reduce-scatter moves twice the gathered weights' bytes, as many with 16-bit gradients", () => {
    const mix = preset("mixtral-8x7b");
    const p: Plan = { ...plan, dp: 16, ep: 8, zero: 1 };
    const links = wireLinks(h100, place(h100, { tp: 1, cp: 1, dp: 16, pp: 1, ep: 8, etp: 1 }));
    const t = (overrides: { gradReduceInBf16?: boolean }): Training => ({ gpus: 16, globalBatch: 16, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: withOverrides(engine("megatron-core"), overrides) });
    const pair = (w: ReturnType<typeof wireOf>) => [w.find((i) => i.id === "edp-gradients")!, w.find((i) => i.id === "edp-weights")!] as const;
    const [g32, w32] = pair(wireOf(mix, t({}), p, links));
    expect(g32.bytes).toBe(2 * w32.bytes);
    expect(g32.worldBytes).toBe(2 * w32.worldBytes);
    const [g16, w16] = pair(wireOf(mix, t({ gradReduceInBf16: true }), p, links));
    expect(g16.bytes).toBe(w16.bytes);
  });
});
