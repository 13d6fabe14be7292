// How the worker ran the plan (PROTOCOL.md `execution` in the start and summary events): compiled
// per block or eager, the compile time it reported apart from the step time, and the fast paths it
// took (AdamW kernel, attention backend that ran, FSDP2 mixed precision, Float8 linears). The
// summary carries it so a run can be compared with the engine profile that describes it: eager →
// `paraplan`, compiled → `paraplan-compile`.

export interface ExecutionReport {
  mode: "compiled" | "eager";
  /** The engine profile describing this worker's execution mode. */
  engine: "paraplan" | "paraplan-compile";
  compileRequested: boolean | null;
  /** Why a run asked to compile ran eager. */
  eagerReason: string | null;
  compiledBlocks: number | null;
  /** Seconds: the warm-up step's time beyond the timed mean (excluded from the step time). */
  compileTime: number | null;
  /** Seconds TorchDynamo itself recorded compiling, when the worker's torch reports it. */
  dynamoCompileTime: number | null;
  /** fused | foreach | forloop. */
  optimizer: string | null;
  /** The attention kernels dispatched: flash, cudnn, efficient, math, flash-cpu. */
  sdpaBackends: string[];
  sdpaSource: string | null;
  fsdpMixedPrecision: string | null;
  float8Linears: number | null;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === "string" ? x : null);

/** The worker's `execution` object (from the summary's extra figures), or null when it sent none
 *  (a worker older than this field). */
export function executionOf(extra: Record<string, unknown> | undefined): ExecutionReport | null {
  const e = extra?.execution;
  if (!isObj(e)) return null;
  const mode = e.mode === "compiled" ? "compiled" : "eager";
  return {
    mode,
    engine: mode === "compiled" ? "paraplan-compile" : "paraplan",
    compileRequested: typeof e.compileRequested === "boolean" ? e.compileRequested : null,
    eagerReason: str(e.eagerReason),
    compiledBlocks: num(e.compiledBlocks),
    compileTime: num(e.compileTime),
    dynamoCompileTime: num(e.dynamoCompileTime),
    optimizer: str(e.optimizer),
    sdpaBackends: Array.isArray(e.sdpaBackends) ? e.sdpaBackends.filter((b): b is string => typeof b === "string") : [],
    sdpaSource: str(e.sdpaSource),
    fsdpMixedPrecision: str(e.fsdpMixedPrecision),
    float8Linears: num(e.float8Linears),
  };
}

const secs = (s: number) => (s >= 1 ? `${s.toFixed(1)} s` : `${(s * 1000).toFixed(0)} ms`);

/** One line for the run's text summary. */
export function executionLine(e: ExecutionReport): string {
  const parts: string[] = [];
  if (e.mode === "compiled") {
    const t = e.compileTime === null ? "compile time unknown" : `compile ${secs(e.compileTime)}, excluded from the step time`;
    parts.push(`compiled per block (${e.compiledBlocks ?? "?"} blocks; ${t})`);
  } else parts.push(e.eagerReason ? `eager (${e.eagerReason})` : "eager");
  if (e.optimizer) parts.push(`AdamW ${e.optimizer}`);
  if (e.sdpaBackends.length) parts.push(`attention ${e.sdpaBackends.join("+")}`);
  if (e.fsdpMixedPrecision) parts.push(`FSDP2 ${e.fsdpMixedPrecision}`);
  if (e.float8Linears !== null) parts.push(`${e.float8Linears} Float8 linears (torchao)`);
  return `execution: ${parts.join(" · ")} — engine profile ${e.engine}`;
}
