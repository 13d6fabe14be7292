// Real CPU runs of the tiny model under torchrun (skipped until the worker and .venv exist):
// a good run, a rank that raises, Ctrl-C, a busy rendezvous port, and two nodes on loopback.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../executor/launch.js";
import { build, hasVenv, hasWorker, jsonLines, processesWith, run, start, tmp, waitFor } from "./e2e-helpers.js";

const CPU2 = ["--model", "tiny", "--device", "cpu", "--gpus", "2"];

describe.skipIf(!hasWorker() || !hasVenv()).sequential("paraplan execute on CPU ranks", () => {
  beforeAll(() => build(), 120_000);

  it("runs 3 steps: one JSON line per step, then the summary; artifacts in the run dir; a busy port replaced", async () => {
    const cwd = tmp();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen({ host: "127.0.0.1", port: 0 }, r));
    const port = (busy.address() as { port: number }).port;
    let r;
    try {
      r = await run([...CPU2, "--steps", "3", "--json", "--rdzv-endpoint", `127.0.0.1:${port}`], { cwd });
    } finally {
      busy.close();
    }
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(4);
    lines.slice(0, 3).forEach((l, i) => {
      expect(Object.keys(l).sort()).toEqual(["loss", "step", "stepTime", "tokensPerSecond"]);
      expect(l.step).toBe(i + 1);
    });
    const s = lines[3] as Record<string, any>;
    expect(s.steps).toBe(3);
    expect(s.plan).toMatchObject({ tp: expect.any(Number), pp: expect.any(Number), dp: expect.any(Number) });
    expect(s.plan.tp * s.plan.pp * s.plan.dp).toBe(2);
    for (const k of ["stepTime", "tokensPerSecond", "peakMemory", "flopsPerStep"]) {
      expect(s.measured[k], k).toBeGreaterThan(0);
      expect(s.predicted[k], k).toBeGreaterThan(0);
      expect(s.error[k], k).toBeCloseTo((s.predicted[k] - s.measured[k]) / s.measured[k], 9);
    }
    expect(s.measured.mfu).toBeNull(); // CPU
    expect(s.error.mfu).toBeNull();
    expect(s.predicted.mfu).toBeGreaterThan(0);
    expect(s.measured.loss).toHaveLength(3);
    // artifacts
    const dir = s.runDir as string;
    expect(dir.startsWith(join(cwd, "runs"))).toBe(true);
    expect(readdirSync(dir).filter((f) => !f.startsWith(".") || f.endsWith(".tmp"))).toEqual(
      expect.arrayContaining(["plan.json", "launch.json", "metrics.jsonl", "summary.json"]),
    );
    expect(readdirSync(dir).some((f) => f.endsWith(".tmp"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"))).toEqual(s);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))).toEqual(lines.slice(0, 3));
    expect(JSON.parse(readFileSync(join(dir, "launch.json"), "utf8"))).toMatchObject({ version: 1, runDir: dir, device: "cpu", plan: s.plan });
    // the busy port was replaced by a free one
    expect(r.stderr).toMatch(new RegExp(`port ${port} is busy; rendezvous on 127\\.0\\.0\\.1:(\\d+)`));
    const used = /--rdzv-endpoint 127\.0\.0\.1:(\d+)/.exec(readFileSync(join(dir, "command.txt"), "utf8"))![1];
    expect(Number(used)).not.toBe(port);
    expect(processesWith(dir)).toEqual([]);
  }, 90_000);

  it("traces the last step: measured bubble and exposed communication beside the simulated ones, one trace file with both", async () => {
    const cwd = tmp();
    // 1F1B fixed: this test counts one F and one B per micro-batch (zero-bubble schedules, which the
    // search may now prefer, split B and W: test/worker/test_zero_bubble.py covers them)
    const r = await run([...CPU2, "--pp", "2", "--schedule", "1f1b", "--steps", "4", "--global-batch", "8"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 4 traced \(one rank per pipeline stage\), beside the simulator:/);
    // Each column a duration and its share; a measured wait of none prints "0" (CPU ranks on a
    // loaded machine can run a stage's passes back to back).
    expect(r.stdout).toMatch(/pipeline bubble \(critical stage\)\s+(?:\S+ \S*s|0) \([\d.]+%\)\s+\S+ \S*s \([\d.]+%\)/);
    const dir = /run dir: (\S+)/.exec(r.stdout)![1]!;
    const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const t = s.timeline;
    expect(t).toMatchObject({ tracedStep: 4, trace: "trace.json", errors: [] });
    // the schedule's own bubble formula at the run's m = 8 / (dp 1 · micro-batch): (2−1)/m
    const m = 8 / s.plan.microBatch;
    expect(t.microBatches).toBe(m);
    expect(r.stdout).toContain(`1f1b: (p−1)/m = ${((100 * 1) / m).toFixed(1)}% at p 2, m ${m} on an even pipeline`);
    expect(s.worker.timedSteps).toEqual([3]);
    // pp = 2: the first stage waits for the second's backwards, the second for the first's
    // forwards; on CPU ranks sharing a loaded machine one stage can run its passes back to back
    // (its measured wait 0, as the table's line allows above: a clean-clone CI run saw it), never
    // both: somewhere the pipeline waits.
    expect(t.stages.map((x: { stage: number }) => x.stage)).toEqual([0, 1]);
    for (const st of t.stages) expect(st.bubble).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t.stages.map((st: { bubble: number }) => st.bubble))).toBeGreaterThan(0);
    expect(t.measured.bubble).toBeGreaterThanOrEqual(0);
    expect(t.measured.bubbleFraction).toBeGreaterThanOrEqual(0);
    expect(t.measured.exposedComm).toBeGreaterThanOrEqual(0);
    expect(t.simulated.bubbleFraction).toBeGreaterThan(0);
    const trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8"));
    const names = trace.traceEvents.filter((e: { name: string }) => e.name === "process_name").map((e: { args: { name: string } }) => e.args.name);
    expect(names).toEqual(["measured stage 0", "measured stage 1", "simulated stage 0", "simulated stage 1"]);
    const work = trace.traceEvents.filter((e: { ph: string; pid: number; tid: number }) => e.ph === "X" && e.pid < 1000 && e.tid === 0);
    for (const pid of [0, 1]) {
      const passes = work.filter((e: { pid: number; name: string }) => e.pid === pid && /^[FB]\d+(\.\d+)?$/.test(e.name));
      expect(passes.length, `stage ${pid}`).toBe(2 * (8 / s.plan.microBatch) * s.plan.vpp); // F and B per micro-batch and chunk
    }
  }, 90_000);

  it("stops every rank when one raises, names it, and keeps the metrics so far", async () => {
    const cwd = tmp();
    const p = start([...CPU2, "--steps", "6"], { cwd, env: { PARAPLAN_FAULT_INJECTION: '{"rank":1,"step":3}' } });
    expect(await waitFor(() => p.stdout().includes("step 2/6"), 80_000), p.stderr()).toBe(true);
    const lastStep = Date.now();
    const r = await p.done;
    expect(Date.now() - lastStep).toBeLessThan(30_000); // rank 1 raises at the start of step 3
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/paraplan: rank 1 raised an exception: .*fault injection.*; stopped every rank, 2 steps of metrics kept in/);
    const dir = /kept in (\S+)/.exec(r.stderr)![1]!;
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step)).toEqual([1, 2]);
    expect(existsSync(join(dir, "summary.json"))).toBe(false);
    expect(existsSync(join(dir, "error.json"))).toBe(true);
    expect(processesWith(dir)).toEqual([]);
    expect(r.stdout).toMatch(/step 2\/6/); // plain progress lines when stdout is not a terminal
  }, 90_000);

  it("Ctrl-C stops the run cleanly: exit 130, no process of the run left", async () => {
    const cwd = tmp();
    const p = start([...CPU2, "--steps", "500", "--json"], { cwd });
    const stepped = await waitFor(() => p.stdout().includes('"step":1'), 60_000);
    expect(stepped, p.stderr()).toBe(true);
    const dir = JSON.parse(readFileSync(join(cwd, "runs", readdirSync(join(cwd, "runs"))[0]!, "launch.json"), "utf8")).runDir as string;
    expect(processesWith(dir).length).toBeGreaterThan(0);
    const t0 = Date.now();
    p.child.kill("SIGINT");
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\); stopped every rank/);
    expect(processesWith(dir)).toEqual([]);
    expect(jsonLines(r.stdout).pop()).toMatchObject({ failed: true, failure: { kind: "interrupted" } });
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("runs two nodes of 2 CPU ranks on loopback through c10d rendezvous", async () => {
    const cwd = tmp();
    const endpoint = `127.0.0.1:${await freePort()}`;
    const node = (rank: number) =>
      start(
        ["--model", "tiny", "--device", "cpu", "--gpus", "4", "--steps", "2", "--json", "--nnodes", "2", "--node-rank", String(rank),
          "--rdzv-endpoint", endpoint, "--run-dir", join(cwd, `node${rank}`)],
        { cwd },
      );
    const [a, b] = await Promise.all([node(0).done, node(1).done]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // c10d numbers nodes by arrival: exactly one of them hosted rank 0 and prints the summary.
    const summaries = [a, b].map((x) => jsonLines(x.stdout).find((l) => "measured" in l)).filter(Boolean) as Record<string, any>[];
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.world).toBe(4);
    expect(summaries[0]!.plan.tp * summaries[0]!.plan.pp * summaries[0]!.plan.dp).toBe(4);
    expect([a, b].some((x) => /rank 0 ran on another node/.test(x.stderr))).toBe(true);
  }, 150_000);

  it("a rank that raises on one node stops both nodes' agents and ranks within 30 s", async () => {
    const cwd = tmp();
    const endpoint = `127.0.0.1:${await freePort()}`;
    const env = { PARAPLAN_FAULT_INJECTION: '{"rank":3,"step":2}' };
    const node = (rank: number) =>
      start(
        ["--model", "tiny", "--device", "cpu", "--gpus", "4", "--steps", "6", "--json", "--nnodes", "2", "--node-rank", String(rank),
          "--rdzv-endpoint", endpoint, "--run-dir", join(cwd, `node${rank}`)],
        { cwd, env },
      );
    const ended: number[] = [];
    const runs = [node(0), node(1)].map((n) => n.done.then((r) => (ended.push(Date.now()), r)));
    const [a, b] = await Promise.all(runs);
    expect(a.code, a.stderr).not.toBe(0);
    expect(b.code, b.stderr).not.toBe(0);
    expect(Math.max(...ended) - Math.min(...ended)).toBeLessThan(30_000);
    expect(`${a.stderr}\n${b.stderr}`).toMatch(/rank 3/);
    expect(processesWith(join(cwd, "node0"))).toEqual([]);
    expect(processesWith(join(cwd, "node1"))).toEqual([]);
  }, 150_000);
});
