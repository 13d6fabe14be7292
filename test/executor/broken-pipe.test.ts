// A reader that goes away mid-run (`paraplan execute --json | head -1`): the run goes on to its
// summary, exit 0, instead of the process ending at once with every rank stopped and nothing
// saying so (src/io.ts keepRunningOnBrokenPipe).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, hasVenv, hasWorker, start, tmp } from "./e2e-helpers.js";

describe.skipIf(!hasWorker() || !hasVenv())("paraplan execute with its stdout closed", () => {
  beforeAll(() => build(), 120_000);

  it("keeps running when the reader of --json goes away after the first step", async () => {
    const dir = join(tmp(), "run");
    const r = start(["--model", "tiny", "--device", "cpu", "--gpus", "1", "--steps", "4", "--json", "--run-dir", dir], { cwd: tmp() });
    // the reader takes the first line, then closes its end (as head -1 does)
    r.child.stdout!.once("data", () => r.child.stdout!.destroy());
    const ran = await r.done;
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toContain(`stdout was closed (its reader ended); the run goes on, its results in ${dir}`);
    expect(existsSync(join(dir, "summary.json"))).toBe(true);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(4);
  }, 120_000);
});
