import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GpuInfo } from "../../../executor/devices.js";
import { planOnly } from "../../../executor/plan-json.js";
import { type PlanResult, evaluatePlan } from "../../../planner/index.js";
import { shownRun } from "../../app/prepare.js";
import { packageRoot } from "../../load.js";
import { sessionOf } from "../test-utils.js";
import { fakePython } from "../../../test/executor/e2e-helpers.js";
import { CPU_RANK_LIMIT, type RunCallbacks, chooseDevice, executeWithExecutor } from "./execute.js";
import type { Session } from "./setup.js";

const gpt3 = sessionOf("gpt3-like", 128, 8);
const big = evaluatePlan(gpt3.request.model, gpt3.request.hw, gpt3.request.training, { tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "interleaved" });

/** Run the port until it reports the end; collect what it said. */
function runPort(session: Session, plan: PlanResult, detect: () => GpuInfo[] = () => []) {
  const seen: { prepared: string[]; steps: number[]; done: unknown[]; failed: [string, boolean][] } = { prepared: [], steps: [], done: [], failed: [] };
  return new Promise<{ note: string; seen: typeof seen }>((resolve) => {
    let note = "";
    const cb: RunCallbacks = {
      prepared: (i) => seen.prepared.push(i.runDir),
      step: (e) => seen.steps.push(e.step),
      done: (s) => (seen.done.push(s), resolve({ note, seen })),
      failed: (m, r) => (seen.failed.push([m, r]), resolve({ note, seen })),
    };
    note = executeWithExecutor({ detect })({ session, plan, steps: 2 }, cb).note;
  });
}

const saved = process.env.PARAPLAN_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.PARAPLAN_PYTHON;
  else process.env.PARAPLAN_PYTHON = saved;
});

describe("executing a plan through the executor", () => {
  it("runs small plans on CPU ranks without GPUs, and hands large ones to the executor for GPUs", () => {
    expect(chooseDevice(4, 0)).toEqual({ device: "cpu", note: "no GPU here: on 4 CPU ranks (cpu profile)" });
    expect(chooseDevice(CPU_RANK_LIMIT + 1, 0).device).toBe("cuda");
    // More ranks than GPUs: not "on 1024 of the 8 GPUs found here".
    expect(chooseDevice(1024, 8)).toEqual({ device: "cuda", note: "the plan needs 1,024 GPUs, 8 found here: run it on its nodes with paraplan execute --nnodes" });
    expect(chooseDevice(8, 8)).toEqual({ device: "cuda", note: "on 8 of the 8 GPUs found here" });
    expect(chooseDevice(1, 1)).toEqual({ device: "cuda", note: "on 1 of the 1 GPU found here" });
  });

  it("hands the executor exactly the plan, batch and sequence shown (typed: no flags, no files read again, no search)", () => {
    const h100s = Array.from({ length: 1024 }, () => ({ name: "NVIDIA H100 80GB HBM3", memory: 80 * 2 ** 30 }));
    const { chosen, devices, settings } = shownRun({ request: gpt3.request, plan: big, device: "cuda", steps: 5 }, h100s);
    expect(planOnly(chosen.result)).toEqual({ tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "interleaved" });
    const { req } = chosen;
    expect([req.model.name, req.profileName, req.training.gpus, req.training.globalBatch, req.training.seqLen, settings.steps, devices.device]).toEqual(["gpt3-like", "dgx-h100", 1024, 1536, 2048, 5, "cuda"]);
    expect(req.model).toBe(gpt3.request.model);
    // Planned under the default engine (megatron-core), run by the worker, which compiles on CUDA:
    // predicted again with the worker's engine, as `execute` predicts, so measured and predicted
    // describe the same software (issue 12 §1).
    expect(gpt3.request.training.engine.name).toBe("megatron-core");
    expect(req.training.engine.name).toBe("paraplan-compile");
    expect({ ...req.training, engine: undefined }).toEqual({ ...gpt3.request.training, engine: undefined, overlapGradReduce: req.training.engine.dataParallel.overlapGradReduce });
    const worker = { ...gpt3.request.training, engine: req.training.engine, fusedAttention: true, overlapGradReduce: req.training.engine.dataParallel.overlapGradReduce };
    expect(chosen.result.time.step).toBe(evaluatePlan(gpt3.request.model, req.hw, worker, big).time.step);
    expect(chosen.result.time.step).not.toBe(evaluatePlan(gpt3.request.model, req.hw, gpt3.request.training, big).time.step);
    expect(chosen.result.time.step).not.toBe(big.time.step);
    // A plan found under the worker's engine is run as shown, figures and all.
    const tiny = sessionOf("tiny", 1, 1);
    const same = { ...tiny.request, training: { ...tiny.request.training, engine: req.training.engine, overlapGradReduce: req.training.engine.dataParallel.overlapGradReduce } };
    const plan = evaluatePlan(same.model, same.hw, same.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    expect(shownRun({ request: same, plan, device: "cuda", steps: 5 }, h100s.slice(0, 1)).chosen.result).toBe(plan);
    // CPU ranks run it with the cpu profile's figures and the eager worker's engine.
    const cpu = shownRun({ request: tiny.request, plan, device: "cpu", steps: 5 }, []);
    expect([cpu.chosen.req.profileName, cpu.devices.device, cpu.chosen.perNode, cpu.chosen.req.training.engine.name]).toEqual(["cpu", "cpu", 1, "paraplan"]);
    expect(planOnly(cpu.chosen.result)).toEqual(planOnly(plan));
  });

  it("a model the worker cannot build is refused before the run, naming the model", () => {
    const tiny = sessionOf("tiny", 1, 1);
    const request = { ...tiny.request, model: { ...tiny.request.model, name: "tiny-alibi", positional: "alibi" as const } };
    const plan = evaluatePlan(request.model, request.hw, request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    expect(() => shownRun({ request, plan, device: "cpu", steps: 5 }, [])).toThrow(/^--model: tiny-alibi has ALiBi positions; engine paraplan builds learned or rotary positions only .*; execute runs paraplan's worker$/);
  });

  it("shows the executor's refusal for a 1024-GPU plan on a machine without GPUs", async () => {
    const { note, seen } = await runPort(gpt3, big);
    expect(note).toBe("no GPU here, and 1024 GPUs is too many for CPU ranks (at most 8)");
    expect(seen.failed).toEqual([[expect.stringMatching(/^no CUDA GPU found on this node/), true]]);
    expect(seen.prepared).toEqual([]);
    // QA: the refusal gave execute's advice ("use --device cpu --gpus N"), flags the screens have
    // not; it says what to do here.
    expect(seen.failed[0]![0]).toBe("no CUDA GPU found on this node (nvidia-smi lists none); plans of at most 8 GPUs run here on CPU ranks: go back (b) to the setup and plan for fewer GPUs");
    const eight = await runPort(gpt3, big, () => Array.from({ length: 8 }, () => ({ name: "NVIDIA H100 80GB HBM3", memory: 80 * 2 ** 30 })));
    expect(eight.seen.failed).toEqual([
      ["the plan needs 1,024 GPUs on this node but 8 are present; go back (b) to the setup and plan for 8 GPUs or fewer, or run this plan on its nodes with paraplan execute --nnodes", true],
    ]);
    expect(JSON.stringify([seen.failed, eight.seen.failed])).not.toMatch(/--gpus|--device/);
  });

  it("refuses a CPU run when the Python interpreter is missing, before creating a run", async () => {
    process.env.PARAPLAN_PYTHON = join(tmpdir(), "paraplan-no-such-python");
    const tiny = sessionOf("tiny", 1, 1);
    const plan = evaluatePlan(tiny.request.model, tiny.request.hw, tiny.request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    const { note, seen } = await runPort(tiny, plan);
    expect(note).toBe("no GPU here: on 1 CPU rank (cpu profile)");
    expect(seen.failed).toEqual([[expect.stringMatching(/^no Python interpreter at PARAPLAN_PYTHON=.*paraplan-no-such-python/), true]]);
  });

  // QA: the rank count left out cp (tp·pp·dp): a cp-2 plan of 2 ranks was "on 1 CPU rank".
  it("counts every rank, cp included: a cp-2 plan without GPUs runs on 2 CPU ranks", async () => {
    process.env.PARAPLAN_PYTHON = join(tmpdir(), "paraplan-no-such-python");
    const tiny = sessionOf("tiny", 1, 2);
    // tp 1 · cp 2 · dp 1 · pp 1 = 2 ranks
    const plan = evaluatePlan(tiny.request.model, tiny.request.hw, tiny.request.training, { tp: 1, pp: 1, dp: 1, cp: 2, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    const { note } = await runPort(tiny, plan);
    expect(note).toBe("no GPU here: on 2 CPU ranks (cpu profile)");
  });

  it("reports the engine the prediction was made with once prepared: the eager worker's on CPU ranks", async () => {
    process.env.PARAPLAN_PYTHON = fakePython();
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-engine-"));
    process.chdir(dir); // the run directory goes under runs/ here
    try {
      const tiny = sessionOf("tiny", 1, 2);
      const zbv = evaluatePlan(tiny.request.model, tiny.request.hw, tiny.request.training, { tp: 1, pp: 2, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "zbv" });
      const said: { engine: string; eager: string | null }[] = [];
      await new Promise<void>((resolve) => {
        executeWithExecutor({ detect: () => [] })({ session: tiny, plan: zbv, steps: 2 }, {
          prepared: (i) => said.push({ engine: i.engine, eager: i.eager }),
          step: () => {},
          done: () => resolve(),
          failed: () => resolve(),
        });
      });
      // CPU ranks do not compile (executor/spec.ts defaultCompile): eager, and no reason to give.
      expect(said).toEqual([{ engine: "paraplan", eager: null }]);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A real run takes 15-40 s of torch start-up on a small machine: opt in with PARAPLAN_UI_EXEC=1.
  const venv = existsSync(join(packageRoot(), ".venv", "bin", "python"));
  it.runIf(process.env.PARAPLAN_UI_EXEC === "1" && venv)("runs tiny on one CPU rank and ends with the summary", async () => {
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-run-"));
    process.chdir(dir);
    try {
      const tiny = sessionOf("tiny", 1, 1);
      const plan = evaluatePlan(tiny.request.model, tiny.request.hw, tiny.request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
      const { seen } = await runPort(tiny, plan);
      expect(seen.failed).toEqual([]);
      expect(seen.steps).toEqual([1, 2]);
      expect(seen.done[0]).toMatchObject({ device: "cpu", steps: 2, model: "tiny" });
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
