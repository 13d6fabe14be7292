// Helpers for the CLI tests: run main() in-process with captured output, temp files.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Each io.err call, one entry per call. */
  errCalls: string[];
}

export async function runCli(argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n"), errCalls: err };
}

let dir: string | undefined;
/** Write a file under a fresh directory in os.tmpdir(); returns its path. */
export function tempFile(name: string, content: string): string {
  dir ??= mkdtempSync(join(tmpdir(), "paraplan-test-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Remove the temp directory (call from afterAll). */
export function removeTempFiles(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** A one-line user error: a single line, no stack frames. */
export function isOneLine(stderr: string): boolean {
  const lines = stderr.replace(/\n$/, "").split("\n");
  return lines.length === 1 && lines[0]!.length > 0 && !/^\s+at /m.test(stderr);
}

export const PLAN_KEYS = [
  "tp",
  "pp",
  "dp",
  "cp",
  "ep",
  "etp",
  "vpp",
  "zero",
  "microBatch",
  "recompute",
  "sequenceParallel",
  "schedule",
  "memory",
  "worstStage",
  "time",
  "tokensPerSecond",
  "tflopsPerGpu",
  "mfu",
  "hfu",
].sort();
export const MEMORY_KEYS = ["weights", "gradients", "optimizer", "activations", "other", "total", "capacity"].sort();
// epComm: the expert-parallel all-to-alls (issue 13; 0 for a dense model); cpComm: the
// context-parallel K/V exchange (issue 14; 0 without cp).
export const TIME_KEYS = ["compute", "recompute", "tpComm", "ppComm", "epComm", "cpComm", "bubble", "dpComm", "optimizer", "step"].sort();
export const MODEL_KEYS = ["name", "params", "layers", "hidden", "heads", "kvHeads", "ffnHidden", "vocab", "seqLen"].sort();
export const CLUSTER_KEYS = ["profile", "gpus", "gpusPerNode", "intraNodeLink", "networkPerGpu"].sort();
export const TOP_KEYS = ["model", "cluster", "globalBatch", "searched", "feasible", "rejected", "elapsedMs", "plans"];
