// The critical path of a simulated step: from the operation that ends last, back through the
// operation that released each one (its last dependency to finish, or the stream it queued on),
// to the start of the step. Lengthening any operation on it lengthens the step.
import type { EngineResult } from "./events.js";

/** Operations on the critical path, last first. */
export function criticalPath(r: EngineResult): number[] {
  let last = -1;
  for (let i = 0; i < r.end.length; i++) if (last < 0 || r.end[i]! > r.end[last]!) last = i;
  const path: number[] = [];
  const seen = new Set<number>();
  for (let op = last; op >= 0 && !seen.has(op); op = r.binder[op]!) {
    seen.add(op);
    path.push(op);
  }
  return path;
}

/** Per-operation flag: 1 if on the critical path. */
export function criticalMask(r: EngineResult): Uint8Array {
  const mask = new Uint8Array(r.end.length);
  for (const op of criticalPath(r)) mask[op] = 1;
  return mask;
}
