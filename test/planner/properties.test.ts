// Property tests over random small models, hardware and plans (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFixed } from "../../planner/constraints.js";
import { evaluatePlan, worstStageMemory } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import type { Fixed } from "../../planner/space.js";
import type { Hardware, ModelSpec, Plan, PlanResult, Precision, Recompute, Schedule, Training, ZeroStage } from "../../planner/types.js";
import { planOnly } from "../../planner/schema/plan.js";
import { builtinHardwareNames, hardware, model } from "./fixtures.js";
import { divisorsOf, planKey, validPlans } from "./oracle.js";

const HW: Record<string, Hardware> = Object.fromEntries(builtinHardwareNames().map((n) => [n, hardware(n)]));
const HW_NAMES = Object.keys(HW);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A small decoder through the real file parser. */
const modelArb = (maxLayers: number) =>
  fc
    .record({
      layers: fc.integer({ min: 1, max: maxLayers }),
      heads: fc.constantFrom(1, 2, 4, 8, 16),
      headDim: fc.constantFrom(8, 16, 32, 64),
      kvPick: fc.nat(),
      ffnMult: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      vocab: fc.integer({ min: 64, max: 50000 }),
      seqLen: fc.constantFrom(32, 128, 512, 2048),
      mlp: fc.constantFrom("gelu", "swiglu"),
      positional: fc.constantFrom("learned", "rope"),
      tiedEmbeddings: fc.boolean(),
      dropout: fc.boolean(),
    })
    .map((r): ModelSpec => {
      const kv = divisorsOf(r.heads);
      const hidden = r.heads * r.headDim;
      return model({
        layers: r.layers,
        hidden,
        heads: r.heads,
        kvHeads: kv[r.kvPick % kv.length],
        ...(r.ffnMult !== undefined ? { ffnHidden: r.ffnMult * hidden } : {}),
        vocab: r.vocab,
        seqLen: r.seqLen,
        mlp: r.mlp,
        positional: r.positional,
        tiedEmbeddings: r.tiedEmbeddings,
        dropout: r.dropout,
      });
    });

interface Setup {
  m: ModelSpec;
  hw: Hardware;
  t: Training;
  plan: Plan;
}

/** A valid plan for a random model, with the training setup it implies. */
const setupArb: fc.Arbitrary<Setup> = modelArb(12).chain((m) =>
  fc
    .record({
      tp: fc.constantFrom(...divisorsOf(gcd(m.heads, m.kvHeads)).filter((d) => d <= 8)),
      pp: fc.constantFrom(...divisorsOf(m.layers)),
      dp: fc.constantFrom(1, 2, 3, 4, 8),
      microBatch: fc.constantFrom(1, 2, 4),
      k: fc.integer({ min: 1, max: 8 }),
      vppPick: fc.nat(),
      interleave: fc.boolean(),
      gpipe: fc.boolean(),
      zero: fc.constantFrom<ZeroStage>(0, 1, 2, 3),
      recompute: fc.constantFrom<Recompute>("none", "selective", "full"),
      sp: fc.boolean(),
      hwName: fc.constantFrom(...HW_NAMES),
      precision: fc.constantFrom<Precision>("bf16", "fp16", "fp8"),
      fusedAttention: fc.boolean(),
      overlapGradReduce: fc.boolean(),
    })
    .map((r): Setup => {
      const hw = HW[r.hwName]!;
      const vpps = r.pp > 1 ? divisorsOf(m.layers / r.pp).filter((v) => v > 1) : [];
      let vpp = 1;
      let schedule: Schedule = r.pp > 1 && r.gpipe ? "gpipe" : "1f1b";
      let k = r.k;
      if (r.interleave && vpps.length > 0) {
        vpp = vpps[r.vppPick % vpps.length]!;
        schedule = "interleaved";
        k = r.pp * r.k; // the micro-batch count must be a multiple of pp
      }
      const plan: Plan = {
        tp: r.tp,
        pp: r.pp,
        dp: r.dp,
        cp: 1,
        ep: 1,
        etp: 1,
        vpp,
        zero: r.zero,
        microBatch: r.microBatch,
        recompute: r.recompute,
        sequenceParallel: r.sp && r.tp > 1,
        schedule,
      };
      const t: Training = {
        gpus: r.tp * r.pp * r.dp,
        globalBatch: r.dp * r.microBatch * k,
        seqLen: m.defaultSeqLen,
        precision: r.precision === "fp8" && hw.peak.fp8 === null ? "bf16" : r.precision,
        fusedAttention: r.fusedAttention,
        overlapGradReduce: r.overlapGradReduce,
      };
      return { m, hw, t, plan };
    }),
);

const mem = (s: Setup, change: Partial<Plan>) => worstStageMemory(s.m, s.hw, s.t, { ...s.plan, ...change }).memory.total;
/** a ≤ b up to floating-point noise (mathematically equal cases exist, e.g. one layer in flight). */
const atMost = (a: number, b: number) => a <= b * (1 + 1e-12);

describe("memory is monotone in the memory-saving knobs", () => {
  it("a stronger recompute never needs more memory (none ≥ selective ≥ full)", () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const none = mem(s, { recompute: "none" });
        const selective = mem(s, { recompute: "selective" });
        const full = mem(s, { recompute: "full" });
        expect(atMost(selective, none), `selective ${selective} > none ${none}`).toBe(true);
        expect(atMost(full, selective), `full ${full} > selective ${selective}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a higher ZeRO stage never needs more memory: 0 → 1 → 2", () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const z = [0, 1, 2].map((zero) => mem(s, { zero: zero as ZeroStage }));
        expect(atMost(z[1]!, z[0]!), `ZeRO-1 ${z[1]} > ZeRO-0 ${z[0]}`).toBe(true);
        expect(atMost(z[2]!, z[1]!), `ZeRO-2 ${z[2]} > ZeRO-1 ${z[1]}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // ZeRO-3 (FSDP) shards the 16-bit weights (saving 2Ψ(1 − 1/d) on a stage of Ψ parameters) but
  // keeps the unsharded weights of the layer in use and of the one being prefetched (2 × 2 bytes
  // per layer parameter, Zhao et al. 2023 §3.2). With d ≥ 2 the saving is at least Ψ ≥ one byte
  // per parameter of the stage's layers, so it covers the buffers once a stage holds 4 or more
  // layers; with fewer, ZeRO-3 can legitimately need more memory than ZeRO-2.
  it("and 2 → 3 when every pipeline stage holds at least 4 layers", () => {
    fc.assert(
      fc.property(
        setupArb.filter((s) => s.m.layers / s.plan.pp >= 4),
        (s) => {
          const z2 = mem(s, { zero: 2 });
          const z3 = mem(s, { zero: 3 });
          expect(atMost(z3, z2), `ZeRO-3 ${z3} > ZeRO-2 ${z2}`).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("evaluatePlan reports the worst stage's memory and a self-consistent result", () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const r = evaluatePlan(s.m, s.hw, s.t, s.plan);
        const mm = r.memory;
        expect(mm.total).toBeCloseTo(mm.weights + mm.gradients + mm.optimizer + mm.activations + mm.other, 0);
        expect(mm.total).toBe(worstStageMemory(s.m, s.hw, s.t, s.plan).memory.total);
        expect(mm.capacity).toBe(s.hw.memory);
        checkResult(r, s.t, s.m);
      }),
      { numRuns: 200 },
    );
  });
});

/** Invariants every evaluated plan must satisfy. */
function checkResult(r: ReturnType<typeof evaluatePlan>, t: Training, m: ModelSpec): void {
  const tm = r.time;
  const parts = [tm.compute, tm.recompute, tm.tpComm, tm.ppComm, tm.bubble, tm.dpComm, tm.optimizer];
  for (const x of [...parts, tm.step]) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThanOrEqual(0);
  }
  expect(tm.compute).toBeGreaterThan(0);
  const sum = parts.reduce((a, b) => a + b, 0);
  expect(Math.abs(tm.step - sum) / sum).toBeLessThan(1e-12);
  const tokens = t.globalBatch * t.seqLen;
  expect(Math.abs(r.tokensPerSecond * tm.step - tokens) / tokens).toBeLessThan(1e-12);
  expect(r.mfu).toBeGreaterThan(0);
  expect(r.mfu).toBeLessThanOrEqual(r.hfu * (1 + 1e-12));
  expect(r.hfu).toBeLessThanOrEqual(1);
  if (r.recompute === "none") expect(r.hfu).toBeCloseTo(r.mfu, 12);
  for (const v of Object.values(r.memory)) {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
  }
}

interface SearchCase {
  m: ModelSpec;
  hw: Hardware;
  t: Training;
  top: number;
}

const searchCaseArb: fc.Arbitrary<SearchCase> = fc
  .record({
    m: modelArb(8),
    gpus: fc.constantFrom(1, 2, 4, 6, 8, 16),
    globalBatch: fc.integer({ min: 1, max: 32 }),
    hwName: fc.constantFrom(...HW_NAMES),
    // Shrink the memory so that some plans do not fit and some problems fit nowhere.
    memory: fc.constantFrom(3e9, 4e9, 6e9, 16e9, 0),
    fusedAttention: fc.boolean(),
    overlapGradReduce: fc.boolean(),
    top: fc.integer({ min: 1, max: 12 }),
  })
  .map((r) => {
    const base = HW[r.hwName]!;
    const hw: Hardware = r.memory === 0 ? base : { ...base, memory: r.memory };
    const t: Training = {
      gpus: r.gpus,
      globalBatch: r.globalBatch,
      seqLen: r.m.defaultSeqLen,
      precision: "bf16",
      fusedAttention: r.fusedAttention,
      overlapGradReduce: r.overlapGradReduce,
    };
    return { m: r.m, hw, t, top: r.top };
  });

/** A plan evaluated alone: in the default order, and with a fabric of tiers beyond the node (a
 *  domain, leaf, pods or SHARP; NVLS alone leaves the network flat) also dp outermost. */
function ownBest(m: ModelSpec, hw: Hardware, t: Training, p: Plan) {
  const first = evaluatePlan(m, hw, t, p);
  const f = hw.fabric;
  if (!f || !(f.nvlinkDomain > hw.gpusPerNode || f.leaf || f.pod || f.sharp)) return first;
  const other = evaluatePlan(m, hw, t, { ...p, order: "tp-cp-pp-dp" });
  return other.tokensPerSecond > first.tokensPerSecond * (1 + 1e-9) ? other : first;
}

/** The largest chunk's layers: a stage's, or a virtual stage's (the longest of an uneven split). */
const chunkLayers = (m: ModelSpec, p: Plan) => (p.stageLayers ? Math.max(...p.stageLayers) : m.layers / (p.pp * p.vpp));

/** Full recompute at the least depth that fits, where the same plan without recompute does not
 *  fit (Megatron-Core's --recompute-method block, the default engine's): every depth tried in
 *  turn, each plan evaluated on its own (search-memory.ts bisects; this scans). */
function deepened(m: ModelSpec, hw: Hardware, t: Training, evaluated: PlanResult[]): PlanResult[] {
  const fits = (e: PlanResult) => e.memory.total <= e.memory.capacity;
  const noneFits = new Set(evaluated.filter((e) => e.recompute === "none" && fits(e)).map((e) => planKey({ ...e, recompute: "full" })));
  return evaluated.map((e) => {
    if (e.recompute !== "full" || !fits(e) || noneFits.has(planKey(e))) return e;
    for (let n = 1; n < chunkLayers(m, e); n++) {
      const q = ownBest(m, hw, t, { ...planOnly(e), recomputeLayers: n });
      if (fits(q)) return q;
    }
    return e;
  });
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

describe("search, against a brute-force enumeration of the valid plans", () => {
  it("returns only fitting, consistent plans, ranked, and accounts for every configuration", () => {
    fc.assert(
      fc.property(searchCaseArb, ({ m, hw, t, top }) => {
        const r = search(m, hw, t, {}, { top, keepAll: true });
        const rejectedTotal = Object.values(r.rejected).reduce((a, b) => a + (b ?? 0), 0);
        expect(r.searched).toBe(r.feasible + rejectedTotal);

        // Oracle: every valid plan evaluated on its own — on a profile with a fabric, in both rank
        // orders (Megatron-Core's two), keeping the faster (planner/layout/order.ts).
        const valid = validPlans(m, hw, t);
        const evaluated = deepened(m, hw, t, valid.map((p) => ownBest(m, hw, t, p)));
        const fitting = evaluated.filter((e) => e.memory.total <= e.memory.capacity);
        expect(r.feasible + (r.rejected.out_of_memory ?? 0)).toBe(valid.length);
        expect(r.feasible).toBe(fitting.length);
        expect(r.plans.length).toBe(Math.min(top, fitting.length));
        expect(new Set((r.all ?? []).map(planKey))).toEqual(new Set(fitting.map(planKey)));

        for (let i = 0; i < r.plans.length; i++) {
          const p = r.plans[i]!;
          expect(p.tp * p.pp * p.dp).toBe(t.gpus);
          expect(p.memory.total).toBeLessThanOrEqual(p.memory.capacity);
          expect(p.memory.capacity).toBe(hw.memory);
          checkResult(p, t, m);
          // The search's figures are those of the plan evaluated on its own.
          const alone = evaluatePlan(m, hw, t, p);
          expect(rel(p.memory.total, alone.memory.total)).toBeLessThan(1e-9);
          expect(rel(p.tokensPerSecond, alone.tokensPerSecond)).toBeLessThan(1e-9);
          if (i > 0) expect(p.tokensPerSecond).toBeLessThanOrEqual(r.plans[i - 1]!.tokensPerSecond * (1 + 1e-9));
        }
        if (fitting.length > 0) {
          const ranked = fitting.map((e) => e.tokensPerSecond).sort((a, b) => b - a);
          for (let i = 0; i < r.plans.length; i++) expect(rel(r.plans[i]!.tokensPerSecond, ranked[i]!)).toBeLessThan(1e-9);
          expect(r.closest).toBeNull();
        } else if (valid.length > 0) {
          const c = r.closest;
          expect(c).not.toBeNull();
          expect(c!.memory.total).toBeGreaterThan(c!.memory.capacity);
          const least = Math.min(...evaluated.map((e) => e.memory.total));
          expect(rel(c!.memory.total, least)).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 40 },
    );
  });

  // Fixed dimensions restrict the space to exactly the valid plans that agree with them.
  const fixedArb = fc.record(
    {
      tp: fc.constantFrom(1, 2, 4),
      pp: fc.constantFrom(1, 2, 4),
      dp: fc.constantFrom(1, 2, 4),
      zero: fc.constantFrom<ZeroStage>(0, 1, 2, 3),
      microBatch: fc.constantFrom(1, 2),
      recompute: fc.constantFrom<Recompute>("none", "selective", "full"),
      schedule: fc.constantFrom<Schedule>("1f1b", "gpipe", "interleaved"),
      vpp: fc.constantFrom(1, 2),
      sequenceParallel: fc.boolean(),
    },
    { requiredKeys: [] },
  );

  it("honours fixed dimensions: exactly the valid plans that agree with them are searched", () => {
    fc.assert(
      fc.property(searchCaseArb, fixedArb, ({ m, hw, t, top }, fixed: Fixed) => {
        fc.pre(checkFixed(m, t, fixed) === null);
        const r = search(m, hw, t, fixed, { top, keepAll: true });
        const agrees = (p: Plan) =>
          (Object.keys(fixed) as (keyof Plan)[]).every((k) => p[k] === (fixed as Record<string, unknown>)[k]);
        const valid = validPlans(m, hw, t, fixed.zero).filter(agrees);
        const fitting = valid.filter((p) => {
          const w = worstStageMemory(m, hw, t, p).memory;
          return w.total <= w.capacity;
        });
        expect(r.feasible).toBe(fitting.length);
        expect(r.feasible + (r.rejected.out_of_memory ?? 0)).toBe(valid.length);
        for (const p of r.all ?? []) expect(agrees(p), planKey(p)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
