// A run directory's launch.json records what its prediction was priced on (PROTOCOL.md
// `prediction`), as an exported one does: `export --plan launch.json` of a CPU run priced it
// again on the default dgx-h100 (2.05 GiB, MFU 0.0%) where plan.json gave the cpu profile's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, run, tmp } from "./e2e-helpers.js";
import { runCli } from "../cli/helpers.js";

beforeAll(() => build(), 120_000);

const predicted = (stdout: string) => stdout.split("\n")[1]!; // "predicted N tokens/s, M GiB per GPU …"

describe("execute's launch.json", () => {
  it("records the profile, so that export --plan launch.json prices the run as plan.json does", async () => {
    const cwd = tmp();
    const dir = join(cwd, "r");
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--print-launch", "--run-dir", dir], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const launch = JSON.parse(readFileSync(join(dir, "launch.json"), "utf8")) as { prediction?: { profile?: string } };
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { profile: string };
    expect(plan.profile).toBe("cpu");
    expect(launch.prediction).toEqual({ profile: "cpu" });
    const fromLaunch = await runCli(["export", "--format", "torchrun", "--plan", join(dir, "launch.json"), "--out", join(cwd, "a")]);
    const fromPlan = await runCli(["export", "--format", "torchrun", "--plan", join(dir, "plan.json"), "--out", join(cwd, "b")]);
    expect(fromLaunch.code, fromLaunch.stderr).toBe(0);
    expect(fromPlan.code, fromPlan.stderr).toBe(0);
    expect(predicted(fromLaunch.stdout)).toBe(predicted(fromPlan.stdout));
    expect(fromLaunch.stdout).toContain("outside them here: cpu");
  });
});
