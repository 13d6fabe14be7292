// QA: a file's value outside a list of choices, a whole number with a fraction, an empty name and a
// bare number for the matmul table were told zod's own words: "Invalid input: expected 0" for a ZeRO
// stage 4 (the first of the union's literals), "Invalid option: expected one of …" without the value
// given, "Invalid input: expected int, received number", "Too small: expected string to have >=1
// characters", "Invalid input: expected object, received number". Each is now one line naming the
// field, the value and what to write.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEngineFile, parseHardwareFile, parseModelFile, resolveExtends } from "../../planner/index.js";
import { ROOT, rawHardware, readJson } from "./fixtures.js";

const builtin = (name: string): unknown => {
  try {
    return readJson(join(ROOT, "profiles", "engines", `${name}.json`));
  } catch {
    return undefined;
  }
};

function engine(over: Record<string, unknown>): string {
  const merged = resolveExtends({ name: "mine", extends: "megatron-core", ...over }, builtin, "mine.json");
  const r = merged.ok ? parseEngineFile(merged.value, "mine.json") : merged;
  return r.ok ? "(taken)" : r.message;
}

function hardware(over: Record<string, unknown>, base: Record<string, unknown> = { extends: "dgx-h100" }): string {
  const merged = resolveExtends({ name: "mine", ...base, ...over }, rawHardware, "mine.json");
  const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
  return r.ok ? "(taken)" : r.message;
}

function model(over: Record<string, unknown>): string {
  const r = parseModelFile({ name: "m", layers: 4, hidden: 256, heads: 4, vocab: 1000, seqLen: 128, ...over }, "m.json");
  return r.ok ? "(taken)" : r.message;
}

describe("a value outside a list of choices: the value and every choice", () => {
  it("a ZeRO stage of a union of literals", () => {
    expect(engine({ supports: { zero: [0, 4] } })).toBe('mine.json: field "supports.zero[1]": 4 is not one of 0, 1, 2, 3');
  });
  it("an enum, and one that differs from a choice only in case", () => {
    expect(engine({ schedules: ["1f1b", "foo"] })).toBe('mine.json: field "schedules[1]": "foo" is not one of "1f1b", "interleaved", "gpipe", "zb1p", "zbv", "dualpipev"');
    expect(model({ mlp: "SwiGLU" })).toBe('m.json: field "mlp": "SwiGLU" is not one of "gelu", "swiglu", "geglu" (write "swiglu": the names are case-sensitive)');
  });
});

describe("a whole number given with a fraction, and an empty name", () => {
  it("an engine's kernel count", () => {
    expect(engine({ launch: { kernelsPerLayer: 30.5 } })).toBe('mine.json: field "launch.kernelsPerLayer": 30.5 is not a whole number');
  });
  it("a model file's empty name", () => {
    expect(model({ name: "" })).toBe('m.json: field "name": "" is empty; give a value');
  });
});

describe("gpu.matmulEfficiency written as one fraction, as its neighbours are", () => {
  const table = 'give the GEMM efficiency as a table of [FLOPs of one GEMM, fraction of peak] points, like {"points": [[1e9, 0.3], [1e12, 0.7]], "source": "…"}, or a calibrated part\'s, {"sameAs": "dgx-h100", "source": "…"}';
  it("a bare number, and a figure's { value, source }", () => {
    expect(hardware({ gpu: { matmulEfficiency: 0.7 } })).toBe(`mine.json: field "gpu.matmulEfficiency": a number where a table is read; ${table}`);
    expect(hardware({ gpu: { matmulEfficiency: { value: 0.7, source: "x" } } })).toMatch(/^mine\.json: field "gpu\.matmulEfficiency\.points": missing; give the GEMM efficiency as a table/);
  });
  it("a table still reads", () => {
    expect(hardware({ gpu: { matmulEfficiency: { points: [[1e9, 0.3], [1e12, 0.7]], source: "x" } } })).toBe("(taken)");
  });
});

describe("a reserve of all the GPU's memory, in the file's units", () => {
  it("QA: it was said in bytes, 107374182400 of 85520809984", () => {
    expect(hardware({ gpu: { reserve: "100 GiB" } })).toBe('mine.json: field "gpu.reserve" (100 GiB) leaves nothing of "gpu.memory" (81559 MiB); the reserve is what the CUDA context, NCCL and cuBLAS hold of it, about 2 GiB');
  });
});

describe("a hardware figure's { value } without its source", () => {
  it("QA: told to add it or extend dgx-h100, which the file already did", () => {
    expect(hardware({ gpu: { memory: { value: "80 GB" } } })).toBe('mine.json: field "gpu.memory.source": missing; every figure says where it comes from: add "source" beside its "value" (a datasheet, a measurement, or "prior: …" and why), or write the bare value');
    expect(hardware({ gpu: { matmulEfficiency: { points: [[1e9, 0.3]] } } })).toMatch(/field "gpu\.matmulEfficiency\.source": missing; every figure says where it comes from: add "source" beside its "points" \(/);
  });
});
