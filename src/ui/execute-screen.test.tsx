import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/index.js";
import { App } from "./app.js";
import type { RunState } from "./core/state.js";
import { ExecuteScreen } from "./execute-screen.js";
import { startedRun } from "./test-run.js";
import { KEY, fakeExecutor, overflow, sessionOf, smallOptions, step, summaryFor, testServices, tick, waitFor } from "./test-utils.js";

const s = sessionOf("tiny", 1, 1);
const plan = evaluatePlan(s.request.model, s.request.hw, s.request.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
const running: RunState = { status: "running", plan, totalSteps: 10, note: "no GPU here: on 1 CPU rank (cpu profile)", runDir: "/tmp/runs/t", steps: [step(1, 5.5), step(2, 5.2)], summary: null, message: null };

describe("the execute screen", () => {
  it("shows the live progress bar, the loss sparkline and the step time", () => {
    const f = render(<ExecuteScreen run={running} width={80} height={20} />).lastFrame()!;
    expect(f).toContain("no GPU here: on 1 CPU rank (cpu profile)");
    expect(f).toMatch(/^step 2\/10 \[█{8}░{32}\] 20%$/m);
    expect(f).toContain("loss 5.2000  █▁");
    expect(f).toContain("step time 250 ms · 1,024 tokens/s");
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("ends with predicted against measured, or with the executor's refusal", () => {
    const done = render(<ExecuteScreen run={{ ...running, status: "done", summary: summaryFor({ session: s, plan, steps: 10 }, 10) }} width={80} height={20} />).lastFrame()!;
    expect(done).toContain("predicted against measured");
    expect(done).toMatch(/^step time\s+250 ms\s+200 ms\s+−20\.0%$/m);
    const refused = render(<ExecuteScreen run={{ ...running, status: "refused", steps: [], runDir: null, message: "no CUDA GPU found on this node (nvidia-smi lists none)" }} width={80} height={20} />).lastFrame()!;
    expect(refused).toContain("not run");
    expect(refused).toContain("no CUDA GPU found on this node (nvidia-smi lists none)");
    expect(refused).not.toContain("step 0/");
  });

  it("runs the selected plan from the results (x), follows its events, stops it when leaving", async () => {
    const run = fakeExecutor();
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(run)} width={80} height={23} />);
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    stdin.write("x");
    await tick();
    expect(lastFrame()).toContain("paraplan · execute");
    expect(lastFrame()).toContain("preparing");
    expect(run.inputs[0]!.plan.tp * run.inputs[0]!.plan.pp * run.inputs[0]!.plan.dp).toBe(8);
    expect(run.inputs[0]!.steps).toBe(10);
    const cb = run.callbacks[0]!;
    cb.prepared({ runDir: "/tmp/runs/a", torch: "2.13", engine: "paraplan", eager: null });
    cb.step(step(1, 5.5));
    cb.step(step(2, 5.4));
    await tick();
    expect(lastFrame()).toMatch(/step 2\/10 \[█+░+\] 20%/);
    // The engine the prediction was made with, as paraplan execute names it.
    expect(lastFrame()).toMatch(/^predicted with the worker's engine paraplan$/m);
    stdin.write("b");
    await tick();
    expect(run.cancelled).toBe(1);
    expect(lastFrame()).toContain("paraplan · ranked plans");
    // A second run, to its end.
    stdin.write("x");
    await tick();
    const cb2 = run.callbacks[1]!;
    cb.step(step(3, 5.3)); // the stopped run's late events are ignored
    cb2.prepared({ runDir: "/tmp/runs/b", torch: "2.13", engine: "paraplan", eager: "schedule zbv: torch cannot compile zero-bubble stages (split backward)" });
    cb2.done(summaryFor(run.inputs[1]!, 10));
    await tick();
    expect(lastFrame()).toContain("predicted against measured");
    expect(lastFrame()).toMatch(/^predicted with the worker's engine paraplan \(it runs this plan eager: schedule/m);
    expect(lastFrame()).not.toContain("step 3/10");
    stdin.write("c");
    await tick();
    expect(run.cancelled).toBe(1);
  });
});

describe("a run the user stops", () => {
  // QA: x then c showed red "failed" and the message "stopping the run…" never cleared.
  it("says stopping until it ends, then stopped, with no message left over (60 × 20 and 80 × 24)", async () => {
    for (const [w, h] of [[60, 19], [80, 23]] as const) {
      const { run, cb, lastFrame, stdin, unmount } = await startedRun(w, h);
      cb.step(step(1, 5.5));
      await tick();
      stdin.write("c");
      await tick();
      expect(run.cancelled).toBe(1);
      expect(lastFrame()).toMatch(/^stopping the run…$/m);
      expect(lastFrame()!.split("\n").filter((l) => l.includes("stopping the run…"))).toHaveLength(1);
      cb.step(step(2, 5.4)); // a step already under way still arrives
      await tick();
      expect(lastFrame()).toMatch(/^stopping the run…$/m);
      cb.failed("interrupted by the user (SIGINT) at step 2", false);
      await tick();
      const f = lastFrame()!;
      expect(f).toMatch(/^stopped$/m);
      expect(f).not.toMatch(/^failed$/m);
      expect(f).not.toContain("stopping the run");
      expect(f).toContain("interrupted by the user (SIGINT) at step 2");
      expect(overflow(f, w, h)).toEqual([]);
      unmount();
    }
  });

  it("shows the executor's message with control characters escaped, as execute prints it", async () => {
    // (QA: a worker's message quoting a terminal escape reached the terminal as it was)
    const { lastFrame, cb, unmount } = await startedRun(80, 23);
    cb.failed("rank 0: \u001b[2J\u001b[31mboom\u0007\nsecond line", false);
    await tick();
    const f = lastFrame()!;
    expect(f).toContain("rank 0: \\x1b[2J\\x1b[31mboom\\x07\\nsecond line");
    expect(f).not.toMatch(/\u001b\[2J|\u0007/);
    unmount();
  });

  it("a failure the user did not ask for still says failed", () => {
    const f = render(<ExecuteScreen run={{ ...running, status: "failed", message: "rank 0 exited with code 1" }} width={60} height={16} />).lastFrame()!;
    expect(f).toMatch(/^failed$/m);
  });
});
