// `paraplan plan`: search, simulate the best step by step, and print the ranked plans (the
// closed form's order, as the interactive planner ranks; the simulated step in a column of its own).
import { writeFileSync } from "node:fs";
import { type PlanResult, cpWhy, search } from "../../planner/index.js";
import { startSimulation } from "../app/sim-thread.js";
import type { EarlyThread } from "../app/sim-early.js";
import { MAX_SIMULATED_OPS, simulablePrefix, simulate, simulationOps } from "../../planner/sim/simulate.js";
import { UserError } from "../errors.js";
import { refuseOwnFile } from "../own-paths.js";
import { planReport, rejections, header, type SimulationNote } from "../format/plan-text.js";
import { noPlanMessage } from "../format/no-plan.js";
import { searchJson, type SimulatedJson } from "../format/plan-json.js";
import { renderGantt } from "../format/timeline-gantt.js";
import { timelineTrace } from "../../executor/timeline-trace.js";
import type { Io } from "../io.js";
import { parsePlanArgs } from "../plan-args.js";
import { buildRequest } from "../plan-request.js";
import { RUN_FLAGS, takeRunArgs } from "../run-args.js";
import { wholeRun } from "../app/whole-run.js";
import { type RunBand, runBand } from "../calibration-band.js";
import { type CalibrationStanding, planOutside } from "../calibration-standing.js";
import { runStall } from "../../planner/run/index.js";
import { runJson, runText } from "../format/run-text.js";
import { heldBySlice } from "../domain-slice.js";

/** Flags plan takes out of argv before its plan flags are parsed: offered where one is mistyped. */
export const TAKEN_FLAGS: readonly string[] = [...RUN_FLAGS, "from"];

export const PLAN_USAGE = `usage: paraplan plan --model <preset|file.json> [options]

  --model NAME|FILE        model preset (see profiles/models) or a model / HuggingFace config.json file
  --profile NAME|FILE      hardware profile: a built-in, "local", or a .json file (default dgx-h100)
  --gpus N                 total GPUs (default: the model file's, else one node)
  --gpus-per-domain N      GPUs used of each multi-node NVLink domain, whole nodes (gb200-nvl72: 64 of
                           its 72, so that power-of-two groups tile the racks; default all)
  --global-batch B         sequences per step (default: the model file's)
  --seq S                  sequence length (default: the model's)
  --precision P            bf16 (default), fp16, fp8 (matmuls at the profile's gpu.peak.fp8: Hopper, Ada,
                           Blackwell, MI300X; fp4 and MXFP8 block scaling are not modelled)
  --engine NAME|FILE       the software stack (profiles/engines): megatron-core (default), megatron-2021,
                           megatron-deepspeed, fsdp, torchtitan, torchtitan-compile, paraplan,
                           paraplan-compile, or a .json file
  --attention A            fused (flash attention) or unfused: overrides the engine's kernel
  --no-grad-overlap        gradient reduction after backward instead of overlapped with it (overrides the engine;
                           ZeRO-3's weight gathers keep the engine's prefetch)
  --tp-comm-overlap        hide tensor-parallel communication behind the GEMMs (megatron-core: Transformer
                           Engine userbuffers, as Megatron's --tp-comm-overlap; torchtitan-compile: async
                           TP, enable_async_tensor_parallel; needs sequence parallel)
  --grad-reduce-in-bf16    accumulate and reduce gradients in bf16 where the engine keeps fp32 ones
                           (Megatron's flag; megatron-core and torchtitan default to fp32 under bf16)
  --grad-reduce-in-fp32    accumulate and reduce gradients in fp32 where the engine keeps 16-bit ones
                           (Megatron's --accumulate-allreduce-grads-in-fp32; FSDP reduce_dtype fp32, as
                           llm-foundry's mixed_precision DEFAULT; fsdp, megatron-2021 and
                           megatron-deepspeed default to 16-bit)
  --tp T --pp P --dp D     fix the tensor / pipeline / data parallel sizes
  --vpp V                  fix the virtual pipeline stages per rank
  --stage-layers A,B,…     layers of each pipeline stage, first to last (uneven stages; sets --pp)
  --cp C                   fix the context-parallel size (sequence split for attention; searched
                           from 16,384 tokens on, dense models only)
  --cp-comm allgather|ring|a2a   fix the K/V exchange (default: the search tries all three)
  --cp-split zigzag|contiguous   how the sequence is cut (default zigzag, balanced)
  --ep E --etp T           fix the expert parallel / expert tensor parallel sizes (MoE models)
  --moe-imbalance R        busiest expert rank's routed tokens over the mean (default 1.25)
  --optimizer-states P     Adam's moments in fp32 (default) or bf16 (DeepSeek-V3: 8 bytes/param)
  --schedule S             1f1b, interleaved, gpipe, zb1p, zbv or dualpipev
  --zero Z                 fix the ZeRO stage (0-3)
  --micro-batch M          fix the micro-batch size
  --recompute R            none, selective or full (fixed full: every layer)
  --recompute-modules M,…  what selective recompute re-runs on megatron-core, Megatron's
                           --recompute-modules: core_attn (default), layernorm, mla_up_proj, mlp,
                           moe_act, moe, shared_experts
  --recompute-num-layers N fix full recompute's depth: the first N layers of each pipeline (or
                           virtual) stage re-run, the rest keep their activations (Megatron's
                           --recompute-method block); without it the search takes the least
                           depth that fits on megatron-core and paraplan ("block N" in the table);
                           on torchtitan N layers a stage as every k-th layer gives them
                           (selective_ac_option "k"; "every k" in the table)
  --sequence-parallel / --no-sequence-parallel
  --top K                  how many plans to list (default 10)
  --from FILE              read your Megatron-LM arguments, ds_config.json (+ Megatron-DeepSpeed arguments as a
                           second --from), torchtitan TOML or llm-foundry YAML into a plan, and compare it with
                           the best plan found
  --simulate-top K         simulate the best K plans step by step: a "sim. step" column and the
                           plan the simulation finds fastest (default 20, 0: off)
  --timeline               draw the best plan's simulated step (one row per pipeline stage)
  --trace-out FILE         write the best plan's simulated step as a Chrome trace (chrome://tracing, Perfetto)
  --json                   one JSON object instead of the table

the whole run (README "The whole run"):
  --tokens N               tokens to train (15.6T, 300B, 2e12): days, GPU-hours, energy, cost, failures,
                           checkpoint interval and goodput of the best plan
  --price USD              price per GPU-hour, for the cost
  --power board|node       energy from the GPU board power (default) or the node's power per GPU
  --pue X                  power usage effectiveness (default: the profile's, else 1.09, Meta's data centres)
  --ckpt sync|async        checkpoints block training for the write (default) or the device-to-host copy
  --ckpt-bandwidth B       checkpoint storage write bandwidth, all GPUs together (default: the profile's, else 2 TB/s)
  --restart-time T         from an interruption to training again (10min, 600s; default: the profile's, else 10 min)
  --sweep-gpus LIST        best plan and run at each GPU count: 256..16384 (powers of two) or 256,1024,4096
  --deadline T             with --sweep-gpus: the cheapest count that trains within T (90d, 2000h, 12w)

bounds: --gpus --tp --cp --pp --dp --vpp --ep --etp ≤ 1,048,576; --moe-imbalance 1–64; --global-batch --micro-batch ≤ 2,147,483,648;
--seq ≤ 16,777,216; --top ≤ 10,000; --simulate-top ≤ 1,000; --tokens ≤ 1e16; --sweep-gpus ≤ 24 counts (README "Inputs")
exit status: 0 plans found, 1 no plan (nothing fits in memory, no valid configuration, or no count meets --deadline), 2 bad input`;

/** `early`: the simulation's thread, if the CLI started one from these arguments (src/app/sim-early.ts). */
export async function runPlan(argv: string[], io: Io, early: EarlyThread | null = null): Promise<number> {
  // --from reads engine configurations: the engines' readers load only then.
  if (argv.some((a) => a === "--from" || a.startsWith("--from="))) {
    // The whole-run flags price the best plan's run; --from compares a configuration with it.
    const runFlag = argv.find((a) => (RUN_FLAGS as readonly string[]).includes(a.replace(/^--/, "").split("=")[0]!) && a.startsWith("--"));
    if (runFlag) throw new UserError(`${runFlag.split("=")[0]} does not combine with --from (it compares your configuration with the best plan); run plan --tokens … without --from for the whole run`);
    const { runPlanFrom, takeFrom } = await import("../engines/compare.js");
    const from = takeFrom(argv);
    if (from) return runPlanFrom(from.paths, from.rest, io, PLAN_USAGE);
  }
  const { run, rest } = takeRunArgs(argv);
  if (run.sweep) {
    const { runSweep } = await import("./sweep.js");
    return runSweep(rest, run, run.sweep, io);
  }
  const args = parsePlanArgs(rest, TAKEN_FLAGS);
  if (args.help) {
    io.out(PLAN_USAGE);
    return 0;
  }
  // The drawing is the table's: with --json it would be left out unsaid (--trace-out writes it).
  if (args.json && args.timeline) throw new UserError("--timeline draws the step beside the table, and --json prints no table; drop one (--trace-out writes the step as a file beside --json)");
  // Checked before the search: an empty name was no file and nothing was written, exit 0; one of
  // paraplan's own files (README.md, a built-in profile) was replaced by the trace (QA).
  if (args.traceOut !== undefined) {
    if (args.traceOut.trim() === "") throw new UserError("--trace-out: needs a file name (the Chrome trace to write)");
    refuseOwnFile("--trace-out", args.traceOut);
  }
  const req = buildRequest(args);
  const k = args.simulateTop ?? 0;
  // With 4 cores or more the simulator warms up on a thread of its own while the search runs;
  // below that it simulates here after the search (src/app/sim-thread.ts, one-shot.ts).
  if (k === 0) void early?.worker.terminate();
  const helper = k > 0 ? startSimulation({ model: req.model, hw: req.hw, training: req.training }, early) : null;
  const started = performance.now();
  const result = search(req.model, req.hw, req.training, req.fixed, { top: Math.max(k, args.top) });
  const elapsedMs = performance.now() - started;
  // Why context parallel, when the best plan uses it (planner/cp-why.ts).
  const why = cpWhy(req.model, req.hw, req.training, req.fixed, result);
  // Simulate the closed form's best K; the rows keep the closed form's order, list the first --top.
  let sim: SimulatedJson | undefined;
  let note: SimulationNote | undefined;
  const all = result.plans;
  result.plans = all.slice(0, args.top);
  // The simulation's work grows with the micro-batches per step: only as many of the best plans
  // as MAX_SIMULATED_OPS allows are simulated, and none when that is fewer than the listed plans
  // the --simulate-top K asked for (K below the rows listed: the first K rows get a "sim. step").
  const simulable = k > 0 ? simulablePrefix(req.model, req.training, all.slice(0, k)) : 0;
  const wanted = Math.min(k, result.plans.length);
  if (k > 0 && all.length > 0 && simulable < wanted)
    io.err(`paraplan: note: not simulated: the best plans' steps have too many micro-batches to simulate (over ${MAX_SIMULATED_OPS.toLocaleString("en-US")} operations); ranked by the closed form`);
  if (helper && all.length > 0 && simulable >= wanted) {
    const top = all.slice(0, simulable);
    const r = await helper.simulate(top);
    sim = { simulated: r.simulated.slice(0, result.plans.length), top: top.length, fastest: r.fastest };
    const first = r.simulated[0]!;
    note = {
      simulated: top.length,
      orderDiffers: r.orderDiffers,
      fastest: r.fastest,
      fastestStep: r.simulated[r.fastest]!.step,
      listed: result.plans.length,
      bestStep: first.step,
      bestBubble: first.bubble,
      bestImbalance: first.imbalance,
      bestExposedComm: first.exposedComm,
    };
  }
  else helper?.close();
  // The best plan's timeline; the trace file is written before anything is printed, so that a
  // path that cannot be written is a one-line error like any other bad input.
  const best = result.plans[0];
  if (best && (args.timeline || args.traceOut) && simulationOps(req.model, req.training, best) > MAX_SIMULATED_OPS)
    throw new UserError(
      `${args.timeline ? "--timeline" : "--trace-out"}: the best plan's step has ${req.training.globalBatch / (best.dp * best.microBatch)} micro-batches, too many to simulate (over ${MAX_SIMULATED_OPS.toLocaleString("en-US")} operations); lower --global-batch`,
    );
  const timeline = best && (args.timeline || args.traceOut) ? simulate(req.model, req.hw, req.training, best) : undefined;
  if (timeline && args.traceOut !== undefined) {
    try {
      writeFileSync(args.traceOut, timelineTrace(timeline));
    } catch (e) {
      throw new UserError(`--trace-out: cannot write "${args.traceOut}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  // The whole run of the best plan (#1), timed by its simulated step where it was simulated.
  const whole = best && run.tokens !== undefined
    ? wholeRun(req.model, req.hw, req.training, best, sim?.simulated[0]?.step ?? best.time.step, sim?.simulated[0] !== undefined, { ...run, tokens: run.tokens }, stepBandOf(req.calibration, req.training.engine.name, best))
    : undefined;
  // A run that hardly progresses is priced by its failure settings, not its training: refused.
  const stall = whole ? runStall(whole.estimate, whole.inputs.restartTime) : null;
  if (stall) throw new UserError(`--tokens: ${stall.message} [${stall.code}]`);
  // On slices of NVLink domains, the racks the job holds, idle GPUs included (src/domain-slice.ts).
  // (none idle, as 144 GPUs at 72 a rack: nothing to add)
  const slice = whole && req.domainSlice ? heldBySlice(req.training.gpus, req.domainSlice, whole.estimate.gpuHours, whole.estimate.cost) : undefined;
  const held = slice && slice.idle > 0 ? slice : undefined;
  if (args.json) io.out(JSON.stringify({ ...searchJson(req, result, elapsedMs, sim, why), ...(whole ? { run: { ...runJson(whole), ...(held ? { held } : {}) } } : {}) }, null, 2));
  if (result.plans.length > 0) {
    if (!args.json) io.out(planReport(req, result, elapsedMs, note, sim?.simulated, why));
    if (whole && !args.json) io.out(["", runText(whole, held)].join("\n"));
    if (timeline && args.timeline && !args.json) io.out(["", ...renderGantt(timeline, terminalWidth())].join("\n"));
    return 0;
  }
  if (!args.json) io.out([header(req), rejections(result)].join("\n"));
  io.err(`paraplan: ${noPlanMessage(req, result)}`);
  return 1;
}

/** The step-time error the whole run's range is drawn at, and why, or why none is stated
 *  (src/calibration-band.ts): the request's standing and what the plan uses beyond its runs. */
function stepBandOf(s: CalibrationStanding | undefined, engine: string, plan: PlanResult): RunBand | undefined {
  return s && runBand(s, engine, planOutside(plan, s));
}

/** The terminal's width when stdout is one, else 80 columns. */
function terminalWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80;
}
