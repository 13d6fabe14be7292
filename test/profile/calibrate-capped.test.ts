// Calibrating a power-capped profile: the written file keeps the cap (its own or its base's), and
// loading it derates matmul and attention again, so it must write the figures before the cap.
// Round trip: the written profile, loaded, predicts what calibrate reported.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrateCommand } from "../../src/commands/calibrate.js";
import { loadProfile } from "../../src/load.js";
import { predictStep } from "../../src/profile/calibrate/fit.js";
import { readRun } from "../../src/profile/calibrate/runs.js";
import { readProfile } from "../../src/profile/files.js";
import { capture, tmp } from "./helpers.js";

const PLAN = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

/** The tiny model (profiles/models/tiny.json), wide enough for a GPU's matmuls to be most of its step. */
const WIDE = { name: "wide", layers: 4, hidden: 2048, heads: 16, vocab: 256, seqLen: 1024, mlp: "gelu", positional: "learned", tiedEmbeddings: true };

/** A run on 2 ranks planned with `profile`, measured `slower` × the prediction: of the tiny
 *  model, or of `model` (launch.json's). */
function writeRun(dir: string, profile: string, device: string, slower: number, model?: object): number {
  mkdirSync(dir, { recursive: true });
  const seqLen = model ? WIDE.seqLen : 32;
  const plan = { model: model ? WIDE.name : "tiny", profile, device, gpus: 2, nnodes: 1, globalBatch: 8, seqLen, precision: "bf16", engine: "paraplan", plans: [PLAN] };
  writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
  const launch = { version: 1, device, ...(model ? { model } : {}), plan: PLAN, training: { globalBatch: 8, seqLen, precision: "bf16", steps: 5 } };
  writeFileSync(join(dir, "launch.json"), JSON.stringify(launch));
  const summary = (t: number) => writeFileSync(join(dir, "summary.json"), JSON.stringify({ plan: PLAN, steps: 5, device, profile, measured: { stepTime: t } }));
  summary(1);
  const measured = slower * predictStep(readProfile(profile).hw, readRun(dir));
  summary(measured);
  return measured;
}

function calibrate(run: string, profile: string, out: string) {
  const c = capture();
  expect(calibrateCommand([run, "--profile", profile, "--out", out, "--json"], c.io)).toBe(0);
  return JSON.parse(c.stdout()) as { scale: Record<string, number>; runs: { after: number }[] };
}

describe("calibrate on a power-capped profile", () => {
  it("a file capping cpu at 100 W of 700 W: the written profile predicts the fitted step, its figures the rated part's × the scale", () => {
    const root = tmp();
    const capped = join(root, "capped.json");
    writeFileSync(capped, JSON.stringify({ name: "capped", extends: "cpu", gpu: { powerLimit: 100, ratedPower: 700 } }));
    // cbrt(100/700) = 0.5228 (planner/power.ts): the cap is in force.
    expect(readProfile(capped).hw.computeThrottle).toBeCloseTo(0.52276, 4);
    const run = join(root, "run");
    const measured = writeRun(run, capped, "cpu", 1.5);
    const out = join(root, "out.json");
    const j = calibrate(run, capped, out);
    // One run, one common factor: the fit meets the measured step exactly.
    expect(j.runs[0]!.after / measured).toBeCloseTo(1, 6);
    // Loaded again (the cap still in the file), the profile predicts that step (written to 4
    // significant figures); derated twice it predicted 1/0.5228 × as slow in compute.
    const loaded = readProfile(out).hw;
    expect(loaded.computeThrottle).toBeCloseTo(0.52276, 4);
    expect(predictStep(loaded, readRun(run)) / measured).toBeCloseTo(1, 3);
    // The file's figures are cpu's own (before the cap) × the common scale 1/1.5-ish the fit found.
    const file = JSON.parse(readFileSync(out, "utf8")) as { gpu: { powerLimit: number; attentionEfficiency: { value: number }; matmulEfficiency: { points: [number, number][] } } };
    expect(file.gpu.powerLimit).toBe(100);
    expect(file.gpu.attentionEfficiency.value).toBeCloseTo(0.1 * j.scale.attention!, 4);
    expect(file.gpu.matmulEfficiency.points.at(-1)![1]).toBeCloseTo(0.7 * j.scale.matmul!, 4);
  });

  it("the built-in h100-96g-500w (extended by name): the written profile predicts the fitted step", () => {
    const root = tmp();
    const run = join(root, "run");
    const measured = writeRun(run, "h100-96g-500w", "cuda", 1.5, WIDE);
    const out = join(root, "out.json");
    const j = calibrate(run, "h100-96g-500w", out);
    expect(j.runs[0]!.after / measured).toBeCloseTo(1, 6);
    const file = JSON.parse(readFileSync(out, "utf8")) as { extends: string };
    expect(file.extends).toBe("h100-96g-500w");
    expect(predictStep(readProfile(out).hw, readRun(run)) / measured).toBeCloseTo(1, 3);
    // Unscaled, the 500 W profile itself predicts 1/1.5 of the run.
    expect(predictStep(loadProfile("h100-96g-500w"), readRun(run)) / measured).toBeCloseTo(1 / 1.5, 6);
  });
});
