// Gradient and weight buckets (dp.ts): a pass's weights cut into buckets of a size, and how far
// through its producing operation a bucket's last byte is ready. wasm/dp.ts plays the same loops
// in WebAssembly.
import type { OpInfo } from "./infos.js";

/** Buckets of one pass (fillBuckets), in reused columns: bytes, the operation producing (backward)
 *  or first needing (forward) the bucket's last byte, and how far through that operation the
 *  bucket's last byte is, 0 … 1. */
export class Buckets {
  length = 0;
  bytes: number[] = [];
  op: number[] = [];
  fraction: number[] = [];
  push(bytes: number, op: number, fraction: number): void {
    this.bytes[this.length] = bytes;
    this.op[this.length] = op;
    this.fraction[this.length] = fraction;
    this.length++;
  }
}

/** Cut a pass's weights (operations first … last of `opBytes`, in execution order) into buckets
 *  of `cap` bytes (the last one smaller). */
export function fillBuckets(opBytes: Float64Array, first: number, last: number, cap: number, out = new Buckets()): Buckets {
  out.length = 0;
  let filled = 0;
  let lastOp = -1;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = opBytes[op]!;
    if (bytes <= 0) continue;
    lastOp = op;
    let used = 0;
    while (bytes - used >= cap - filled) {
      used += cap - filled;
      out.push(cap, op, used / bytes);
      filled = 0;
      if (used >= bytes) break;
    }
    filled += bytes - used;
  }
  if (filled > 0) out.push(filled, lastOp, 1);
  return out;
}

/** How far through its producing operation a bucket's last byte is produced, as a share of the
 *  operation's time, given `fraction`, how far through the operation's bytes it is: a layer's
 *  gradients start after its recompute (gradFrom) and accrue with its backward; an operation
 *  playing n identical layers (graph.ts coarse) produces them layer after layer. */
export function gradProgress(info: OpInfo, fraction: number): number {
  if (fraction >= 1) return 1;
  const n = info.layers ?? 1;
  if (n === 1) return info.gradFrom + fraction * (1 - info.gradFrom);
  const x = fraction * n;
  const layer = Math.max(0, Math.ceil(x) - 1); // the layer holding the byte (x = k: layer k − 1, at its end)
  const f = x - layer;
  return (layer + (f >= 1 ? 1 : info.gradFrom + f * (1 - info.gradFrom))) / n;
}
