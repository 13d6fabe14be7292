// Which run directories calibration accepts and which step time it takes from them: only runs
// that completed, only the steps the worker itself times (executor/worker/main.py timed_steps),
// only plausible step times; each run once; only runs of the profile's device and lineage. And the
// leave-one-run-out error beside the in-sample one.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { calibrateCommand } from "../../src/commands/calibrate.js";
import { loadProfile } from "../../src/load.js";
import { CalibrationError, fitScales, predictStep, scaledHardware } from "../../src/profile/calibrate/fit.js";
import { timedSteps } from "../../src/profile/calibrate/measured.js";
import { readRun } from "../../src/profile/calibrate/runs.js";
import { SingularFit, leastSquares } from "../../src/profile/linalg.js";
import { capture, tmp } from "./helpers.js";

const PLAN = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

interface Opts {
  microBatch?: number;
  steps?: number;
  profile?: string;
  device?: string;
  /** summary.json's measured.stepTime; undefined: no summary.json. */
  stepTime?: unknown;
  /** metrics.jsonl, written as given. */
  metrics?: string;
}

/** A run directory of `paraplan execute` for the tiny model on 2 ranks (executor/PROTOCOL.md). */
function writeRun(dir: string, o: Opts = {}): string {
  mkdirSync(dir, { recursive: true });
  const plan = { ...PLAN, microBatch: o.microBatch ?? 4 };
  const device = o.device ?? "cpu";
  writeFileSync(join(dir, "plan.json"), JSON.stringify({ model: "tiny", profile: o.profile ?? "cpu", device, gpus: 2, nnodes: 1, globalBatch: 8, seqLen: 32, precision: "bf16", plans: [plan] }));
  writeFileSync(join(dir, "launch.json"), JSON.stringify({ version: 1, device, plan, training: { globalBatch: 8, seqLen: 32, precision: "bf16", steps: o.steps ?? 5 } }));
  if (o.stepTime !== undefined) writeFileSync(join(dir, "summary.json"), JSON.stringify({ plan, steps: o.steps ?? 5, device, profile: o.profile ?? "cpu", measured: { stepTime: o.stepTime } }));
  if (o.metrics !== undefined) writeFileSync(join(dir, "metrics.jsonl"), o.metrics);
  return dir;
}

const lines = (times: number[]) => times.map((t, i) => JSON.stringify({ step: i + 1, loss: 5.5, stepTime: t, tokensPerSecond: 256 / t })).join("\n") + "\n";

/** A real 5-step run of the tiny model on 2 CPU ranks (zero 2, micro-batch 4): the worker's step
 *  times and the stepTime its summary reported (timedSteps [3, 4]). */
const REAL = { times: [0.9642067550012143, 0.5279631710000103, 0.06782558200211497, 0.04932514100073604, 0.23811461600416806], stepTime: 0.058575361501425505 };

/** The CLI's exit status and stderr lines. */
async function cli(argv: string[]) {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, err: c.err, out: c.stdout() };
}

describe("the measured step time", () => {
  it("is the worker's: its timed steps (main.py timed_steps), and the same mean from metrics.jsonl as its summary", () => {
    // By hand from main.py: step 1 warm-up, step 2 instrumented, the last traced from 4 steps on.
    expect([1, 2, 3, 4, 5, 6].map((n) => timedSteps(n).timed)).toEqual([[1], [2], [3], [3], [3, 4], [3, 4, 5]]);
    const dir = writeRun(join(tmp(), "real"), { metrics: lines(REAL.times) });
    expect(readRun(dir).measured).toBeCloseTo(REAL.stepTime, 15);
  });

  it("a truncated or garbage metrics.jsonl without summary: one line naming the file and line, exit 2", async () => {
    const root = tmp();
    const whole = lines(REAL.times);
    const cut = writeRun(join(root, "cut"), { metrics: whole.slice(0, whole.indexOf("\n", whole.indexOf("\n") + 1) + 40) });
    const r = await cli(["calibrate", cut, "--out", join(root, "o.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(new RegExp(`^paraplan: ${cut}/metrics\\.jsonl:3: not a JSON line \\(truncated or corrupt`))]);
    const junk = writeRun(join(root, "junk"), { metrics: "{not json\n" });
    expect(() => readRun(junk)).toThrow(/metrics\.jsonl:1: not a JSON line/);
  });

  it("a summary whose stepTime is 0, negative, a string, infinite-ish or missing is corrupt: exit 2 naming the file", async () => {
    const root = tmp();
    for (const [k, st] of [0, -1, "0.05", 1e308, 1e6, 1e-9, null].entries()) {
      const dir = writeRun(join(root, `s${k}`), { stepTime: st, metrics: lines(REAL.times) });
      expect(() => readRun(dir), String(st)).toThrow(new RegExp(`${dir}/summary\\.json: corrupt summary: measured\\.stepTime is `));
    }
    const r = await cli(["calibrate", join(root, "s3"), "--out", join(root, "o.json")]);
    expect([r.code, r.err.length, r.out]).toEqual([2, 1, ""]);
    expect(r.err[0]!.length).toBeLessThan(300);
  });

  it("refuses a run that failed or was interrupted, or that timed only its warm-up", () => {
    const root = tmp();
    const stopped = writeRun(join(root, "stopped"), { steps: 10, metrics: lines([4.4]) });
    writeFileSync(join(stopped, "error.json"), JSON.stringify({ failure: { kind: "interrupted", signal: "SIGINT" }, steps: 1, predictedPeakMemory: 1, runDir: stopped }));
    expect(() => readRun(stopped)).toThrow(new RegExp(`^${stopped}: the run was interrupted by SIGINT after 1 step,`));
    rmSync(join(stopped, "error.json"));
    // No error.json (killed with paraplan), no summary, 1 of 10 steps: the timed steps are missing.
    expect(() => readRun(stopped)).toThrow(/interrupted: metrics\.jsonl has 1 of 10 steps and no summary\.json \(the worker times steps 3–9\)/);
    // QA: a 2,000-step run stopped early gave a 10 KB line listing 3, 4, 5, …, 1999.
    const long = writeRun(join(root, "long"), { steps: 2000, metrics: lines([4.4, 0.5, 0.2]) });
    let said = "";
    try {
      readRun(long);
    } catch (e) {
      said = (e as Error).message;
    }
    expect(said).toBe(`${long}: interrupted: metrics.jsonl has 3 of 2000 steps and no summary.json (the worker times steps 3–1999); calibrate only runs that completed`);
    const short = writeRun(join(root, "short"), { steps: 1, metrics: lines([4.4]) });
    expect(() => readRun(short)).toThrow(/only timed step is the warm-up step 1/);
    const two = writeRun(join(root, "two"), { steps: 2, stepTime: 0.5 });
    writeFileSync(join(two, "summary.json"), JSON.stringify({ measured: { stepTime: 0.5 }, worker: { timedSteps: [2], measuredStep: 2 } }));
    expect(() => readRun(two)).toThrow(/only timed step is the instrumented step 2/);
    // 4 CPU ranks on 2 cores: execute labels the step time; fitted, it moved the profile by 2×.
    const shared = writeRun(join(root, "shared"), { stepTime: 0.2 });
    writeFileSync(join(shared, "summary.json"), JSON.stringify({ measured: { stepTime: 0.2 }, worker: { timedSteps: [3, 4], measuredStep: 2 }, notComparable: { stepTime: "4 CPU ranks shared 2 cores: each ran at about 1/2.0 of the core the profile times" } }));
    expect(() => readRun(shared)).toThrow(new RegExp(`^${shared}: its step time is not comparable with a prediction \\(4 CPU ranks shared 2 cores`));
    // QA: a label of another type was read as no label, and the run was fitted.
    const odd = writeRun(join(root, "odd"), { stepTime: 0.2 });
    for (const [label, said] of [
      [{ stepTime: 5 }, "notComparable.stepTime is 5, not a label (text)"],
      [{ stepTime: true }, "notComparable.stepTime is true, not a label (text)"],
      ["shared cores", 'notComparable is "shared cores", not an object of labels'],
      [null, "notComparable is null, not an object of labels"],
    ] as const) {
      writeFileSync(join(odd, "summary.json"), JSON.stringify({ measured: { stepTime: 0.2 }, worker: { timedSteps: [3, 4], measuredStep: 2 }, notComparable: label }));
      expect(() => readRun(odd)).toThrow(`${join(odd, "summary.json")}: corrupt summary: ${said}`);
    }
    // (a label of another figure only leaves the step time comparable: as execute writes it on CPU)
    writeFileSync(join(odd, "summary.json"), JSON.stringify({ measured: { stepTime: 0.2 }, worker: { timedSteps: [3, 4], measuredStep: 2 }, notComparable: { peakMemory: "MemTracker's tensors" } }));
    expect(readRun(odd).measured).toBe(0.2);
  });
});

describe("the engine a run records", () => {
  it("a corrupt engine field is refused naming the file and field, not taken as unrecorded", async () => {
    const root = tmp();
    const dir = writeRun(join(root, "r"), { stepTime: 0.05 });
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Record<string, unknown>;
    for (const bad of [5, "", null, ["paraplan"]]) {
      writeFileSync(join(dir, "plan.json"), JSON.stringify({ ...plan, engine: bad }));
      const r = await cli(["calibrate", dir, "--out", join(root, "o.json")]);
      expect([r.code, r.out], JSON.stringify(bad)).toEqual([2, ""]);
      expect(r.err).toEqual([`paraplan: ${dir}/plan.json: corrupt field "engine": ${JSON.stringify(bad)} must be an engine name or .json file; the run cannot be calibrated as recorded`]);
    }
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ measured: { stepTime: 0.05 }, execution: { engine: 7 } }));
    expect(() => readRun(dir)).toThrow(`${dir}/summary.json: corrupt field "execution.engine": 7 must be an engine name or .json file; the run cannot be calibrated as recorded`);
  });

  it("an engine file named in plan.json is read relative to the run directory, not the current one", () => {
    const root = tmp();
    const dir = writeRun(join(root, "r"), { stepTime: 0.05 });
    writeFileSync(join(root, "slow-gemm.json"), JSON.stringify({ name: "slow-gemm", extends: "paraplan", gemmEfficiency: 0.5 }));
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "plan.json"), JSON.stringify({ ...plan, engine: "../slow-gemm.json" }));
    const c = readRun(dir);
    expect([c.training.engine?.name, c.training.engine?.gemmEfficiency, c.assumed]).toEqual(["slow-gemm", 0.5, []]);
  });
});

describe("the fit and its report", () => {
  it("a fit the least squares cannot solve is one clear error, not mathjs's", () => {
    // Denormal columns: mathjs's usolve finds the triangle singular.
    expect(() => leastSquares([[1e-320], [1e-320]], [1, 1])).toThrow(SingularFit);
    expect(() => leastSquares([[Number.NaN], [1]], [1, 1])).toThrow(SingularFit);
    // Three copies of one run cannot separate three factors: refused, not written unscaled.
    const dir = writeRun(join(tmp(), "one"), { stepTime: 0.05 });
    const c = readRun(dir);
    expect(() => fitScales(loadProfile("cpu"), [c, c, c], { mode: "separate" })).toThrow(CalibrationError);
    expect(() => fitScales(loadProfile("cpu"), [c, c, c], { mode: "separate" })).toThrow(/cannot be fitted .*use --fit common/);
  });

  it("the same run given 3 times (once through a link) is fitted once, with a note", () => {
    const root = tmp();
    const dir = writeRun(join(root, "r"), { stepTime: 0.05 });
    symlinkSync(dir, join(root, "link"));
    const c = capture();
    expect(calibrateCommand([dir, `${dir}/`, join(root, "link"), "--out", join(root, "o.json"), "--json"], c.io)).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.runs).toHaveLength(1);
    expect(j.notes[0]).toBe(`run ${dir} given 3 times: fitted once`);
    expect(j.leaveOneRunOut).toBeNull();
  });

  it("in-sample error is labelled; leave-one-run-out predicts each run from a fit on the others", () => {
    const hw = loadProfile("cpu");
    const root = tmp();
    const all = (x: number) => ({ matmul: x, attention: x, memory: x });
    // Run a is 2× slower than the profile says in every efficiency, run b 3×.
    const a = writeRun(join(root, "a"), { microBatch: 4, stepTime: 1 });
    const b = writeRun(join(root, "b"), { microBatch: 1, stepTime: 1 });
    const pa = (x: number) => predictStep(scaledHardware(hw, all(x)), readRun(a));
    const pb = (x: number) => predictStep(scaledHardware(hw, all(x)), readRun(b));
    writeRun(a, { microBatch: 4, stepTime: pa(2) });
    writeRun(b, { microBatch: 1, stepTime: pb(3) });
    const c = capture();
    expect(calibrateCommand([a, b, "--out", join(root, "o.json"), "--json"], c.io)).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.meanAbsError.afterIs).toBe("in-sample");
    // Held out, a is predicted by the factor fitted to b alone (3), and b by a's (2).
    expect(j.runs[0].errorHeldOut).toBeCloseTo(pa(3) / pa(2) - 1, 6);
    expect(j.runs[1].errorHeldOut).toBeCloseTo(pb(2) / pb(3) - 1, 6);
    expect(j.meanAbsError.leaveOneRunOut).toBeCloseTo((Math.abs(pa(3) / pa(2) - 1) + Math.abs(pb(2) / pb(3) - 1)) / 2, 6);
    const t = capture();
    expect(calibrateCommand([a, b, "--out", join(root, "o.json")], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/mean \|error\|: before \d+%, after \d+(\.\d)?% \(in-sample\)$/m);
    expect(t.stdout()).toMatch(/^leave-one-run-out: each run predicted by a fit on the other 1 \(one common factor\):$/m);
    expect(t.stdout()).toMatch(/^a {2,}\S+ ms {2,}\S+ ms {2,}\+\d+\.\d%$/m);
    expect(t.stdout()).toMatch(/^mean \|error\| leave-one-run-out: \d+%$/m);
  });
});

describe("runs of another device or profile", () => {
  it("CPU runs are not calibrated into a GPU profile; a GPU run of hgx-h200 not into dgx-h100", () => {
    const root = tmp();
    const cpuRun = writeRun(join(root, "cpu"), { stepTime: 0.05 });
    expect(() => calibrateCommand([cpuRun, "--profile", "dgx-h100", "--out", join(root, "o.json")], capture().io)).toThrow(
      new RegExp(`^${cpuRun} ran on CPU ranks, but profile dgx-h100 is H100 .*\\(CUDA GPUs\\)`),
    );
    const h200 = writeRun(join(root, "h200"), { stepTime: 0.05, device: "cuda", profile: "hgx-h200" });
    expect(() => calibrateCommand([h200, "--profile", "dgx-h100", "--out", join(root, "o.json")], capture().io)).toThrow(
      /was planned with profile hgx-h200, not dgx-h100 nor a profile dgx-h100 extends/,
    );
  });

  it("a profile that extends the runs' profile is theirs", () => {
    const root = tmp();
    const run = writeRun(join(root, "cpu"), { stepTime: 0.05 });
    const mine = join(root, "mine.json");
    writeFileSync(mine, JSON.stringify({ name: "mine", extends: "cpu" }));
    expect(calibrateCommand([run, "--profile", mine, "--out", join(root, "o.json")], capture().io)).toBe(0);
    // execute records a profile given as a file by its path: that file is the run's profile.
    const byFile = writeRun(join(root, "by-file"), { stepTime: 0.05, profile: mine });
    expect(calibrateCommand([byFile, "--out", join(root, "o.json")], capture().io)).toBe(0);
    expect(() => calibrateCommand([byFile, "--profile", "cpu", "--out", join(root, "o.json")], capture().io)).toThrow(/planned with profile .*mine\.json, not cpu/);
  });

  it("a profile that extends, through a file of its own, the runs' profile is theirs", () => {
    // job.json → ./team/base.json → cpu (src/file-extends.ts): the runs on cpu are the job's.
    const root = tmp();
    const run = writeRun(join(root, "cpu"), { stepTime: 0.05 });
    mkdirSync(join(root, "team"));
    writeFileSync(join(root, "team", "base.json"), JSON.stringify({ name: "team-cpu", extends: "cpu" }));
    const job = join(root, "job.json");
    writeFileSync(job, JSON.stringify({ name: "job", extends: "./team/base.json" }));
    expect(calibrateCommand([run, "--profile", job, "--out", join(root, "o.json")], capture().io)).toBe(0);
    // A CPU run planned with a profile outside the chain is not.
    const other = writeRun(join(root, "other"), { stepTime: 0.05, profile: "their-cpu" });
    expect(() => calibrateCommand([other, "--profile", job, "--out", join(root, "o.json")], capture().io)).toThrow(/was planned with profile their-cpu, not job nor a profile job extends/);
  });
});

describe("--out and the runs", () => {
  it("never lands in a run directory: --out RUN/summary.json overwrote the run's measured summary", async () => {
    const root = tmp();
    const run = writeRun(join(root, "run"), { stepTime: 0.05 });
    const second = writeRun(join(root, "second"), { stepTime: 0.06, microBatch: 2 });
    const summary = readFileSync(join(run, "summary.json"), "utf8");
    for (const out of [join(run, "summary.json"), join(run, "new.json"), join(second, "plan.json")]) {
      const r = await cli(["calibrate", run, second, "--out", out]);
      expect(r.code, out).toBe(2);
      expect(r.err, out).toEqual([expect.stringMatching(/^paraplan: --out .* is inside the run directory .*, whose files calibrate reads and keeps; write elsewhere$/)]);
    }
    // through a link to the run's file too
    symlinkSync(join(run, "summary.json"), join(root, "link.json"));
    expect((await cli(["calibrate", run, "--out", join(root, "link.json")])).code).toBe(2);
    expect(readFileSync(join(run, "summary.json"), "utf8")).toBe(summary);
    expect((await cli(["calibrate", run, "--out", join(root, "o.json")])).code).toBe(0);
  });
});
