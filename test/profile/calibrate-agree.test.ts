// A run directory that contradicts itself is refused, not fitted (src/profile/calibrate/agree.ts,
// measured.ts stepsRun, runs.ts checkWorkerEngine): plan.json against launch.json (the launch spec
// the worker ran) and summary.json, the steps run, the engine; and a --name the written profile's
// loader would refuse. On copies of a real recorded run (fixtures/recorded-run/: `paraplan
// execute --model tiny --device cpu --gpus 2 --steps 4`, its plan.json, launch.json, summary.json
// and metrics.jsonl as written), each edited the way QA edited one.
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { readRun } from "../../src/profile/calibrate/runs.js";
import { FIXTURES, capture, tmp } from "./helpers.js";

const RECORDED = join(FIXTURES, "recorded-run", "tiny-cpu-2ranks");

/** JSON as read (loose: the edits reach into nested objects). */
type Obj = Record<string, any>;

/** A copy of the recorded run, `file` edited by `change`. */
function edited(name: string, file?: string, change?: (j: Obj) => void): string {
  const dir = join(tmp(), name);
  cpSync(RECORDED, dir, { recursive: true });
  if (file !== undefined && change !== undefined) {
    const j = JSON.parse(readFileSync(join(dir, file), "utf8")) as Obj;
    change(j);
    writeFileSync(join(dir, file), JSON.stringify(j));
  }
  return dir;
}

async function calibrate(dir: string, ...more: string[]) {
  const out = join(dir, "..", `${dir.split("/").at(-1)}-out.json`);
  const c = capture();
  const code = await main(["calibrate", dir, "--out", out, ...more], c.io);
  return { code, err: c.err, written: existsSync(out) };
}

const contradicted = (dir: string, said: string, ref: string) =>
  `paraplan: ${dir}: ${said}, but ${ref} (the launch spec the worker ran); the run contradicts itself and cannot be calibrated as recorded`;

describe("calibrate: a recorded run that contradicts itself", () => {
  it("the run as recorded is calibrated", async () => {
    const r = await calibrate(edited("as-recorded"));
    expect([r.code, r.err, r.written]).toEqual([0, [], true]);
  });

  it("plan.json against launch.json: micro-batch, sequence, precision, model, dimensions, batch — exit 2 naming both, nothing written", async () => {
    // QA: plan.json at micro-batch 1 and sequence 512 on this run priced 3.291 s against 602 ms
    // and was fitted and written, exit 0.
    const cases: [string, (j: Obj) => void, string, string][] = [
      ["mb", (j) => (j.plans[0].microBatch = 1), "plan.json plans[0].microBatch is 1", "launch.json plan.microBatch is 4"],
      ["seq", (j) => (j.seqLen = 512), "plan.json seqLen is 512", "launch.json training.seqLen is 32"],
      ["fp8", (j) => (j.precision = "fp8"), 'plan.json precision is "fp8"', 'launch.json training.precision is "bf16"'],
      ["model", (j) => (j.model = "garbage"), 'plan.json model is "garbage"', 'launch.json model.name is "tiny"'],
      ["tp", (j) => Object.assign(j.plans[0], { tp: 2, dp: 1 }), "plan.json plans[0].tp is 2", "launch.json plan.tp is 1"],
      ["gb", (j) => (j.globalBatch = 16), "plan.json globalBatch is 16", "launch.json training.globalBatch is 8"],
      ["device", (j) => (j.device = "cuda"), 'plan.json device is "cuda"', 'launch.json device is "cpu"'],
      ["stages", (j) => (j.plans[0].stageLayers = [4]), "plan.json plans[0].stageLayers is [4]", "launch.json plan.stageLayers is absent"],
    ];
    for (const [name, change, said, ref] of cases) {
      const dir = edited(name, "plan.json", change);
      const r = await calibrate(dir);
      expect([r.code, r.err, r.written], name).toEqual([2, [contradicted(dir, said, ref)], false]);
    }
    // summary.json too: it states the model, device, plan, ranks and profile the launcher ran.
    const world = edited("world", "summary.json", (j) => (j.world = 4));
    expect(() => readRun(world)).toThrow(`${world}: summary.json world is 4, but plan.json gpus is 2; the run contradicts itself`);
    const sdev = edited("sdev", "summary.json", (j) => (j.device = "cuda"));
    expect((await calibrate(sdev)).err).toEqual([contradicted(sdev, 'summary.json device is "cuda"', 'launch.json device is "cpu"')]);
  });

  it("a plan or model section of another type is refused naming the file and field, not skipped", async () => {
    // QA: summary.json's "plan": "x" was read as absent and the run fitted, exit 0.
    for (const [file, key, value] of [["summary.json", "plan", "x"], ["launch.json", "plan", [1]], ["launch.json", "model", null]] as const) {
      const dir = edited(`${file}-${key}`, file, (j) => (j[key] = value));
      const r = await calibrate(dir);
      expect([r.code, r.err, r.written], file).toEqual([2, [`paraplan: ${dir}/${file}: corrupt field "${key}": ${JSON.stringify(value)} is not an object; the run cannot be calibrated as recorded`], false]);
    }
  });

  it("fewer than 3 steps, from whichever file states them, and the two files' steps agree", async () => {
    // QA: summary.json steps 2, or launch.json steps 2, was fitted, though --help refuses them.
    const s2 = edited("s2", "summary.json", (j) => (j.steps = 2));
    expect((await calibrate(s2)).err).toEqual([contradicted(s2, "summary.json steps is 2", "launch.json training.steps is 4")]);
    const l2 = edited("l2", "launch.json", (j) => (j.training.steps = 2));
    expect((await calibrate(l2)).err).toEqual([contradicted(l2, "summary.json steps is 4", "launch.json training.steps is 2")]);
    // Both say 2 (a 2-step run: the worker timed its instrumented step): refused by the rule.
    const both = edited("both", "summary.json", (j) => Object.assign(j, { steps: 2, worker: { ...j.worker, timedSteps: [2] } }));
    const lj = JSON.parse(readFileSync(join(both, "launch.json"), "utf8")) as Obj;
    writeFileSync(join(both, "launch.json"), JSON.stringify({ ...lj, training: { ...lj.training, steps: 2 } }));
    const r = await calibrate(both);
    expect([r.code, r.err, r.written]).toEqual([2, [`paraplan: ${both}: summary.json steps is 2: its only timed step is the instrumented step 2 (counters running); calibrate runs of 3 steps or more (execute --steps 3)`], false]);
    // Stated by summary.json alone (no launch.json steps): the same rule.
    const alone = edited("alone", "summary.json", (j) => (j.steps = 1));
    const la = JSON.parse(readFileSync(join(alone, "launch.json"), "utf8")) as Obj;
    delete la.training.steps;
    writeFileSync(join(alone, "launch.json"), JSON.stringify(la));
    expect(() => readRun(alone)).toThrow(`${alone}: summary.json steps is 1: its only timed step is the warm-up step 1`);
    // A list of timed steps that 4 steps do not give; a step count that is not one.
    const timed = edited("timed", "summary.json", (j) => (j.worker.timedSteps = [3, 4]));
    expect(() => readRun(timed)).toThrow(`${timed}: summary.json worker.timedSteps is [3,4], but a run of 4 steps times 3;`);
    const frac = edited("frac", "summary.json", (j) => (j.steps = 3.5));
    expect(() => readRun(frac)).toThrow(`${frac}: corrupt summary.json steps: 3.5, not a whole number of steps`);
  });

  it("an engine the worker does not run (megatron-core) is refused naming the field", async () => {
    const meg = edited("meg", "plan.json", (j) => (j.engine = "megatron-core"));
    const r = await calibrate(meg);
    expect([r.code, r.err, r.written]).toEqual([
      2,
      [`paraplan: ${meg}/plan.json: corrupt field "engine": "megatron-core" is not an engine paraplan's worker runs (paraplan or paraplan-compile, or an engine file extending one); the run cannot be calibrated as recorded`],
      false,
    ]);
    const ran = edited("ran", "summary.json", (j) => (j.execution.engine = "torchtitan"));
    expect(() => readRun(ran)).toThrow(`${ran}/summary.json: corrupt field "execution.engine": "torchtitan" is not an engine paraplan's worker runs`);
    // A file refining megatron-core is megatron-core's stack; one refining paraplan is the worker's.
    const file = edited("file", "plan.json", (j) => (j.engine = "./mine.json"));
    writeFileSync(join(file, "mine.json"), JSON.stringify({ name: "mine", extends: "megatron-core", gemmEfficiency: 0.5 }));
    expect(() => readRun(file)).toThrow(`${file}/plan.json: corrupt field "engine": "mine.json" is not an engine paraplan's worker runs`);
    writeFileSync(join(file, "mine.json"), JSON.stringify({ name: "mine", extends: "paraplan", gemmEfficiency: 0.5 }));
    expect(readRun(file).training.engine?.name).toBe("mine");
    // paraplan-compile is the worker's too (this eager run is then priced as its summary says it ran).
    expect(readRun(edited("compile", "plan.json", (j) => (j.engine = "paraplan-compile"))).assumed).toEqual([
      "engine paraplan, as the worker ran it (summary.json), not paraplan-compile as plan.json records",
    ]);
  });
});

describe("--name with a control character", () => {
  // QA: accepted, and the profile written then failed to load ("field name has a control character").
  const bad = "a\nb\u001b[31m";
  it("calibrate --name: exit 2 naming --name, nothing written", async () => {
    const r = await calibrate(edited("named"), "--name", bad);
    expect([r.code, r.err, r.written]).toEqual([2, ["paraplan: --name has a control character (a line break, an escape); remove it"], false]);
  });

  it("profile --name: exit 2 naming --name before measuring", async () => {
    const out = join(tmp(), "p.json");
    const c = capture();
    const code = await main(["profile", "--device", "cpu", "--quick", "--name", bad, "--out", out], c.io);
    expect([code, c.err, existsSync(out)]).toEqual([2, ["paraplan: --name has a control character (a line break, an escape); remove it"], false]);
  });
});
