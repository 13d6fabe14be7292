// Configurations evaluated per second by the full search.
import { search } from "../planner/index.js";
import { loadModel, loadProfile } from "../src/load.js";

function timeSearch(model: string, profile: string, gpus: number, globalBatch: number, targetMs?: number, seqLen?: number): void {
  const m = loadModel(model);
  const hw = loadProfile(profile);
  const training = { gpus, globalBatch, seqLen: seqLen ?? m.defaultSeqLen, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true };
  search(m, hw, training, {}, { top: 10 }); // warm-up (JIT)
  const runs = 3;
  let searched = 0;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) searched += search(m, hw, training, {}, { top: 10 }).searched;
  const ms = (performance.now() - t0) / runs;
  const perSecond = searched / runs / (ms / 1000);
  const target = targetMs === undefined ? "" : ` (target < ${targetMs} ms: ${ms < targetMs ? "met" : "NOT met"})`;
  console.log(
    `${model}${seqLen ? ` at ${seqLen.toLocaleString("en-US")} tokens` : ""} on ${gpus} GPUs (${profile}): ${(searched / runs).toLocaleString("en-US")} configurations in ${ms.toFixed(0)} ms = ${Math.round(perSecond).toLocaleString("en-US")} per second${target}`,
  );
}

export function runSpeed(): void {
  console.log("Search speed (full search, median of 3 after a warm-up)\n");
  timeSearch("gpt3-like", "dgx-h100", 1024, 1536, 100);
  timeSearch("megatron-1t", "dgx-a100-80g", 3072, 3072);
  // Mixture of experts: ep and etp searched with the other dimensions (issue 13's targets).
  timeSearch("deepseek-v3", "dgx-h100", 2048, 15360, 1000);
  timeSearch("mixtral-8x7b", "dgx-h100", 64, 64);
  // Context parallel searched with its three exchanges (issue 14's long-context cases).
  timeSearch("llama3-8b", "dgx-h100", 64, 512, undefined, 131072);
  timeSearch("llama3-405b", "dgx-h100", 16384, 128, undefined, 131072);
}
