// A run whose worker reported every step and its summary, then failed to tear down (torchrun's
// non-zero exit, as a gloo rank aborting at exit gave "-6"; ranks that never exit; a rank raising
// in destroy_process_group): the measurements were discarded, exit 3 with no summary.json and
// no table. They stand now, the teardown said beside them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { afterSummary, startRun } from "../../executor/run.js";
import { teardownMessage } from "../../src/format/execute-text.js";
import { tempDir } from "../tmp-dirs.js";

const FAKE = String.raw`
const ev = (o, stream = process.stdout) => stream.write("PARAPLAN_EVENT " + JSON.stringify(o) + "\n");
const mode = process.argv[2];
ev({ event: "step", step: 1, loss: 5.5, stepTime: 0.1, tokensPerSecond: 2560 });
ev({ event: "summary", measured: { stepTime: 0.1, tokensPerSecond: 2560, peakMemory: 1, flopsPerStep: 2, loss: [5.5], comms: {} } });
if (mode === "abort") { process.stderr.write("terminate called without an active exception\n"); setTimeout(() => process.exit(134), 50); }
else if (mode === "hang") setInterval(() => {}, 1000);
else if (mode === "teardown-error") { ev({ event: "error", rank: 1, kind: "exception", message: "RuntimeError: gloo destroy" }, process.stderr); setInterval(() => {}, 1000); }
else setInterval(() => {}, 1000);
`;

function run(mode: string) {
  const dir = tempDir("paraplan-teardown-");
  const script = join(dir, "fake.mjs");
  writeFileSync(script, FAKE);
  return startRun({ command: process.execPath, args: [script, mode], env: process.env, cwd: dir, runDir: dir, graceMs: 300, reporter: { start: () => {}, step: () => {} }, stall: { floorMs: 60_000, factor: 10, afterSummaryMs: 500 } }).done;
}

describe("a failure after the worker's summary", () => {
  it("torchrun's non-zero exit keeps the summary and says so", async () => {
    const res = await run("abort");
    expect(res.failure).toBeNull();
    expect(res.measured?.stepTime).toBe(0.1);
    expect(res.teardown).toMatchObject({ kind: "exit", code: 134 });
    expect(teardownMessage(res.teardown!)).toBe("the worker reported every step and its summary, then torchrun exited with status 134 (log: worker.log); the summary stands");
  });

  it("ranks that never exit are stopped afterSummaryMs after it (500 ms here, not the 60 s step floor)", async () => {
    const started = Date.now();
    const res = await run("hang");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.failure).toBeNull();
    expect(res.teardown).toMatchObject({ kind: "stalled", lastStep: 1 });
    expect(teardownMessage(res.teardown!)).toMatch(/^the worker reported every step and its summary, then the ranks had not exited .* after it; stopped them/);
  }, 15_000);

  it("a rank's error once the summary is in is its teardown (rank 0 sums every rank's figures first)", async () => {
    const late = await run("teardown-error");
    expect(late.failure).toBeNull();
    expect(late.teardown).toMatchObject({ kind: "rank-error" });
    expect(teardownMessage(late.teardown!)).toContain("then rank 1 raised in its teardown: RuntimeError: gloo destroy");
  });

  it("an interruption or an unwritable run directory is never a teardown", () => {
    expect(afterSummary({ kind: "interrupted", signal: "SIGINT" })).toBe(false);
    expect(afterSummary({ kind: "write", message: "cannot write" })).toBe(false);
    expect(afterSummary({ kind: "no-summary", reason: null })).toBe(false);
  });
});
