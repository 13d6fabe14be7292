// torchtitan's [activation_checkpoint] read as the plan's recompute: mode none / full, selective
// per op ("op": the engine's per-op SAC), selective by layer ("N": every N-th block a rank counts
// in full, planner/cost/nth-recompute.ts, the plan's depth where each chunk re-runs one count),
// memory_budget (read as selective, said). job_config.py ActivationCheckpoint @ v0.2.0 (mode
// "selective", selective_ac_option "2" by default); the override releases (main) have no option and
// checkpoint per op.
import type { Plan, Recompute } from "../../planner/index.js";
import { everyNthCounts, everyNthDepth } from "../../planner/cost/nth-recompute.js";
import { largestChunk } from "../../planner/cost/block-recompute.js";
import { UserError } from "../errors.js";
import type { TomlValue } from "./toml.js";
import { ordinal } from "../format/recompute-depth.js";

export interface TitanRecomputeFile {
  o: string;
  /** Command-line overrides (main's releases), not a 0.2 TOML file. */
  overrides: boolean;
  get: (section: string, key: string) => TomlValue | undefined;
  setting: (section: string, key: string) => string;
}

/** The recompute and depth the file's activation checkpointing runs with this layout. */
export function readTitanRecompute(f: TitanRecomputeFile, chunks: Pick<Plan, "pp" | "vpp" | "stageLayers">, layers: number, notes: string[]): { recompute: Recompute; recomputeLayers?: number } {
  const { o, get, setting } = f;
  const str = (key: string, dflt: string) => String(get("activation_checkpoint", key) ?? dflt);
  const modeSet = get("activation_checkpoint", "mode") !== undefined;
  const mode = str("mode", "selective");
  const option = str("selective_ac_option", f.overrides ? "op" : "2");
  if (mode === "none" || mode === "full") return { recompute: mode };
  if (mode !== "selective" && mode !== "memory_budget") throw new UserError(`${setting("activation_checkpoint", "mode")} is not none, selective, full or memory_budget`);
  if (!modeSet) notes.push(`${o}: activation_checkpoint.mode not set: torchtitan's default, selective`);
  if (mode === "memory_budget") {
    notes.push(`${o}: activation checkpointing by memory budget read as selective recompute`);
    return { recompute: "selective" };
  }
  if (option === "op") return { recompute: "selective" };
  if (!/^\d+$/.test(option)) throw new UserError(`${setting("activation_checkpoint", "selective_ac_option")} is not "op" or a layer count`);
  const every = Number(option);
  // (`if not ac_freq or count % ac_freq == 0`: 0 and 1 wrap every block)
  if (every <= 1) return { recompute: "full" };
  // (overrides are read as main's, whose ActivationCheckpoint has no layer option: @0014ac2c)
  if (f.overrides) throw new UserError(`${setting("activation_checkpoint", "selective_ac_option")}: command-line overrides are read as torchtitan main's, whose activation checkpointing has no layer option (full or per op: distributed/activation_checkpoint.py @0014ac2c); a 0.2 job sets it in its TOML file`);
  const which = get("activation_checkpoint", "selective_ac_option") !== undefined
    ? setting("activation_checkpoint", "selective_ac_option")
    : `${o}: activation_checkpoint.selective_ac_option not set: torchtitan's default "${option}"${modeSet ? "" : " (under the default mode, selective)"}`;
  // (0.2's _apply_layer_sac: one counter over the rank's chunks, a block wrapped where it is a multiple of N)
  const depth = everyNthDepth(chunks, layers, every);
  if (depth === null) {
    const counts = Array.from({ length: chunks.pp }, (_, r) => everyNthCounts(chunks, layers, every, r).join("+")).join(", ");
    throw new UserError(`${which} re-runs every ${ordinal(every)} layer a rank counts, which re-runs ${counts} layers of the stages of ranks 0…${chunks.pp - 1}: not one count a stage, which paraplan prices; choose an N that divides each stage's layers`);
  }
  const stage = chunks.vpp > 1 ? "virtual stage" : "stage";
  if (depth === 0) {
    notes.push(`${which}: every ${ordinal(every)} layer is past each ${stage}'s ${largestChunk(chunks, layers)} layers: no recompute`);
    return { recompute: "none" };
  }
  notes.push(`${which}: full recompute of every ${ordinal(every)} layer, ${depth} of each ${stage}`);
  return depth >= largestChunk(chunks, layers) ? { recompute: "full" } : { recompute: "full", recomputeLayers: depth };
}
