// QA: at 60 × 20 the detail and execute screens overprinted lines (the plan line beside the memory
// header, a legend on the communication title) and dropped rows (gradients, optimizer, the
// measured tokens/s) when they did not fit. Every row is now a whole line or absent, and the key
// figures stay.
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { App } from "./app.js";
import { startedRun } from "./test-run.js";
import { KEY, fakeExecutor, overflow, smallOptions, step, summaryFor, testServices, tick, waitFor } from "./test-utils.js";

const SIZES = [[60, 19], [80, 23]] as const;

/** Text that belongs to one row only, and must never share a row with another. */
const ROW_STARTS = [/memory per GPU/, /communication per step/, /  (weights|gradients|optimizer|activations|other) /, /^step [\d.]+ m?s · /, /predicted against measured/];

function checkRows(f: string, width: number, height: number) {
  expect(overflow(f, width, height)).toEqual([]);
  for (const line of f.split("\n")) {
    const hits = ROW_STARTS.filter((r) => r.test(line));
    expect(hits.length, line).toBeLessThanOrEqual(1);
  }
}

describe("screens that do not fit their body", () => {
  it("the detail keeps the title on one row and every memory and step figure, after e and g too", async () => {
    for (const [w, h] of SIZES) {
      const { lastFrame, stdin, unmount } = render(<App options={smallOptions("gpt3-1.3b", 8, 64)} services={testServices(fakeExecutor())} width={w} height={h} />);
      stdin.write(KEY.enter);
      await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
      stdin.write(KEY.enter);
      await tick();
      for (const key of ["", "e", "g"]) {
        if (key) stdin.write(key);
        await tick();
        const f = lastFrame()!;
        checkRows(f, w, h);
        const lines = f.split("\n");
        // The title row: the rank and the keys on one line (the keys had wrapped to a second).
        expect(lines[0]).toMatch(/plan detail · #1 of [\d,]+ by throughput +\? keys · q quit$/);
        expect(lines[1]).not.toMatch(/^ +quit$/);
        expect(f).toMatch(/^memory per GPU: [\d.]+ GiB of 79\.6 GiB \(\d+%\)$/m);
        for (const k of ["weights", "gradients", "optimizer", "activations", "other"]) expect(f).toMatch(new RegExp(`^  ${k} +[█▓▒░▪·]+ +[\\d.]+ [GM]iB$`, "m"));
        expect(f).toMatch(/^step [\d.]+ ms · [\d,]+ tokens\/s · MFU/m);
        expect(f).toMatch(/^  █ compute [\d.]+ ms  ≡ dp exposed [\d.]+ ms  ▪ optimizer [\d.]+ ms$/m);
        // The dp row keeps its time whole at 60 columns (the link column was padded to 30).
        expect(f).toMatch(/^  dp  8 replicas +NVLink 450 GB\/s +[\d.]+ ms exposed$/m);
        expect(f).toMatch(/^bubble: none \(no pipeline\)$/m);
        expect(lines.at(-1)).toMatch(/^↑↓ other plan/);
      }
      unmount();
    }
  });

  it("the execute screen after a CPU run keeps the status and every measured-against-predicted row", async () => {
    for (const [w, h] of SIZES) {
      const { run, cb, lastFrame, unmount } = await startedRun(w, h, "schedule zbv: torch cannot compile zero-bubble stages (split backward)");
      for (let i = 1; i <= 10; i++) cb.step(step(i, 5.5 - i / 10));
      const s = summaryFor(run.inputs[0]!, 10);
      // Notes under the table (the rows a real CPU summary adds), so the body is too short.
      cb.done({ ...s, notMeasured: { mfu: "no peak FLOP/s figure for CPU ranks" }, notComparable: { peakMemory: "the CPU allocator's peak, not the GPU's" } });
      await tick();
      const f = lastFrame()!;
      checkRows(f, w, h);
      expect(f).toMatch(/^done$/m);
      expect(f).toMatch(/^step time\s+250 ms\s+200 ms\s+−20\.0%$/m);
      expect(f).toMatch(/^tokens\/s\s+1,024\s+1,280\s+\+25\.0%$/m);
      expect(f).toMatch(/^FLOPs\/step\s+350M\s+350M/m);
      expect(f).toMatch(/^peak memory\s+1\.00 GiB/m);
      expect(f).toMatch(/^step 10\/10 \[█+\] 100%$/m);
      unmount();
    }
  });
});
