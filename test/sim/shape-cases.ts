// Plans covering every recipe of planner/sim/infos.ts — passes (whole and split backwards, runs of
// layers), the optimizer, sends, dense and expert collectives at ZeRO-0 to 3 (buckets, gathers
// ahead, per-layer), the tied embedding — as their simulation costs, shared by the tests that play
// the same graph two ways (reuse.test.ts, stage-sums.test.ts).
import { buildSimCosts, type SimCosts } from "../../planner/sim/costs.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

export const h100 = hardware("dgx-h100");
export const engine = (name: string) => loadEngine(name, undefined);
export const t = (gpus: number, extra: Partial<Training> = {}): Training => ({ gpus, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...extra });
export const base: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
export const gpt = preset("gpt3-1.3b"); // tied embeddings: an all-reduce between the first and last stage
export const mixtral = preset("mixtral-8x7b");

export const SHAPE_CASES: Array<[string, SimCosts]> = [
  ["pp 4 interleaved v 2, ZeRO-1, tied embedding", buildSimCosts(gpt, h100, t(16), { ...base, pp: 4, dp: 4, zero: 1, vpp: 2, schedule: "interleaved" })],
  ["pp 4 GPipe, ZeRO-2, full recompute", buildSimCosts(gpt, h100, t(16), { ...base, pp: 4, dp: 4, zero: 2, recompute: "full", schedule: "gpipe" })],
  ["pp 2, tp 2, ZeRO-3, selective recompute", buildSimCosts(gpt, h100, t(16), { ...base, tp: 2, pp: 2, dp: 4, zero: 3, recompute: "selective", microBatch: 2 })],
  ["pp 4 zb1p, torchtitan", buildSimCosts(gpt, h100, t(16, { engine: engine("torchtitan") }), { ...base, pp: 4, dp: 4, zero: 1, schedule: "zb1p" })],
  ["pp 2 dualpipev, FSDP", buildSimCosts(gpt, h100, t(16, { engine: engine("fsdp") }), { ...base, pp: 2, dp: 8, vpp: 2, zero: 2, schedule: "dualpipev" })],
  ["Mixtral tp 8 · ep 2, ZeRO-3: expert collectives", buildSimCosts(mixtral, h100, t(64, { seqLen: 4096 }), { ...base, tp: 8, dp: 8, ep: 2, zero: 3, sequenceParallel: true })],
  ["Mixtral tp 8 · pp 2 · ep 2, ZeRO-1", buildSimCosts(mixtral, h100, t(64, { seqLen: 4096 }), { ...base, tp: 8, pp: 2, dp: 4, ep: 2, zero: 1, sequenceParallel: true })],
];
