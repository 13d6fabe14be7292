// How a one-shot command sets V8 up and whether its simulation gets a thread (src/app/one-shot.ts).
// The V8 flag must exist in the V8 this runs on: an unknown flag is not an error to V8, only a line
// on stderr ("unrecognized flag"), so the bin's stderr is held empty on a plan that succeeds.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../planner/fixtures.js";
import { simulationThreadPays, THREAD_MIN_CORES } from "../../src/app/one-shot.js";

const BIN = join(ROOT, "dist", "src", "paraplan.js");

describe("one-shot commands", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120_000, cwd: ROOT });

  it("plan runs with the tuned V8 and says nothing on stderr", () => {
    const r = run(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--top", "1"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("export too: its stderr is the plan's summary, nothing from V8", () => {
    const r = run(["export", "--format", "torchrun", "--model", "gpt3-1.3b", "--gpus", "8"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l !== "").every((l) => l.startsWith("paraplan: "))).toBe(true);
  });

  it("a thread for the simulation only with cores to spare, unless forced", () => {
    expect(THREAD_MIN_CORES).toBe(4);
    expect(simulationThreadPays({}, 2)).toBe(false);
    expect(simulationThreadPays({}, 3)).toBe(false);
    expect(simulationThreadPays({}, 4)).toBe(true);
    expect(simulationThreadPays({ PARAPLAN_SIM_THREAD: "1" }, 2)).toBe(true);
    expect(simulationThreadPays({ PARAPLAN_SIM_THREAD: "0" }, 16)).toBe(false);
    expect(simulationThreadPays({ PARAPLAN_SIM_THREAD: "yes" }, 2)).toBe(false); // only 1 / 0 force it
  });
});
