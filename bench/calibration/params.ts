// The fitted parameter vector of the calibration: engine figures and hardware efficiencies, each
// physically bounded, shared by every row of that engine or GPU family (no per-row or per-source
// factor). Keys:
//   hw/<family>/matmul           multiplier of the family's matmul-efficiency table (a100, h100;
//                                the 500 W H100 shares h100's, its power prior in its own profile);
//                                every point stays ≤ 1
//   hw/<family>/attention        the hardware profiles' attentionEfficiency: megatron-core's
//                                attention (the default engine prices as the profiles do)
//   <engine>/attention/<GEN>     another engine's fused attention kernel's efficiency on that GPU
//                                generation (fraction of the 16-bit peak, in [0.1, 1]); materialised
//                                attention has none: its GEMMs go through the matmul table
//   megatron-2021/matmul         Megatron-LM 2021's GEMMs against the matmul table (Engine.
//                                gemmEfficiency, in [0.5, 1]): its 2020-21 cuBLAS and fp16 stack
//                                beside the table's other A100 rows (llm-foundry, 2023);
//                                megatron-deepspeed shares it (the same code and era)
//   <engine>/launch              host time per kernel launch, seconds, in [0.5 µs, 30 µs] (eager
//                                engines only; megatron-core's host time is inside its efficiencies)
//   <engine>/slowdown            compute slowdown under an overlapped collective, in [0.01, 0.5]
//                                (engines that overlap communication; megatron-core keeps Lee et
//                                al.'s 18.9%, the planner's default, so no engine = megatron-core)
//   hw/<family>/fp8              fp8 GEMMs' efficiency relative to the 16-bit table (Hardware.
//                                fp8Efficiency), in [0.5, 1]: rows that ran fp8 matmuls
//   megatron-deepspeed/zero3-bandwidth
//                                the share of the data-parallel link's rate DeepSpeed 2021's
//                                per-tensor ZeRO-3 collectives reach (Engine.dataParallel.
//                                zero3BandwidthShare, in [0.05, 1]): its ZeRO-3 rows (NAR21T2)
//   megatron-core/tp-overlap     what --tp-comm-overlap hides (Engine.tensorParallel.commOverlap),
//                                in [0.1, 1]: rows that ran with it
// Values are absolute (the hardware multiplier excepted); a key absent from a vector takes the
// committed profile's value (predictRow) — and in a leave-one-source-out fold, the prior
// (priors.ts) for a key only the held-out source informs.
import { type Engine, type Hardware, gpuGeneration } from "../../planner/index.js";
import type { EngineName } from "./engine-of-row.js";
import { FLOORS } from "./priors.js";

export type ParamVector = Record<string, number>;

const EAGER: readonly EngineName[] = ["megatron-2021", "megatron-deepspeed", "fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"];
/** Engines whose attention materialises the scores (profiles/engines: attention.kernel "materialised"). */
const MATERIALISED: readonly EngineName[] = ["megatron-2021", "megatron-deepspeed"];
const OVERLAPPING: readonly EngineName[] = ["fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"];

export function familyOf(profile: string): string {
  if (profile.includes("a100")) return "a100";
  if (profile.includes("h100")) return "h100";
  return profile;
}

/** Whose attention and GEMM figures an engine runs: Megatron-DeepSpeed runs Megatron-LM 2021's
 *  layer code (materialised scores, fused softmax) with the same era's libraries on the same
 *  A100s, so one figure serves both. */
const attentionOwner = (e: EngineName): EngineName => (e === "megatron-deepspeed" ? "megatron-2021" : e);

/** The keys a row's prediction depends on. */
export function keysOf(profile: string, hw: Hardware, engine: EngineName, run: { fp8?: boolean; tpOverlap?: boolean } = {}): string[] {
  const f = familyOf(profile);
  // Materialised attention is priced as batched GEMMs through the matmul table (cost/compute.ts
  // materialisedAttentionTime): no attention figure of its own to fit.
  // Megatron-LM 2021's GEMM figure is fitted where the step is its GEMMs: the rows of its own code
  // (megatron-2021); Megatron-DeepSpeed's ZeRO-3 rows, whose steps are mostly communication, take
  // it (fittedEngine) without informing it.
  const attention = MATERIALISED.includes(engine) ? [`${attentionOwner(engine)}/matmul`] : [engine === "megatron-core" ? `hw/${f}/attention` : `${attentionOwner(engine)}/attention/${gpuGeneration(hw)}`];
  const keys = [...(run.fp8 ? [`hw/${f}/fp8`] : []), ...(run.tpOverlap ? [`${engine}/tp-overlap`] : []), `hw/${f}/matmul`, ...attention];
  if (EAGER.includes(engine)) keys.push(`${engine}/launch`);
  if (engine === "megatron-deepspeed") keys.push("megatron-deepspeed/zero3-bandwidth");
  if (OVERLAPPING.includes(engine)) keys.push(`${engine}/slowdown`);
  return keys;
}

/** The profile with its matmul table scaled by the vector's family multiplier (points ≤ 1) and
 *  the family's attention efficiency. */
export function scaledHardware(hw: Hardware, profile: string, p: ParamVector): Hardware {
  const mm = p[`hw/${familyOf(profile)}/matmul`];
  const at = p[`hw/${familyOf(profile)}/attention`];
  const f8 = p[`hw/${familyOf(profile)}/fp8`];
  let out = hw;
  if (f8 !== undefined) out = { ...out, fp8Efficiency: f8 };
  if (mm !== undefined && mm !== 1) out = { ...out, matmul: { ...out.matmul, points: out.matmul.points.map(([x, y]) => [x, Math.min(1, y * mm)] as const) } };
  if (at !== undefined) out = { ...out, attentionEfficiency: at };
  return out;
}

/** The engine with the vector's figures for it. */
export function fittedEngine(e: Engine, name: EngineName, hw: Hardware, p: ParamVector): Engine {
  const gen = gpuGeneration(hw);
  const at = p[`${attentionOwner(name)}/attention/${gen}`];
  const gemm = p[`${attentionOwner(name)}/matmul`];
  const launch = p[`${name}/launch`];
  const slow = p[`${name}/slowdown`];
  const tpo = e.tensorParallel.overlapNeedsSp ? p[`${name}/tp-overlap`] : undefined;
  const z3 = p[`${name}/zero3-bandwidth`];
  if (at === undefined && gemm === undefined && launch === undefined && slow === undefined && tpo === undefined && z3 === undefined) return e;
  return {
    ...e,
    dataParallel: z3 === undefined ? e.dataParallel : { ...e.dataParallel, zero3BandwidthShare: z3 },
    gemmEfficiency: gemm ?? e.gemmEfficiency,
    tensorParallel: tpo === undefined ? e.tensorParallel : { ...e.tensorParallel, overlap: tpo, commOverlap: tpo },
    attention: at === undefined ? e.attention : { ...e.attention, efficiency: { ...e.attention.efficiency, [gen]: at } },
    launch: launch === undefined ? e.launch : { ...e.launch, perKernel: launch },
    overlapSlowdown: slow ?? e.overlapSlowdown,
  };
}


/** Physical bounds of each key (a kernel floor, priors.ts FLOORS, raises a lower bound). */
export function boundsOf(key: string, hws: Hardware[]): [number, number] {
  const [lo, hi] = physicalBounds(key, hws);
  return [Math.max(lo, FLOORS[key]?.value ?? lo), hi];
}

function physicalBounds(key: string, hws: Hardware[]): [number, number] {
  if (key.startsWith("hw/") && key.endsWith("/matmul")) return [0.5, 1 / Math.max(...hws.flatMap((h) => h.matmul.points.map((q) => q[1])))];
  if (key.endsWith("/matmul")) return [0.5, 1];
  if (key.endsWith("/fp8")) return [0.5, 1];
  if (key.endsWith("/launch")) return [0.5e-6, 30e-6];
  if (key.endsWith("/slowdown")) return [0.01, 0.5];
  if (key.endsWith("/zero3-bandwidth")) return [0.05, 1];
  return [0.1, 1];
}
