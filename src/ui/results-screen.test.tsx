import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import { App } from "./app.js";
import { engineLines, visiblePlans } from "./core/results.js";
import type { SearchProgress } from "./core/search-job.js";
import type { Session } from "./core/setup.js";
import { ResultsScreen } from "./results-screen.js";
import { KEY, fakeExecutor, finished, overflow, sessionOf, smallOptions, testServices, tick, waitFor } from "./test-utils.js";

let session: Session;
let done: SearchProgress;
beforeAll(() => {
  session = sessionOf("llama3-8b", 1, 8, 16);
  done = finished(session);
});

const screen = (search: SearchProgress, extra: Partial<Parameters<typeof ResultsScreen>[0]> = {}) =>
  render(<ResultsScreen session={session} search={search} plans={visiblePlans(search.plans, "throughput", {})} sort="throughput" filters={{}} cursor={0} width={80} height={20} {...extra} />);

describe("the results screen", () => {
  it("shows the request, the counts, the ranked rows and the rejections, within 80 × 20", () => {
    const f = screen(done).lastFrame()!;
    const top = visiblePlans(done.plans, "throughput", {})[0]!;
    expect(f).toContain("llama3-8b · 8 × H100 SXM5 80GB (1 × 8) · batch 16 × 8,192");
    expect(f).toContain(`done in 12.0 ms: ${done.searched.toLocaleString("en-US")} searched · ${done.feasible.toLocaleString("en-US")} feasible`);
    expect(f).toMatch(new RegExp(`^\\s*1\\s+${top.tp}\\s+${top.pp}\\s+${top.dp}\\s+${top.zero}\\s+${top.microBatch}\\s`, "m"));
    // 20 rows less request, status, sort, header, rejections (5) and the engine's lines.
    const engine = engineLines(session, 80);
    expect(f).toMatch(new RegExp(`rows 1–${15 - engine.length} of [\\d,]+`));
    expect(f).toMatch(/^rejected: /m);
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("shows the engine and the whole calibration note on lines of their own, at 80 and 60 columns (QA: cut, or gone)", () => {
    // llama3-8b at 8,192 tokens on 8 GPUs lies outside megatron-core's calibration runs (results.test.ts).
    // (and megatron-core's error on NVIDIA's NeMo tables, profiles/calibration.json validation)
    const outOfSample = (session.request.calibration!.validation!.mean * 100).toFixed(1);
    const note = `engine megatron-core: beyond the calibration runs: sequence of 8,192 tokens; 8 GPUs; ${outOfSample}% off out of sample`;
    for (const width of [80, 60]) {
      const f = screen(done, { width, height: 16 }).lastFrame()!;
      expect(f.split("\n").filter((l) => l.startsWith("engine ")).length).toBeGreaterThan(0);
      expect(f.split("\n").join(" ").replace(/ +/g, " ")).toContain(note);
      expect(f).not.toContain("…");
      expect(overflow(f, width, 16)).toEqual([]);
      // The key figures of the table stay at 60 columns.
      expect(f).toMatch(/ step +tokens\/s +MFU$/m);
    }
  });

  it("shows a search still running with the rows found so far", () => {
    const partial = { ...done, plans: done.plans.slice(0, 3), chunksDone: 2, chunksTotal: 9, done: false };
    const f = screen(partial).lastFrame()!;
    expect(f).toMatch(/searching… 2\/9 · /);
    expect(f.split("\n").filter((l) => /^\s*[123]\s+\d+\s+\d+\s+\d+/.test(l))).toHaveLength(3);
  });

  it("explains an empty table: nothing fits, with the closest plan", () => {
    const s = sessionOf("llama3-405b", 1, 8);
    const none = finished(s);
    const f = render(<ResultsScreen session={s} search={none} plans={[]} sort="throughput" filters={{}} cursor={0} width={80} height={20} />).lastFrame()!;
    expect(f).toContain("No plan fits in memory.");
    expect(f).toMatch(/needs [\d.]+ GiB per GPU, [\d.]+% over the 79\.6 GiB capacity/);
    expect(f).toMatch(/rejected: .*out of memory/);
  });

  it("keeps every filter and the rows' position on one line, the table whole, at 80 and 60 columns", () => {
    // (QA: with five filters the line was wider than the screen: "rows 1–13 of" stayed at its end
    // and "15" wrapped onto the header ("… MFU15"), pushing the request line and row 1 out)
    const filters = { tp: 2, pp: 4, dp: 1, zero: 0, recompute: "selective" } as const;
    const plans = visiblePlans(done.plans, "throughput", filters);
    expect(plans.length).toBeGreaterThan(14);
    for (const width of [80, 60]) {
      const f = screen(done, { plans, filters, width }).lastFrame()!;
      const lines = f.split("\n");
      expect(overflow(f, width, 20)).toEqual([]);
      expect(lines[0]).toBe("llama3-8b · 8 × H100 SXM5 80GB (1 × 8) · batch 16 × 8,192");
      const sortLine = lines.find((l) => l.startsWith("sort: "))!;
      expect(sortLine).toMatch(new RegExp(`^sort: throughput · filter tp 2, pp 4, .*… +rows 1–\\d+ of ${plans.length}$`));
      expect(sortLine).toHaveLength(width);
      expect(lines.find((l) => l.startsWith(" # "))).toMatch(/MFU$/);
      expect(f).toMatch(/^ 1 +2 +4 +1 +0 /m);
    }
  });

  it("sorts, filters and clears with s, t/p/d/z/r and c", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    stdin.write("s");
    await tick();
    expect(lastFrame()).toContain("sort: memory per GPU · no filter");
    const least = Math.min(...done.plans.map((p) => p.memory.total)) / 2 ** 30;
    const firstRow = lastFrame()!.split("\n").find((l) => /^\s*1\s/.test(l))!;
    expect(firstRow).toContain(`${least >= 10 ? least.toFixed(1) : least.toFixed(2)} GiB`);
    stdin.write("s");
    await tick();
    expect(lastFrame()).toContain("sort: MFU");
    stdin.write("t");
    await tick();
    stdin.write("t");
    await tick();
    expect(lastFrame()).toMatch(/filter tp 2 \([\d,]+ of [\d,]+\)/);
    const rows = lastFrame()!.split("\n").filter((l) => /^\s*\d+\s+\d+\s+\d+\s+\d+\s+\d\s/.test(l));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.trim().split(/\s+/)[1]).toBe("2");
    stdin.write("r");
    await tick();
    expect(lastFrame()).toMatch(/filter tp 2, recompute none/);
    stdin.write("c");
    await tick();
    expect(lastFrame()).toContain("sort: MFU · no filter");
  });
});
