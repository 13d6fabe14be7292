// Why the search chose context parallel: one sentence computed from its cp = 1 candidates
// (search.ts SearchResult.withoutCp). Either nothing without cp fits in memory (the least a cp = 1
// plan needs, against the GPU's capacity), no cp = 1 layout is valid at all (the rule that
// rejects most of them), or cp = 1 plans fit and the cp plan is faster (a second search with cp
// fixed at 1 gives the best of them).
import { type Fixed } from "./space.js";
import { REJECTION_CODES, type RejectionCode } from "./rejections.js";
import { type SearchResult, search } from "./search.js";
import type { Hardware, ModelSpec, Training } from "./types.js";

const GIB = 2 ** 30;
const gib = (b: number) => `${(b / GIB).toFixed(1)} GiB`;

export function cpWhy(m: ModelSpec, hw: Hardware, t: Training, fixed: Fixed, result: SearchResult): string | null {
  const best = result.plans[0];
  const w = result.withoutCp;
  if (!best || best.cp === 1 || !w) return null;
  if (w.feasible === 0) {
    if (Number.isFinite(w.leastMemory))
      return `without context parallel no plan fits: the best cp=1 needs ${gib(w.leastMemory)} of ${gib(w.capacity)} per GPU; cp ${best.cp} divides activations by ${best.cp}`;
    const [code, n] = (Object.entries(w.rejected) as [RejectionCode, number][]).sort((a, b) => b[1] - a[1])[0] ?? ["out_of_memory", 0];
    return `without context parallel no layout of ${t.gpus} GPUs is valid (most of the ${n.toLocaleString("en-US")} cp=1 configurations: ${REJECTION_CODES[code]} [${code}])`;
  }
  const noCp = search(m, hw, t, { ...fixed, cp: 1 }, { top: 1 }).plans[0];
  if (!noCp) return null;
  return `cp ${best.cp} is ${(best.tokensPerSecond / noCp.tokensPerSecond).toFixed(2)}× the tokens/s of the best plan without context parallel (${Math.round(noCp.tokensPerSecond).toLocaleString("en-US")} tokens/s, ${gib(noCp.memory.total)} per GPU)`;
}
