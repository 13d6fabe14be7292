// The whole flow through the real planner: setup → results (filling in) → detail → back → quit,
// every frame within 80 × 24.
import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { type PlanResult, search } from "../../planner/index.js";
import { App } from "./app.js";
import type { Services } from "./core/controller.js";
import { planSlug } from "./core/export.js";
import { startSearchJob } from "./core/search-job.js";
import { KEY, allOptions, fakeExecutor, overflow, sessionOf, smallOptions, testServices, tick, waitFor } from "./test-utils.js";

const W = 80;
const H = 23;

describe("the interactive planner", () => {
  it("goes setup → results → detail → back → quit with the defaults (Enter alone)", async () => {
    const onQuit = vi.fn();
    const { lastFrame, stdin, unmount } = render(<App options={allOptions()} services={testServices(fakeExecutor())} width={W} height={H} onQuit={onQuit} />);
    const frames: string[] = [];
    const frame = () => {
      const f = lastFrame() ?? "";
      frames.push(f);
      return f;
    };
    expect(frame()).toContain("gpt3-like (175B parameters)");
    expect(frame()).toContain("dgx-h100 — H100 SXM5 80GB, 8 per node");
    expect(frame()).toContain("1,024 GPUs = 128 nodes × 8");
    expect(frame()).toMatch(/Global batch\s+1,536/);

    stdin.write(KEY.enter);
    await waitFor(() => frame().includes("done in"), frame, 60_000);
    // What the planner finds for the same request, searched in one go.
    const req = sessionOf("gpt3-like", 128, 8).request;
    const whole = search(req.model, req.hw, req.training, {}, { top: 2 });
    const [first, second] = whole.plans;
    const results = frame();
    expect(results).toContain(`${whole.searched.toLocaleString("en-US")} searched · ${whole.feasible.toLocaleString("en-US")} feasible`);
    expect(results).toMatch(/#\s+tp\s+pp\s+dp\s+Z\s+mb/);
    expect(results).toMatch(new RegExp(`^\\s*1\\s+${first!.tp}\\s+${first!.pp}\\s+${first!.dp}\\s+${first!.zero}\\s+${first!.microBatch}\\s`, "m"));
    expect(results).toContain("rejected: ");

    stdin.write(KEY.enter);
    await waitFor(() => frame().includes("plan detail"), frame);
    const detail = frame();
    expect(detail).toContain(`#1 of ${whole.feasible.toLocaleString("en-US")} by throughput`);
    for (const label of ["total", "weights", "gradients", "optimizer", "activations", "other"]) expect(detail).toMatch(new RegExp(`^  ${label}\\s`, "m"));
    expect(detail).toMatch(/^  tp  \d+ ranks?\s+NVLink 450 GB\/s/m);
    expect(detail).toContain("bubble");

    stdin.write(KEY.down);
    await waitFor(() => frame().includes("vs previous"), frame);
    expect(frame()).toContain(`#2 of ${whole.feasible.toLocaleString("en-US")}`);
    expect(frame()).toMatch(new RegExp(`tp ${second!.tp} · pp ${second!.pp}`));

    stdin.write("b");
    await waitFor(() => frame().includes("ranked plans"), frame);
    expect(frame()).toMatch(/rows 1–\d+ of/);
    stdin.write(KEY.escape);
    await waitFor(() => frame().includes("Enter alone plans the defaults"), frame);

    stdin.write("q");
    await tick();
    expect(onQuit).toHaveBeenCalledTimes(1);
    for (const f of frames) expect(overflow(f, W, H + 1)).toEqual([]);
    unmount();
  });

  it("fills the table in while the search runs, chunk by chunk", async () => {
    const queue: (() => void)[] = [];
    const services: Services = {
      ...testServices(fakeExecutor()),
      startSearch: (session, onUpdate) =>
        startSearchJob(session.request, onUpdate, {
          sliceMs: 0,
          defer: (fn) => {
            queue.push(fn);
            return () => {};
          },
        }),
    };
    const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={services} width={W} height={H} />);
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toContain("searching…");
    expect(queue).toHaveLength(1);
    const feasible = () => Number(/([\d,]+) feasible/.exec(lastFrame()!)![1]!.replace(/,/g, ""));
    const seen: number[] = [];
    while (queue.length > 0) {
      queue.shift()!();
      await tick(1);
      seen.push(feasible());
      if (seen.length === 1) expect(lastFrame()).toMatch(/searching… 1\/\d+ · [\d,]+ searched/);
    }
    expect(lastFrame()).toMatch(/done in .*: [\d,]+ searched · [\d,]+ feasible/);
    // The count grew chunk by chunk to the whole search's.
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    expect(seen.length).toBeGreaterThan(5);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBe(search(req.model, req.hw, req.training, {}, { top: 1 }).feasible);
    expect(seen[0]).toBeLessThan(seen[seen.length - 1]!);
    unmount();
  });

  it("plans with the software chosen in the setup: fsdp's search, named in the header", async () => {
    const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={W} height={H} />);
    stdin.write(KEY.down);
    await tick();
    stdin.write(KEY.down);
    await tick();
    stdin.write(KEY.right); // megatron-core → fsdp
    await tick();
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    expect(lastFrame()).toContain("engine fsdp");
    // The same request under fsdp, searched in one go: llm-foundry runs data parallel alone.
    const req = sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "fsdp").request;
    const whole = search(req.model, req.hw, req.training, {}, { top: 1 });
    expect(whole.plans[0]!.tp).toBe(1);
    expect(lastFrame()).toContain(`${whole.feasible.toLocaleString("en-US")} feasible`);
    unmount();
  });

  it("exports the plan in detail as plan-<model>-<every dimension>.json (e), never over an earlier one, and quitting stops a run", async () => {
    const files = new Map<string, string>();
    const run = fakeExecutor();
    const onQuit = vi.fn();
    const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={testServices(run, files, "/work/x")} width={W} height={H} onQuit={onQuit} />);
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    stdin.write(KEY.down);
    await tick();
    stdin.write(KEY.enter);
    await tick();
    stdin.write("e");
    await tick();
    const [path, text] = [...files.entries()][0]!;
    const plan = JSON.parse(text) as PlanResult;
    const name = `plan-llama3-8b-${planSlug(plan)}`;
    expect(path).toBe(`/work/x/${name}.json`);
    expect(lastFrame()).toContain(`wrote ${name}.json in /work/x`);
    // Again: a new file, named in the message; the first is kept.
    stdin.write("e");
    await tick();
    expect([...files.keys()]).toEqual([`/work/x/${name}.json`, `/work/x/${name}-2.json`]);
    // (wrapped over two lines at 80 columns)
    expect(lastFrame()!.split("\n").join(" ")).toContain(`wrote ${name}-2.json in /work/x (${name}.json already there: kept)`);
    // The next plan of the table: another name.
    stdin.write(KEY.down);
    await tick();
    stdin.write("e");
    await tick();
    expect(files.size).toBe(3);
    expect([...files.keys()][2]).not.toContain(name);
    stdin.write(KEY.up);
    await tick();
    expect(lastFrame()).toContain(`tp ${plan.tp} · pp ${plan.pp}`);
    expect(Object.keys(plan)).toEqual(["tp", "pp", "dp", "cp", "ep", "etp", "vpp", "zero", "microBatch", "recompute", "sequenceParallel", "schedule", "memory", "worstStage", "time", "tokensPerSecond", "tflopsPerGpu", "mfu", "hfu"]);
    stdin.write("x");
    await tick();
    expect(run.inputs[0]!.plan).toMatchObject(plan);
    stdin.write("q");
    await tick();
    expect(run.cancelled).toBe(1);
    expect(onQuit).toHaveBeenCalledTimes(1);
    unmount();
  });
});
