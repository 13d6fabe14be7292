// QA: under an engine that compiles (paraplan-compile), `paraplan plan`'s table has a "compiled"
// column (no: the plan runs eager and is priced with the eager engine, planner/eager.ts) and its
// header says which plans run eager; the results screen said neither, and for a mixture of
// experts (every plan eager, priced with paraplan) its calibration note named paraplan-compile
// for paraplan's standing. The screen now says it, at 80 × 24 and 60 × 20.
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import type { PlanResult } from "../../planner/index.js";
import { App } from "./app.js";
import { visiblePlans } from "./core/results.js";
import { type SetupOptions, sessionFor } from "./core/setup.js";
import { KEY, allOptions, fakeExecutor, finished, overflow, testServices, waitFor } from "./test-utils.js";

// (ink-testing-library's frame is one row short of the terminal: 80 × 24 renders 23 rows, as
// layout-fit.test.tsx sizes them)
const SIZES = [[80, 23], [60, 19]] as const;

/** Only this model (with its GPUs and batch) and this engine: Enter plans them. */
function only(model: string, gpus: number, batch: number, engine: string, seq?: number): SetupOptions {
  const o = allOptions();
  const m = o.models.find((x) => x.arg === model)!;
  return { models: [{ ...m, gpus, globalBatch: batch, defaultSeqLen: seq ?? m.defaultSeqLen }], profiles: o.profiles, engines: o.engines.filter((e) => e.arg === engine) };
}

async function results(o: SetupOptions, width: number, height: number): Promise<string> {
  const { lastFrame, stdin, unmount } = render(<App options={o} services={testServices(fakeExecutor())} width={width} height={height} />);
  stdin.write(KEY.enter);
  await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
  const f = lastFrame()!;
  unmount();
  return f;
}

/** Whether paraplan's worker compiles a plan of a dense model (executor/worker/compile.py
 *  eager_reason, by hand): not with context parallel (cp > 1), nor a zero-bubble schedule
 *  (zb1p, zbv, dualpipev) with a pipeline (pp > 1). */
const compiles = (p: PlanResult) => !(p.cp > 1 || (p.pp > 1 && ["zb1p", "zbv", "dualpipev"].includes(p.schedule)));

describe("the results screen under a compiling engine", () => {
  it("has a comp column (no: runs eager) and says which plans run eager and on which engine's figures", async () => {
    // llama3-8b at 24,576 tokens on 8 GPUs, batch 16: the best plans mix compiled ones and eager
    // ones (`plan --model llama3-8b --engine paraplan-compile --seq 24576 --gpus 8 --global-batch 16`:
    // compiled no no yes no no yes no for the first seven; at 16,384 tokens, since full
    // recompute's depth is searched, the first ten compile).
    const o = only("llama3-8b", 8, 16, "paraplan-compile", 24576);
    const session = sessionFor({ model: o.models[0]!, profile: o.profiles.find((p) => p.arg === "dgx-h100")!, engine: o.engines[0]!, nodes: 1, perNode: 8, batch: 16, seq: 24576 });
    const plans = visiblePlans(finished(session).plans, "throughput", {});
    for (const [w, h] of SIZES) {
      const f = await results(o, w, h);
      expect(overflow(f, w, h)).toEqual([]);
      const lines = f.split("\n");
      const header = lines.find((l) => /^ *# +tp /.test(l))!;
      const at = header.search(/ comp( |$)/) + 1;
      expect(at, header).toBeGreaterThan(0);
      const rows = lines.filter((l) => /^ *\d+ +\d+ /.test(l) && !l.startsWith("rejected"));
      expect(rows.length).toBeGreaterThan(5);
      const cells = rows.map((r) => r.slice(at, at + 4).trim());
      rows.forEach((r, i) => expect(cells[i], r).toBe(compiles(plans[i]!) ? "yes" : "no"));
      // (the fixture shows both)
      expect(new Set(cells)).toEqual(new Set(["yes", "no"]));
      // `plan`'s header line (src/format/plan-text.ts eagerNote), what "no" means.
      expect(lines.join(" ").replace(/ +/g, " ")).toContain("comp no: runs eager (zero-bubble pipelines, context parallel), priced with engine paraplan");
    }
  });

  it("a mixture of experts: every plan runs eager, priced and calibrated as engine paraplan (no column)", async () => {
    // `plan --model mixtral-8x7b --engine paraplan-compile`: "runs every plan eager (mixture-of-
    // experts blocks …): priced with engine paraplan"; "calibration: paraplan: no published run …".
    for (const [w, h] of SIZES) {
      const f = await results(only("mixtral-8x7b", 32, 8, "paraplan-compile"), w, h);
      expect(overflow(f, w, h)).toEqual([]);
      const text = f.split("\n").join(" ").replace(/ +/g, " ");
      expect(text).toContain("runs every plan eager (mixtures of experts): priced with engine paraplan");
      expect(text).toContain("no published run calibrates engine paraplan;");
      expect(text).not.toContain("calibrates engine paraplan-compile");
      expect(f.split("\n").find((l) => /^ *# +tp /.test(l))).not.toMatch(/ comp( |$)/);
    }
  });

  it("an engine that compiles nothing has neither the column nor the line", async () => {
    const f = await results(only("llama3-8b", 8, 16, "paraplan"), 80, 23);
    expect(f).not.toMatch(/ comp( |$)/m);
    expect(f).not.toContain("eager");
  });
});
