// The critical path of a simulated step: from the operation that ends last, back through the
// operation that released each one (its last dependency to finish, or the stream it queued on),
// to the start of the step. Lengthening any operation on it lengthens the step.
import type { EngineResult } from "./events.js";

/** The operation that ends last (the first of the highest end), or −1 when there is none. */
function lastToEnd(r: EngineResult): number {
  let last = -1;
  for (let i = 0; i < r.end.length; i++) if (last < 0 || r.end[i]! > r.end[last]!) last = i;
  return last;
}

/** Operations on the critical path, last first. */
export function criticalPath(r: EngineResult): number[] {
  const path: number[] = [];
  const seen = new Set<number>();
  for (let op = lastToEnd(r); op >= 0 && !seen.has(op); op = r.binder[op]!) {
    seen.add(op);
    path.push(op);
  }
  return path;
}

/** Per-operation flag: 1 if on the critical path (criticalPath() without the list). `from`: the
 *  operation the path ends at, where that is not the engine's last (timeline.ts: the last of the
 *  critical stage, when the data-parallel slowdown makes another stage end last). */
export function criticalMask(r: EngineResult, from = lastToEnd(r)): Uint8Array {
  const mask = new Uint8Array(r.end.length);
  for (let op = from; op >= 0 && mask[op] === 0; op = r.binder[op]!) mask[op] = 1;
  return mask;
}
