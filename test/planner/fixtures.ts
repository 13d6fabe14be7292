// Shared test fixtures: built-in presets and profiles read from disk the way a user's file is,
// plus small helpers for relative comparisons. Not a test file (no .test.ts suffix).
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { parseHardwareFile, resolveExtends } from "../../planner/schema/hardware.js";
import { parseModelFile } from "../../planner/schema/model.js";
import type { Hardware, ModelSpec, Training } from "../../planner/types.js";
import type { RunInputs } from "../../planner/run/types.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const MODELS_DIR = join(ROOT, "profiles", "models");
export const HARDWARE_DIR = join(ROOT, "profiles", "hardware");

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Built-in hardware profile names (files in profiles/hardware, without machine-local ones). */
export function builtinHardwareNames(): string[] {
  return readdirSync(HARDWARE_DIR)
    .filter((f) => f.endsWith(".json") && !f.startsWith("local-"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A built-in profile's file as it is on disk. */
export function fileHardware(name: string): unknown {
  try {
    return readJson(join(HARDWARE_DIR, `${name}.json`));
  } catch {
    return undefined;
  }
}

/** A built-in profile as the loader sees it: its `extends` and `sameAs` figures resolved. */
export function rawHardware(name: string): unknown {
  const file = fileHardware(name);
  if (file === undefined) return undefined;
  const r = resolveExtends(file, fileHardware, `${name}.json`);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

export function preset(name: string): ModelSpec {
  const r = parseModelFile(readJson(join(MODELS_DIR, `${name}.json`)), `${name}.json`);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

export function hardware(name: string): Hardware {
  const r = parseHardwareFile(rawHardware(name), `${name}.json`);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** A profile with its fabric taken away (DGX H100 without NVLS): one node link, one flat network,
 *  each group on the profile's own link objects, for tests of the plain placement. */
export function withoutFabric(hw: Hardware): Hardware {
  const { fabric: _fabric, ...plain } = hw;
  return plain;
}

/** Build a model through the real file parser (so defaults apply as for a user's file). */
export function model(fields: Record<string, unknown>): ModelSpec {
  const r = parseModelFile({ name: "test", ...fields }, "test.json");
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** |actual − expected| ≤ rel·|expected|. */
export function expectRel(actual: number, expected: number, rel: number): void {
  expect(Number.isFinite(actual), `actual ${actual} is not finite`).toBe(true);
  const err = Math.abs(actual - expected) / Math.abs(expected);
  expect(err, `actual ${actual} vs expected ${expected} (relative error ${err})`).toBeLessThanOrEqual(rel);
}

/** A bf16 run with fused attention and overlapped gradient reduction (no engine: every schedule). */
export const bf16Training = (gpus: number, globalBatch: number, seqLen: number): Training => ({
  gpus,
  globalBatch,
  seqLen,
  precision: "bf16",
  fusedAttention: true,
  overlapGradReduce: true,
});

// meta-llama/Llama-2-7b-hf config.json (HuggingFace hub), with rope_theta as in later revisions.
export const LLAMA2_7B_CONFIG = {
  _name_or_path: "meta-llama/Llama-2-7b-hf",
  architectures: ["LlamaForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 4096,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: "float16",
  transformers_version: "4.31.0.dev0",
  use_cache: true,
  vocab_size: 32000,
};

/** A whole run in round figures (planner/run): 1,000 GPUs, 1e-4 failures per GPU-hour (job MTBF
 *  10 h), 1 TB of checkpoint at 10 GB/s, a 10 min restart. */
export const RUN_BASE: RunInputs = {
  tokens: 1e10,
  gpus: 1000,
  tokensPerStep: 1e6,
  powerPerGpu: 500,
  pue: 1.2,
  price: 2,
  failuresPerGpuHour: 1e-4,
  checkpointBytes: 1e12,
  checkpointBytesPerGpu: 1e9,
  checkpointBandwidth: 1e10,
  stagingBandwidth: 1e10,
  restartTime: 600,
  mode: "sync",
};
