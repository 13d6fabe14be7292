// Where a request stands against the published runs the engine and hardware figures were fitted
// on (profiles/calibration.json, written by bench/calibration/envelope.ts): the runs' span, and
// each way this request lies outside it — another GPU, a longer sequence, more GPUs, a mixture of
// experts, an engine or profile of one's own. Inside, a prediction is what leave-one-source-out
// checked (README "How the figures were calibrated"); outside, it is the cost model's
// extrapolation, and `plan` says so rather than leave a number looking checked.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ModelSpec, type Plan, type Training, totalParams } from "../planner/index.js";
import { packageRoot } from "../executor/root.js";
import { compact, count } from "./format/units.js";

/** One engine's published runs (bench/calibration/envelope.ts writes them). */
export interface EngineEnvelope {
  runs: number;
  sources: string[];
  profiles: string[];
  seqLen: [number, number];
  gpus: [number, number];
  /** Total parameters, billions, rounded to 0.01. */
  paramsB: [number, number];
  precisions: string[];
  moe: boolean;
  contextParallel: boolean;
  /** Whether any of its runs had a pipeline (each ran 1F1B or interleaved 1F1B, stated or as
   *  Megatron's and torchtitan's defaults; no published run used GPipe or a zero-bubble schedule). */
  pipeline: boolean;
  /** How far the committed figures' step times are from its runs' measured ones. */
  accuracy: EngineAccuracy;
  /** Its step-time error on published runs nothing was fitted to (bench/validation/); absent:
   *  none checked. */
  validation?: EngineValidation;
}

/** An engine's step-time error on published runs outside the calibration set, nothing fitted to
 *  them: what its figures carry beyond the runs they were fitted on. Fractions to 0.001. */
export interface EngineValidation {
  /** Whose runs, in words ("NVIDIA's Megatron-Core tables (…)"). */
  label: string;
  runs: number;
  seqLen: [number, number];
  /** Mean and worst |predicted − measured| / measured step time. */
  mean: number;
  max: number;
}

/** |predicted − measured| / measured step time over an engine's runs, as fractions to 0.001. */
export interface EngineAccuracy {
  /** With the committed figures (fitted on all 277 runs). */
  mean: number;
  max: number;
  /** Each run predicted by the fit without its own source (leave-one-source-out, npm run bench):
   *  what a stack's own runs add beyond the others'. */
  losoMean: number;
}
/** Mean and worst |predicted − measured| / measured step time over some runs; fractions to 0.001. */
export interface RunErrors {
  runs: number;
  mean: number;
  max: number;
}

/** An engine no published run used, measured on this project's own runs instead (the paraplan
 *  engines: the worker's GPU runs, bench/results; written by bench/calibration/own-runs.ts). */
export interface OwnRuns {
  /** Where, in words: "one NVIDIA H200 (torch 2.11.0+cu130)". */
  device: string;
  /** The hardware profile the runs were predicted on. */
  profile: string;
  seqLen: [number, number];
  gpus: [number, number];
  /** The runs its figures were fitted on, and those held out of the fit. */
  fitted: RunErrors;
  heldOut?: RunErrors;
}

export interface Envelope {
  source: string;
  engines: Record<string, EngineEnvelope>;
  /** Hardware profile → the engines whose runs fitted its figures. */
  profiles: Record<string, string[]>;
  /** Engines with no published run, by their own runs; absent: none has any. */
  ownRuns?: Record<string, OwnRuns>;
}

/** What a request has that its engine's runs lack. "degree": a sequence, GPU count or model size
 *  beyond the span of a dimension the runs vary, which the cost model's scaling carries them to
 *  (how far such extrapolation misses, the out-of-sample records say: EngineValidation). "kind":
 *  something none of the runs has at all (another GPU or a profile of one's own, a precision, a
 *  mixture of experts; a plan's context parallel, pipeline or schedule: planOutside), where no
 *  published run says how far the figures are off. */
export type OutsideKind = "degree" | "kind";
export type OutsideWhat = "profile-file" | "hardware" | "engine-hardware" | "sequence" | "gpus" | "size" | "precision" | "moe" | "context-parallel" | "pipeline" | "schedule";
const IN_DEGREE: ReadonlySet<OutsideWhat> = new Set(["sequence", "gpus", "size"]);

/** One way a request lies outside its engine's runs: which dimension, its kind, in words. */
export interface Outside {
  what: OutsideWhat;
  kind: OutsideKind;
  words: string;
}
const beyond = (what: OutsideWhat, words: string): Outside => ({ what, kind: IN_DEGREE.has(what) ? "degree" : "kind", words });
/** The ways in words, as the calibration lines print them. */
export const outsideWords = (o: readonly Outside[]) => o.map((x) => x.words);

export interface CalibrationStanding {
  /** Published runs of this engine (0: none calibrates it). */
  runs: number;
  /** The runs' span in words, or why there is none. */
  span: string;
  /** Each way this request lies outside the span; empty: inside. */
  outside: Outside[];
  /** What the engine's runs ran of the plan's own dimensions (planOutside); absent: no runs. */
  ran?: { contextParallel: boolean; pipeline: boolean };
  /** Its step-time error on those runs; absent: no runs. */
  accuracy?: EngineAccuracy;
  /** Its error on published runs nothing was fitted to, where there are such (EngineValidation). */
  validation?: EngineValidation;
  /** Where no published run calibrates the engine: this project's own runs of it, if any. */
  ownRuns?: OwnRuns;
}

export interface StandingInput {
  /** The engine as asked for: a built-in name, or a file. */
  engine: string;
  engineIsFile: boolean;
  profile: string;
  profileIsFile: boolean;
  model: ModelSpec;
  training: Training;
}

export const envelopePath = () => join(packageRoot(), "profiles", "calibration.json");

let cached: Envelope | undefined;
export function readEnvelope(): Envelope {
  return (cached ??= JSON.parse(readFileSync(envelopePath(), "utf8")) as Envelope);
}

// Thousands separators without ICU: toLocaleString loaded its number formatting here, ~20 ms of
// every `plan`'s start.
const n = count;
const span = (r: [number, number], unit: string) => (r[0] === r[1] ? `${n(r[0])} ${unit}` : `${n(r[0])}–${n(r[1])} ${unit}`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
// Under 0.05B a tenth of a billion read "0B" (tiny's 0.4M): millions, or the count itself, there.
const billions = (x: number) => (x >= 0.05 ? `${x >= 10 ? Math.round(x) : Math.round(x * 10) / 10}B` : compact(x * 1e9));

export function calibrationStanding(q: StandingInput, env: Envelope = readEnvelope()): CalibrationStanding {
  const own = q.engineIsFile ? undefined : env.ownRuns?.[q.engine];
  if (own !== undefined && env.engines[q.engine] === undefined) return ownStanding(q, own);
  const outside: Outside[] = [];
  const fittedOn = q.profileIsFile ? undefined : env.profiles[q.profile];
  if (q.profileIsFile) outside.push(beyond("profile-file", `profile ${q.profile} is a file of your own: no published run was on it`));
  else if (fittedOn === undefined) outside.push(beyond("hardware", `${q.profile}: no published run on this hardware (its figures are the profile's priors)`));
  const e = q.engineIsFile ? undefined : env.engines[q.engine];
  if (e === undefined) {
    const why = q.engineIsFile ? `engine file ${q.engine}: no published run calibrates it (its figures are the file's and those it extends)` : `${q.engine}: no published run calibrates this engine (its figures are priors)`;
    return { runs: 0, span: why, outside };
  }
  const t = q.training;
  if (fittedOn !== undefined && !e.profiles.includes(q.profile)) outside.push(beyond("engine-hardware", `${q.engine} has no run on ${q.profile}`));
  if (t.seqLen < e.seqLen[0] || t.seqLen > e.seqLen[1]) outside.push(beyond("sequence", `sequence of ${n(t.seqLen)} tokens`));
  if (t.gpus < e.gpus[0] || t.gpus > e.gpus[1]) outside.push(beyond("gpus", `${n(t.gpus)} GPU${t.gpus === 1 ? "" : "s"}`));
  const b = totalParams(q.model, t.seqLen) / 1e9;
  if (b < e.paramsB[0] * 0.995 || b > e.paramsB[1] * 1.005) outside.push(beyond("size", `${billions(b)} parameters`));
  if (!e.precisions.includes(t.precision)) outside.push(beyond("precision", `${t.precision} training`));
  if (q.model.moe !== undefined && !e.moe) outside.push(beyond("moe", "a mixture of experts (its runs are dense models)"));
  const words = [
    `${q.engine} fitted on ${n(e.runs)} published run${e.runs > 1 ? "s" : ""} (${e.sources.join(", ")})`,
    `on ${e.profiles.join(", ")}`,
    span(e.seqLen, "tokens"),
    span(e.gpus, "GPUs"),
    `${billions(e.paramsB[0]) === billions(e.paramsB[1]) ? billions(e.paramsB[0]) : `${billions(e.paramsB[0])}–${billions(e.paramsB[1])}`} parameters`,
    e.precisions.join("/"),
    e.moe ? "dense and MoE" : "dense",
    ...(e.contextParallel ? ["with context parallel"] : []),
  ];
  return { runs: e.runs, span: words.join(", "), outside, ran: { contextParallel: e.contextParallel, pipeline: e.pipeline }, accuracy: e.accuracy, ...(e.validation ? { validation: e.validation } : {}) };
}

/** An engine no published run used, against this project's own runs of it: their span, and each
 *  way the request lies outside it (another profile, sequence, more GPUs: the own runs are
 *  single-GPU, so every communication term is the cost model's, unchecked by them). */
function ownStanding(q: StandingInput, own: OwnRuns): CalibrationStanding {
  const t = q.training;
  const outside: Outside[] = [];
  if (q.profileIsFile) outside.push(beyond("profile-file", `profile ${q.profile} is a file of your own`));
  else if (q.profile !== own.profile) outside.push(beyond("hardware", `${q.profile} (its runs were on ${own.profile})`));
  if (t.seqLen < own.seqLen[0] || t.seqLen > own.seqLen[1]) outside.push(beyond("sequence", `sequence of ${n(t.seqLen)} tokens`));
  if (t.gpus < own.gpus[0] || t.gpus > own.gpus[1]) outside.push(beyond("gpus", `${n(t.gpus)} GPUs (its runs had ${span(own.gpus, own.gpus[1] === 1 ? "GPU" : "GPUs")}: communication is the cost model's alone)`));
  const words = `${q.engine}: no published run calibrates this engine; fitted on this project's own runs of it on ${own.device}, ${own.profile}, ${span(own.seqLen, "tokens")}, ${span(own.gpus, own.gpus[1] === 1 ? "GPU" : "GPUs")}`;
  return { runs: 0, span: words, outside, ownRuns: own };
}

/** "step time off by 3.4% on average on the 7 fitted runs, 7.5% at worst; 4.5% on average on 2
 *  runs held out of the fit, 5.9% at worst" */
export const ownRunsWords = (o: OwnRuns) => {
  const on = (e: RunErrors, which: string) =>
    e.runs === 1 ? `${pct(e.mean)} on the 1 ${which} run` : `${pct(e.mean)} on average on the ${n(e.runs)} ${which} runs, ${pct(e.max)} at worst`;
  return `step time off by ${on(o.fitted, "fitted")}${o.heldOut ? `; ${on(o.heldOut, "held-out")}` : ""}`;
};

const UNRUN_SCHEDULES = { gpipe: "GPipe", zb1p: "ZB1P zero-bubble", zbv: "ZB-V zero-bubble", dualpipev: "DualPipeV" } as const;

/** What a plan uses that none of its engine's runs did: context parallel, a pipeline, a schedule
 *  other than 1F1B and interleaved 1F1B (no published run used GPipe or a zero-bubble one). */
export function planOutside(p: Pick<Plan, "cp" | "pp" | "schedule">, s: CalibrationStanding): Outside[] {
  if (s.ran === undefined) return [];
  const out: Outside[] = [];
  if (p.cp > 1 && !s.ran.contextParallel) out.push(beyond("context-parallel", "context parallel"));
  if (p.pp > 1 && !s.ran.pipeline) out.push(beyond("pipeline", "a pipeline"));
  else if (p.pp > 1 && p.schedule !== "1f1b" && p.schedule !== "interleaved") out.push(beyond("schedule", `the ${UNRUN_SCHEDULES[p.schedule]} schedule`));
  return out;
}

/** The header's line: "calibration: megatron-core fitted on 21 published runs (…); step time off
 *  by …; outside them here: sequence of 131,072 tokens". */
export function standingLine(s: CalibrationStanding): string {
  if (s.runs === 0 && s.ownRuns) return `calibration: ${s.span}; ${ownRunsWords(s.ownRuns)}; ${s.outside.length === 0 ? "this request is within them" : `outside them here: ${outsideWords(s.outside).join("; ")}`}`;
  if (s.runs === 0) return `calibration: ${[s.span, ...outsideWords(s.outside)].join("; ")}`;
  const acc = s.accuracy ? `; ${accuracyWords(s.accuracy)}` : "";
  return `calibration: ${s.span}${acc}; ${s.outside.length === 0 ? "this request is within them" : `outside them here: ${outsideWords(s.outside).join("; ")}${s.validation ? `; ${validationWords(s.validation)}` : ""}`}`;
}

/** Where the request lies outside the fitted runs, what runs nothing was fitted to showed:
 *  "on NVIDIA's Megatron-Core tables (…), which nothing was fitted to: step time off by 10.6% on
 *  average, 20.5% at worst (14 runs, 4,096–1,048,576 tokens)". */
export const validationWords = (v: EngineValidation) =>
  `on ${v.label}, which nothing was fitted to: step time off by ${pct(v.mean)} on average, ${pct(v.max)} at worst (${n(v.runs)} runs, ${span(v.seqLen, "tokens")})`;

/** "step time off by 3.2% on average on them, 6.6% at worst, 6.8% when fitted without the run's
 *  own source" */
export const accuracyWords = (a: EngineAccuracy) =>
  `step time off by ${pct(a.mean)} on average on them, ${pct(a.max)} at worst, ${pct(a.losoMean)} when fitted without the run's own source`;

/** The standing as --json carries it: `outside` in words, as the calibration line prints them, and
 *  `outsideKind` beside it, each "degree" or "kind" (OutsideKind). */
export function standingJson(s: CalibrationStanding) {
  return { ...s, outside: outsideWords(s.outside), outsideKind: s.outside.map((o) => o.kind) };
}
