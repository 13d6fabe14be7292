// Milliseconds per simulated step: gpt3-like on 1024 GPUs (dgx-h100), one representative rank per
// pipeline stage, for the closed form's 20 best plans (the plans `paraplan plan` re-ranks).
import { search } from "../planner/index.js";
import { Simulator, simulate, simulateSummary } from "../planner/sim/simulate.js";
import { SIMULATE_TOP } from "../planner/sim/rescore.js";
import { loadModel, loadProfile } from "../src/load.js";

/** Target of the simulator issue: one step of a 1024-GPU plan in under 50 ms. */
export const SIM_TARGET_MS = 50;

function msPer(run: () => void, runs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) run();
  return (performance.now() - t0) / runs;
}

export function runSimSpeed(): boolean {
  const m = loadModel("gpt3-like");
  const hw = loadProfile("dgx-h100");
  const training = { gpus: 1024, globalBatch: 1536, seqLen: m.defaultSeqLen, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true };
  const plans = search(m, hw, training, {}, { top: SIMULATE_TOP }).plans;
  console.log(`Simulation speed (gpt3-like on 1024 GPUs, dgx-h100, the closed form's top ${plans.length} plans)\n`);
  // One Simulator for all, as rescore.ts (paraplan plan) has.
  const sim = new Simulator();
  for (const p of plans) simulateSummary(m, hw, training, p, {}, sim); // warm-up (JIT)
  const each = plans.map((p) => msPer(() => simulateSummary(m, hw, training, p, {}, sim), 3));
  const mean = each.reduce((a, b) => a + b, 0) / each.length;
  const worst = Math.max(...each);
  const full = msPer(() => simulate(m, hw, training, plans[0]!, {}, sim), 3);
  console.log(`step only (re-ranking): ${mean.toFixed(1)} ms per simulation on average, ${worst.toFixed(1)} ms for the slowest plan`);
  console.log(`with segments and critical path (--timeline, --trace-out), best plan: ${full.toFixed(1)} ms`);
  const ok = worst < SIM_TARGET_MS;
  console.log(ok ? `simulation speed: under ${SIM_TARGET_MS} ms` : `simulation speed: OVER ${SIM_TARGET_MS} ms`);
  return ok;
}
