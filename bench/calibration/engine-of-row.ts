// Which software stack each calibration source ran (bench/data/published-runs.README.md, table
// "Sources and the software each ran"): every row is predicted with its source's engine profile
// (profiles/engines/*.json, loaded as `plan --engine NAME` loads it).
import type { Engine } from "../../planner/index.js";
import { loadEngine } from "../../src/load-engine.js";
import type { Csv } from "./measured.js";

export const ENGINE_NAMES = [
  "megatron-core",
  "megatron-2021",
  "megatron-deepspeed",
  "fsdp",
  "torchtitan",
  "torchtitan-compile",
  "paraplan",
  "paraplan-compile",
] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine of a row: MEG21 → megatron-2021; NAR21T2's PTD-P rows megatron-2021, its ZeRO-3
 *  rows (tp = pp = 1) megatron-deepspeed; MEG24, DGXC → megatron-core; MPT → fsdp; TT24 →
 *  torchtitan, or torchtitan-compile where the notes say torch.compile. */
export function engineOfRow(r: Csv): EngineName {
  const id = r.id!;
  if (id.startsWith("MEG21")) return "megatron-2021";
  if (id.startsWith("NAR21T2")) return r.zero_stage === "3" && r.tp === "1" && r.pp === "1" ? "megatron-deepspeed" : "megatron-2021";
  if (id.startsWith("MEG24") || id.startsWith("DGXC")) return "megatron-core";
  if (id.startsWith("MPT")) return "fsdp";
  if (id.startsWith("TT24")) return /torch\.compile/.test(r.notes ?? "") ? "torchtitan-compile" : "torchtitan";
  throw new Error(`calibration row ${id}: no engine for its source`);
}

/** Engine profiles by name, loaded once each, as `plan --engine NAME` loads them. */
export function engineCache(): (name: EngineName) => Engine {
  const cache = new Map<string, Engine>();
  return (name) => {
    let e = cache.get(name);
    if (!e) cache.set(name, (e = loadEngine(name)));
    return e;
  };
}
