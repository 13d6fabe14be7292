// An engine that runs some plans eager (paraplan-compile: the worker's torch.compile skips
// zero-bubble stages, context-parallel blocks and mixture-of-experts blocks) prices those plans with
// its eager engine (paraplan) wherever a plan is priced — the search, evaluatePlan, the simulator —
// so that `plan --engine paraplan-compile`, `export --format torchrun` and `execute` agree on the
// plan and its figure (QA: plan ranked mixtral's ZB1P plans at compiled speed, 288,405 tokens/s,
// which export and execute re-priced eager at 255,653).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Plan, type PlanResult, type Training, comparePlans, evaluatePlan, onEngine, search } from "../../planner/index.js";
import { simulateSummary } from "../../planner/sim/simulate.js";
import { workerEagerCases } from "../../executor/compile-mode.js";
import { loadEngine } from "../../src/load-engine.js";
import { loadModel, loadProfile } from "../../src/load.js";
import { isOneLine, removeTempFiles, runCli, tempFile } from "../cli/helpers.js";
import { tempDir } from "../tmp-dirs.js";

afterAll(removeTempFiles);

const hw = loadProfile("dgx-h100");
const trainingOn = (engine: string, gpus: number, globalBatch: number, seqLen: number): Training =>
  onEngine({ gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true }, loadEngine(engine));
/** The compiled engine's own figures for every plan (its eager block dropped): what plan priced before. */
const neverEager = (t: Training): Training => {
  const { eager: _, ...engine } = t.engine!;
  return { ...t, engine };
};
// The worker's rule, written out here (executor/worker/compile.py eager_reason), not read from the planner.
const runsEager = (p: Plan, moe: boolean) => (p.pp > 1 && ["zb1p", "zbv", "dualpipev"].includes(p.schedule)) || p.cp > 1 || moe;
const key = (p: Plan) => JSON.stringify([p.tp, p.cp, p.cpComm, p.pp, p.vpp, p.dp, p.ep, p.etp, p.zero, p.microBatch, p.recompute, p.sequenceParallel, p.schedule, p.order]);

describe("the search under paraplan-compile", () => {
  it("ranks each plan on the engine that runs it: the best of compiled figures for the plans it compiles and eager ones for the rest", () => {
    // gpt3-1.3b, pp 4 on 8 H100s: on compiled figures ZB1P comes first, but the worker runs it eager.
    const m = loadModel("gpt3-1.3b");
    const compiled = trainingOn("paraplan-compile", 8, 512, 2048);
    const eager = trainingOn("paraplan", 8, 512, 2048);
    const found = search(m, hw, compiled, { pp: 4 }, { top: 10 }).plans;
    // By hand: every feasible plan under each engine, each kept from the engine that runs it.
    const all = (t: Training, keep: (p: Plan) => boolean) => search(m, hw, t, { pp: 4 }, { top: 1, keepAll: true }).all!.filter(keep);
    const expected = [...all(neverEager(compiled), (p) => !runsEager(p, false)), ...all(eager, (p) => runsEager(p, false))].sort(comparePlans).slice(0, 10);
    expect(found.map((p) => [key(p), p.tokensPerSecond, p.memory.total])).toEqual(expected.map((p) => [key(p), p.tokensPerSecond, p.memory.total]));
    expect(found[0]!.schedule).toBe("interleaved");
    // The old ranking (compiled figures for every plan) put an eager schedule first, faster than
    // anything that runs: the figure nothing reaches.
    const old = search(m, hw, neverEager(compiled), { pp: 4 }, { top: 1 }).plans[0]!;
    expect(runsEager(old, false)).toBe(true);
    expect(old.tokensPerSecond).toBeGreaterThan(found[0]!.tokensPerSecond);
  });

  it("prices and simulates an eager plan as the eager engine does, and says so; a compiled plan stays compiled", () => {
    const m = loadModel("gpt3-1.3b");
    const compiled = trainingOn("paraplan-compile", 8, 512, 2048);
    const eager = trainingOn("paraplan", 8, 512, 2048);
    const zb: Plan = { tp: 1, pp: 4, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 3, zero: 1, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "zb1p" };
    const asRuns = evaluatePlan(m, hw, compiled, zb);
    const { eager: said, ...figures } = asRuns;
    expect(said).toEqual({ engine: "paraplan", reason: "schedule zb1p: torch cannot compile zero-bubble stages (split backward)" });
    expect(figures).toEqual(evaluatePlan(m, hw, eager, zb));
    expect(simulateSummary(m, hw, compiled, zb)).toEqual(simulateSummary(m, hw, eager, zb));
    const il: Plan = { ...zb, schedule: "interleaved" };
    const asCompiled = evaluatePlan(m, hw, compiled, il);
    expect([asCompiled.eager, asCompiled.tokensPerSecond]).toEqual([undefined, evaluatePlan(m, hw, neverEager(compiled), il).tokensPerSecond]);
    expect(asCompiled.tokensPerSecond).not.toBe(evaluatePlan(m, hw, eager, il).tokensPerSecond);
  });

  it("prices a mixture of experts eager throughout: the paraplan engine's plans and figures", () => {
    const m = loadModel("mixtral-8x7b");
    const found = search(m, hw, trainingOn("paraplan-compile", 64, 64, 4096), {}, { top: 10 }).plans;
    const eager = search(m, hw, trainingOn("paraplan", 64, 64, 4096), {}, { top: 10 }).plans;
    expect(found.map((p) => [key(p), p.tokensPerSecond])).toEqual(eager.map((p) => [key(p), p.tokensPerSecond]));
    expect(found.every((p) => p.eager?.engine === "paraplan")).toBe(true);
    // (a zero-bubble plan says so first, as compile.py checks it first)
    expect(found.map((p) => p.eager!.reason.startsWith(p.pp > 1 && p.schedule === "zb1p" ? "schedule zb1p" : "mixture-of-experts"))).toEqual(found.map(() => true));
  });

  it("keeps the flags that change the engine on its eager engine", async () => {
    // --attention unfused under paraplan-compile: a ZB1P plan at paraplan's unfused figures.
    const m = loadModel("gpt3-1.3b");
    const unfused = (name: string) => {
      const t = trainingOn(name, 8, 512, 2048);
      return onEngine(t, { ...t.engine!, attention: { ...t.engine!.attention, kernel: "materialised" } });
    };
    const zb: Plan = { tp: 1, pp: 4, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 3, zero: 1, microBatch: 2, recompute: "none", sequenceParallel: false, schedule: "zb1p" };
    const cli = async (engine: string) => JSON.parse((await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--pp", "4", "--vpp", "3", "--zero", "1", "--micro-batch", "2", "--schedule", "zb1p", "--engine", engine, "--attention", "unfused", "--json"])).stdout).plans[0] as PlanResult;
    const [onCompile, onEager] = [await cli("paraplan-compile"), await cli("paraplan")];
    expect(onCompile.tokensPerSecond).toBe(onEager.tokensPerSecond);
    expect(onCompile.tokensPerSecond).toBeCloseTo(evaluatePlan(m, hw, unfused("paraplan"), zb).tokensPerSecond, 6);
    expect(onCompile.tokensPerSecond).toBeLessThan(evaluatePlan(m, hw, trainingOn("paraplan", 8, 512, 2048), zb).tokensPerSecond);
  });
});

describe("one statement of which plans the worker compiles", () => {
  it("the launcher reads the compiled engine's eager block, which the planner prices by", () => {
    const e = loadEngine("paraplan-compile");
    expect(e.eager?.when).toEqual(["zero-bubble", "context-parallel", "mixture-of-experts"]);
    expect(workerEagerCases()).toEqual(e.eager!.when);
    expect(e.eager?.engine?.name).toBe("paraplan");
    expect(loadEngine("paraplan").eager).toBeUndefined();
  });

  it("an eager engine that runs other plans, or compiles some itself, or an unknown case, is exit 2 naming the field", async () => {
    const file = (name: string, eager: unknown) => tempFile(name, JSON.stringify({ name: name.replace(/\.json$/, ""), extends: "paraplan-compile", eager }));
    const plan = (path: string) => runCli(["plan", "--model", "tiny", "--gpus", "2", "--engine", path]);
    for (const [f, words] of [
      [file("other.json", { engine: "megatron-core", when: ["zero-bubble"] }), /field "eager.engine": megatron-core runs other plans than other/],
      [file("twice.json", { engine: "paraplan-compile", when: ["zero-bubble"] }), /field "eager.engine": paraplan-compile has an eager engine of its own/],
      [file("case.json", { engine: "paraplan", when: ["fp8"] }), /eager\.when/],
    ] as const) {
      const r = await plan(f);
      expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
      expect(r.stderr).toMatch(words);
    }
  });
});

describe("plan, export and execute agree under paraplan-compile", () => {
  const MIXTRAL = ["--model", "mixtral-8x7b", "--gpus", "64", "--global-batch", "64", "--seq", "4096"];

  it("on the plan and its figure (mixtral-8x7b on 64 H100s: ZB1P, eager, 255,653 tokens/s)", async () => {
    const planned = JSON.parse((await runCli(["plan", ...MIXTRAL, "--engine", "paraplan-compile", "--json"])).stdout).plans[0] as PlanResult;
    const eagerBest = search(loadModel("mixtral-8x7b"), hw, trainingOn("paraplan", 64, 64, 4096), {}, { top: 1 }).plans[0]!;
    expect([key(planned), planned.tokensPerSecond]).toEqual([key(eagerBest), eagerBest.tokensPerSecond]);
    expect(planned.eager).toEqual({ engine: "paraplan", reason: "schedule zb1p: torch cannot compile zero-bubble stages (split backward)" });
    const exported = await runCli(["export", "--format", "torchrun", ...MIXTRAL, "--engine", "paraplan-compile", "--out", join(tempDir("paraplan-eager-export-"), "out")]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`predicted ${Math.round(planned.tokensPerSecond).toLocaleString("en-US")} tokens/s`);
    const runDir = join(tempDir("paraplan-eager-execute-"), "run");
    const executed = await runCli(["execute", ...MIXTRAL, "--profile", "dgx-h100", "--nnodes", "8", "--rdzv-endpoint", "host:29500", "--compile", "--print-launch", "--run-dir", runDir]);
    expect(executed.code).toBe(0);
    const recorded = JSON.parse(readFileSync(join(runDir, "plan.json"), "utf8"));
    expect([recorded.engine, key(recorded.plans[0]), recorded.plans[0].tokensPerSecond]).toEqual(["paraplan", key(planned), planned.tokensPerSecond]);
  });

  it("the table says which plans run eager; the header which kinds, and for a mixture of experts that all do", async () => {
    const zb = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--pp", "4", "--schedule", "zb1p", "--engine", "paraplan-compile", "--simulate-top", "0"]);
    expect(zb.stdout).toContain("  runs zero-bubble pipelines and context parallel eager: those plans priced with engine paraplan");
    const row = zb.stdout.split("\n").find((l) => /^ 1 /.test(l))!;
    expect(row).toMatch(/ZB1P zero bubble\s+no\s/);
    expect(zb.stdout).toContain("  runs eager (schedule zb1p: torch cannot compile zero-bubble stages (split backward)): priced with engine paraplan");
    const il = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--pp", "4", "--engine", "paraplan-compile", "--simulate-top", "0"]);
    expect(il.stdout.split("\n").find((l) => /^ 1 /.test(l))).toMatch(/interleaved 1F1B\s+yes\s/);
    expect(il.stdout).not.toContain("  runs eager (");
    const moe = await runCli(["plan", ...MIXTRAL, "--engine", "paraplan-compile", "--simulate-top", "0"]);
    expect(moe.stdout).toContain("  runs every plan eager (mixture-of-experts blocks route tokens with data-dependent shapes; they run eager): priced with engine paraplan");
    expect(moe.stdout).not.toContain("compiled");
    // (its calibration is the eager engine's, whose figures price it)
    expect(moe.stdout).toMatch(/^calibration: paraplan: /m);
    // A sweep's best plan at each count says so too.
    const sweep = await runCli(["plan", "--model", "gpt3-1.3b", "--sweep-gpus", "8", "--tokens", "1B", "--pp", "4", "--schedule", "zb1p", "--engine", "paraplan-compile"]);
    expect(sweep.stdout).toMatch(/^\s+8\s+tp 1 · pp 4 .*ZB1P · eager\s/m);
    // Engines without an eager block: no such line, no column.
    const plain = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--pp", "4", "--engine", "paraplan", "--simulate-top", "0"]);
    expect(plain.stdout).not.toMatch(/compiled|runs .* eager/);
  });
});
