// The plans a compiling engine runs eager (Engine.eager, an engine file's `eager` block): paraplan's
// worker compiles each block with torch.compile, but not a zero-bubble stage, a context-parallel
// block or a mixture-of-experts block (executor/worker/compile.py eager_reason). Such a plan is
// priced with the eager engine the file names, everywhere a plan is priced (evaluate.ts, the
// search, the simulator), so that `plan`, `export` and `execute` give it one figure; the launcher
// reads the same block (executor/compile-mode.ts).
import type { Engine } from "./engine.js";
import { ZERO_BUBBLE } from "./layout/capabilities.js";
import type { FigureIn } from "./schema/figure.js";
import type { ModelSpec, Plan, Training } from "./types.js";

/** What an engine cannot compile, in the order compile.py checks them. */
export const EAGER_CASES = ["zero-bubble", "context-parallel", "mixture-of-experts"] as const;
export type EagerCase = (typeof EAGER_CASES)[number];

/** An engine's eager fallback: the engine (a built-in's name or a file) whose figures price the
 *  plans it runs eager, `when` says which; `engine` is that engine once loaded (src/load-engine.ts). */
export interface EagerFallback {
  name: string;
  when: readonly EagerCase[];
  engine?: Engine;
}

/** Why a plan of this model runs eager (compile.py eager_reason's words), per case. */
const REASONS: Record<EagerCase, (p: Pick<Plan, "schedule">) => string> = {
  // Zero-bubble schedules split each stage's backward into input- and weight-gradient passes
  // (torch.distributed.pipelining stage_backward_input/_weight); a compiled (AOTAutograd) region
  // has one opaque backward.
  "zero-bubble": (p) => `schedule ${p.schedule}: torch cannot compile zero-bubble stages (split backward)`,
  // context.py gathers K/V with an autograd collective a fullgraph block cannot trace.
  "context-parallel": () => "context parallel attention gathers K/V with an autograd collective; cp blocks run eager",
  // moe.py routes with data-dependent shapes (nonzero, bincount, the all-to-all's split sizes).
  "mixture-of-experts": () => "mixture-of-experts blocks route tokens with data-dependent shapes; they run eager",
};

/** The first case of `when` that holds for this plan of this model, or null (it compiles). */
export function eagerCase(when: readonly EagerCase[], plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): EagerCase | null {
  for (let i = 0; i < when.length; i++) {
    const c = when[i]!;
    if (c === "zero-bubble" ? plan.pp > 1 && ZERO_BUBBLE.has(plan.schedule) : c === "context-parallel" ? plan.cp > 1 : model.moe !== undefined) return c;
  }
  return null;
}

/** Why `plan` runs eager under `when`, in compile.py's order and words, or null. */
export function eagerReasonOf(when: readonly EagerCase[], plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): string | null {
  // (checked in EAGER_CASES's order whatever the file lists first: compile.py's reason is the first it meets)
  const c = eagerCase(EAGER_CASES.filter((k) => when.includes(k)), plan, model);
  return c === null ? null : REASONS[c](plan);
}

/** Why every plan of this model runs eager (a model-wide case: mixtures of experts), or null. */
export const modelEagerReasonOf = (when: readonly EagerCase[], model: Pick<ModelSpec, "moe">): string | null =>
  when.includes("mixture-of-experts") && model.moe !== undefined ? REASONS["mixture-of-experts"]({ schedule: "1f1b" }) : null;

/** The loaded eager engine of `e`; an engine whose fallback was never loaded is a caller's bug
 *  (src/load-engine.ts loads it with the engine), not a figure to guess. */
export function eagerEngineOf(e: Engine): Engine {
  const f = e.eager!;
  if (f.engine === undefined) throw new Error(`internal: engine ${e.name}'s eager engine ${f.name} was not loaded with it`);
  return f.engine;
}

/** The training `plan` runs under: `t` itself, or `t` on its engine's eager engine where the plan
 *  runs eager. */
export function runsAs<T extends Training>(m: Pick<ModelSpec, "moe">, t: T, plan: Pick<Plan, "pp" | "cp" | "schedule">): T {
  const e = t.engine;
  if (e?.eager === undefined || eagerCase(e.eager.when, plan, m) === null) return t;
  return { ...t, engine: eagerEngineOf(e) };
}

/** How a plan runs where that is not its training's engine: the eager engine and why, or null. */
export function eagerRun(m: Pick<ModelSpec, "moe">, t: Training, plan: Pick<Plan, "pp" | "cp" | "schedule">): { engine: string; reason: string } | null {
  const f = t.engine?.eager;
  const reason = f === undefined ? null : eagerReasonOf(f.when, plan, m);
  return reason === null ? null : { engine: f!.engine?.name ?? f!.name, reason };
}

/** An engine file's `eager` block → EagerFallback (its shape checked by the file's schema,
 *  schema/engine.ts; the launcher reads the built-in's block with it too). */
export function parseEager(block: { engine: FigureIn<string>; when: FigureIn<readonly string[]> }, fig: <T>(path: string, x: FigureIn<T>) => T): EagerFallback {
  const when = fig("eager.when", block.when);
  const unknown = when.find((c) => !(EAGER_CASES as readonly string[]).includes(c));
  if (unknown !== undefined) throw new Error(`field "eager.when": "${unknown}" is not one of ${EAGER_CASES.join(", ")}`);
  return { name: fig("eager.engine", block.engine), when: [...new Set(when as EagerCase[])] };
}
