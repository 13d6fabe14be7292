// An engine file's "contextParallel" block (planner/engine.ts Engine.contextParallel): the per-step
// merge of its stepwise variants, the K/V heads and dK/dV type its exchanges move, whether its
// all-gather overlaps the first step, and what its all-gather variant's attention keeps for
// backward. Absent fields are Megatron-Core's (MEGATRON_CP_MERGE). Kept apart from engine.ts,
// which is at the project's file-size limit.
import type { z as Z } from "zod";
import { CP_ALLGATHER_KEPT, type CpAllgatherKept, type Engine, MEGATRON_CP_MERGE } from "../engine.js";
import { CP_COMMS, type CpComm } from "../types.js";
import type { FigureIn } from "./figure.js";

type WithSource = <T extends Z.ZodTypeAny>(value: T) => Z.ZodTypeAny;

/** The block's schema, built with the engine schema's zod and its figure wrapper. */
export function contextParallelSchema(z: typeof Z, withSource: WithSource) {
  const bytes = withSource(z.number().gte(0).lte(1000));
  return z
    .object({
      stepwise: withSource(z.array(z.enum(CP_COMMS as [CpComm, ...CpComm[]]))),
      mergeForwardBytes: bytes,
      mergeBackwardBytes: bytes,
      kvHeads: withSource(z.enum(["kv", "query"])).optional(),
      dkvBytes: withSource(z.union([z.literal(2), z.literal(4)])).optional(),
      gatherOverlapsStep: withSource(z.boolean()).optional(),
      allgatherKeeps: withSource(z.array(z.enum(CP_ALLGATHER_KEPT as [CpAllgatherKept, ...CpAllgatherKept[]]))).optional(),
    })
    .strict();
}

/** The block as read from a file (figures bare or with their sources). */
export interface ContextParallelIn {
  stepwise: FigureIn<CpComm[]>;
  mergeForwardBytes: FigureIn<number>;
  mergeBackwardBytes: FigureIn<number>;
  kvHeads?: FigureIn<"kv" | "query">;
  dkvBytes?: FigureIn<2 | 4>;
  gatherOverlapsStep?: FigureIn<boolean>;
  allgatherKeeps?: FigureIn<CpAllgatherKept[]>;
}

type Fig = <T>(path: string, x: FigureIn<T>) => T;

/** Engine.contextParallel from the file's block (absent block or field: Megatron-Core's). */
export function parseContextParallel(f: ContextParallelIn | undefined, fig: Fig): Engine["contextParallel"] {
  if (f === undefined) return MEGATRON_CP_MERGE;
  const or = <K extends keyof ContextParallelIn & keyof Engine["contextParallel"]>(key: K): Engine["contextParallel"][K] =>
    f[key] === undefined ? MEGATRON_CP_MERGE[key] : fig(`contextParallel.${key}`, f[key] as unknown as FigureIn<Engine["contextParallel"][K]>);
  return {
    stepwise: [...new Set(fig("contextParallel.stepwise", f.stepwise))],
    mergeBytes: { forward: fig("contextParallel.mergeForwardBytes", f.mergeForwardBytes), backward: fig("contextParallel.mergeBackwardBytes", f.mergeBackwardBytes) },
    kvHeads: or("kvHeads"),
    dkvBytes: or("dkvBytes"),
    gatherOverlapsStep: or("gatherOverlapsStep"),
    allgatherKeeps: [...new Set(or("allgatherKeeps"))],
  };
}
