// The launch spec (executor/PROTOCOL.md): the one file the worker reads.
import { type ModelSpec, type Plan, type Precision, paddedVocab } from "../planner/index.js";
import { DEFAULT_NORM_EPS, DEFAULT_ROPE_THETA } from "../planner/schema/model.js";
import type { Device } from "./devices.js";
import { ExecutorError } from "./errors.js";
import { planOnly } from "./plan-json.js";
import { SPEC_VERSION } from "./spec-version.js";

export { SPEC_VERSION };
export const DEFAULT_SEED = 1234;
export const DEFAULT_LR = 0.001;

/** Test-only: make one rank raise at one step (PROTOCOL.md `faultInjection`). */
export type FaultInjection = Record<string, unknown>;

export interface LaunchSpec {
  version: number;
  runDir: string;
  device: Device;
  /** The model as the worker builds it: `seqLen` is the trained sequence length (its
   *  learned-position table), not the model file's default. */
  model: SpecModel;
  plan: Plan;
  training: {
    globalBatch: number;
    seqLen: number;
    precision: Precision;
    steps: number;
    seed: number;
    lr: number;
    vocabPadded: number;
  };
  /** How the worker runs the plan (PROTOCOL.md `execution`): compiled per block or eager. */
  execution: Execution;
  faultInjection?: FaultInjection;
  /** Seconds a rank waits for its first step before stopping itself (PROTOCOL.md). */
  startupTimeout?: number;
  /** What the launcher's prediction was made with that the worker does not read (PROTOCOL.md
   *  `prediction`): `--plan launch.json` prices the plan again with it. */
  prediction?: Prediction;
}

/** Settings of the prediction beside the training the worker runs: the hardware profile, and
 *  the pricing assumptions a flag changed (no gradient overlap, the experts' load imbalance). */
export interface Prediction {
  profile?: string;
  overlapGradReduce?: boolean;
  moeImbalance?: number;
}

/** The Prediction of a plan priced on `profile` with `t`: the profile, and the gradient overlap
 *  and the experts' imbalance only where a flag changed them (the worker's engines overlap:
 *  profiles/engines/paraplan.json). `export --plan launch.json` and `execute --plan` price the
 *  plan with it again (src/plan-file-settings.ts), whether export or execute wrote the file. */
export function predictionOf(profile: string | undefined, model: ModelSpec, t: { overlapGradReduce: boolean; moeImbalance?: number | undefined }): Prediction {
  return {
    ...(profile !== undefined ? { profile } : {}),
    ...(!t.overlapGradReduce ? { overlapGradReduce: false } : {}),
    ...(model.moe !== undefined && t.moeImbalance !== undefined ? { moeImbalance: t.moeImbalance } : {}),
  };
}

export interface Execution {
  compile: boolean;
}

/** Compiled execution is the default on CUDA, eager on CPU ranks (inductor's CPU code is slow to
 *  build and gains little there); `--compile` / `--no-compile` decide otherwise. */
export function defaultCompile(device: Device): boolean {
  return device === "cuda";
}

export type SpecModel = Omit<ModelSpec, "globalBatch" | "gpus" | "defaultSeqLen" | "defaultSeqLenAssumed"> & { seqLen: number };

export interface SpecInput {
  runDir: string;
  device: Device;
  model: ModelSpec;
  plan: Plan;
  globalBatch: number;
  /** The trained sequence length (Training.seqLen). */
  seqLen: number;
  precision: Precision;
  steps: number;
  seed?: number;
  lr?: number;
  faultInjection?: FaultInjection | undefined;
  /** torch.compile per block; undefined: the device's default (defaultCompile). */
  compile?: boolean | undefined;
  /** Seconds a rank waits for its first step (executor/worker/startup_watch.py). */
  startupTimeout?: number | undefined;
  prediction?: Prediction | undefined;
}

/** PROTOCOL.md's model object, keys in its order; file-only fields (defaults) left out. The facts
 *  that do not change cost (rotary base and scaling, norm epsilon, head width, windows) travel when
 *  the model has them, so the worker builds the model planned. */
function specModel(m: ModelSpec, seqLen: number): SpecModel {
  const { name, layers, hidden, heads, kvHeads, ffnHidden, vocab, mlp, positional, tiedEmbeddings, dropout } = m;
  const out: SpecModel = { name, layers, hidden, heads, kvHeads, ffnHidden, vocab, seqLen, mlp, positional, tiedEmbeddings, dropout };
  if (m.headDim !== undefined) out.headDim = m.headDim;
  // The rotary base and the epsilon only where they differ from the defaults PROTOCOL.md gives
  // the worker (10,000 and 1e-5, the planner's own: planner/schema/model.ts).
  if (m.ropeTheta !== undefined && m.ropeTheta !== DEFAULT_ROPE_THETA) out.ropeTheta = m.ropeTheta;
  if (m.ropeScaling !== undefined) out.ropeScaling = m.ropeScaling;
  if (m.normEps !== undefined && m.normEps !== DEFAULT_NORM_EPS) out.normEps = m.normEps;
  // Mixtures of experts travel whole (the worker builds them: moe.py); latent attention and
  // multi-token prediction travel so that the worker refuses them by name.
  if (m.moe !== undefined) out.moe = { ...m.moe };
  if (m.mla !== undefined) out.mla = { ...m.mla };
  if (m.mtpLayers !== undefined && m.mtpLayers > 0) out.mtpLayers = m.mtpLayers;
  if (m.slidingWindow !== undefined) {
    out.slidingWindow = m.slidingWindow;
    out.slidingWindowLayers = m.slidingWindowLayers ?? m.layers;
  }
  if (m.qkvBias) out.qkvBias = true;
  if (m.qkNorm !== undefined) out.qkNorm = m.qkNorm;
  return out;
}

export function buildSpec(i: SpecInput): LaunchSpec {
  const model = specModel(i.model, i.seqLen);
  const plan = planOnly(i.plan);
  const spec: LaunchSpec = {
    version: SPEC_VERSION,
    runDir: i.runDir,
    device: i.device,
    model,
    plan,
    training: {
      globalBatch: i.globalBatch,
      seqLen: i.seqLen,
      precision: i.precision,
      steps: i.steps,
      seed: i.seed ?? DEFAULT_SEED,
      lr: i.lr ?? DEFAULT_LR,
      vocabPadded: paddedVocab(i.model.vocab, plan.tp),
    },
    execution: { compile: i.compile ?? defaultCompile(i.device) },
  };
  if (i.startupTimeout !== undefined) spec.startupTimeout = i.startupTimeout;
  if (i.faultInjection !== undefined) spec.faultInjection = i.faultInjection;
  if (i.prediction !== undefined && Object.keys(i.prediction).length > 0) spec.prediction = i.prediction;
  return spec;
}

/** PARAPLAN_FAULT_INJECTION='{"rank":1,"step":2}' (tests only); undefined when unset. */
export function faultInjectionFromEnv(env: NodeJS.ProcessEnv = process.env): FaultInjection | undefined {
  const raw = env.PARAPLAN_FAULT_INJECTION;
  if (raw === undefined || raw.trim() === "") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ExecutorError("bad-input", `PARAPLAN_FAULT_INJECTION is not JSON: ${raw}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ExecutorError("bad-input", "PARAPLAN_FAULT_INJECTION must be a JSON object");
  return v as FaultInjection;
}
