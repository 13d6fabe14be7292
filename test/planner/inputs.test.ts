// Inputs: preset parameter counts, unit parsing, hardware profiles (model files: model-files.test.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { paddedVocab, totalParams } from "../../planner/model.js";
import type { ModelSpec } from "../../planner/types.js";
import { ROOT, expectRel, preset, builtinHardwareNames, hardware, rawHardware } from "./fixtures.js";
import { parseHardwareFile, resolveExtends } from "../../planner/schema/hardware.js";
import { parseQuantity } from "../../planner/units.js";

// ─── params ───────────────────────────────────────────────────────────────
// Parameter counts of the presets against published sizes, and Megatron vocabulary padding.

/** One CSV record's cells (RFC 4180 quoting; no embedded newlines in this file). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      cells.push(cell);
      cell = "";
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** params_b of a row of published-runs.csv (Narayanan et al. 2021 Table 1; bench/data holds the
 *  repository's copy of shared/calibration). */
function publishedParamsB(modelName: string): number {
  const csv = readFileSync(join(ROOT, "bench", "data", "published-runs.csv"), "utf8");
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = csvCells(lines[0]!);
  const nameCol = header.indexOf("model_name");
  const paramsCol = header.indexOf("params_b");
  for (const line of lines.slice(1)) {
    const cells = csvCells(line);
    if (cells[nameCol] === modelName) return Number(cells[paramsCol]);
  }
  throw new Error(`${modelName} not in published-runs.csv`);
}

/** Parameters at the model file's sequence length (what `plan` reports by default). */
const params = (m: ModelSpec) => totalParams(m, m.defaultSeqLen);

describe("totalParams vs published model sizes", () => {
  it("gpt3-175b ≈ 175B (Brown et al. 2020, Table 2.1), within 1%", () => {
    expectRel(params(preset("gpt3-175b")), 175e9, 0.01);
  });

  // HuggingFace model cards / safetensors totals.
  it.each([
    ["llama2-7b", 6.74e9],
    ["llama2-70b", 68.98e9],
    ["llama3-8b", 8.03e9],
    ["llama3-70b", 70.55e9],
    ["llama3-405b", 405.9e9],
  ])("%s ≈ %d within 0.5%", (name, published) => {
    expectRel(params(preset(name)), published, 0.005);
  });

  it("megatron-1t ≈ 1008.0B (published-runs.csv params_b), within 1%", () => {
    const published = publishedParamsB("GPT 1008.0B (Megatron weak scaling)");
    expect(published).toBe(1008.0);
    expectRel(params(preset("megatron-1t")), published * 1e9, 0.01);
  });

  it("Llama-2-7B by hand: 32·(4h² + 3·h·11008 + 2h) + 2·32000·h + h = 6,738,415,616 (h = 4096)", () => {
    // No biases, two RMSNorm weights per layer, untied embedding and output, final RMSNorm.
    const hh = 4096;
    const byHand = 32 * (4 * hh * hh + 3 * hh * 11008 + 2 * hh) + 2 * 32000 * hh + hh;
    expect(byHand).toBe(6_738_415_616);
    expect(params(preset("llama2-7b"))).toBe(byHand);
  });
});

describe("paddedVocab — Megatron-LM pads to a multiple of 128·tp", () => {
  it("GPT-2's 50257 tokens pad to 51200 at tp 8 (multiple of 1024)", () => {
    expect(paddedVocab(50257, 8)).toBe(51200);
  });
  it("and to 50304 at tp 1 (multiple of 128)", () => {
    expect(paddedVocab(50257, 1)).toBe(50304);
  });
  it("an already aligned vocabulary is unchanged", () => {
    expect(paddedVocab(32000, 1)).toBe(32000);
    expect(paddedVocab(51200, 8)).toBe(51200);
  });
});

// ─── units-profiles ───────────────────────────────────────────────────────────────
// Unit-bearing profile values, the built-in hardware profiles, and profile inheritance.

describe("parseQuantity", () => {
  it.each([
    ["300 GB/s", "bytes/s", 300e9],
    ["80 GiB", "bytes", 80 * 2 ** 30],
    ["80 GB", "bytes", 80e9],
    ["5 us", "seconds", 5e-6],
    ["5 \u00b5s", "seconds", 5e-6], // MICRO SIGN
    ["5 \u03bcs", "seconds", 5e-6], // GREEK SMALL LETTER MU
    ["3 ms", "seconds", 3e-3],
    ["200 Gb/s", "bytes/s", 200e9 / 8], // bits, not bytes
    ["400 Gb/s", "bytes/s", 50e9],
    ["989 TFLOP/s", "FLOP/s", 989e12],
    ["1.5 TB/s", "bytes/s", 1.5e12],
  ] as const)("%s as %s = %d", (text, kind, expected) => {
    const r = parseQuantity(text, kind);
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.value - expected) / expected).toBeLessThan(1e-12);
  });

  it.each([
    ["fast", "bytes"],
    ["300", "bytes"], // no unit
    ["", "bytes"],
    ["300 GB", "bytes/s"], // wrong dimension
    ["80 GB", "seconds"],
    ["-5 GB", "bytes"], // negative
    ["NaN GB", "bytes"],
    ["80 Gb", "bytes"], // a size in bits: an eighth of the 80 GB meant (QA: loaded as 10 GB)
    ["64 Mbits", "bytes"],
  ] as const)("%j as %s is rejected with a message", (text, kind) => {
    const r = parseQuantity(text, kind);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message.length).toBeGreaterThan(0);
      expect(r.message).not.toContain("\n");
      expect(r.message).toContain(kind);
    }
  });
});

/** Every { value, source } object in a raw profile, with its path. */
function figures(node: unknown, path = ""): { path: string; fig: Record<string, unknown> }[] {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return [];
  const obj = node as Record<string, unknown>;
  if ("value" in obj) return [{ path, fig: obj }];
  return Object.entries(obj).flatMap(([k, v]) => figures(v, path ? `${path}.${k}` : k));
}

describe.each(builtinHardwareNames())("built-in hardware profile %s", (name) => {
  const raw = rawHardware(name);

  it("parses", () => {
    const r = parseHardwareFile(raw, `${name}.json`);
    expect(r.ok, r.ok ? "" : r.message).toBe(true);
  });

  it("names a source for every figure", () => {
    const figs = figures(raw);
    expect(figs.length).toBeGreaterThan(10);
    for (const { path, fig } of figs) {
      expect(typeof fig.source, `${name}: ${path}`).toBe("string");
      expect((fig.source as string).trim().length, `${name}: ${path}`).toBeGreaterThan(0);
    }
    const mm = (raw as { gpu: { matmulEfficiency: { source: string } } }).gpu.matmulEfficiency;
    expect(mm.source.trim().length).toBeGreaterThan(0);
    const r = parseHardwareFile(raw, `${name}.json`);
    if (!r.ok) throw new Error(r.message);
    for (const [field, source] of Object.entries(r.value.sources)) {
      expect(source, `${name}: ${field}`).not.toContain("no source given");
    }
  });

  it("has plausible positive figures", () => {
    const hw = hardware(name);
    expect(hw.memory).toBeGreaterThan(1e9);
    expect(hw.peak.bf16).toBeGreaterThan(0);
    expect(hw.intra.bandwidth).toBeGreaterThan(0);
    expect(hw.inter.bandwidth).toBeGreaterThan(0);
    expect(hw.gpusPerNode).toBeGreaterThanOrEqual(1);
    for (const [, e] of hw.matmul.points) expect(e).toBeLessThanOrEqual(1);
  });
});

describe("dgx-h100 datasheet figures", () => {
  const hw = hardware("dgx-h100");
  it("3.35 TB/s HBM3, 989 TFLOP/s dense bf16, 1979 fp8, 8 GPUs per node, 80 GB class memory", () => {
    // Memory is whatever the profile states (datasheet 80 GB, nvidia-smi 81559 MiB); both are
    // between 79 GiB and 86 GB.
    expect(hw.memory).toBeGreaterThanOrEqual(79 * 2 ** 30);
    expect(hw.memory).toBeLessThanOrEqual(86e9);
    expect(hw.memoryBandwidth).toBe(3.35e12);
    expect(hw.peak.bf16).toBe(989e12);
    expect(hw.peak.fp8).toBe(1979e12);
    expect(hw.gpusPerNode).toBe(8);
  });
});

describe("extends", () => {
  const lookup = (n: string) => rawHardware(n);
  const resolveAndParse = (raw: unknown) => {
    const merged = resolveExtends(raw, lookup, "mine.json");
    if (!merged.ok) return merged;
    return parseHardwareFile(merged.value, "mine.json");
  };

  it("a user profile overriding the memory of dgx-h100 gets 141 GB and everything else from the base", () => {
    const r = resolveAndParse({ name: "mine", extends: "dgx-h100", gpu: { memory: "141 GB" } });
    expect(r.ok, r.ok ? "" : r.message).toBe(true);
    if (!r.ok) return;
    const mine = r.value;
    const base = hardware("dgx-h100");
    expect(mine.name).toBe("mine");
    expect(mine.memory).toBe(141e9);
    const { name: _a, memory: _b, sources: _c, ...mineRest } = mine;
    const { name: _d, memory: _e, sources: _f, ...baseRest } = base;
    expect(mineRest).toEqual(baseRest);
    for (const [field, src] of Object.entries(base.sources)) {
      if (field !== "gpu.memory") expect(mine.sources[field]).toBe(src);
    }
  });

  it("a bad value in the override names its field", () => {
    const r = resolveAndParse({ name: "mine", extends: "dgx-h100", gpu: { memory: "141 parsecs" } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("gpu.memory");
  });

  // A zero fp16 peak gave NaN steps (and a simulation that deadlocked); a reserve above the memory
  // left nothing to plan in; two points at one FLOPs made the interpolation divide by zero.
  it("figures a time or capacity divides by: zero, an exhausting reserve, duplicate points are refused by field", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ gpu: { peak: { fp16: "0 TFLOP/s" } } }, /field "gpu\.peak\.fp16": "0 TFLOP\/s" must be above zero/],
      [{ gpu: { peak: { fp8: "0 TFLOP/s" } } }, /field "gpu\.peak\.fp8": "0 TFLOP\/s" must be above zero; .*or null for a precision the GPU lacks$/],
      [{ network: { bandwidth: "0 Gb/s" } }, /field "network\.bandwidth": "0 Gb\/s" must be above zero; give a GPU's network bandwidth from 12\.5 MB\/s to 200 GB\/s, like 400 Gb\/s$/],
      // Unit slips: a latency in seconds, a rate a million times NVLink's (both were priced).
      [{ network: { latency: "10 s" } }, /field "network\.latency" must be from 0 to 10 ms a hop/],
      [{ node: { link: { latency: "20 ms" } } }, /field "node\.link\.latency" must be from 0 to 10 ms a hop/],
      // (QA: the fabric tiers' latencies had no bound: "10 s" for NVLS's 25 us loaded and was priced)
      [{ fabric: { nvls: { efficiency: 0.6, latency: "10 s" } } }, /field "fabric\.nvls\.latency" must be from 0 to 10 ms a hop/],
      [{ fabric: { leaf: { gpus: 256, latency: "1e9 s" } } }, /field "fabric\.leaf\.latency" must be from 0 to 10 ms a hop/],
      [{ fabric: { sharp: { efficiency: 0.9, latency: "11 ms" } } }, /field "fabric\.sharp\.latency" must be from 0 to 10 ms a hop/],
      [{ network: { bandwidth: "1e30 GB/s" } }, /field "network\.bandwidth" is above 100 TB\/s/],
      [{ gpu: { reserve: "100 GiB" } }, /field "gpu\.reserve".*leaves nothing/],
      [{ gpu: { matmulEfficiency: { source: "test", points: [[1e9, 0.3], [1e9, 0.5], [1e12, 0.7]] } } }, /field "gpu\.matmulEfficiency\.points": two points at 1000000000 FLOPs/],
    ];
    for (const [override, message] of cases) {
      const r = resolveAndParse({ name: "mine", extends: "dgx-h100", ...override });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(message);
    }
  });

  // A 500 W cap on a part extending dgx-h100 (no ratedPower there) was read and then ignored:
  // the step stayed at 700 W's clocks. With both, efficiencies × (500/700)^(1/3) = 0.8939.
  it("a power limit needs the rated power beside it, and with it derates by the cube root", () => {
    for (const gpu of [{ powerLimit: 500 }, { ratedPower: 700 }]) {
      const r = resolveAndParse({ name: "mine", extends: "dgx-h100", gpu });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/^mine\.json: field "gpu\.(powerLimit|ratedPower)" needs "gpu\.(ratedPower|powerLimit)"[^\n]*$/);
    }
    const r = resolveAndParse({ name: "mine", extends: "dgx-h100", gpu: { powerLimit: 500, ratedPower: 700 } });
    expect(r.ok, r.ok ? "" : r.message).toBe(true);
    if (r.ok) expect(r.value.attentionEfficiency / hardware("dgx-h100").attentionEfficiency).toBeCloseTo(0.8939, 4);
  });

  // 1e9 GPUs a node planned a one-node cluster of 1e9 GPUs, past the --gpus bound (2^20).
  it("gpusPerNode is bounded as --gpus is", () => {
    const r = resolveAndParse({ name: "mine", extends: "dgx-h100", node: { gpusPerNode: 1e9 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^mine\.json: field "node\.gpusPerNode".*1,048,576/);
    // (on h800, which has no run.nodePower: dgx-h100's 10.2 kW holds 8 × 700 W, not 1,048,576 ×,
    // test/planner/hardware-consistency.test.ts)
    expect(resolveAndParse({ name: "mine", extends: "h800", node: { gpusPerNode: 1_048_576 } }).ok).toBe(true);
  });

  it("an unknown base is an error naming extends and the base", () => {
    const r = resolveExtends({ name: "mine", extends: "dgx-z900" }, lookup, "mine.json");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain("extends");
      expect(r.message).toContain("dgx-z900");
      expect(r.message).not.toContain("\n");
    }
  });

  it("a loop is an error naming extends", () => {
    const loop: Record<string, unknown> = {
      a: { name: "a", extends: "b" },
      b: { name: "b", extends: "a" },
      self: { name: "self", extends: "self" },
    };
    for (const start of ["a", "self"]) {
      const r = resolveExtends({ name: "mine", extends: start }, (n) => loop[n], "mine.json");
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).toContain("extends");
        expect(r.message).not.toContain("\n");
      }
    }
  });
});
