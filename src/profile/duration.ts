// How long `paraplan profile` takes, worked out from the schedule of measurements the profiler
// runs (executor/profiler/*.py) and the profile's own figures, before anything is measured.
//
// The schedule is mirrored here from the Python (grids, shapes, targets, group sizes, iteration
// counts); test/profile/duration.test.ts runs the Python and checks that both sides list the same
// measurements, so the two cannot drift apart. Each measurement is priced as the profiler times it:
//
//   single process (matmul.py, memory.py, attention.py through common.time_call): `warmup` calls,
//     one call to size the batch, then `repeats` batches of iters = clamp(⌈target / t⌉, 1, 200)
//     calls, so (warmup + 1 + repeats·iters)·t for a call of t seconds, where
//       matmul     t = 2mnk / (peak[dtype] · matmul efficiency(2mnk))   (the planner's table)
//       copy       t = 2·bytes / (HBM bandwidth · its efficiency)       (read + written, STREAM copy)
//       kernels    t = bytes / (HBM bandwidth · its efficiency)
//       attention  t = 3.5·4·b·s·k̄·a·d / (peak · attention efficiency)  (causal keys k̄)
//   collectives (collectives.py under torchrun): for each op, group size n and message size M,
//     (2 warm-up + iterations(M)) calls of the planner's α–β cost (planner/cost/collectives.ts:
//     all-reduce 2(n−1)α + 2(n−1)/n·M/B, all-gather and reduce-scatter (n−1)α + (n−1)/n·M/B,
//     Thakur et al. 2005 §4) on the profile's intra-node link, plus the two one-element
//     all-reduces around the timed loop; send/recv: (2 + iterations) round trips of 2·(α + M/B).
//
// plus fixed costs (process start, device and communicator initialisation, exit), each with its
// source below. The result is a plan of the time, not a measurement: the built-in profiles' link
// and efficiency figures are datasheet or calibrated values, and eager PyTorch's per-call costs
// are only floored.
import { allGatherTime, allReduceTime, p2pTime, reduceScatterTime } from "../../planner/cost/collectives.js";
import { causalAttentionWork } from "../../planner/cost/compute.js";
import { efficiencyAt } from "../../planner/efficiency.js";
import type { Hardware, Link } from "../../planner/types.js";
import {
  COLLECTIVE_OPS,
  type CollectiveMeasurement,
  type JobWork,
  type MatmulDtype,
  type ProfileDevice,
  TIME_CALL,
  collectiveSchedule,
  groupSizes,
  sendRecvPairs,
  singleSchedule,
} from "./schedule.js";

export type { ProfileDevice } from "./schedule.js";


// ---------------------------------------------------------------------------------------------
// Fixed costs, seconds.

export interface FixedCosts {
  /** Start a Python interpreter and `import torch` (the single process, torchrun's agent, and
   *  each rank, the ranks concurrently). */
  pythonStart: number;
  /** Interpreter teardown after torch, waited for by the supervisor (once per process tree). */
  exit: number;
  /** Per process touching the device: CUDA context, cuBLAS handle. */
  deviceInit: number;
  /** Per communicator (NCCL) or context (gloo). */
  commInit: number;
  /** Per single-process job beyond its timed loop (tensor creation, emit, first call of a shape). */
  job: number;
  /** Memory and attention phases each: first-use set-up (buffer fill, first autograd backward). */
  phaseSetup: number;
  /** Per collective measurement beyond its calls (buffers, result all-reduce, emit). */
  measurement: number;
  /** Floor of one eager PyTorch call. */
  callFloor: number;
}

/** CPU: measured on the machine this was written on (2-core x86-64 VM, torch 2.13 CPU build,
 *  Python 3.11, `--ranks 2 --quick`, timestamps on the profiler's event lines, machine idle):
 *  `python -c "import torch"` 1.9–2.4 s and the single process's first event at 1.9 s; torchrun's
 *  agent and then the ranks reach collectives.py's first event at 4.2 s (two starts in a row);
 *  0.7–1.4 s from the last event to process exit; gloo init_process_group 0.01–0.08 s and a
 *  new_group's first all-reduce 0.03–0.06 s; matmul jobs a median 6 ms beyond their timed loops;
 *  the copy's and attention's first job 0.47 and 0.49 s beyond theirs (buffer fill, first autograd
 *  backward); collective measurements 0–7 ms beyond their calls up to 128 KB, 35–110 ms at 2–8 MB
 *  (first touch of fresh buffers, not modelled: 10 ms each). The same machine under load from
 *  other processes took 2–3× as long to start (5.6–5.8 s per import, 2.6–2.9 s per exit). */
export const CPU_COSTS: FixedCosts = {
  pythonStart: 2,
  exit: 1,
  deviceInit: 0,
  commInit: 0.05,
  job: 0.006,
  phaseSetup: 0.5,
  measurement: 0.01,
  callFloor: 1e-5,
};

/** GPU: stated assumptions (no multi-GPU machine was at hand to measure them).
 *  pythonStart 3 s: the CPU build imports in 2 s (above); the CUDA build loads about a gigabyte
 *  more of shared libraries (libtorch_cuda, cuBLAS, cuDNN, NCCL). exit 1.5 s: the CPU figure
 *  plus the CUDA context's teardown. deviceInit 1 s: CUDA context with lazy module loading
 *  (CUDA 12 programming guide, "Lazy Loading") and the cuBLAS/cuBLASLt handles. commInit 1 s
 *  per NCCL communicator: an 8-GPU node logs "Init timings: … nranks 8 total 0.66 (kernels 0.42,
 *  bootstrap 0.07, …)" in NVIDIA/nccl-tests#273, and 2.5 s outside kernel loading on a DGX B200
 *  in NVIDIA/nccl#1646. PyTorch builds one communicator per process group on its first
 *  collective, and one more per pair for unbatched send/recv (ProcessGroupNCCL::pointToPoint
 *  keeps "the old two-rank behaviour" for single P2P). job 10 ms: cudaMalloc after the
 *  profiler's empty_cache, three synchronisations and the first cuBLASLt heuristic of a shape.
 *  phaseSetup 0.5 s: as on CPU; the first SDPA (cuDNN/flash) kernels and the 2–4 GiB copy
 *  buffers. measurement 5 ms. callFloor 10 µs: the smallest bf16 GEMMs of the H200 run in
 *  bench/results/profile-raw-h200/single.jsonl take 10.6–15 µs (eager dispatch and launch, not
 *  FLOPs). */
export const GPU_COSTS: FixedCosts = {
  pythonStart: 3,
  exit: 1.5,
  deviceInit: 1,
  commInit: 1,
  job: 0.01,
  phaseSetup: 0.5,
  measurement: 0.005,
  callFloor: 1e-5,
};

export const fixedCosts = (device: ProfileDevice): FixedCosts => (device === "cuda" ? GPU_COSTS : CPU_COSTS);

// ---------------------------------------------------------------------------------------------
// Pricing.

/** common.time_call's wall time for a callable of `t` seconds. */
export function timeCallSeconds(t: number, target: number, repeats: number): number {
  const iters = Math.max(1, Math.min(TIME_CALL.maxIters, Math.ceil(target / t)));
  return (TIME_CALL.warmup + 1 + repeats * iters) * t;
}

function peakFor(hw: Hardware, dtype: MatmulDtype): number {
  switch (dtype) {
    case "bf16":
      return hw.peak.bf16;
    case "fp16":
      return hw.peak.fp16;
    case "fp8":
      return hw.peak.fp8 ?? hw.peak.bf16;
    default: // tf32 on GPUs; fp32 on CPU, where the cpu profile's tf32 is the fp32 FMA peak
      return hw.peak.tf32;
  }
}

/** Seconds of one call of a single-process job on `hw`. */
export function callSeconds(hw: Hardware, device: ProfileDevice, w: JobWork, floor: number): number {
  const hbm = hw.memoryBandwidth * hw.memoryBandwidthEfficiency;
  let t: number;
  switch (w.kind) {
    case "matmul": {
      const flops = 2 * w.m * w.n * w.k;
      t = flops / (peakFor(hw, w.dtype) * efficiencyAt(hw.matmul, flops));
      break;
    }
    case "copy":
      t = w.bytes / hbm;
      break;
    case "kernel": // the planner's bytes count 16-bit elements; the CPU runs them in fp32
      t = (w.bytes * (device === "cpu" ? 2 : 1)) / hbm;
      break;
    case "attention": {
      // The profile's attention efficiency is of the work the planner times (causalAttentionWork).
      t = causalAttentionWork(w.b, w.s, w.a, w.d) / ((device === "cuda" ? hw.peak.bf16 : hw.peak.tf32) * hw.attentionEfficiency);
      break;
    }
  }
  return Math.max(floor, t);
}

/** Seconds of one call of a collective measurement on `link` (a send/recv call is a round trip). */
export function collectiveCallSeconds(c: CollectiveMeasurement, link: Link): number {
  switch (c.op) {
    case "all_reduce":
      return allReduceTime(c.bytes, c.n, link);
    case "all_gather":
      return allGatherTime(c.bytes, c.n, link);
    case "reduce_scatter":
      return reduceScatterTime(c.bytes, c.n, link);
    case "send_recv":
      return 2 * p2pTime(c.bytes, link);
  }
}

export interface ProfileEstimate {
  /** The single-process part's measurements (matmul, memory, attention), start-up excluded. */
  single: number;
  /** The collectives' measurements, start-up excluded (0 without collectives). */
  collectives: number;
  /** Process starts, device and communicator initialisation, exits: both parts. */
  startup: number;
  total: number;
  /** The start-up split by part (single + collectives = startup). */
  startupParts: { single: number; collectives: number };
  /** Counts: time_call jobs, collective measurements, communicators. */
  jobs: number;
  measurements: number;
  communicators: number;
  ranks: number;
}

export interface EstimateOptions {
  device: ProfileDevice;
  /** Ranks of the collectives (GPUs, or --ranks on CPU); below 2, none are run. */
  ranks: number;
  quick: boolean;
  /** false: --no-collectives. */
  collectives?: boolean;
  /** Override the fixed costs (tests, benches). */
  costs?: FixedCosts;
}

/** Seconds `paraplan profile` should take on a node described by `hw`. */
export function estimateProfileSeconds(hw: Hardware, opts: EstimateOptions): ProfileEstimate {
  const { device, quick } = opts;
  const c = opts.costs ?? fixedCosts(device);
  const jobs = singleSchedule(device, quick, hw.peak.fp8 !== null);
  let single = 0;
  for (const j of jobs) single += timeCallSeconds(callSeconds(hw, device, j.work, c.callFloor), j.target, j.repeats) + c.job;
  single += 2 * c.phaseSetup;
  const startSingle = c.pythonStart + c.deviceInit + c.exit;

  const ranks = opts.collectives === false ? 0 : opts.ranks;
  const schedule = collectiveSchedule(device, ranks, quick);
  let collectives = 0;
  let communicators = 0;
  let startColl = 0;
  if (schedule.length > 0) {
    const link = hw.intra;
    const lineUp = (n: number) => allReduceTime(4, n, link); // a one-element float32 all-reduce
    for (const m of schedule) {
      collectives += (2 + m.iters) * collectiveCallSeconds(m, link) + c.measurement;
      if (m.op !== "send_recv") collectives += lineUp(m.n) + allReduceTime(8, m.n, link); // line_up + the float64 MAX
    }
    const blocks = COLLECTIVE_OPS.length * groupSizes(ranks).length + sendRecvPairs(ranks).length;
    collectives += blocks * lineUp(ranks); // line_up(None) after each op × group and each pair
    // NCCL: one communicator per group on its first collective, one per send/recv pair; gloo:
    // one context per group (send/recv reuse the world's).
    communicators = groupSizes(ranks).length + (device === "cuda" ? sendRecvPairs(ranks).length : 0);
    // torchrun's agent starts, then the ranks (concurrently), each initialises its device.
    startColl = 2 * c.pythonStart + c.deviceInit + communicators * c.commInit + c.exit;
  }
  const startup = startSingle + startColl;
  return {
    single,
    collectives,
    startup,
    total: single + collectives + startup,
    startupParts: { single: startSingle, collectives: startColl },
    jobs: jobs.length,
    measurements: schedule.length,
    communicators,
    ranks: schedule.length > 0 ? ranks : 0,
  };
}

const s = (x: number) => `${x < 10 ? x.toFixed(1).replace(/\.0$/, "") : Math.round(x)} s`;

/** The line `paraplan profile` prints before it starts. */
export function estimateLine(e: ProfileEstimate, device: ProfileDevice): string {
  const part = device === "cuda" ? "single-GPU part" : "single-process part";
  const coll = e.ranks >= 2 ? `collectives ${s(e.collectives)} over ${e.ranks} ranks` : "no collectives";
  return `estimated: ~${Math.round(e.total)} s (${part} ${s(e.single)}, ${coll}, start-up ${s(e.startup)})`;
}
