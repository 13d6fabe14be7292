// Helpers for the export tests: recorded name lists, the names an exported file uses, plans and
// trainings to export, temp files and an in-process CLI. Not a test file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CpComm, CpSplit, Hardware, ModelSpec, Plan, Training } from "../../planner/index.js";
import { expect } from "vitest";
import { main } from "../../src/cli.js";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { loadModel, loadProfile } from "../../src/load.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const fixture = (name: string) => join(FIXTURES, name);

/** A recorded list: its non-comment lines. */
export function recorded(name: string): Set<string> {
  return new Set(readFileSync(fixture(name), "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")));
}

/** `--flag` of every argument line (comments skipped). */
export function argFlags(content: string): string[] {
  return content.split("\n").filter((l) => l.startsWith("--")).map((l) => l.split(" ")[0]!);
}

/** The value of `--flag` in an arguments file, "" for a bare flag, undefined when absent. */
export function argValue(content: string, flag: string): string | undefined {
  const line = content.split("\n").find((l) => l === flag || l.startsWith(`${flag} `));
  return line === undefined ? undefined : line.slice(flag.length + 1);
}

/** Nested JSON keys joined with '.' (arrays and scalars are leaves). */
export function jsonKeys(o: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) => {
    const key = prefix + k;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? [key, ...jsonKeys(v as Record<string, unknown>, `${key}.`)] : [key];
  });
}

/** `section.key` of a one-level TOML table. */
export function tomlKeys(t: Record<string, unknown>): string[] {
  return Object.entries(t).flatMap(([s, v]) => Object.keys(v as object).map((k) => `${s}.${k}`));
}

/** `section.key` of `--section.key value` overrides (`--section.no_key` is the key set false). */
export function overrideKeys(content: string): string[] {
  return argFlags(content).map((f) => f.slice(2).replace(/\.no_/, "."));
}

export const LLAMA = "llama3-70b";
export const GPT = "gpt3-175b";
/** Llama 2 70B: Llama 3 70B's layout (80 layers, 64 heads, 8 kv heads) with RoPE base 10,000, the
 *  one Megatron-LM core_v0.7 is fixed at (it has no --rotary-base and refuses Llama 3). */
export const LLAMA2 = "llama2-70b";

/** The two models an export matrix covers: GPT-3 and the Llama the release can express. */
export function matrixModels(format: string, release?: string): string[] {
  return [GPT, format === "megatron" && release === "core_v0.7" ? LLAMA2 : LLAMA];
}
export const model = (name: string): ModelSpec => loadModel(name);
export const h100: Hardware = loadProfile("dgx-h100");
export const pcie: Hardware = loadProfile("h100-pcie");

export function training(over: Partial<Training> = {}): Training {
  return { gpus: 64, globalBatch: 512, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...over };
}

export function plan(over: Partial<Plan>): Plan {
  const p: Plan = { tp: 1, pp: 1, dp: 64, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...over };
  return { ...p, dp: 64 / (p.tp * p.pp) };
}

/** A 64-GPU plan with context parallel (tp 2, ZeRO-1 unless overridden): dp fills what tp·pp·cp leave. */
export function cpPlan(cp: number, cpComm: CpComm, cpSplit: CpSplit, over: Partial<Plan> = {}): Plan {
  const p: Plan = { tp: 2, pp: 1, dp: 1, cp, cpComm, cpSplit, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...over };
  return { ...p, dp: 64 / (p.tp * p.pp * p.cp) };
}

/** Layouts valid for both GPT-3 175B (96 layers, 96 heads) and Llama 3 70B (80 layers, 64 heads, 8 kv). */
export const PLANS: Plan[] = [
  plan({}),
  plan({ tp: 8, pp: 4, vpp: 2, zero: 1, recompute: "full", sequenceParallel: true, schedule: "interleaved" }),
  plan({ tp: 4, pp: 2, zero: 1, microBatch: 2, recompute: "selective", sequenceParallel: true }),
  plan({ tp: 2, zero: 2, recompute: "selective" }),
  plan({ zero: 3, microBatch: 2, recompute: "full" }),
  plan({ tp: 8, pp: 8, schedule: "gpipe" }),
  plan({ tp: 8, pp: 2, zero: 0, recompute: "full" }),
  plan({ tp: 2, pp: 4, vpp: 4, zero: 1, sequenceParallel: false, schedule: "interleaved" }),
];

export const TRAININGS: Training[] = [
  training(),
  training({ precision: "fp16", fusedAttention: false, overlapGradReduce: false, seqLen: 4096 }),
  training({ precision: "fp8", globalBatch: 1024 }),
];

let dir: string | undefined;
export function tempDir(): string {
  dir ??= mkdtempSync(join(tmpdir(), "paraplan-export-"));
  return dir;
}
export function tempFile(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}
export function removeTemp(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  errLines: string[];
}

export async function cli(argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n"), errLines: err };
}

/** The message of the ExportRefused that `f` throws (fails the test when it throws nothing else). */
export function refusalMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ExportRefused);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

/** `plan … --json --top 1` without the simulation, parsed; exit 0 expected. */
export async function planJson<T>(argv: string[]): Promise<T> {
  const r = await cli(["plan", ...argv, "--json", "--top", "1", "--simulate-top", "0"]);
  if (r.code !== 0) throw new Error(`plan ${argv.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `plan …`'s one stderr line, where it exits 2 with one; throws otherwise. */
export async function refusedLine(argv: string[]): Promise<string> {
  const r = await cli(["plan", ...argv]);
  if (r.code !== 2 || r.errLines.length !== 1) throw new Error(`plan ${argv.join(" ")}: exit ${r.code}, ${r.errLines.length} error lines\n${r.stdout}${r.stderr}`);
  return r.errLines[0]!;
}
