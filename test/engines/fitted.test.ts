// The calibration writes its fit back into the profiles (bench/calibration/write-back.ts): the
// fitted figures stay physically plausible and say where they came from.
import { describe, expect, it } from "vitest";
import { loadEngine } from "../../src/load-engine.js";
import { loadProfile } from "../../src/load.js";
import { PRIORS } from "../../bench/calibration/priors.js";
import { profileJson } from "../../bench/calibration/write-back-format.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../planner/fixtures.js";

const ENGINES = ["megatron-core", "megatron-2021", "megatron-deepspeed", "fsdp", "torchtitan", "torchtitan-compile"];
const PROFILES = ["dgx-a100-40g", "dgx-a100-80g", "dgx-h100", "h100-96g-500w"];

describe("fitted engine and hardware figures", () => {
  it("efficiencies ≤ 1, launch costs in microseconds, slowdowns in [0, 0.5]", () => {
    for (const name of ENGINES) {
      const e = loadEngine(name, undefined);
      for (const v of Object.values(e.attention.efficiency)) {
        expect(v).toBeGreaterThan(0.05);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(e.launch.perKernel).toBeGreaterThanOrEqual(0);
      expect(e.launch.perKernel).toBeLessThanOrEqual(30e-6);
      // The engine's GEMM library against the profile's table: at most the table's own.
      expect(e.gemmEfficiency).toBeGreaterThanOrEqual(0.5);
      expect(e.gemmEfficiency).toBeLessThanOrEqual(1);
      expect(e.overlapSlowdown).toBeGreaterThanOrEqual(0);
      expect(e.overlapSlowdown).toBeLessThanOrEqual(0.5);
      // What --tp-comm-overlap hides: a fraction, or null where the stack has no such switch.
      const o = e.tensorParallel.commOverlap;
      if (o !== null) {
        expect(o).toBeGreaterThan(0.1);
        expect(o).toBeLessThanOrEqual(1);
      }
    }
    expect(loadEngine("megatron-core", undefined).tensorParallel.commOverlap).not.toBeNull();
    // torchtitan's async TP needs torch.compile: a switch on the compiled engine only.
    expect(loadEngine("torchtitan-compile", undefined).tensorParallel.commOverlap).not.toBeNull();
    expect(loadEngine("torchtitan", undefined).tensorParallel.commOverlap).toBeNull();
    // DeepSpeed 2021's ZeRO-3 collectives: a share of the link's rate; every other stack the rate.
    const share = loadEngine("megatron-deepspeed", undefined).dataParallel.zero3BandwidthShare;
    expect(share).toBeGreaterThanOrEqual(0.05);
    expect(share).toBeLessThanOrEqual(1);
    for (const name of ENGINES.filter((n) => n !== "megatron-deepspeed")) expect(loadEngine(name, undefined).dataParallel.zero3BandwidthShare, name).toBe(1);
    for (const name of PROFILES) {
      const hw = loadProfile(name, undefined);
      for (const [, y] of hw.matmul.points) expect(y).toBeLessThanOrEqual(1);
      expect(hw.attentionEfficiency).toBeLessThanOrEqual(1);
      expect(hw.attentionEfficiency).toBeGreaterThan(0.05);
      // fp8 GEMMs: a share of the 16-bit table in [0.5, 1] on the parts that have an fp8 peak.
      if (hw.peak.fp8 !== null) {
        expect(hw.fp8Efficiency).toBeGreaterThanOrEqual(0.5);
        expect(hw.fp8Efficiency).toBeLessThanOrEqual(1);
        expect(hw.sources["gpu.fp8Efficiency"]).toMatch(/^fitted on calibration rows .*, prior 0\.81/);
      } else expect(hw.fp8Efficiency).toBeUndefined();
    }
  });

  it("every fitted engine figure names the calibration rows and its prior", () => {
    for (const key of Object.keys(PRIORS).filter((k) => !k.startsWith("hw/"))) {
      const [engine, what, gen] = key.split("/") as [string, string, string | undefined];
      const e = loadEngine(engine, undefined);
      const path = what === "attention" ? `attention.efficiency.${gen}` : what === "launch" ? "launch.perKernel" : what === "tp-overlap" ? "tensorParallel.commOverlap" : what === "matmul" ? "gemmEfficiency" : what === "zero3-bandwidth" ? "dataParallel.zero3BandwidthShare" : "overlapSlowdown";
      expect(e.sources[path], key).toMatch(/^fitted on calibration rows .*\(bench\/calibration.*\), prior /);
    }
  });

  it("the 2021 stacks recompute whole layers or nothing and DeepSpeed 2021 gathers per tensor", () => {
    expect(loadEngine("megatron-2021", undefined).recompute).toBe("layers");
    expect(loadEngine("megatron-deepspeed", undefined).recompute).toBe("layers");
    expect(loadEngine("megatron-deepspeed", undefined).dataParallel.gatherCallsPerLayer).toBe(12);
    expect(loadEngine("fsdp", undefined).dataParallel.gatherCallsPerLayer).toBe(1);
    expect(loadEngine("megatron-core", undefined).recompute).toBe("any");
  });

  it("the files the fit is written into are in the write-back's layout, so a refit's diff is its figures", () => {
    const files = [...ENGINES.map((n) => join("engines", `${n}.json`)), join("hardware", "dgx-h100.json"), join("hardware", "dgx-a100-80g.json")];
    for (const f of files) {
      const text = readFileSync(join(ROOT, "profiles", f), "utf8");
      expect(profileJson(JSON.parse(text)) === text, f).toBe(true);
    }
    expect(profileJson({ a: ["x", "y,z"], b: [[1, 0.5]] })).toBe('{\n  "a": ["x", "y,z"],\n  "b": [\n    [\n      1,\n      0.5\n    ]\n  ]\n}\n');
  });
});
