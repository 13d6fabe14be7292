// Configurations evaluated per second by the full search.
import { search } from "../planner/index.js";
import { loadModel, loadProfile } from "../src/load.js";

/** Warm-up searches before the timed ones: V8 tiers a function up over its first few calls (a
 *  gpt3-like search on the 2-core project machine: ~600, 330, 250, 220, 130 ms, then 45–80 ms),
 *  so one warm-up left the timed runs mid-compilation and their mean read 1.5–2.5× the compiled
 *  speed. What a one-shot command pays cold is the start-up bench's (bench/startup.ts). */
const WARMUPS = 6;
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeSearch(model: string, profile: string, gpus: number, globalBatch: number, targetMs?: number, seqLen?: number): void {
  const m = loadModel(model);
  const hw = loadProfile(profile);
  const training = { gpus, globalBatch, seqLen: seqLen ?? m.defaultSeqLen, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true };
  const once = () => {
    const t0 = performance.now();
    const searched = search(m, hw, training, {}, { top: 10 }).searched;
    return { ms: performance.now() - t0, searched };
  };
  const cold = once();
  for (let i = 1; i < WARMUPS; i++) once();
  const times = Array.from({ length: RUNS }, () => once().ms);
  const ms = median(times);
  const perSecond = cold.searched / (ms / 1000);
  const target = targetMs === undefined ? "" : ` (target < ${targetMs} ms: ${ms < targetMs ? "met" : "NOT met"})`;
  console.log(
    `${model}${seqLen ? ` at ${seqLen.toLocaleString("en-US")} tokens` : ""} on ${gpus} GPUs (${profile}): ${cold.searched.toLocaleString("en-US")} configurations in ${ms.toFixed(0)} ms = ${Math.round(perSecond).toLocaleString("en-US")} per second${target}; the first call ${cold.ms.toFixed(0)} ms`,
  );
}

export function runSpeed(): void {
  console.log(`Search speed (full search, median of ${RUNS} after ${WARMUPS} warm-up searches; the first call is cold)\n`);
  timeSearch("gpt3-like", "dgx-h100", 1024, 1536, 100);
  timeSearch("megatron-1t", "dgx-a100-80g", 3072, 3072);
  // Mixture of experts: ep and etp searched with the other dimensions (issue 13's targets).
  timeSearch("deepseek-v3", "dgx-h100", 2048, 15360, 1000);
  timeSearch("mixtral-8x7b", "dgx-h100", 64, 64);
  // Context parallel searched with its three exchanges (issue 14's long-context cases).
  timeSearch("llama3-8b", "dgx-h100", 64, 512, undefined, 131072);
  timeSearch("llama3-405b", "dgx-h100", 16384, 128, undefined, 131072);
}
