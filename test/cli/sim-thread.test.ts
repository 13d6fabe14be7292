// `plan` simulates the top K on a helper thread (src/app/sim-thread.ts) when it runs compiled on a
// machine with cores to spare (src/app/one-shot.ts; PARAPLAN_SIM_THREAD=1 forces it here, on any
// machine); under vitest the sources run uncompiled and the same simulation runs in-thread. Both
// must give the same plans and the same simulated figures, and a plan that ends without
// simulating must not wait for it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const CLI = join(__dirname, "..", "..", "dist", "src", "cli.js");
const THREAD = { ...process.env, PARAPLAN_SIM_THREAD: "1" };
const strip = (j: Record<string, unknown>) => {
  const { elapsedMs: _e, ...rest } = j;
  return rest;
};

describe("the simulation's helper thread", () => {
  it("gives what the in-thread simulation gives (gpt3-like, --json)", async () => {
    const spawned = spawnSync(process.execPath, [CLI, "plan", "--model", "gpt3-like", "--json"], { encoding: "utf8", timeout: 120_000, env: THREAD });
    expect(spawned.status).toBe(0);
    const inThread = await runCli(["plan", "--model", "gpt3-like", "--json"]);
    expect(inThread.code).toBe(0);
    const a = JSON.parse(spawned.stdout) as Record<string, unknown>;
    const b = JSON.parse(inThread.stdout) as Record<string, unknown>;
    expect(a.simulatedTop).toBeGreaterThan(0);
    expect(strip(a)).toEqual(strip(b));
  });

  it("a plan that finds nothing exits without waiting for the thread", () => {
    const r = spawnSync(process.execPath, [CLI, "plan", "--model", "gpt3-175b", "--gpus", "8"], { encoding: "utf8", timeout: 120_000, env: THREAD });
    expect(r.status).toBe(1);
    expect(r.error).toBeUndefined(); // not killed by the timeout
  });
});
