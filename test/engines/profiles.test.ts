// Engine profiles (issue 12 §1): the file format, `extends`, the built-ins and their sources.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveExtends } from "../../planner/schema/hardware.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import { ELEMENTWISE_OPS, FORMAT_ENGINES, executorEngineName, gpuGeneration } from "../../planner/engine.js";
import { builtinEngineRaw, builtinEngines, loadEngine } from "../../src/load-engine.js";
import { parseBuiltins } from "../../src/builtins.js";
import { ROOT, readJson } from "../planner/fixtures.js";

const ENGINES_DIR = join(ROOT, "profiles", "engines");
const NAMES = ["fsdp", "megatron-2021", "megatron-core", "megatron-deepspeed", "paraplan", "paraplan-compile", "torchtitan", "torchtitan-compile"];

function merged(name: string): Record<string, unknown> {
  const r = resolveExtends(builtinEngineRaw(name), builtinEngineRaw, `${name}.json`);
  if (!r.ok) throw new Error(r.message);
  return r.value as Record<string, unknown>;
}

/** Paths of every figure in a raw file: leaves, or { value, source } objects. */
function figures(x: unknown, path = ""): Array<[string, unknown]> {
  if (typeof x !== "object" || x === null || Array.isArray(x) || "value" in x) return [[path, x]];
  return Object.entries(x).flatMap(([k, v]) => figures(v, path ? `${path}.${k}` : k));
}

describe("built-in engines", () => {
  it("are exactly the issue's eight", () => {
    expect(builtinEngines()).toEqual(NAMES);
    // (examples/ holds engine files loaded by path, --engine profiles/engines/examples/…: no built-in)
    expect(readdirSync(ENGINES_DIR).filter((f) => f !== "examples").sort()).toEqual(NAMES.map((n) => `${n}.json`).sort());
    expect(readdirSync(`${ENGINES_DIR}/examples`)).toEqual(["deepseek-v3-report.json"]);
  });
  it("the example of DeepSeek-V3's own stack loads by path, extending megatron-core, every figure it gives with a source", () => {
    const raw = JSON.parse(readFileSync(`${ENGINES_DIR}/examples/deepseek-v3-report.json`, "utf8")) as Record<string, unknown>;
    expect(raw.extends).toBe("megatron-core");
    for (const [path, f] of figures(raw.moe, "moe")) expect((f as { source?: string }).source, path).toMatch(/DeepSeek-V3 report §3/);
    const e = loadEngine(`${ENGINES_DIR}/examples/deepseek-v3-report.json`, undefined);
    expect(e.moe).toEqual({ dispatcher: "deepep", fp8DispatchBytes: 1.03125, overlap: { slowdown: 0.15152, fullRecompute: true, schedules: null }, sharedExpertOverlap: null });
  });

  it.each(NAMES)("%s loads, and every figure in its file carries a source", (name) => {
    const e = loadEngine(name, undefined);
    expect(e.name).toBe(name);
    const raw = readJson(join(ENGINES_DIR, `${name}.json`)) as Record<string, unknown>;
    for (const [path, fig] of figures(raw)) {
      if (["name", "description", "extends"].includes(path)) continue;
      expect(fig, `${name}: ${path}`).toMatchObject({ source: expect.stringMatching(/\S.{5,}/) });
    }
    // After extends every figure has a cited source, none "(no source given)".
    for (const [path] of figures(merged(name))) {
      if (["name", "description"].includes(path)) continue;
      expect(e.sources[path], `${name}: ${path}`).toBeDefined();
    }
    expect(Object.values(e.sources).some((s) => s.includes("no source given"))).toBe(false);
  });

  it("figures stay physical: efficiencies in (0, 1], launch costs in microseconds, traffic ≥ 1", () => {
    for (const name of NAMES) {
      const e = loadEngine(name, undefined);
      for (const v of Object.values(e.attention.efficiency)) expect(v > 0 && v <= 1).toBe(true);
      expect(e.launch.perKernel).toBeGreaterThanOrEqual(0);
      expect(e.launch.perKernel).toBeLessThanOrEqual(50e-6);
      for (const op of ELEMENTWISE_OPS) expect(e.traffic[op]).toBeGreaterThanOrEqual(1);
      expect(e.overlapSlowdown).toBeGreaterThanOrEqual(0);
      expect(e.overlapSlowdown).toBeLessThan(1);
    }
  });

  it("describe the stacks the issue names", () => {
    const core = loadEngine("megatron-core", undefined);
    const m21 = loadEngine("megatron-2021", undefined);
    expect([core.attention.kernel, core.dataParallel.overlapGradReduce]).toEqual(["cudnn", true]);
    expect([m21.attention.kernel, m21.dataParallel.overlapGradReduce]).toEqual(["materialised", false]);
    expect(loadEngine("megatron-deepspeed", undefined).dataParallel.bucketSize).toBe(1e9); // 5e8 elements × 2 B
    expect(core.dataParallel.bucketSize).toBe(80e6);
    expect(core.launch.perKernel).toBe(0);
    expect(loadEngine("torchtitan", undefined).launch.perKernel).toBeCloseTo(8e-6, 12);
    const compiled = loadEngine("torchtitan-compile", undefined);
    expect(compiled.traffic.norm).toBe(1);
    expect(loadEngine("torchtitan", undefined).traffic.norm).toBe(6);
    expect(FORMAT_ENGINES).toEqual({ megatron: "megatron-core", deepspeed: "megatron-deepspeed", torchtitan: "torchtitan", "llm-foundry": "fsdp" });
    expect(executorEngineName()).toBe("paraplan");
  });

  it("are in the build's table, keyed by contents, so a plan loads neither zod nor mathjs for them", () => {
    const table = parseBuiltins();
    expect(Object.keys(table.engines!).length).toBe(NAMES.length);
    const e = loadEngine("fsdp", table);
    expect(Object.values(table.engines!)).toContain(e); // the table's object itself, not a re-parse
  });
});

describe("engine files", () => {
  const base = () => structuredClone(merged("torchtitan"));

  it("extends a built-in and overrides only what it gives", () => {
    const r = resolveExtends({ name: "mine", extends: "torchtitan", launch: { perKernel: { value: "3 us", source: "measured" } } }, builtinEngineRaw, "mine.json");
    expect(r.ok).toBe(true);
    const p = parseEngineFile(r.ok ? r.value : null, "mine.json");
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.launch.perKernel).toBeCloseTo(3e-6, 12);
    expect(p.value.sources["launch.perKernel"]).toBe("measured");
    expect(p.value.launch.kernelsPerLayer).toBe(40);
    expect(p.value.attention.kernel).toBe("flash-attention-2");
  });

  it("a bad unit is refused, naming the field", () => {
    const raw = base();
    (raw.launch as Record<string, unknown>).perKernel = "8 furlongs";
    const p = parseEngineFile(raw, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(/^bad\.json: field "launch\.perKernel"/);
  });

  it("a launch cost in seconds is refused as a unit mistake", () => {
    const raw = base();
    (raw.launch as Record<string, unknown>).perKernel = "8 s";
    const p = parseEngineFile(raw, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain('"launch.perKernel"');
  });

  // A bucket of 0 B or 1 B made one collective per gradient byte: the simulation ran out of memory
  // (a fatal V8 error after 20 s), 1 KiB took 20 s and priced the step at 100×.
  it("a gradient bucket under 1 MiB is refused, naming the field", () => {
    for (const size of ["0 B", "1 B", "1 KiB"]) {
      const raw = base();
      (raw.dataParallel as Record<string, unknown>).bucketSize = size;
      const p = parseEngineFile(raw, "bad.json");
      expect(p.ok).toBe(false);
      if (!p.ok) expect(p.message).toMatch(/field "dataParallel\.bucketSize": ".*" (is out of range|must be above zero); give a gradient bucket's size from 1 MiB to 1 TB, like 80 MB$/);
    }
    const raw = base();
    (raw.dataParallel as Record<string, unknown>).bucketSize = "1 MiB";
    expect(parseEngineFile(raw, "ok.json").ok).toBe(true);
  });

  // 0 priced ZeRO-1 llama3-8b on 64 GPUs at 26.5 GiB instead of 57.9: no gradient buffer at all.
  it("the unsharded gradient's bytes are 2 or 4, as the wire's and the shard's are", () => {
    for (const [v, ok] of [[0, false], [3, false], [2, true], [4, true]] as const) {
      const raw = base();
      (raw.dataParallel as Record<string, unknown>).gradBufferBytesPerParam = v;
      const p = parseEngineFile(raw, "bad.json");
      expect(p.ok).toBe(ok);
      if (!p.ok) expect(p.message).toMatch(/^bad\.json: field "dataParallel\.gradBufferBytesPerParam": must be 2 \(16-bit\) or 4/);
    }
  });

  it("\"sameAs\" at the top of a file points to \"extends\"", () => {
    const r = resolveExtends({ name: "x", sameAs: "fsdp" }, builtinEngineRaw, "mine.json");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('mine.json: "sameAs" takes one figure from a profile; a whole file takes "extends"');
  });

  it("an unknown field is refused, naming it", () => {
    const raw = base();
    (raw.dataParallel as Record<string, unknown>).bucketSise = "25 MB";
    const p = parseEngineFile(raw, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain('unknown field "bucketSise" in "dataParallel"');
  });

  it("an unknown attention kernel is refused, naming the field", () => {
    const raw = base();
    (raw.attention as Record<string, unknown>).kernel = "flash-attention-9";
    const p = parseEngineFile(raw, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain('field "attention.kernel"');
    // The message lists the kernels, not zod's bare "Invalid input" for a figure's union.
    if (!p.ok) expect(p.message).toContain('"flash-attention-3"');
  });

  it("a figure written { value, source } is told by the part that is wrong", () => {
    const withKernel = (kernel: unknown) => {
      const raw = base();
      (raw.attention as Record<string, unknown>).kernel = kernel;
      const p = parseEngineFile(raw, "bad.json");
      return p.ok ? "" : p.message;
    };
    expect(withKernel({ value: "flash-attention-9", source: "mine" })).toMatch(/field "attention\.kernel\.value": .*"cudnn"/);
    expect(withKernel({ value: "cudnn" })).toMatch(/^bad\.json: field "attention\.kernel\.source": missing; every figure says where it comes from/);
    expect(withKernel(5)).toMatch(/field "attention\.kernel": .*"materialised"/);
  });

  it("GPU generations come from the profile's GPU name", () => {
    expect(gpuGeneration({ gpuName: "H100 SXM5 80GB" })).toBe("H100");
    expect(gpuGeneration({ gpuName: "A100 SXM4 40GB" })).toBe("A100");
    expect(gpuGeneration({ gpuName: "NVIDIA H200" })).toBe("H200");
  });
});
