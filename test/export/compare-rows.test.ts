// `plan --from`'s comparison table has a row for every dimension the plans are told apart by: ep
// and etp for a mixture of experts, cp where context parallel was searched or either plan has it,
// as the plan table's columns (QA: a DeepSeek-V3 file at ep 16 showed "yours" and "best found"
// alike in every row, 46.83 s against 38.25 s, with only "changes: ep 16 → 8" saying why).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../cli/helpers.js";
import { tempDir } from "../tmp-dirs.js";

/** The table's rows: name → [yours, best found]. */
function rows(text: string): Map<string, [string, string]> {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^\s+yours\s+best found$/.test(l));
  const out = new Map<string, [string, string]>();
  for (const l of lines.slice(head + 2)) {
    if (l.trim() === "") break;
    const [name, yours, best] = l.split(/\s{2,}/);
    out.set(name!, [yours!, best!]);
  }
  return out;
}

const DIMENSION_ROW: Record<string, string> = { tp: "tp", cp: "cp", cpComm: "cp", cpSplit: "cp", pp: "pp", stageLayers: "pp", vpp: "vpp", dp: "dp", ep: "ep", etp: "etp", zero: "zero", microBatch: "micro-batch", recompute: "recompute", sequenceParallel: "sequence parallel", schedule: "schedule" };
const FIGURES = ["memory/GPU (of cap.)", "step", "tokens/s", "MFU"];

/** An exported Megatron file with one argument line changed, compared: the text's rows and --json. */
async function compared(exportArgs: string[], from: RegExp, to: string, planArgs: string[]) {
  const dir = tempDir("paraplan-compare-rows-");
  const exported = await runCli(["export", "--format", "megatron", ...exportArgs, "--out", dir]);
  expect(exported.code, exported.stderr).toBe(0);
  const path = join(dir, "megatron-args.txt");
  const text = readFileSync(path, "utf8");
  expect(text).toMatch(from);
  writeFileSync(path, text.replace(from, to));
  const argv = ["plan", ...planArgs, "--from", path, "--simulate-top", "0"];
  const [t, j] = [await runCli(argv), await runCli([...argv, "--json"])];
  expect([t.code, j.code], t.stderr).toEqual([0, 0]);
  return { table: rows(t.stdout), json: JSON.parse(j.stdout) as { from: { plan: Record<string, unknown>; changes: { dimension: string }[] }; plans: Record<string, unknown>[] } };
}

/** The rows whose cells differ are those of the dimensions that change, and the other way round. */
function rowsMatchChanges(table: Map<string, [string, string]>, changes: { dimension: string }[]) {
  const differing = [...table].filter(([name, [a, b]]) => !FIGURES.includes(name) && a !== b).map(([name]) => name);
  expect(new Set(differing)).toEqual(new Set(changes.map((c) => DIMENSION_ROW[c.dimension])));
}

describe("plan --from: the comparison's rows", () => {
  it("a mixture of experts: ep and etp after dp; DeepSeek-V3's file at ep 16 differs from the best plan in its ep row", async () => {
    const { table, json } = await compared(["--model", "deepseek-v3", "--gpus", "2048"], /^--expert-model-parallel-size 8$/m, "--expert-model-parallel-size 16", ["--model", "deepseek-v3", "--gpus", "2048"]);
    expect([...table.keys()].slice(0, 7)).toEqual(["tp", "pp", "vpp", "dp", "ep", "etp", "zero"]);
    const best = json.plans[0]!;
    expect(table.get("ep")).toEqual(["16", String(best.ep)]);
    expect(table.get("etp")).toEqual([String(json.from.plan.etp), String(best.etp)]);
    expect(json.from.changes.map((c) => c.dimension)).toEqual(["ep"]);
    rowsMatchChanges(table, json.from.changes);
  });

  it("context parallel: a cp row after tp with the degree and the exchange; a 131,072-token Llama at cp 8 against the best's", async () => {
    const { table, json } = await compared(["--model", "llama3-8b", "--gpus", "64", "--seq", "131072", "--global-batch", "64"], /^--context-parallel-size 16$/m, "--context-parallel-size 8", ["--model", "llama3-8b", "--gpus", "64"]);
    expect([...table.keys()].slice(0, 5)).toEqual(["tp", "cp", "pp", "vpp", "dp"]);
    expect(table.has("ep")).toBe(false);
    const best = json.plans[0]!;
    expect(table.get("cp")).toEqual([`8 ${json.from.plan.cpComm}`, `${best.cp} ${best.cpComm}`]);
    rowsMatchChanges(table, json.from.changes);
  });

  it("a dense model without context parallel: the rows as before", async () => {
    const { table, json } = await compared(["--model", "gpt3-1.3b", "--gpus", "8"], /^--tensor-model-parallel-size 1$/m, "--tensor-model-parallel-size 2", ["--model", "gpt3-1.3b", "--gpus", "8"]);
    expect([...table.keys()]).toEqual(["tp", "pp", "vpp", "dp", "zero", "micro-batch", "recompute", "sequence parallel", "schedule", ...FIGURES]);
    rowsMatchChanges(table, json.from.changes);
  });
});
