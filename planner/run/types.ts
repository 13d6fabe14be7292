// The whole run's inputs and results (issue 16): plain SI numbers (seconds, bytes, bytes/s, W).

/** Figures a hardware profile's "run" section gives (planner/schema/hardware.ts); each optional,
 *  the defaults (defaults.ts) stand in for the ones a profile lacks. */
export interface RunFigures {
  /** GPU board power (TDP), watts per GPU. */
  boardPower?: number;
  /** Whole-node maximum power, watts per node (divided by the GPUs per node for a GPU's share). */
  nodePower?: number;
  /** Power usage effectiveness: facility energy / IT energy (ISO/IEC 30134-2:2016). */
  pue?: number;
  /** Failures that interrupt a job, per GPU-hour (a per-node fleet rate ÷ GPUs per node). */
  failuresPerGpuHour?: number;
  /** Aggregate write bandwidth of the checkpoint storage, bytes/s (the whole job's). */
  checkpointBandwidth?: number;
  /** Device-to-host copy bandwidth per GPU (checkpoint staging), bytes/s. */
  stagingBandwidth?: number;
  /** Time from an interruption to training again (detection, rescheduling, loading the last
   *  checkpoint), seconds. */
  restartTime?: number;
}

export type PowerBasis = "board" | "node";
export type CheckpointMode = "sync" | "async";

/** Everything runEstimate needs besides the plan's step. */
export interface RunInputs {
  tokens: number;
  gpus: number;
  /** Tokens per training step (global batch × sequence length). */
  tokensPerStep: number;
  /** Watts per GPU on the chosen basis (board power, or node power per GPU); null if unknown. */
  powerPerGpu: number | null;
  pue: number;
  /** USD per GPU-hour; null when no price was given. */
  price: number | null;
  failuresPerGpuHour: number;
  /** Bytes of one checkpoint: the model states, weights and optimizer states, one copy. */
  checkpointBytes: number;
  /** Bytes of model states the busiest GPU stages and writes: its share, where the stack spreads
   *  the replicas' states over them (run/inputs.ts checkpointBytesPerGpu). */
  checkpointBytesPerGpu: number;
  checkpointBandwidth: number;
  stagingBandwidth: number;
  restartTime: number;
  mode: CheckpointMode;
}

/** Checkpointing under failures for one job (goodput.ts). */
export interface CheckpointPlan {
  /** Mean time between interruptions of the whole job, seconds. */
  jobMtbf: number;
  /** Time training is blocked per checkpoint, seconds (sync: the write; async: the staging copy). */
  blocking: number;
  /** Time until a checkpoint is on storage, seconds (the write to storage). */
  persist: number;
  /** The device-to-host copy of one GPU's states, seconds (async blocks for it). */
  staging: number;
  /** The write of one checkpoint at the storage's aggregate bandwidth, seconds. */
  storageWrite: number;
  /** Whether checkpoints are written during the run: not when the run ends before the interval
   *  (or nothing fails), nor when one stretch without any expects less time (Daly 2006). */
  written: boolean;
  /** Why none is written (absent when `written`). */
  notWritten?: "no failures" | "run shorter" | "not worth it";
  /** Compute time between checkpoints, seconds (Daly 2006; async: at least `persist`): given the
   *  step, a whole number of steps, at least one; capped at the run's length (then none written). */
  interval: number;
  /** The interval in steps, when the step was given (a checkpoint falls between steps). */
  intervalSteps?: number;
  /** Daly 2006's optimum, seconds of compute (the interval before whole steps and async's
   *  persist time bound it). */
  optimum: number;
  /** Young's first-order interval √(2δM), for comparison, seconds. */
  young: number;
  /** Async only: whether it waits for each write as sync does, because the storage is too slow for
   *  the overlapped write to pay (a longer interval and the write lost with an interruption cost
   *  more than the wait). */
  asyncWaits?: boolean;
  /** Whether async's persist time, not the optimum, set the interval. */
  intervalIsPersist: boolean;
  /** Work and time lost per interruption, seconds: half an interval, the restart, and (async) a
   *  checkpoint not yet persisted; without checkpoints, the work since the run began. NaN where
   *  no interruption is expected (a failure rate of 0): there is no loss per one to give. */
  lostPerFailure: number;
  /** Useful compute time / wall-clock time (Daly 2006's expected wall time). */
  goodput: number;
}

/** The whole run on one plan. */
export interface RunEstimate {
  checkpoint: CheckpointPlan;
  /** Training time without failures or checkpoints, seconds. */
  idealSeconds: number;
  /** Wall-clock time with them, seconds. */
  wallSeconds: number;
  days: number;
  gpuHours: number;
  /** null when the profile gives no power on the chosen basis. */
  energyMWh: number | null;
  /** null when no price was given. */
  cost: number | null;
  goodput: number;
  /** Expected interruptions over the wall-clock time. */
  failures: number;
  /** Expected time lost to interruptions over the run, seconds of wall-clock. */
  lostSeconds: number;
  steps: number;
}
