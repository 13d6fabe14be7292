// The whole run (issue 16): time to train, energy, cost, failures and checkpoints, GPU sweeps.
export * from "./types.js";
export { youngInterval, dalyInterval, dalyWallPerSolve, goodputOf } from "./checkpoint.js";
export { jobMtbf, checkpointTimes, checkpointPlan } from "./goodput.js";
export { runEstimate, expectedFailures, runStall, MIN_GOODPUT } from "./estimate.js";
export { RUN_DEFAULTS, FLEET_FAILURES_PER_GPU_HOUR, type DefaultFigure } from "./defaults.js";
export { RUN_LIMITS, giveWithin, outsideLimit, withinLimit, type RunLimit } from "./limits.js";
export { resolveRunFigures, FIGURE_UNITS, type ResolvedFigure, type ResolvedRunFigures } from "./figures.js";
export { checkpointBytes, runInputsFor, type RunOptions } from "./inputs.js";
export { parseTokens, parseDuration, DURATION_UNITS, parseGpuList, MAX_TOKENS, MAX_SWEEP_POINTS, type ParsedValue } from "./parse.js";
export { sweepPoint, cheapestWithin, slowedPoints, scalingOf, SWEEP_SIMULATE_TOP, SWEEP_SIMULATED_OPS, type SweepPoint } from "./sweep.js";
