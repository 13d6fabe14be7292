// The schedule of measurements `paraplan profile` runs, mirrored from executor/profiler/*.py
// (matmul grids, memory and attention shapes, time_call's defaults, collective group sizes,
// iteration counts, send/recv pairs, message sizes). test/profile/duration.test.ts runs the Python
// and checks that both sides list the same measurements, so the two cannot drift apart; duration.ts
// prices them.
import { messageSizes } from "./measure.js";

export type ProfileDevice = "cuda" | "cpu";

/** common.time_call's defaults. */
export const TIME_CALL = { warmup: 2, maxIters: 200 } as const;
/** memory.REPEATS: repeats of the copy and of each memory-bound kernel. */
export const MEMORY_REPEATS = 5;

interface Grid {
  tokens: readonly number[];
  hidden: readonly number[];
  tp: readonly number[];
}

/** matmul.GRIDS, keyed by device and quick. */
const MATMUL_GRIDS: Record<`${ProfileDevice}/${"full" | "quick"}`, Grid> = {
  "cuda/full": { tokens: [2048, 4096, 8192, 16384], hidden: [1024, 4096, 8192, 12288], tp: [1, 2, 4, 8] },
  "cuda/quick": { tokens: [2048, 8192], hidden: [1024, 4096, 8192], tp: [1, 8] },
  "cpu/full": { tokens: [32, 128, 512], hidden: [64, 128, 256, 512], tp: [1, 2] },
  "cpu/quick": { tokens: [32, 256], hidden: [64, 128, 512], tp: [1, 2] },
};
/** matmul.SIDE_GRIDS: fp16, tf32 and fp8 on GPUs. */
const SIDE_GRIDS: Record<"full" | "quick", Grid> = {
  full: { tokens: [2048, 8192], hidden: [4096, 8192], tp: [1, 8] },
  quick: { tokens: [8192], hidden: [8192], tp: [1] },
};
/** memory.SHAPES: (copy bytes, tokens, hidden, softmax batch·heads, softmax seq). */
const MEMORY_SHAPES: Record<`${ProfileDevice}/${"full" | "quick"}`, readonly [number, number, number, number, number]> = {
  "cuda/full": [2 * 2 ** 30, 8192, 8192, 64, 2048],
  "cuda/quick": [2 ** 30, 4096, 8192, 32, 2048],
  "cpu/full": [256 * 2 ** 20, 4096, 512, 8, 512],
  "cpu/quick": [64 * 2 ** 20, 2048, 256, 4, 512],
};
/** memory.DEFAULT_CACHE: the last-level cache assumed where it cannot be read; the estimate
 *  assumes it (a larger cache makes the profiler's memory jobs larger than estimated). */
export const DEFAULT_CACHE = 32 * 2 ** 20;

/** memory.shapes: each of the copy's buffer, a kernel's tokens × hidden activation and the
 *  softmax scores raised to a power of two of at least 2 × `cache` bytes (fp32 on CPU, bf16 on GPUs). */
export function memoryShapes(device: ProfileDevice, quick: boolean, cache = DEFAULT_CACHE): [number, number, number, number, number] {
  const [copy, tokens, hidden, bh, seq] = MEMORY_SHAPES[key(device, quick)];
  const element = device === "cuda" ? 2 : 4;
  const need = 2 * cache;
  const pow2 = (x: number) => 2 ** Math.max(0, Math.ceil(Math.log2(x)));
  return [Math.max(copy, pow2(need)), Math.max(tokens, pow2(need / (hidden * element))), hidden, Math.max(bh, pow2(need / (seq * seq * element))), seq];
}
/** attention.SHAPES: (batch, heads, seq, head dim). */
const ATTENTION_SHAPES: Record<`${ProfileDevice}/${"full" | "quick"}`, ReadonlyArray<readonly [number, number, number, number]>> = {
  "cuda/full": [
    [4, 32, 2048, 128],
    [1, 64, 4096, 128],
  ],
  "cuda/quick": [[4, 32, 2048, 128]],
  "cpu/full": [
    [2, 4, 256, 32],
    [1, 8, 512, 64],
  ],
  "cpu/quick": [[2, 4, 256, 32]],
};

const key = (device: ProfileDevice, quick: boolean) => `${device}/${quick ? "quick" : "full"}` as const;

/** matmul.layer_gemms: (m, n, k) of one layer's four forward GEMMs on one tensor-parallel rank. */
export function layerGemms(tokens: number, hidden: number, tp: number): [number, number, number][] {
  const div = (a: number) => Math.floor(a / tp);
  return [
    [tokens, div(3 * hidden), hidden],
    [tokens, hidden, div(hidden)],
    [tokens, div(4 * hidden), hidden],
    [tokens, hidden, div(4 * hidden)],
  ];
}

/** matmul.grid_shapes: the grid's distinct GEMMs, by FLOPs then shape. */
export function gridShapes(grid: Grid): [number, number, number][] {
  const seen = new Map<string, [number, number, number]>();
  for (const t of grid.tokens) for (const h of grid.hidden) for (const p of grid.tp) for (const g of layerGemms(t, h, p)) seen.set(g.join(","), g);
  const cmp = (a: number[], b: number[]) => {
    const fa = 2 * a[0]! * a[1]! * a[2]!;
    const fb = 2 * b[0]! * b[1]! * b[2]!;
    if (fa !== fb) return fa - fb;
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  return [...seen.values()].sort(cmp);
}

export type MatmulDtype = "bf16" | "fp16" | "tf32" | "fp8" | "fp32";

export type JobWork =
  | { kind: "matmul"; dtype: MatmulDtype; m: number; n: number; k: number }
  | { kind: "copy"; bytes: number }
  | { kind: "kernel"; name: string; bytes: number }
  | { kind: "attention"; b: number; a: number; s: number; d: number };

/** One time_call of the single-process part. */
export interface SingleJob {
  phase: "matmul" | "memory" | "attention";
  /** The event's identity: "bf16 2048x1024x128", "copy 4294967296", "gelu 1073741824", "attention b4 a32 s2048 d128". */
  label: string;
  target: number;
  repeats: number;
  work: JobWork;
}

/** Every time_call of `python -m executor.profiler single`, in order. `fp8`: matmul.fp8_supported
 *  (compute capability >= 8.9); from a profile, a datasheet fp8 peak stands for it. */
export function singleSchedule(device: ProfileDevice, quick: boolean, fp8: boolean): SingleJob[] {
  const cuda = device === "cuda";
  const jobs: SingleJob[] = [];
  // matmul.run
  const mmTarget = cuda ? (quick ? 0.004 : 0.01) : quick ? 0.01 : 0.03;
  const mmRepeats = quick ? 2 : 3;
  const add = (dtype: MatmulDtype, shapes: [number, number, number][]) => {
    for (const [m, n, k] of shapes)
      jobs.push({ phase: "matmul", label: `${dtype} ${m}x${n}x${k}`, target: mmTarget, repeats: mmRepeats, work: { kind: "matmul", dtype, m, n, k } });
  };
  if (!cuda) add("fp32", gridShapes(MATMUL_GRIDS[key("cpu", quick)]));
  else {
    add("bf16", gridShapes(MATMUL_GRIDS[key("cuda", quick)]));
    const side = gridShapes(SIDE_GRIDS[quick ? "quick" : "full"]);
    for (const dtype of ["fp16", "tf32", ...(fp8 ? (["fp8"] as const) : [])] as const) add(dtype, side);
  }
  // memory.run (the copy may shrink on a GPU with little free memory; not modelled)
  const [copyBytes, tokens, hidden, bh, seq] = memoryShapes(device, quick);
  const memTarget = cuda ? 0.02 : 0.05;
  jobs.push({ phase: "memory", label: `copy ${2 * copyBytes}`, target: memTarget, repeats: MEMORY_REPEATS, work: { kind: "copy", bytes: 2 * copyBytes } });
  const th = tokens * hidden;
  const kernels: [string, number][] = [
    ["layer_norm", 4 * th],
    ["gelu", 16 * th],
    ["softmax", 4 * bh * seq * seq],
    ["residual_add", 6 * th],
  ];
  for (const [name, bytes] of kernels) jobs.push({ phase: "memory", label: `${name} ${bytes}`, target: memTarget, repeats: MEMORY_REPEATS, work: { kind: "kernel", name, bytes } });
  // attention.run
  for (const [b, a, s, d] of ATTENTION_SHAPES[key(device, quick)])
    jobs.push({ phase: "attention", label: `attention b${b} a${a} s${s} d${d}`, target: cuda ? 0.02 : 0.05, repeats: quick ? 2 : 3, work: { kind: "attention", b, a, s, d } });
  return jobs;
}

/** collectives.OPS. */
export const COLLECTIVE_OPS = ["all_reduce", "all_gather", "reduce_scatter"] as const;
export type CollectiveOp = (typeof COLLECTIVE_OPS)[number];

/** collectives.group_sizes: 2, 4, 8, … up to the world, and the world. */
export function groupSizes(world: number): number[] {
  const sizes = new Set<number>();
  for (let n = 2; n <= world; n *= 2) sizes.add(n);
  if (world >= 2) sizes.add(world);
  return [...sizes].sort((a, b) => a - b);
}

/** collectives.iterations: enough calls to move ~2 GiB (GPU) or ~64 MiB (CPU), within bounds. */
export function collectiveIterations(size: number, cuda: boolean, quick: boolean): number {
  const budget = cuda ? 2 ** 31 : 2 ** 26;
  let [lo, hi] = quick ? [3, 20] : [5, 50];
  if (!cuda) [lo, hi] = quick ? [2, 10] : [3, 20];
  return Math.max(lo, Math.min(hi, Math.floor(budget / Math.max(size, 1))));
}

/** collectives.run's send/recv pairs: rank 0 with rank 1, and with the last rank. */
export const sendRecvPairs = (world: number): [number, number][] => [[0, 1], ...(world > 2 ? [[0, world - 1] as [number, number]] : [])];

/** Bytes a collective of requested size `size` over n ranks really moves (make_call: float32
 *  elements, a multiple of n). */
export const collectiveBytes = (size: number, n: number) => 4 * Math.max(n, Math.floor(Math.floor(size / 4) / n) * n);

export interface CollectiveMeasurement {
  op: CollectiveOp | "send_recv";
  /** Ranks of the group (2 for send/recv). */
  n: number;
  /** The size asked for (iterations() is a function of it). */
  size: number;
  /** What the calls move. */
  bytes: number;
  iters: number;
}

/** Every timed measurement of `torchrun … -m executor.profiler collectives`, in order. */
export function collectiveSchedule(device: ProfileDevice, ranks: number, quick: boolean): CollectiveMeasurement[] {
  if (ranks < 2) return [];
  const cuda = device === "cuda";
  const sizes = messageSizes(device, quick);
  const out: CollectiveMeasurement[] = [];
  for (const op of COLLECTIVE_OPS)
    for (const n of groupSizes(ranks)) for (const size of sizes) out.push({ op, n, size, bytes: collectiveBytes(size, n), iters: collectiveIterations(size, cuda, quick) });
  for (const _pair of sendRecvPairs(ranks))
    for (const size of sizes) out.push({ op: "send_recv", n: 2, size, bytes: 4 * Math.max(1, Math.floor(size / 4)), iters: collectiveIterations(size, cuda, quick) });
  return out;
}
