// An engine file's "moe" block (planner/engine.ts Engine.moe): the experts' token dispatcher, the
// bytes its dispatch moves per element under fp8, and what overlaps its all-to-alls. Absent block or field: Megatron-Core's
// alltoall dispatcher in 16 bits (MEGATRON_MOE). Kept apart from engine.ts, near the project's
// file-size limit.
import type { z as Z } from "zod";
import { type Engine, MEGATRON_MOE, MOE_DISPATCHERS, type MoeDispatcher } from "../engine.js";
import type { FigureIn } from "./figure.js";
import { SCHEDULES } from "./plan.js";
import type { Schedule } from "../types.js";

type WithSource = <T extends Z.ZodTypeAny>(value: T) => Z.ZodTypeAny;

/** The block's schema. fp8DispatchBytes lies in [1, 2]: an fp8 element and at most one more byte
 *  of scales (null: 16-bit). */
export function moeSchema(z: typeof Z, withSource: WithSource) {
  return z
    .object({
      dispatcher: withSource(z.enum(MOE_DISPATCHERS as unknown as [MoeDispatcher, ...MoeDispatcher[]])).optional(),
      fp8DispatchBytes: withSource(z.number().gte(1).lte(2).nullable()).optional(),
      // (a slowdown beyond 1: the compute would stop; Megatron's own asserts decide fullRecompute)
      overlap: withSource(
        z.object({ slowdown: z.number().gte(0).lt(1), fullRecompute: z.boolean(), schedules: z.array(z.enum(SCHEDULES as [Schedule, ...Schedule[]])).min(1).nullable() }).strict().nullable(),
      ).optional(),
      sharedExpertOverlap: withSource(
        z.object({ dispatch: z.enum(["none", "up", "all"]), combine: z.enum(["none", "down", "all"]), backward: z.boolean() }).strict().nullable(),
      ).optional(),
    })
    .strict();
}

export interface MoeIn {
  dispatcher?: FigureIn<MoeDispatcher>;
  fp8DispatchBytes?: FigureIn<number | null>;
  overlap?: FigureIn<Engine["moe"]["overlap"]>;
  sharedExpertOverlap?: FigureIn<Engine["moe"]["sharedExpertOverlap"]>;
}

type Fig = <T>(path: string, x: FigureIn<T>) => T;

/** Engine.moe from the file's block (absent block or field: Megatron-Core's). */
export function parseMoe(f: MoeIn | undefined, fig: Fig): Engine["moe"] {
  if (f === undefined) return MEGATRON_MOE;
  return {
    dispatcher: f.dispatcher === undefined ? MEGATRON_MOE.dispatcher : fig("moe.dispatcher", f.dispatcher),
    fp8DispatchBytes: f.fp8DispatchBytes === undefined ? MEGATRON_MOE.fp8DispatchBytes : fig("moe.fp8DispatchBytes", f.fp8DispatchBytes),
    overlap: f.overlap === undefined ? MEGATRON_MOE.overlap : fig("moe.overlap", f.overlap),
    sharedExpertOverlap: f.sharedExpertOverlap === undefined ? MEGATRON_MOE.sharedExpertOverlap : fig("moe.sharedExpertOverlap", f.sharedExpertOverlap),
  };
}
