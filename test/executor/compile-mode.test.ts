// Plans the worker runs eager though asked to compile (executor/worker/compile.py eager_reason:
// zero-bubble pipelines, context parallel, mixtures of experts) are predicted with the eager
// engine profile, ranked on it, recorded as it in plan.json, and calibrated as it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eagerReason, workerEngineName } from "../../executor/compile-mode.js";
import { type Devices, presentDevices } from "../../executor/devices.js";
import { prepare } from "../../executor/prepare.js";
import { type Plan, evaluatePlan, onEngine } from "../../planner/index.js";
import { choosePlan } from "../../src/app/choose.js";
import { shownRun } from "../../src/app/prepare.js";
import { parseExecuteArgs } from "../../src/execute-args.js";
import { loadEngine } from "../../src/load-engine.js";
import { readRun } from "../../src/profile/calibrate/runs.js";
import { sessionOf } from "../../src/ui/test-utils.js";
import { tempDir } from "../tmp-dirs.js";

const cpu = (n: number): Devices => ({ device: "cpu", present: n, gpus: [] });
const H100 = { name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20 };
const h100 = (n: number): Devices => ({ device: "cuda", present: n, gpus: Array.from({ length: n }, () => H100) });
const choose = (argv: string[], devices: Devices, extra: Partial<Parameters<typeof choosePlan>[0]> = {}) => {
  const a = parseExecuteArgs(argv);
  return choosePlan({ args: a.plan, devices, nnodes: a.nnodes, planFile: undefined, forOtherMachines: false, compile: a.compile, ...extra });
};
const PLAN: Plan = { tp: 1, pp: 2, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "zbv" };

describe("the worker's eager plans, as the launcher knows them", () => {
  it("are compile.py's: zero-bubble pipelines (pp > 1), context parallel, mixtures of experts, in its words", () => {
    const dense = { moe: undefined };
    expect(eagerReason(PLAN, dense)).toBe("schedule zbv: torch cannot compile zero-bubble stages (split backward)");
    for (const schedule of ["zb1p", "dualpipev"] as const) expect(eagerReason({ ...PLAN, schedule }, dense)).toMatch(/zero-bubble/);
    expect(eagerReason({ ...PLAN, schedule: "1f1b" }, dense)).toBeNull();
    expect(eagerReason({ ...PLAN, schedule: "interleaved" }, dense)).toBeNull();
    expect(eagerReason({ ...PLAN, pp: 1 }, dense)).toBeNull(); // no pipeline: no schedule runs
    expect(eagerReason({ ...PLAN, pp: 1, cp: 2 }, dense)).toMatch(/cp blocks run eager/);
    expect(eagerReason({ ...PLAN, pp: 1 }, { moe: { experts: 8, topK: 2 } as never })).toMatch(/mixture-of-experts/);
    expect([workerEngineName(true, PLAN, dense), workerEngineName(true, { ...PLAN, schedule: "1f1b" }, dense), workerEngineName(false, { ...PLAN, schedule: "1f1b" }, dense)]).toEqual(["paraplan", "paraplan-compile", "paraplan"]);
    // The worker's own text, which the launcher repeats.
    const py = readFileSync(new URL("../../executor/worker/compile.py", import.meta.url), "utf8");
    for (const words of ["torch cannot compile zero-bubble stages (split backward)", "cp blocks run eager", "mixture-of-experts blocks route tokens with data-dependent shapes; they run eager"]) expect(py).toContain(words);
  });
});

describe("execute --compile", () => {
  it("predicts a zero-bubble plan with the eager engine, the figures of --no-compile, and says why", () => {
    // QA: --compile --pp 2 --schedule zbv was predicted 15.0 ms with paraplan-compile, ran eager.
    const compiled = choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--schedule", "zbv", "--compile"], cpu(2));
    const eager = choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--schedule", "zbv", "--no-compile"], cpu(2));
    expect(compiled.req.training.engine.name).toBe("paraplan");
    expect(compiled.result.time.step).toBe(eager.result.time.step);
    expect(compiled.req.assumed.at(-1)).toBe("engine paraplan: the worker runs this plan eager though asked to compile (schedule zbv: torch cannot compile zero-bubble stages (split backward))");
    // The same plan under paraplan-compile is priced as it runs, eager (planner/eager.ts), and
    // says so; priced compiled (the engine without its eager block) it had another step time,
    // the old, wrong one.
    const onCompile = onEngine(compiled.req.training, loadEngine("paraplan-compile"));
    const asCompiled = evaluatePlan(compiled.req.model, compiled.req.hw, onCompile, compiled.result);
    expect([asCompiled.time.step, asCompiled.eager]).toEqual([compiled.result.time.step, { engine: "paraplan", reason: "schedule zbv: torch cannot compile zero-bubble stages (split backward)" }]);
    const { eager: _, ...neverEager } = onCompile.engine;
    expect(evaluatePlan(compiled.req.model, compiled.req.hw, { ...onCompile, engine: neverEager }, compiled.result).time.step).not.toBe(compiled.result.time.step);
    // A 1F1B pipeline compiles: paraplan-compile.
    expect(choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--schedule", "1f1b", "--compile"], cpu(2)).req.training.engine.name).toBe("paraplan-compile");
  });

  it("ranks each plan on the engine that runs it: the zero-bubble plan the compiled prices put first loses on eager prices", () => {
    // gpt3-1.3b, pp 4 on 8 H100s, compile on by default: priced compiled, ZB1P (vpp 6, micro-batch
    // 16) came first at 345,827 tokens/s, above interleaved 1F1B's 340,894; run eager, as it is,
    // ZB1P falls below interleaved, which is now the plan.
    const c = choose(["--model", "gpt3-1.3b", "--pp", "4"], h100(8));
    expect([c.req.training.engine.name, c.result.schedule]).toEqual(["paraplan-compile", "interleaved"]);
    const zb = { ...c.result, schedule: "zb1p" as const };
    const eagerZb = evaluatePlan(c.req.model, c.req.hw, onEngine(c.req.training, loadEngine("paraplan")), zb);
    const { eager: _, ...neverEager } = c.req.training.engine;
    const compiledZb = evaluatePlan(c.req.model, c.req.hw, { ...c.req.training, engine: neverEager }, zb);
    // (priced under paraplan-compile, ZB1P is priced eager, as it runs)
    expect(evaluatePlan(c.req.model, c.req.hw, c.req.training, zb).tokensPerSecond).toBe(eagerZb.tokensPerSecond);
    expect(compiledZb.tokensPerSecond).toBeGreaterThan(c.result.tokensPerSecond);
    expect(eagerZb.tokensPerSecond).toBeLessThan(c.result.tokensPerSecond);
    // Asked for, ZB1P is run and predicted eager.
    const asked = choose(["--model", "gpt3-1.3b", "--pp", "4", "--schedule", "zb1p"], h100(8));
    expect([asked.req.training.engine.name, asked.result.schedule]).toEqual(["paraplan", "zb1p"]);
  });

  it("a --plan file of a zero-bubble or context-parallel plan, a mixture of experts: the eager engine", () => {
    expect(choose(["--model", "tiny", "--device", "cpu", "--compile"], cpu(1), { planFile: PLAN }).req.training.engine.name).toBe("paraplan");
    expect(choose(["--model", "tiny", "--device", "cpu", "--compile"], cpu(1), { planFile: { ...PLAN, schedule: "1f1b", vpp: 1 } }).req.training.engine.name).toBe("paraplan-compile");
    const cp = { ...PLAN, pp: 1, vpp: 1, cp: 2, schedule: "1f1b" as const, microBatch: 8 };
    const c = choose(["--model", "tiny", "--device", "cpu", "--compile"], cpu(1), { planFile: cp });
    expect([c.req.training.engine.name, c.req.assumed.at(-1)]).toEqual(["paraplan", expect.stringMatching(/cp blocks run eager\)$/)]);
    expect(choose(["--model", "tiny-moe", "--gpus", "2", "--compile"], cpu(2)).req.training.engine.name).toBe("paraplan");
  });

  it("plan.json records the eager engine; a prediction of the other mode is refused before the run directory", async () => {
    const root = tempDir("paraplan-compile-mode-");
    const chosen = choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--schedule", "zbv", "--compile"], cpu(2));
    const settings = { steps: 2, nnodes: 1, nodeRank: 0, endpoint: undefined, rdzvId: undefined, printLaunch: true, compile: true };
    const p = await prepare(chosen, presentDevices("cpu", 2, []), { ...settings, runDir: join(root, "ok") });
    expect(JSON.parse(readFileSync(join(p.runDir, "plan.json"), "utf8")).engine).toBe("paraplan");
    expect(p.spec.execution.compile).toBe(true); // the worker is still asked, and says why it ran eager
    const wrong = { ...chosen, req: { ...chosen.req, training: onEngine(chosen.req.training, loadEngine("paraplan-compile")) } };
    await expect(prepare(wrong, presentDevices("cpu", 2, []), { ...settings, runDir: join(root, "wrong") })).rejects.toThrow(/predicted with engine paraplan-compile but the worker runs it as paraplan/);
    expect(existsSync(join(root, "wrong"))).toBe(false);
  });

  it("the interactive planner's zero-bubble plan, run on GPUs, is predicted eager", () => {
    const s = sessionOf("tiny", 1, 2);
    const plan = evaluatePlan(s.request.model, s.request.hw, s.request.training, PLAN);
    const run = shownRun({ request: s.request, plan, device: "cuda", steps: 2 }, [H100, H100]);
    expect(run.chosen.req.training.engine.name).toBe("paraplan");
    const oneF = shownRun({ request: s.request, plan: evaluatePlan(s.request.model, s.request.hw, s.request.training, { ...PLAN, vpp: 1, schedule: "1f1b" }), device: "cuda", steps: 2 }, [H100, H100]);
    expect(oneF.chosen.req.training.engine.name).toBe("paraplan-compile");
  });
});

describe("calibrate prices what ran", () => {
  it("a run whose plan.json says paraplan-compile but whose worker ran eager is priced as paraplan, and says so", async () => {
    const root = tempDir("paraplan-compile-cal-");
    const chosen = choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--schedule", "zbv", "--compile"], cpu(2));
    const p = await prepare(chosen, presentDevices("cpu", 2, []), { steps: 5, nnodes: 1, nodeRank: 0, endpoint: undefined, rdzvId: undefined, printLaunch: true, compile: true, runDir: join(root, "r") });
    const eagerReason = "schedule zbv: torch cannot compile zero-bubble stages (split backward)";
    writeFileSync(join(p.runDir, "summary.json"), JSON.stringify({ measured: { stepTime: 0.05 }, execution: { mode: "eager", engine: "paraplan", compileRequested: true, eagerReason } }));
    expect([readRun(p.runDir).training.engine?.name, readRun(p.runDir).assumed]).toEqual(["paraplan", []]);
    // A run of the old launcher: plan.json recorded paraplan-compile.
    const planJson = JSON.parse(readFileSync(join(p.runDir, "plan.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(p.runDir, "plan.json"), JSON.stringify({ ...planJson, engine: "paraplan-compile" }));
    const old = readRun(p.runDir);
    expect(old.training.engine?.name).toBe("paraplan");
    expect(old.assumed).toEqual([`engine paraplan, as the worker ran it (summary.json: ${eagerReason}), not paraplan-compile as plan.json records`]);
    // Nothing recorded but the launch's compile switch: the worker's rule applies.
    const { engine: _e, ...bare } = planJson;
    writeFileSync(join(p.runDir, "plan.json"), JSON.stringify(bare));
    writeFileSync(join(p.runDir, "summary.json"), JSON.stringify({ measured: { stepTime: 0.05 } }));
    expect([readRun(p.runDir).training.engine?.name, readRun(p.runDir).assumed]).toEqual(["paraplan", ["engine paraplan (the run does not record it)"]]);
  });
});
