// `paraplan plan --sweep-gpus`: the best plan and the whole run at each GPU count (closed form at
// every count, the simulation of only the best few there: planner/run/sweep.ts), a chart, and
// with --deadline the cheapest count that meets it.
import { checkpointBytes, cheapestWithin, runStall, scalingOf, slowedPoints, sweepPoint, SWEEP_SIMULATE_TOP, type SweepPoint } from "../../planner/run/index.js";
import { planJson } from "../../executor/plan-json.js";
import { type RunSettings, runFigures } from "../app/whole-run.js";
import { runBand } from "../calibration-band.js";
import { planOutside, standingJson } from "../calibration-standing.js";
import { EXIT, UserError } from "../errors.js";
import { type RunFigureWords, duration, figureJson, runAssumed, runSources, tb } from "../format/run-text.js";
import { heldBySlice } from "../domain-slice.js";
import { type DeadlineMargin, type HeldOf, type SweptRequest, deadlineLine, holdsIdle, noPlanLine, sweepAssumed, sweepCalibration, sweepChart, sweepHeader, sweepTable } from "../format/sweep-text.js";
import { compact } from "../format/units.js";
import { rejections } from "../format/plan-text.js";
import { type SearchResult, isDefaultModules, recomputeModulesOf } from "../../planner/index.js";
import type { Io } from "../io.js";
import { parsePlanArgs } from "../plan-args.js";
import { GpuCountError, type PlanRequest, buildRequest } from "../plan-request.js";
import type { RunArgs, RunFlag } from "../run-args.js";
import { PLAN_USAGE, TAKEN_FLAGS } from "./plan.js";

/** The deadline again with every step `band` slower (src/calibration-band.ts runBand, over every
 *  count's standing and what each count's plan uses beyond its engine's runs); where no band is
 *  stated, why. */
function deadlineMargin(req: PlanRequest, swept: readonly PlanRequest[], points: readonly SweepPoint[], settings: RunSettings & { tokens: number }, deadline: number, perUsed: (gpus: number) => number): DeadlineMargin | string | undefined {
  const standing = sweepCalibration(swept);
  if (standing === undefined) return undefined;
  const engine = req.training.engine?.name ?? "megatron-core";
  const band = runBand(standing, engine, points.flatMap((p) => (p.plan ? planOutside(p.plan, standing) : [])));
  if (band.band === null) return band.why;
  if (!(band.band > 0)) return undefined;
  const o = { tokens: settings.tokens, price: settings.price, mode: settings.ckpt };
  const slow = slowedPoints(req.model, points, runFigures(req.hw, settings), o, 1 + band.band);
  const pick = cheapestWithin(points, deadline, perUsed);
  return { band: band.band, why: band.short, pick: cheapestWithin(slow, deadline, perUsed), slowPick: pick ? slow[points.indexOf(pick)]! : null };
}

/** A count's `held` for --json where it leaves GPUs of its domains idle, as plan --json's run.held. */
const heldJson = (h: ReturnType<HeldOf> | undefined) => (h && h.idle > 0 ? { held: h } : {});

export async function runSweep(argv: string[], run: RunArgs, counts: readonly number[], io: Io): Promise<number> {
  const args = parsePlanArgs(argv, TAKEN_FLAGS);
  if (args.help) {
    io.out(PLAN_USAGE);
    return 0;
  }
  if (args.gpus !== undefined) throw new UserError("--gpus and --sweep-gpus contradict each other; give one");
  // A sweep lists one plan a count and simulates its best three: the one-plan outputs would be
  // silently skipped (a --trace-out file not written).
  const single = ["--trace-out", "--timeline", "--simulate-top", "--top"].find((f) => argv.some((a) => a === f || a.startsWith(`${f}=`)));
  if (single) throw new UserError(`${single} does not apply with --sweep-gpus (one best plan a count, its best ${SWEEP_SIMULATE_TOP} simulated); drop one of them`);
  if (run.tokens === undefined) throw new UserError("--sweep-gpus needs --tokens (the tokens to train, like 300B)");
  const settings = { ...run, tokens: run.tokens };
  const started = performance.now();
  const reasons = new Map<number, string>();
  let first: PlanRequest | undefined;
  const valid: PlanRequest[] = [];
  // Every count's request first: bad input that holds at every count (an unknown model, a flag the
  // engine refuses) is refused once, exit 2, as `plan --gpus N` refuses it, before any search; what
  // only a count makes bad (a fixed --tp that does not divide it) is said on its row.
  const requests = counts.map((gpus): PlanRequest | GpuCountError => {
    try {
      return buildRequest({ ...args, gpus });
    } catch (e) {
      if (e instanceof GpuCountError) return e;
      throw e;
    }
  });
  const points: SweepPoint[] = counts.map((gpus, i) => {
    const req = requests[i]!;
    if (req instanceof GpuCountError) {
      reasons.set(gpus, req.message);
      return { gpus, training: null, plan: null, step: NaN, simulated: false, run: null, tokensPerGpuSecond: 0, mfu: 0 };
    }
    first ??= req;
    valid.push(req);
    const figures = runFigures(req.hw, settings);
    const p = sweepPoint(req.model, req.hw, req.training, req.fixed, figures, { tokens: settings.tokens, price: settings.price, mode: settings.ckpt });
    // As `plan --gpus N` says it: nothing fits (a closest plan exists), or no configuration is valid.
    const stall = p.run ? runStall(p.run, figures.restartTime.value) : null;
    if (stall) {
      reasons.set(gpus, stall.message);
      return { ...p, plan: null, run: null };
    }
    if (!p.plan) reasons.set(gpus, p.closest ? "nothing fits in GPU memory" : `no valid configuration: ${rejections({ rejected: p.rejected ?? {} } as SearchResult).replace(/^rejected: /, "")}`);
    return p;
  });
  const elapsedMs = performance.now() - started;
  // On slices of NVLink domains (--gpus-per-domain, the same at every count), each count holds
  // whole domains, idle GPUs included: its GPU-hours and cost, and the deadline's pick, count them,
  // as plan's held: line does (QA: 2,048 GB200 at 64 a rack was priced $387k on the GPUs used, under
  // the $468k of whole racks, for 32 racks of 2,304 GPUs: $435k).
  const slice = first?.domainSlice;
  const held: HeldOf | undefined = slice && ((p) => (p.run ? heldBySlice(p.gpus, slice, p.run.gpuHours, p.run.cost) : null));
  const perUsed = (gpus: number) => (slice ? heldBySlice(gpus, slice, 1, null).gpuHours : 1);
  const pick = run.deadline !== undefined ? cheapestWithin(points, run.deadline, perUsed) : null;
  const margin = run.deadline !== undefined && first ? deadlineMargin(first, valid, points, settings, run.deadline, perUsed) : undefined;
  const why = (p: SweepPoint) => reasons.get(p.gpus) ?? "no plan";
  // The header's request: the counts' own, or where none is valid, as far as the first was built
  // (it names the model, hardware and engine all the same).
  const swept: SweptRequest[] = valid.length > 0 ? valid : requests.flatMap((r) => (r instanceof GpuCountError && r.request ? [r.request] : []));
  const head = swept[0];
  // The run's figures are the profile's (or the defaults), the same at every count.
  const words: RunFigureWords | undefined = head && {
    figures: runFigures(head.hw, settings),
    settings,
    stagingUsed: settings.ckpt === "async" || points.some((p) => p.run && p.run.checkpoint.staging > p.run.checkpoint.storageWrite),
  };
  // The checkpoint the goodput and interval columns are priced with: the model's states, one copy
  // (planner/run/inputs.ts checkpointBytes), the same at every count.
  const ckpt = head ? checkpointBytes(head.model, head.training) : undefined;
  if (args.json) {
    const scale = scalingOf(points);
    const calibration = sweepCalibration(swept);
    const setting = (flag: string) => (run.given.includes(flag as RunFlag) ? "flag" : "default");
    io.out(JSON.stringify({
      model: head?.model.name ?? args.model,
      profile: head?.profileName,
      // as plan --json's cluster: the slice of each NVLink domain the counts use
      ...(head?.domainSlice ? { cluster: { gpusPerNode: head.hw.gpusPerNode, gpusPerDomain: head.domainSlice.used, nvlinkDomain: head.domainSlice.of } } : {}),
      engine: head?.training.engine?.name ?? null,
      // (as plan --json's, where not the default: QA found the sweep's --json without them)
      ...recomputeModulesJson(head?.training.engine),
      precision: head?.training.precision ?? null,
      tokens: settings.tokens,
      assumed: sweepAssumed(swept),
      ...(calibration ? { calibration: standingJson(calibration) } : {}),
      // The run's figures, as plan --tokens gives them in its `run` object, with their sources.
      ...(words
        ? {
            figures: {
              ...(ckpt !== undefined ? { checkpointBytes: ckpt } : {}),
              assumed: runAssumed(words),
              powerBasis: { value: settings.power, from: setting("power") },
              checkpointMode: { value: settings.ckpt, from: setting("ckpt") },
              failuresPerGpuHour: figureJson(words.figures, "failuresPerGpuHour"),
              pue: figureJson(words.figures, "pue"),
              checkpointBandwidth: figureJson(words.figures, "checkpointBandwidth"),
              stagingBandwidth: figureJson(words.figures, "stagingBandwidth"),
              restartTime: figureJson(words.figures, "restartTime"),
              power: words.figures.power ? { basis: words.figures.power.basis, wattsPerGpu: words.figures.power.value, from: words.figures.power.from, source: words.figures.power.source } : null,
            },
          }
        : {}),
      simulatedTop: SWEEP_SIMULATE_TOP,
      elapsedMs,
      points: points.map((p, i) => ({
        gpus: p.gpus,
        globalBatch: p.training?.globalBatch ?? null,
        plan: p.plan ? planJson(p.plan) : null,
        why: p.plan ? null : why(p),
        stepSeconds: p.plan ? p.step : null,
        stepFrom: p.plan ? (p.simulated ? "simulated" : "closed form") : null,
        tokensPerGpuSecond: p.plan ? p.tokensPerGpuSecond : null,
        mfu: p.plan ? p.mfu : null,
        scaling: scale[i],
        // gpuHours and cost on the GPUs used, as plan's run; `held` (as plan's run.held) the domains held
        run: p.run ? { days: p.run.days, gpuHours: p.run.gpuHours, energyMWh: p.run.energyMWh, cost: p.run.cost, goodput: p.run.goodput, failures: p.run.failures, checkpointIntervalSeconds: p.run.checkpoint.interval, checkpointsWritten: p.run.checkpoint.written, ...heldJson(held?.(p)) } : null,
      })),
      ...(run.deadline !== undefined
        ? {
            deadline: {
              seconds: run.deadline,
              gpus: pick?.gpus ?? null,
              // "cheapest" counted the domains held (points[].run.held), not the GPUs used alone
              ...(holdsIdle(points, held) ? { costOf: "held" } : {}),
              // The step `band` slower (the engine's error on its published runs): the count that
              // meets the deadline even then, and the pick's time at that pace.
              ...(typeof margin === "string" ? { band: null, noBand: margin } : margin ? { band: margin.band, gpusWithMargin: margin.pick?.gpus ?? null, pickDaysAtBand: margin.slowPick?.run?.days ?? null } : {}),
            },
          }
        : {}),
    }, null, 2));
  } else {
    const assumed = words ? runAssumed(words) : [];
    io.out([
      ...(head ? [sweepHeader(swept, counts)] : []),
      ...(assumed.length > 0 ? [`assumed for the run: ${assumed.join("; ")}`] : []),
      ...(ckpt !== undefined ? [`checkpoint: ${tb(ckpt)} of model states (weights + optimizer) at every count`] : []),
      `the best plan at each GPU count for ${compact(settings.tokens)} token${settings.tokens === 1 ? "" : "s"} (closed form at each count, its best ${SWEEP_SIMULATE_TOP} simulated; * closed form only) in ${duration(elapsedMs / 1000)}`,
      ...(holdsIdle(points, held) ? [`GPU-hours and cost count the GPUs held: whole ${slice!.of}-GPU NVLink domains, idle GPUs included, as plan's held: line (--json points[].run.held; the GPUs used alone: points[].run)`] : []),
      "",
      sweepTable(points, pick, why, held),
      "",
      sweepChart(points, 40, held),
      ...(run.deadline !== undefined ? ["", deadlineLine(points, pick, run.deadline, why, margin, held)] : []),
      ...(words ? ["", "sources of the run's figures:", ...runSources(words)] : []),
    ].join("\n"));
  }
  if (run.deadline !== undefined && !pick) {
    io.err(`paraplan: ${deadlineLine(points, null, run.deadline, why)}`);
    return EXIT.doesNotFit;
  }
  if (!points.some((p) => p.plan)) {
    io.err(`paraplan: ${noPlanLine(points, why)}`);
    return EXIT.doesNotFit;
  }
  return EXIT.ok;
}

/** The modules selective recompute re-runs where not Megatron's default, as plan --json's
 *  `recomputeModules` (format/plan-json.ts). */
function recomputeModulesJson(e: Parameters<typeof recomputeModulesOf>[0]): { recomputeModules?: readonly string[] } {
  const modules = e === undefined ? undefined : recomputeModulesOf(e);
  return modules !== undefined && !isDefaultModules(modules) ? { recomputeModules: modules } : {};
}
