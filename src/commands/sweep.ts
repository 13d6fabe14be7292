// `paraplan plan --sweep-gpus`: the best plan and the whole run at each GPU count (closed form at
// every count, the simulation of only the best few there: planner/run/sweep.ts), a chart, and
// with --deadline the cheapest count that meets it.
import { cheapestWithin, runStall, scalingOf, slowedPoints, sweepPoint, SWEEP_SIMULATE_TOP, type SweepPoint } from "../../planner/run/index.js";
import { planJson } from "../../executor/plan-json.js";
import { type RunSettings, runFigures } from "../app/whole-run.js";
import { stepBand } from "../calibration-standing.js";
import { EXIT, UserError } from "../errors.js";
import { duration } from "../format/run-text.js";
import { type DeadlineMargin, deadlineLine, sweepChart, sweepTable } from "../format/sweep-text.js";
import { compact } from "../format/units.js";
import { rejections } from "../format/plan-text.js";
import type { SearchResult } from "../../planner/index.js";
import type { Io } from "../io.js";
import { parsePlanArgs } from "../plan-args.js";
import { GpuCountError, type PlanRequest, buildRequest } from "../plan-request.js";
import type { RunArgs } from "../run-args.js";
import { PLAN_USAGE, TAKEN_FLAGS } from "./plan.js";

/** The deadline again with every step `band` slower (src/calibration-standing.ts stepBand); none
 *  where no published run calibrates the engine. */
function deadlineMargin(req: PlanRequest, points: readonly SweepPoint[], settings: RunSettings & { tokens: number }, deadline: number): DeadlineMargin | undefined {
  const band = req.calibration && stepBand(req.calibration);
  if (band === undefined || !(band > 0)) return undefined;
  const o = { tokens: settings.tokens, price: settings.price, mode: settings.ckpt };
  const slow = slowedPoints(req.model, points, runFigures(req.hw, settings), o, 1 + band);
  const pick = cheapestWithin(points, deadline);
  return { band, engine: req.training.engine?.name ?? "megatron-core", pick: cheapestWithin(slow, deadline), slowPick: pick ? slow[points.indexOf(pick)]! : null };
}

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
  const pick = run.deadline !== undefined ? cheapestWithin(points, run.deadline) : null;
  const margin = run.deadline !== undefined && first ? deadlineMargin(first, points, settings, run.deadline) : undefined;
  const why = (p: SweepPoint) => reasons.get(p.gpus) ?? "no plan";
  if (args.json) {
    const scale = scalingOf(points);
    io.out(JSON.stringify({
      model: first?.model.name ?? args.model,
      profile: first?.profileName,
      engine: first?.training.engine?.name ?? null,
      precision: first?.training.precision ?? null,
      tokens: settings.tokens,
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
        run: p.run ? { days: p.run.days, gpuHours: p.run.gpuHours, energyMWh: p.run.energyMWh, cost: p.run.cost, goodput: p.run.goodput, failures: p.run.failures, checkpointIntervalSeconds: p.run.checkpoint.interval } : null,
      })),
      ...(run.deadline !== undefined
        ? {
            deadline: {
              seconds: run.deadline,
              gpus: pick?.gpus ?? null,
              // The step `band` slower (the engine's error on its published runs): the count that
              // meets the deadline even then, and the pick's time at that pace.
              ...(margin ? { band: margin.band, gpusWithMargin: margin.pick?.gpus ?? null, pickDaysAtBand: margin.slowPick?.run?.days ?? null } : {}),
            },
          }
        : {}),
    }, null, 2));
  } else {
    const name = first ? `${first.model.name} on ${first.profileName}, ${first.training.precision}, engine ${first.training.engine?.name ?? "megatron-core"}` : String(args.model);
    io.out([
      `${name}: the best plan at each GPU count for ${compact(settings.tokens)} tokens (closed form at each count, its best ${SWEEP_SIMULATE_TOP} simulated; * closed form only) in ${duration(elapsedMs / 1000)}`,
      "",
      sweepTable(points, pick, why),
      "",
      sweepChart(points),
      ...(run.deadline !== undefined ? ["", deadlineLine(points, pick, run.deadline, margin)] : []),
    ].join("\n"));
  }
  if (run.deadline !== undefined && !pick) {
    io.err(`paraplan: ${deadlineLine(points, null, run.deadline)}`);
    return EXIT.doesNotFit;
  }
  if (!points.some((p) => p.plan)) {
    io.err("paraplan: no GPU count swept has a plan that fits");
    return EXIT.doesNotFit;
  }
  return EXIT.ok;
}
