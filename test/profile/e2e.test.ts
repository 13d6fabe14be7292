// The real thing on CPU (skipped without the Python environment): `paraplan profile --device cpu
// --quick` measures this machine through torch (matmul, memory, attention in one process, gloo
// collectives under torchrun) and writes a profile `plan` accepts; `paraplan calibrate` fits the
// cpu profile to two short real runs of `paraplan execute` (skipped without the worker).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { calibrateCommand } from "../../src/commands/calibrate.js";
import { executeCommand } from "../../src/commands/execute.js";
import { profileCommand } from "../../src/commands/profile.js";
import { readProfile } from "../../src/profile/files.js";
import { FIT_TOLERANCE } from "../../src/profile/link.js";
import { ROOT, capture, tmp } from "./helpers.js";

const hasVenv = existsSync(join(ROOT, ".venv", "bin", "python")) || !!process.env.PARAPLAN_PYTHON;
const hasWorker = existsSync(join(ROOT, "executor", "worker", "__main__.py"));
const env = { ...process.env, OMP_NUM_THREADS: "1" };

describe.skipIf(!hasVenv).sequential("paraplan profile --device cpu (torch, gloo)", () => {
  it("--quick: measures, writes a valid profile extending cpu, and plan --profile FILE uses it", async () => {
    const dir = tmp();
    const out = join(dir, "local-test.json");
    const c = capture();
    const started = Date.now();
    const code = await profileCommand(["--device", "cpu", "--ranks", "2", "--quick", "--out", out, "--raw", join(dir, "raw.json")], c.io, { env });
    const seconds = (Date.now() - started) / 1000;
    expect(code, c.stderr()).toBe(0);
    console.log(`profile --device cpu --quick: ${seconds.toFixed(1)} s`);
    const text = c.stdout();
    expect(text).toMatch(/CPU only \(no NVIDIA GPU\)/);
    expect(text).toMatch(/matmul fp32: best [\d.]+ GFLOP\/s/);
    expect(text).toMatch(/interconnect \(loopback\): α [\d.]+ us/);
    const file = JSON.parse(readFileSync(out, "utf8"));
    expect(file).toMatchObject({ name: "local-test", extends: "cpu", measured: true, versions: { cuda: "none", driver: "none" } });
    expect(file.measuredOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(file.versions.torch).toMatch(/^\d+\.\d+/);
    expect(file.measuredFields).toEqual(
      expect.arrayContaining(["gpu.matmulEfficiency", "gpu.memoryBandwidthEfficiency", "gpu.attentionEfficiency", "node.link.latency", "node.link.collectiveEfficiency"]),
    );
    const { hw } = readProfile(out);
    expect(hw.matmul.points.length).toBeGreaterThanOrEqual(2);
    for (const [, e] of hw.matmul.points) expect(e).toBeGreaterThan(0);
    expect(hw.intra.latency).toBeGreaterThan(0);
    const raw = JSON.parse(readFileSync(join(dir, "raw.json"), "utf8"));
    expect(new Set(raw.measurements.collectives.map((s: { op: string }) => s.op))).toEqual(new Set(["all_reduce", "all_gather", "reduce_scatter", "send_recv"]));
    // The written link against each collective measured, priced as the planner prices it (ring forms,
    // formulas.md): off by more than the tolerance anywhere, and the profiler says so in one line.
    const priced = (s: { op: string; ranks: number; bytes: number }) => {
      const [l, w] = s.op === "all_reduce" ? [2 * (s.ranks - 1), (2 * (s.ranks - 1)) / s.ranks] : s.op === "send_recv" ? [1, 1] : [s.ranks - 1, (s.ranks - 1) / s.ranks];
      return l * hw.intra.latency + (w * s.bytes) / (hw.intra.bandwidth * hw.intra.efficiency);
    };
    const off = raw.measurements.collectives.filter((s: { seconds: number } & Parameters<typeof priced>[0]) => Math.abs(priced(s) - s.seconds) / s.seconds > FIT_TOLERANCE);
    expect(raw.linkCheck).toHaveLength(raw.measurements.collectives.length);
    const warned = text.split("\n").filter((l) => l.includes("mispredict"));
    expect(warned).toEqual(off.length > 0 ? [expect.stringMatching(new RegExp(`^warning: the loopback link's α and B mispredict ${off.length} of its ${raw.measurements.collectives.length} measured collectives by more than 25%`))] : []);
    const p = capture();
    expect(await main(["plan", "--model", "tiny", "--gpus", "2", "--profile", out, "--json"], p.io), p.stderr()).toBe(0);
    expect(JSON.parse(p.stdout()).plans.length).toBeGreaterThan(0);
  }, 180_000);
});

describe.skipIf(!hasVenv || !hasWorker).sequential("paraplan calibrate on real CPU runs", () => {
  it("two 3-step runs of the tiny model: the calibrated cpu profile predicts them better", async () => {
    const dir = tmp();
    const dirs = [join(dir, "mb4"), join(dir, "mb1")];
    const plans = [["--micro-batch", "4"], ["--micro-batch", "1", "--zero", "0"]];
    for (const [i, d] of dirs.entries()) {
      const c = capture();
      const code = await executeCommand(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "3", "--json", "--run-dir", d, ...plans[i]!], c.io);
      expect(code, c.stderr()).toBe(0);
      expect(existsSync(join(d, "summary.json"))).toBe(true);
    }
    const out = join(dir, "cpu-calibrated.json");
    const c = capture();
    expect(calibrateCommand([...dirs, "--out", out, "--json"], c.io)).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.profile).toBe("cpu");
    expect(j.mode).toBe("common"); // two runs cannot separate three factors
    // QA: execute's summary.json error.stepTime was measured ÷ predicted − 1, calibrate's errorBefore
    // (predicted − measured) ÷ measured, opposite signs for one run. Now the same figure: the same
    // measured step and the same prediction (the run's engine on the cpu profile).
    for (const [i, d] of dirs.entries()) {
      const summary = JSON.parse(readFileSync(join(d, "summary.json"), "utf8"));
      const run = j.runs[i];
      expect(run.dir).toBe(d);
      expect(run.measured).toBeCloseTo(summary.measured.stepTime, 12);
      expect(run.before).toBeCloseTo(summary.predicted.stepTime, 12);
      expect(run.errorBefore).toBeCloseTo((run.before - run.measured) / run.measured, 12);
      expect(summary.error.stepTime).toBeCloseTo(run.errorBefore, 12);
    }
    // Better in the sense the fit minimises: the sum of squared relative errors (the mean absolute
    // error can rise when the two runs err in opposite directions, as they may on a loaded machine).
    const ssq = (k: "errorBefore" | "errorAfter") => j.runs.reduce((s: number, r: Record<string, number>) => s + r[k]! ** 2, 0);
    expect(ssq("errorAfter")).toBeLessThanOrEqual(ssq("errorBefore"));
    expect(j.meanAbsError.after).toBeLessThanOrEqual(Math.max(...j.runs.map((r: Record<string, number>) => Math.abs(r.errorBefore!))));
    const { hw, raw } = readProfile(out);
    expect(raw).toMatchObject({ extends: "cpu", measured: true });
    for (const e of [...hw.matmul.points.map((p) => p[1]), hw.attentionEfficiency, hw.memoryBandwidthEfficiency]) {
      expect(e).toBeGreaterThan(0);
      expect(e).toBeLessThanOrEqual(1);
    }
    const t = capture();
    expect(calibrateCommand([...dirs, "--out", join(dir, "again.json")], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/mean \|error\|: before \d+%, after [\d.]+% \(in-sample\)/);
    // Two runs: each predicted by the fit on the other, in the text and in --json.
    expect(t.stdout()).toMatch(/^mean \|error\| leave-one-run-out: [\d.]+%$/m);
    expect(j.leaveOneRunOut.runs.map((r: { dir: string }) => r.dir)).toEqual(dirs);
    expect(j.meanAbsError.leaveOneRunOut).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
