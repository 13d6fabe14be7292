// Shared by the HuggingFace config.json tests: the recorded configs (test/planner/hf/), and a parse
// that must succeed or fail with one line.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { parseHfConfig } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";

const HF = join(dirname(fileURLToPath(import.meta.url)), "hf");

/** A recorded config.json by file name. */
export const raw = (name: string) => JSON.parse(readFileSync(join(HF, name), "utf8")) as Record<string, unknown>;

export const ok = (r: ReturnType<typeof parseHfConfig>): ModelSpec => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

/** The refusal's message, which must be one line. */
export const fail = (r: ReturnType<typeof parseHfConfig>): string => {
  expect(r.ok).toBe(false);
  const m = (r as { message: string }).message;
  expect(m.split("\n")).toHaveLength(1);
  return m;
};
