// The step-time error a whole run's range is drawn at (plan --tokens; --deadline's margin), from
// where the request stands against its engine's published runs (calibration-standing.ts):
//
// - Inside them: the engine's error on those runs, the larger of its widest miss and its mean miss
//   when each run's source was left out of the fit (a stack with two runs has a narrow widest miss
//   and says little; leave-one-source-out says what unseen runs get).
// - Beyond them only in degree (a longer sequence, more GPUs, a larger or smaller model: outside
//   the span of a dimension the runs vary): the prediction is the cost model's extrapolation, and
//   the engine's error on the runs it was fitted to does not bound it (llama3-405b at 8,192 tokens
//   on 16,384 GPUs printed ±12.4% and put Meta's 30.84M GPU-hours below the range). The band is
//   the widest error known for such extrapolation: the worst miss on published runs nothing was
//   fitted to (profiles/calibration.json `validation`; megatron-core on NVIDIA's NeMo tables, 20.5%,
//   bench/validation/nemo.ts), taken over every engine that has such a record and never narrower
//   than the engine's own band. The worst, not the mean (10.6%): a range is what a budget is drawn
//   to, and half those runs missed by more than the mean. Any engine's: sequence, GPU count and
//   size reach the step through the same FLOP, memory and collective terms for every engine, and
//   this is the only measured error of them beyond fitted runs; an engine without such runs of its
//   own gets that figure, not its in-sample band, which says nothing of extrapolation. Where no
//   engine has such a record, no range is stated.
// - Beyond them in kind (hardware or precision none of its runs had, a mixture of experts among
//   dense runs, a profile of one's own; a plan's context parallel, pipeline or schedule its runs
//   never used: planOutside), or an engine no published run calibrates: no range. No published
//   run says how far the step is off there, and a band borrowed from other runs would look
//   checked when it is not (DeepSeek-V3, a mixture of experts on H800, printed ±12.4% around 8.8M
//   GPU-hours; its report states 2.664M).
import { type CalibrationStanding, type Envelope, type EngineValidation, type Outside, outsideWords, readEnvelope } from "./calibration-standing.js";
import { count } from "./format/units.js";

/** The band and why (`short`: for --deadline's margin), or why none is stated. */
export type RunBand = { band: number; basis: string; short: string } | { band: null; why: string };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The widest out-of-sample miss any engine's record holds, and whose; undefined: none has one. */
export function widestValidation(env: Envelope): { engine: string; validation: EngineValidation } | undefined {
  let best: { engine: string; validation: EngineValidation } | undefined;
  for (const [engine, e] of Object.entries(env.engines)) if (e.validation && (!best || e.validation.max > best.validation.max)) best = { engine, validation: e.validation };
  return best;
}

/** `plan`: what the plan uses that its engine's runs did not (planOutside), beside the request's. */
export function runBand(s: CalibrationStanding, engine: string, plan: readonly Outside[] = [], env: Envelope = readEnvelope()): RunBand {
  const a = s.accuracy;
  const all = [...s.outside, ...plan];
  const kind = outsideWords(all.filter((o) => o.kind === "kind"));
  if (s.runs === 0 || a === undefined) {
    const first = s.ownRuns ? `${engine}: no published run calibrates this engine (this project's own runs of it, in the calibration line, are not a run's error)` : s.span;
    return { band: null, why: [first, ...kind].join("; ") };
  }
  if (kind.length > 0) return { band: null, why: `the step's error is unknown where no published run of ${engine} reaches: ${kind.join("; ")}` };
  const own = Math.max(a.max, a.losoMean);
  const ownWhy = a.max >= a.losoMean ? `${engine}'s widest miss on its ${count(s.runs)} published run${s.runs > 1 ? "s" : ""}` : `${engine}'s mean miss on its published runs predicted without their own source`;
  if (all.length === 0) return { band: own, basis: ownWhy, short: `${engine}'s error on its published runs` };
  const degree = `the request lies beyond ${engine}'s ${count(s.runs)} published run${s.runs > 1 ? "s" : ""} in degree: ${outsideWords(all).join("; ")}`;
  const ext = widestValidation(env);
  if (ext === undefined) return { band: null, why: `${degree}, and no published run nothing was fitted to says how far the cost model's extrapolation misses` };
  const known = `${ext.engine} on ${ext.validation.label}, which nothing was fitted to`;
  if (own >= ext.validation.max) return { band: own, basis: `${ownWhy}, no narrower than the worst miss known beyond fitted runs (${pct(ext.validation.max)}, ${known}); ${degree}`, short: `${engine}'s error on its published runs, the widest known; the request lies beyond them in degree` };
  return { band: ext.validation.max, basis: `the worst miss known beyond fitted runs, ${known}${ext.engine === engine ? "" : ` (${engine} has no such runs)`}; ${degree}`, short: `the worst miss known beyond fitted runs; the request lies beyond ${engine}'s runs in degree` };
}
