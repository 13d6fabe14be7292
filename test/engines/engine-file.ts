// An engine file that extends megatron-core with `over`, parsed as a user's file is (resolveExtends
// over the built-ins, then parseEngineFile), and a parse result's message ("" when it parsed).
import { parseEngineFile, resolveExtends } from "../../planner/index.js";
import { builtinEngineRaw } from "../../src/load-engine.js";

export function engineOver(over: Record<string, unknown>) {
  const merged = resolveExtends({ name: "mine", extends: "megatron-core", ...over }, builtinEngineRaw, "mine.json");
  if (!merged.ok) return merged;
  return parseEngineFile(merged.value, "mine.json");
}

export const message = (r: { ok: boolean; message?: string }) => (r.ok ? "" : r.message);
