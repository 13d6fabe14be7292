// An independent enumeration of the valid plans of a small problem, written from the rules of
// Megatron-LM / the papers rather than from planner/space.ts, to check the search against.
//   tp·pp·dp = gpus; tp divides the attention heads and the key/value heads and stays inside a
//   node (Narayanan et al. 2021 §3.3), or inside the NVLink domain where a fabric makes it larger
//   (GB200 NVL72: 72 GPUs); pp at most the layers (uneven stages when it does not divide them,
//   then without virtual stages); dp divides the global batch; the
//   micro-batch divides the per-replica batch; virtual stages divide the layers per stage and
//   need pp > 1 and the interleaved schedule, whose micro-batch count must be a multiple of pp
//   (Megatron-LM schedules.py); 1F1B or GPipe otherwise (1F1B only without a pipeline);
//   sequence parallelism needs tp > 1 dividing the sequence (Megatron-Core's _split_along_first_dim
//   asserts it); ZeRO 0–3; recompute none/selective/full.
//   ZeRO partitions the model states over the data-parallel group (Rajbhandari et al. 2020 §5):
//   with dp = 1 there is nothing to partition and stages 1–3 are ZeRO-0 under another name, so the
//   space holds one configuration there, ZeRO-0 — or the stage the user fixed (`fixedZero`), which
//   is evaluated as asked. (Before issue 17 the oracle listed all four stages at dp = 1.)
import type { Hardware, ModelSpec, Plan, Recompute, Schedule, Training, ZeroStage } from "../../planner/types.js";

export function divisorsOf(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** ⌊L/p⌋ layers on every stage, and one more on each of the L mod p stages after the first (the
 *  first and, unless L mod p = p − 1, the last stage lighter: they also hold the embedding and the
 *  output layer). */
function lighterEnds(layers: number, pp: number): number[] {
  const out = Array.from({ length: pp }, () => Math.floor(layers / pp));
  for (let i = 1; i <= layers % pp; i++) out[i]! += 1;
  return out;
}

/** Megatron-Core's uneven form, the default engine's: the middle stages each ⌈L/p⌉, the first and
 *  the last sharing what is left, the last no more than the first; where less than one layer each
 *  would be left, lighterEnds. */
function megatronEnds(layers: number, pp: number): number[] {
  const mid = Math.ceil(layers / pp);
  const left = layers - mid * (pp - 2);
  if (left < 2) return lighterEnds(layers, pp);
  const last = Math.floor(left / 2);
  return [left - last, ...Array.from({ length: pp - 2 }, () => mid), last];
}

/** L + 2 units over n virtual stages, the first and the last one layer fewer (u − 1). */
function accountedEnds(layers: number, n: number): number[] {
  const u = (layers + 2) / n;
  return [u - 1, ...Array.from({ length: n - 2 }, () => u), u - 1];
}

export function validPlans(m: ModelSpec, hw: Hardware, t: Training, fixedZero?: ZeroStage): Plan[] {
  const out: Plan[] = [];
  for (const tp of divisorsOf(t.gpus)) {
    if (m.heads % tp !== 0 || m.kvHeads % tp !== 0 || tp > (hw.fabric?.nvlinkDomain ?? hw.gpusPerNode)) continue;
    for (const pp of divisorsOf(t.gpus / tp)) {
      // pp need not divide the layers (issue 12): up to one layer a stage, with ⌊L/p⌋ or ⌈L/p⌉
      // layers a stage, and then one stage per rank (no virtual stages).
      if (pp > m.layers) continue;
      const uneven = m.layers % pp !== 0;
      const dp = t.gpus / (tp * pp);
      if (t.globalBatch % dp !== 0) continue;
      for (const microBatch of divisorsOf(t.globalBatch / dp)) {
        const microBatches = t.globalBatch / (dp * microBatch);
        const layouts: { vpp: number; schedule: Schedule }[] = [];
        if (pp === 1) layouts.push({ vpp: 1, schedule: "1f1b" });
        else {
          layouts.push({ vpp: 1, schedule: "1f1b" }, { vpp: 1, schedule: "gpipe" });
          // uneven: one stage per rank, or p·v virtual stages split as Megatron-Core's
          // --account-for-embedding/loss-in-pipeline-split do (L + 2 units, u = (L + 2)/(p·v) ≥ 2 a
          // virtual stage, the first and the last u − 1), run looped only (no V schedule)
          const vpps = uneven ? [1, ...divisorsOf(m.layers + 2).filter((v) => v > 1 && (m.layers + 2) % (pp * v) === 0 && (m.layers + 2) / (pp * v) >= 2)] : divisorsOf(m.layers / pp);
          for (const vpp of vpps)
            if (vpp > 1 && microBatches % pp === 0) layouts.push({ vpp, schedule: "interleaved" });
          // Zero-bubble schedules as torch 2.13 builds them: ScheduleInterleavedZeroBubble needs
          // max(1, ⌊m/pp⌋) | m; ScheduleZBVZeroBubble two stages per rank; ScheduleDualPipeV two
          // stages per rank and m ≥ 2·pp.
          const rounds = Math.max(1, Math.floor(microBatches / pp));
          for (const vpp of vpps) {
            if (microBatches % rounds === 0) layouts.push({ vpp, schedule: "zb1p" });
            if (vpp === 2 && !uneven) layouts.push({ vpp, schedule: "zbv" });
            if (vpp === 2 && !uneven && microBatches >= 2 * pp) layouts.push({ vpp, schedule: "dualpipev" });
          }
        }
        for (const { vpp, schedule } of layouts)
          for (const sequenceParallel of tp > 1 && t.seqLen % tp === 0 ? [false, true] : [false])
            // (no engine is Megatron-Core: ZeRO 0 or 1 beside a pipeline unless fixed, engine.ts
            // MEGATRON_SUPPORTS)
            for (const zero of (dp === 1 ? [fixedZero ?? 0] : pp > 1 && fixedZero === undefined ? [0, 1] : [0, 1, 2, 3]) as ZeroStage[])
              for (const recompute of ["none", "selective", "full"] as Recompute[])
                out.push({ tp, pp, dp, cp: 1, ep: 1, etp: 1, vpp, zero, microBatch, recompute, sequenceParallel, schedule, ...(uneven ? { stageLayers: vpp === 1 ? megatronEnds(m.layers, pp) : accountedEnds(m.layers, pp * vpp) } : {}) });
      }
    }
  }
  return out;
}

export const planKey = (p: Plan) =>
  [p.tp, p.pp, p.dp, p.vpp, p.zero, p.microBatch, p.recompute, p.sequenceParallel, p.schedule].join("/");
