import { describe, expect, it } from "vitest";
import type { Summary } from "../../executor/summary.js";
import { failureJson, stepJson, summaryJson } from "../../src/format/execute-json.js";
import { failureMessage, progressLine, redraw, summaryText } from "../../src/format/execute-text.js";

const step = { event: "step" as const, step: 3, loss: 5.12345, stepTime: 0.12, tokensPerSecond: 2133 };
const ctx = { runDir: "/runs/x", steps: 2, predictedMemory: 71.5 * 2 ** 30, capacity: 80 * 2 ** 30, nnodes: 1 };

describe("execute output", () => {
  it("draws one progress line, redrawn in place in a terminal", () => {
    expect(progressLine(step, 10)).toBe("step 3/10 [██████░░░░░░░░░░░░░░] loss 5.1235 · 120 ms/step · 2.1k tokens/s");
    expect(progressLine({ ...step, loss: NaN }, 3)).toMatch(/^step 3\/3 \[█{20}\] loss — /);
    expect(redraw("x")).toBe("\rx\x1b[K");
  });

  it("prints steps as JSON lines with exactly the contract's fields", () => {
    expect(JSON.parse(stepJson(step))).toEqual({ step: 3, loss: 5.12345, stepTime: 0.12, tokensPerSecond: 2133 });
  });

  it("names the rank and the error, and the planner's memory beside an OOM", () => {
    const oom = { kind: "rank-error" as const, error: { event: "error" as const, rank: 3, kind: "oom", message: "Traceback…\nCUDA out of memory" } };
    expect(failureMessage(oom, ctx)).toBe(
      "rank 3 ran out of memory (CUDA out of memory); the planner predicted 71.5 GiB per device for this plan, of 80.0 GiB: raise recompute or ZeRO, use a smaller micro-batch or more devices; stopped every rank, 2 steps of metrics kept in /runs/x",
    );
    const exc = { kind: "rank-error" as const, error: { event: "error" as const, rank: 1, kind: "exception", message: "ValueError: x" } };
    expect(failureMessage(exc, { ...ctx, steps: 1 })).toBe("rank 1 raised an exception: ValueError: x; stopped every rank, 1 step of metrics kept in /runs/x");
    expect(failureMessage(exc, { ...ctx, nnodes: 2 })).toMatch(/first failure may be on another node/);
    // A healthy rank whose peer was killed: it is not blamed as the cause (it was, before).
    const lost = { kind: "rank-error" as const, error: { event: "error" as const, rank: 0, kind: "peer-lost", message: "RuntimeError: Connection reset by peer" } };
    expect(failureMessage(lost, ctx)).toMatch(/^rank 0 lost its connection to another rank, which stopped first .*worker\.log.*\(RuntimeError: Connection reset by peer\); stopped every rank/);
    expect(failureMessage({ kind: "interrupted", signal: "SIGINT" }, ctx)).toBe("interrupted (SIGINT); stopped every rank, 2 steps of metrics kept in /runs/x");
    expect(failureMessage({ kind: "exit", code: 1, signal: null, rank: 0, reason: "ImportError: y" }, ctx)).toMatch(
      /^torchrun exited with status 1 \(rank 0 failed first\): ImportError: y; stopped every rank/,
    );
    expect(JSON.parse(failureJson(oom, "m", "/runs/x", 2))).toEqual({
      failed: true,
      failure: { rank: 3, kind: "oom", message: "Traceback…\nCUDA out of memory" },
      steps: 2,
      runDir: "/runs/x",
    });
    // torchrun's exit that names the rank that failed first (a rank killed by SIGKILL): --json names it too
    const killed = { kind: "exit" as const, code: 1, signal: null, rank: 1, reason: "killed by SIGKILL" };
    expect(JSON.parse(failureJson(killed, "torchrun exited with status 1 (rank 1 failed first): killed by SIGKILL", "/runs/x", 2)).failure).toEqual({
      rank: 1,
      kind: "exit",
      message: "torchrun exited with status 1 (rank 1 failed first): killed by SIGKILL",
    });
    expect(JSON.parse(failureJson({ ...killed, rank: null }, "m", "/runs/x", 2)).failure.rank).toBeNull();
  });

  it("prints the summary as a table of measured, predicted and error", () => {
    const s: Summary = {
      plan: { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" },
      steps: 3,
      measured: { stepTime: 0.2, tokensPerSecond: 1280, mfu: null, peakMemory: 5 * 2 ** 20, flopsPerStep: 352e6, loss: [5.5, 5.45, 5.4] },
      predicted: { stepTime: 0.1, tokensPerSecond: 2560, mfu: 0.15, peakMemory: 10 * 2 ** 20, flopsPerStep: 352e6 },
      // (predicted − measured)/measured: 0.1 s against 0.2 measured −50 %; 2,560 tokens/s against 1,280 +100 %
      error: { stepTime: -0.5, tokensPerSecond: 1, mfu: null, peakMemory: 1, flopsPerStep: 0 },
      runDir: "/runs/x",
      model: "tiny",
      device: "cpu",
      world: 2,
      profile: "cpu",
      collectives: { rows: [{ kind: "all_reduce", count: 4, bytes: 2 * 2 ** 20, predictedBytes: 2 ** 20 }], predictedTime: { tp: 0, pp: 0, dp: 0.001 } },
      worker: {},
    };
    const text = summaryText(s);
    expect(text).toContain("tiny on 2 CPU ranks (profile cpu): tp 1 · pp 1 · dp 2 · ZeRO-0 · micro-batch 4 · no recompute");
    expect(text).toContain("3 steps, loss 5.5000 → 5.4000");
    expect(text).toMatch(/step time\s+200 ms\s+100 ms\s+-50\.0%/);
    expect(text).toMatch(/tokens\/s\s+1,280\s+2,560\s+\+100\.0%/);
    expect(text).toMatch(/MFU\s+—\s+15\.0%\s+—/);
    expect(text).toMatch(/peak memory\s+5\.0 MiB\s+10\.0 MiB\s+\+100\.0%/);
    // the sign said under the table, as calibrate and the README state it
    expect(text).toContain("(error = (predicted − measured) ÷ measured: + where paraplan's figure is above the measured one, a step time predicted slower than it ran)");
    expect(text).toMatch(/all_reduce\s+4\s+2\.0 MiB\s+1\.0 MiB/);
    // the all-reduce moved twice the planner's bytes (2 MiB against 1): named, as fp32 against 16 bits
    expect(text).toContain("(all_reduce: the worker moved fp32 tensors where the planner counts 16-bit ones, twice the bytes)");
    // a row that matches gets no such note (QA: the note sat under a matching reduce-scatter)
    expect(summaryText({ ...s, collectives: { ...s.collectives, rows: [{ kind: "reduce_scatter", count: 4, bytes: 2 ** 20, predictedBytes: 2 ** 20 }] } })).not.toContain("twice the bytes");
    // 16-bit activations and fp32 gradients in one kind (QA: tp 2 with SP, 137.0 KiB against 73.0 KiB
    // planned, no note): between once and twice, said on CPU ranks
    const mixed = { ...s, collectives: { ...s.collectives, rows: [{ kind: "all_reduce", count: 8, bytes: 140288, predictedBytes: 74752 }] } };
    expect(summaryText(mixed)).toContain("(all_reduce: on CPU ranks the worker moves every tensor in fp32, where the planner counts activations and weights in 16 bits and gradients in fp32: between once and twice the bytes)");
    expect(summaryText({ ...mixed, device: "cuda" })).not.toContain("between once and twice");
    expect(text).toContain("run dir: /runs/x");
    expect(JSON.parse(summaryJson(s))).toEqual(s);
    // DDP's bucket-order broadcast in the counted step, said to be one-time (seen: dp 2, 4 calls, 512 B)
    const ddpNote = /broadcast: DDP's one-time sync of its rebuilt bucket order/;
    expect(text).not.toMatch(ddpNote);
    const withBroadcast = { ...s, collectives: { ...s.collectives, rows: [...s.collectives.rows, { kind: "broadcast", count: 4, bytes: 512, predictedBytes: null }] } };
    expect(summaryText(withBroadcast)).toMatch(ddpNote);
    expect(summaryText({ ...withBroadcast, plan: { ...s.plan, tp: 2, dp: 1 } })).not.toMatch(ddpNote);
    // context parallel on CPU: the worker's gloo path all-reduces the K/V gradients (context.py)
    const cpNote = /context parallel on CPU ranks: the worker all-reduces the K\/V gradients whole/;
    expect(text).not.toMatch(cpNote);
    expect(summaryText({ ...s, plan: { ...s.plan, dp: 1, cp: 2 } })).toMatch(cpNote);
    expect(summaryText({ ...s, plan: { ...s.plan, dp: 1, cp: 2 }, device: "cuda" })).not.toMatch(cpNote);
  });
});
