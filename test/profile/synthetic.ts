// Synthetic measurements with known figures, as the Python profiler would report them.
import type { CollectiveOp, CollectiveSample, Measurements } from "../../src/profile/events.js";
import { emptyMeasurements } from "../../src/profile/events.js";
import { causalAttentionWork } from "../../planner/cost/compute.js";

/** Ring-model times (planner/cost/collectives.ts) for α, B. */
export function ringTime(op: CollectiveOp, n: number, bytes: number, alpha: number, bw: number): number {
  if (op === "send_recv") return alpha + bytes / bw;
  if (op === "all_reduce") return 2 * (n - 1) * alpha + ((2 * (n - 1)) / n) * (bytes / bw);
  return (n - 1) * alpha + ((n - 1) / n) * (bytes / bw);
}

export const SIZES = [2 ** 13, 2 ** 15, 2 ** 17, 2 ** 19, 2 ** 21, 2 ** 23, 2 ** 25, 2 ** 27, 2 ** 29, 2 ** 30];

/** Collectives over groups `ns` (and send/recv over `pairs`) at α, B; `linkFor` overrides per group. */
export function collectives(
  ns: number[],
  pairs: [number, number][],
  alpha: number,
  bw: number,
  linkFor: (n: number, pair?: [number, number]) => [number, number] = () => [alpha, bw],
  noise = 0,
): CollectiveSample[] {
  const out: CollectiveSample[] = [];
  let k = 0;
  const jitter = () => 1 + noise * Math.sin(12.9898 * ++k); // deterministic ±noise
  for (const op of ["all_reduce", "all_gather", "reduce_scatter"] as const)
    for (const n of ns) for (const bytes of SIZES) {
      const [a, b] = linkFor(n);
      out.push({ op, ranks: n, bytes, seconds: ringTime(op, n, bytes, a, b) * jitter() });
    }
  for (const pair of pairs)
    for (const bytes of SIZES) {
      const [a, b] = linkFor(2, pair);
      out.push({ op: "send_recv", ranks: 2, pair, bytes, seconds: ringTime("send_recv", 2, bytes, a, b) * jitter() });
    }
  return out;
}

/** A GPU's measurements: matmul efficiency eff(F) = top·F/(F + half), copy, kernels, attention. */
export function gpuMeasurements(o: {
  peak: number;
  top: number;
  half: number;
  copy: number;
  kernels: number;
  attention: number;
  dtype?: "bf16" | "fp32";
  world: number;
  collectives: CollectiveSample[];
}): Measurements {
  const m = emptyMeasurements();
  m.versions = { torch: "2.5.1", cuda: "12.4", python: "3.11.7" };
  const dtype = o.dtype ?? "bf16";
  for (const t of [2048, 8192, 16384])
    for (const h of [1024, 4096, 12288])
      for (const tp of [1, 8]) {
        for (const [mm, n, k] of [[t, (3 * h) / tp, h], [t, h, h / tp], [t, (4 * h) / tp, h], [t, h, (4 * h) / tp]] as const) {
          const flops = 2 * mm * n * k;
          const eff = (o.top * flops) / (flops + o.half);
          m.matmul.push({ dtype, m: mm, n, k, flops, seconds: flops / (o.peak * eff) });
        }
      }
  m.copy.push({ name: "copy", bytes: 4 * 2 ** 30, seconds: (4 * 2 ** 30) / o.copy });
  for (const name of ["layer_norm", "gelu", "softmax", "residual_add"]) m.kernels.push({ name, bytes: 2 ** 30, seconds: 2 ** 30 / o.kernels });
  // o.attention: the rate of the work the planner times (causalAttentionWork); flops as reported.
  m.attention.push({ batch: 4, heads: 32, seq: 2048, headDim: 128, flops: 12 * 4 * 2048 ** 2 * 32 * 128, seconds: causalAttentionWork(4, 2048, 32, 128) / o.attention });
  m.world = o.world;
  m.collectives = o.collectives;
  return m;
}
