import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkerEvent } from "../../executor/events.js";
import { classify, explainStderr, reportedFailures, startRun } from "../../executor/run.js";
import { Supervisor, groupAlive } from "../../executor/supervise.js";
import { tempDir } from "../tmp-dirs.js";

const FAKE_TORCHRUN = String.raw`// A stand-in for torchrun: it starts a grandchild that ignores SIGTERM (like an agent waiting for
// its peers), ignores SIGTERM itself, and then behaves per argv[2].
import { spawn } from "node:child_process";

const mode = process.argv[2];
const ev = (o, stream = process.stdout) => stream.write("PARAPLAN_EVENT " + JSON.stringify(o) + "\n");
const g = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
process.on("SIGTERM", () => {});
console.log("grandchild " + g.pid);
const step = (k) => ev({ event: "step", step: k, loss: 5 - k / 10, stepTime: 0.1, tokensPerSecond: 2560 });

if (mode === "ok") {
  step(1);
  ev({ event: "summary", measured: { stepTime: 0.1, tokensPerSecond: 2560, peakMemory: 1, flopsPerStep: 2, loss: [4.9], comms: {} } });
  setTimeout(() => process.exit(0), 50);
} else if (mode === "raise") {
  step(1);
  ev({ event: "error", rank: 1, kind: "exception", message: "ValueError: injected fault at step 2" }, process.stderr);
  setInterval(() => {}, 1000); // keeps waiting, as the other agent would
} else if (mode === "exit") {
  process.stderr.write("Traceback (most recent call last):\nValueError: bad spec\n");
  setTimeout(() => process.exit(3), 50);
} else if (mode === "peer-lost" || mode === "peer-lost-then-oom") {
  // Rank 1 is SIGKILLed: rank 0's collective breaks at once; torchrun's monitor sees rank 1 dead
  // a moment later, reports both and exits 1 (its ChildFailedError report, abridged).
  step(1);
  ev({ event: "error", rank: 0, kind: "peer-lost", message: "RuntimeError: Connection reset by peer" }, process.stderr);
  if (mode === "peer-lost-then-oom") {
    setTimeout(() => ev({ event: "error", rank: 1, kind: "oom", message: "torch.OutOfMemoryError: CUDA out of memory" }, process.stderr), 100);
    setInterval(() => {}, 1000);
  } else setTimeout(() => {
    process.stderr.write([
      "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
      "Failures:", "[1]:", "  rank      : 0 (local_rank: 0)", "  exitcode  : 1 (pid: 11) ", "  traceback : RuntimeError",
      "Root Cause (first observed failure):", "[0]:", "  rank      : 1 (local_rank: 1)", "  exitcode  : -9 (pid: 12) SIGKILL",
      "  error_file: <N/A>", "  traceback : Signal 9 (SIGKILL) received by PID 12", ""].join("\n"));
    process.exit(1);
  }, 300);
} else if (mode === "stuck-rank" || mode === "stuck-rank-exit") {
  // A rank in a session of its own (as torchrun starts them) that is stopped (kill -STOP, or
  // stuck where its agent watch cannot run): it holds the output pipes and outlives the agent.
  const r = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); process.kill(process.pid, 'SIGSTOP')"], { detached: true, stdio: ["ignore", "inherit", "inherit"] });
  console.log("rank " + r.pid);
  setTimeout(() => step(1), 200);
  if (mode === "stuck-rank-exit") setTimeout(() => process.exit(1), 400);
  else setInterval(() => {}, 1000);
} else if (mode === "stall") {
  // Two steps, then silence: a rank stuck in a collective (gloo would wait 30 min).
  step(1);
  setTimeout(() => step(2), 100);
  setInterval(() => {}, 1000);
} else if (mode === "steps") {
  let k = 0;
  setInterval(() => step(++k), 100);
}
`;
const FAKE = join(tempDir("paraplan-fake-"), "fake-torchrun.mjs");
writeFileSync(FAKE, FAKE_TORCHRUN);

/** Running (not a zombie) — the same test ps would make. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  const s = readFileSync(stat, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
}

function supervise(mode: string, onEvent?: (ev: WorkerEvent, sup: Supervisor) => void) {
  const events: WorkerEvent[] = [];
  let grandchild = 0;
  const sup: Supervisor = new Supervisor({
    command: process.execPath,
    args: [FAKE, mode],
    graceMs: 500,
    onEvent: (ev) => {
      events.push(ev);
      onEvent?.(ev, sup);
    },
    onText: (line) => {
      const m = /^grandchild (\d+)/.exec(line);
      if (m) grandchild = Number(m[1]);
    },
  });
  const started = Date.now();
  return sup.run().then((outcome) => ({ outcome, events, grandchild: () => grandchild, ms: Date.now() - started }));
}

describe("supervisor and watchdog", () => {
  it("lets a good run end and clears what it left in its group", async () => {
    const { outcome, events, grandchild } = await supervise("ok");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stopped).toBeNull();
    expect(events.map((e) => e.event)).toEqual(["step", "summary"]);
    expect(running(grandchild())).toBe(false);
    expect(classify(outcome, { stepTime: 0.1, tokensPerSecond: 1, peakMemory: null, flopsPerStep: null, loss: [], comms: {} }, [])).toBeNull();
  });

  it("kills the whole group on the first error event, SIGTERM-deaf processes included", async () => {
    const { outcome, grandchild, ms } = await supervise("raise");
    expect(outcome.stopped).toBe("error-event");
    expect(outcome.firstError).toEqual({ event: "error", rank: 1, kind: "exception", message: "ValueError: injected fault at step 2" });
    expect(outcome.signal).toBe("SIGKILL"); // it ignored SIGTERM
    expect(running(grandchild())).toBe(false);
    expect(ms).toBeLessThan(10_000);
    expect(classify(outcome, null, [])).toEqual({ kind: "rank-error", error: outcome.firstError });
  });

  it("stops everything on a non-zero exit and finds the reason in stderr", async () => {
    const { outcome, grandchild } = await supervise("exit");
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stopped).toBe("exit-code");
    expect(running(grandchild())).toBe(false);
    expect(classify(outcome, null, ["Traceback (most recent call last):", "ValueError: bad spec"])).toEqual({
      kind: "exit", code: 3, signal: null, rank: null, reason: "ValueError: bad spec",
    });
  });

  // A SIGKILLed agent: its ranks stop themselves (worker/agent_watch.py), and a peer's "connection
  // reset" that follows is not the cause; the killed rank was blamed on the healthy one before.
  it("an agent killed from outside is the cause, not the rank errors that follow it", () => {
    const outcome = { exitCode: null, signal: "SIGKILL" as const, stopped: "exit-code" as const, interrupt: null, spawnError: null, stopMs: 5,
      firstError: { event: "error" as const, rank: 0, kind: "exception", message: "RuntimeError: Connection reset by peer" } };
    expect(classify(outcome, null, [])).toMatchObject({ kind: "exit", code: null, signal: "SIGKILL", rank: null });
    // A rank's error first (paraplan then stops the group): the rank's.
    expect(classify({ ...outcome, stopped: "error-event" }, null, [])).toEqual({ kind: "rank-error", error: outcome.firstError });
  });

  // A rank killed outright (OOM killer, kill -9) sends no error event; the healthy rank's lost
  // connection used to be reported as the failure, the dead rank only in worker.log.
  it("a lost peer waits for torchrun's report, which names the rank killed", async () => {
    const tail: string[] = [];
    const outcome = await new Supervisor({ command: process.execPath, args: [FAKE, "peer-lost"], graceMs: 500, peerLostWaitMs: 5000, onText: (l, s) => s === "stderr" && tail.push(l) }).run();
    expect(outcome.firstError).toMatchObject({ rank: 0, kind: "peer-lost" });
    expect(outcome.stopped).toBe("exit-code"); // torchrun ended first, its report printed
    const f = classify(outcome, null, tail);
    expect(f).toMatchObject({ kind: "exit", code: 1, rank: 1 });
    expect(f && f.kind === "exit" ? f.reason : "").toMatch(/^killed by SIGKILL .*; rank 0 then lost its connection to it$/);
  });

  it("a lost peer gives way to the other rank's own error, which stops the group at once", async () => {
    const { outcome, ms } = await supervise("peer-lost-then-oom");
    expect(outcome.firstError).toMatchObject({ rank: 1, kind: "oom" });
    expect(outcome.stopped).toBe("error-event");
    expect(ms).toBeLessThan(2900); // not the 3 s a lone lost peer waits
  });

  it("stops on request (Ctrl-C) after the first step", async () => {
    const { outcome, events, grandchild } = await supervise("steps", (ev, sup) => {
      if (ev.event === "step") sup.stop("interrupted", "SIGINT");
    });
    expect(outcome.stopped).toBe("interrupted");
    expect(outcome.interrupt).toBe("SIGINT");
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(running(grandchild())).toBe(false);
    expect(classify(outcome, null, [])).toEqual({ kind: "interrupted", signal: "SIGINT" });
  });

  // A stopped rank in its own session kept the pipes open after torchrun's group was killed:
  // Ctrl-C (or torchrun's own exit) never ended the run.
  for (const mode of ["stuck-rank", "stuck-rank-exit"])
    it(`ends a run whose rank is stuck in a session of its own (${mode})`, async () => {
      let rank = 0;
      const started = Date.now();
      const sup: Supervisor = new Supervisor({
        command: process.execPath,
        args: [FAKE, mode],
        graceMs: 500,
        onText: (line) => {
          const m = /^rank (\d+)/.exec(line);
          if (m) rank = Number(m[1]);
        },
        onEvent: (ev) => {
          if (ev.event === "step" && mode === "stuck-rank") sup.stop("interrupted", "SIGINT");
        },
      });
      const outcome = await sup.run();
      expect(outcome.stopped).toBe(mode === "stuck-rank" ? "interrupted" : "exit-code");
      expect(Date.now() - started).toBeLessThan(8000);
      expect(rank).toBeGreaterThan(0);
      expect(running(rank)).toBe(false);
    }, 15_000);

  it("stops a run whose ranks stopped sending steps, and says after which step", async () => {
    const started = Date.now();
    const outcome = await new Supervisor({ command: process.execPath, args: [FAKE, "stall"], graceMs: 300, stall: { floorMs: 1000, factor: 10 } }).run();
    expect(outcome.stopped).toBe("stalled");
    expect(outcome.stall).toMatchObject({ lastStep: 2 });
    expect(outcome.stall!.waitedMs).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(classify(outcome, null, [])).toMatchObject({ kind: "stalled", lastStep: 2 });
    // A steady run is left alone: steps every 100 ms under a 1 s floor.
    const steady = new Supervisor({ command: process.execPath, args: [FAKE, "steps"], graceMs: 300, stall: { floorMs: 1000, factor: 10 },
      onEvent: (ev) => ev.event === "step" && ev.step === 20 && steady.stop("interrupted", "SIGINT") });
    expect((await steady.run()).stopped).toBe("interrupted");
  }, 15_000);

  it("reports a command that cannot start", async () => {
    const outcome = await new Supervisor({ command: "/nonexistent/torchrun", args: [] }).run();
    expect(outcome.spawnError).not.toBeNull();
    expect(classify(outcome, null, [])).toMatchObject({ kind: "spawn" });
  });

  it("sees no group once every member is gone", () => {
    expect(groupAlive(2 ** 22 + 7)).toBe(false);
  });
});

describe("a run's stop handle", () => {
  it("stops the run when asked, and touches no process-wide signal handler", async () => {
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const before = signals.map((s) => process.listenerCount(s));
    const runDir = tempDir("paraplan-run-");
    const steps: number[] = [];
    const run = startRun({
      command: process.execPath,
      args: [FAKE, "steps"],
      env: process.env,
      cwd: runDir,
      runDir,
      graceMs: 500,
      reporter: { start: () => {}, step: (ev) => (steps.push(ev.step), ev.step === 2 && run.stop("SIGTERM")) },
    });
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
    const res = await run.done;
    expect(res.failure).toEqual({ kind: "interrupted", signal: "SIGTERM" });
    expect(steps.slice(0, 2)).toEqual([1, 2]);
    expect(readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").length).toBe(res.steps.length);
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });

  // QA: torchrun killed by kill -9 before any output: the message said "(log: worker.log)" but
  // the run directory had no such file (it was created by the first line of output).
  it("worker.log exists from the launch on: empty for a torchrun killed before any output, then each line", async () => {
    const runDir = tempDir("paraplan-run-");
    const silent = startRun({ command: process.execPath, args: ["-e", "process.kill(process.pid, 'SIGKILL')"], env: process.env, cwd: runDir, runDir, graceMs: 500, reporter: { start: () => {}, step: () => {} } });
    expect(existsSync(join(runDir, "worker.log"))).toBe(true);
    const res = await silent.done;
    expect(res.failure).toMatchObject({ kind: "exit", code: null, signal: "SIGKILL" });
    expect(readFileSync(join(runDir, "worker.log"), "utf8")).toBe("");
    // Output appends to it: stdout as is, stderr marked "! ".
    const talks = startRun({ command: process.execPath, args: ["-e", "console.log('hello'); console.error('oops'); process.exit(2)"], env: process.env, cwd: runDir, runDir, graceMs: 500, reporter: { start: () => {}, step: () => {} } });
    expect((await talks.done).failure).toMatchObject({ kind: "exit", code: 2 });
    expect(readFileSync(join(runDir, "worker.log"), "utf8").split("\n").sort()).toEqual(["", "! oops", "hello"]);
  });

  // A full disk threw ENOSPC out of the event handler: paraplan died with a stack trace and left
  // torchrun and its ranks running, detached.
  it.runIf(existsSync("/dev/full"))("stops the run in one line when the run directory cannot be written (a full disk)", async () => {
    const runDir = tempDir("paraplan-run-");
    symlinkSync("/dev/full", join(runDir, "metrics.jsonl"));
    const run = startRun({ command: process.execPath, args: [FAKE, "steps"], env: process.env, cwd: runDir, runDir, graceMs: 500, reporter: { start: () => {}, step: () => {} } });
    const res = await run.done;
    expect(res.failure).toEqual({ kind: "write", message: `cannot write ${join(runDir, "metrics.jsonl")} (ENOSPC); stopped every rank` });
    expect(res.outcome.stopped).toBe("write-failed");
    expect(res.steps.length).toBeGreaterThanOrEqual(1);
  });
});

describe("torchrun's stderr", () => {
  it("names the root-cause rank and the first Python error, not the agent's", () => {
    const lines = [
      "/venv/bin/python: No module named executor.worker.__main__",
      "E1127 17:52:12.174000 8695 api.py:1002] failed (exitcode: 1) local_rank: 0",
      "Traceback (most recent call last):",
      "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
      "Failures:",
      "  rank      : 1 (local_rank: 1)",
      "Root Cause (first observed failure):",
      "[0]:",
      "  rank      : 0 (local_rank: 0)",
    ];
    expect(explainStderr(lines)).toEqual({ rank: 0, reason: "/venv/bin/python: No module named executor.worker.__main__" });
    expect(explainStderr([])).toEqual({ rank: null, reason: null });
  });

  it("lists each failed rank with its exit code and the signal that killed it", () => {
    // as torch 2.13's torchrun printed it for a 2-rank CPU run whose rank 1 was kill -9ed
    const lines = ["Failures:", "[1]:", "  rank      : 2 (local_rank: 2)", "  exitcode  : -15 (pid: 7)  (SIGTERM)", "Root Cause (first observed failure):",
      "[0]:", "  rank      : 3 (local_rank: 3)", "  exitcode  : -9 (pid: 8)  (SIGKILL)", "  traceback : Signal 9 (SIGKILL) received by PID 8"];
    expect(reportedFailures(lines)).toEqual([{ rank: 2, exitcode: -15, signal: "SIGTERM", root: false }, { rank: 3, exitcode: -9, signal: "SIGKILL", root: true }]);
    // the lost connection's rank is not the one named; a signalled rank goes before one that exited
    const lost = { exitCode: 1, signal: null, stopped: "exit-code" as const, interrupt: null, spawnError: null, stopMs: 1,
      firstError: { event: "error" as const, rank: 2, kind: "peer-lost", message: "RuntimeError: Connection reset by peer" } };
    expect(classify(lost, null, lines)).toMatchObject({ kind: "exit", rank: 3 });
    expect(classify({ ...lost, firstError: { ...lost.firstError, rank: 3 } }, null, lines)).toMatchObject({ kind: "exit", rank: 2, reason: "killed by SIGTERM; rank 3 then lost its connection to it" });
    // no report (the group stopped before torchrun wrote it): the lost connection is all there is
    expect(classify(lost, null, [])).toEqual({ kind: "rank-error", error: lost.firstError });
  });

  // QA: rank 1 kill -9ed while the ranks started up (no collective yet, so no peer-lost event;
  // torchrun SIGTERMed rank 0): the run said "rank 1 failed first" and nothing of the signal.
  it("names the signal of a root-cause rank killed before any peer lost it", () => {
    const lines = ["torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ", "Failures:", "[1]:", "  rank      : 0 (local_rank: 0)",
      "  exitcode  : -15 (pid: 7)  (SIGTERM)", "  traceback : Signal 15 (SIGTERM) received by PID 7", "Root Cause (first observed failure):", "[0]:",
      "  rank      : 1 (local_rank: 1)", "  exitcode  : -9 (pid: 8)  (SIGKILL)", "  error_file: <N/A>", "  traceback : Signal 9 (SIGKILL) received by PID 8"];
    const exited = { exitCode: 1, signal: null, stopped: "exit-code" as const, interrupt: null, spawnError: null, stopMs: 1, firstError: null };
    expect(classify(exited, null, lines)).toEqual({ kind: "exit", code: 1, signal: null, rank: 1, reason: "killed by SIGKILL (the kernel's OOM killer when host memory runs out, or kill -9)" });
    // a Python error line stays the reason
    expect(classify(exited, null, ["ValueError: bad spec", ...lines])).toMatchObject({ rank: 1, reason: "ValueError: bad spec" });
  });
});
