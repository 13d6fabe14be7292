// The whole run's figures for one request: a flag, else the profile's "run" section, else the
// default (defaults.ts), each with where it came from.
import type { Hardware } from "../types.js";
import { RUN_DEFAULTS } from "./defaults.js";
import type { PowerBasis, RunFigures } from "./types.js";

export interface ResolvedFigure {
  value: number;
  source: string;
  /** "flag", "profile" or "default". */
  from: "flag" | "profile" | "default";
}

export interface ResolvedRunFigures {
  failuresPerGpuHour: ResolvedFigure;
  pue: ResolvedFigure;
  checkpointBandwidth: ResolvedFigure;
  stagingBandwidth: ResolvedFigure;
  restartTime: ResolvedFigure;
  /** Watts per GPU on the chosen basis; null when the profile has no such figure. */
  power: (ResolvedFigure & { basis: PowerBasis }) | null;
  /** The power bases the profile gives a figure for (energy is unknown on the others). */
  powerBases: PowerBasis[];
}

type Overridable = keyof typeof RUN_DEFAULTS;

/** The unit of each figure's value, which --json gives beside it as `unit` (README "The whole
 *  run"): a value there is a plain SI number, as the profile's "600 GB/s" is read. */
export const FIGURE_UNITS = {
  failuresPerGpuHour: "1/GPU-hour",
  // facility energy / IT energy (ISO/IEC 30134-2:2016)
  pue: "ratio",
  // aggregate, the storage's
  checkpointBandwidth: "B/s",
  // each GPU's device-to-host copy
  stagingBandwidth: "B/s",
  restartTime: "s",
} as const satisfies Record<Overridable, string>;

/** Resolve each figure: `flags` first, then the profile's run section, then the default. */
export function resolveRunFigures(hw: Hardware, basis: PowerBasis, flags: Partial<Record<Overridable, number>>): ResolvedRunFigures {
  const run: RunFigures = hw.run ?? {};
  const pick = (k: Overridable): ResolvedFigure => {
    const f = flags[k];
    if (f !== undefined) return { value: f, source: "flag", from: "flag" };
    const p = run[k];
    if (p !== undefined) return { value: p, source: hw.sources[`run.${k}`] ?? hw.name, from: "profile" };
    return { value: RUN_DEFAULTS[k].value, source: RUN_DEFAULTS[k].source, from: "default" };
  };
  let power: ResolvedRunFigures["power"] = null;
  if (basis === "board" && run.boardPower !== undefined) {
    const source = hw.sources["run.boardPower"] ?? hw.name;
    // A board capped below it draws at most its cap (a 500 W part extending dgx-h100 kept 700 W).
    const cap = hw.powerLimit;
    power =
      cap !== undefined && cap < run.boardPower
        ? { value: cap, source: `gpu.powerLimit ${cap} W, below run.boardPower ${run.boardPower} W (${source})`, from: "profile", basis }
        : { value: run.boardPower, source, from: "profile", basis };
  }
  if (basis === "node" && run.nodePower !== undefined)
    power = { value: run.nodePower / hw.gpusPerNode, source: hw.sources["run.nodePower"] ?? hw.name, from: "profile", basis };
  return {
    failuresPerGpuHour: pick("failuresPerGpuHour"),
    pue: pick("pue"),
    checkpointBandwidth: pick("checkpointBandwidth"),
    stagingBandwidth: pick("stagingBandwidth"),
    restartTime: pick("restartTime"),
    power,
    powerBases: [...(run.boardPower !== undefined ? ["board" as const] : []), ...(run.nodePower !== undefined ? ["node" as const] : [])],
  };
}
