// What a refusal of --engine for a model suggests instead (planner/constraints.ts engineHint): the
// built-in engines that build every part of the model, not only the part refused — olmoe-1b-7b's
// refusals named "megatron-core, paraplan" for its experts, both of which refuse its query/key norms
// over the whole projections — or, where none does, that none does and what an engine file states.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { checkTraining, modelGaps } from "../../planner/constraints.js";
import type { Engine } from "../../planner/engine.js";
import type { Training } from "../../planner/types.js";
import { loadBuiltinEngines, loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { isOneLine, runCli } from "../cli/helpers.js";

const h100 = hardware("dgx-h100");
const ALL = loadBuiltinEngines();
const engine = (name: string): Engine => loadEngine(name, undefined);
const training = (e: Engine): Training => ({ gpus: 64, globalBatch: 64, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
const check = (model: string, name: string) => checkTraining(preset(model), h100, training(engine(name)), () => ALL);

/** The profile's supports key as written, following `extends` (profiles/engines/*.json). */
function supports(name: string, key: string): unknown {
  const raw = JSON.parse(readFileSync(new URL(`../../profiles/engines/${name}.json`, import.meta.url), "utf8")) as { extends?: string; supports?: Record<string, { value: unknown }> };
  const own = raw.supports?.[key];
  return own !== undefined ? own.value : raw.extends ? supports(raw.extends, key) : undefined;
}
const NAMES = readdirSync(new URL("../../profiles/engines/", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();

describe("the engines a refusal suggests build every part of the model", () => {
  it("the catalogue is every built-in profile", () => {
    expect(ALL.map((e) => e.name).sort()).toEqual(NAMES);
  });

  it("mixtral-8x7b under torchtitan: the engines whose profile runs expert parallel, as their files say", () => {
    // (absent: Megatron-Core's default, true; paraplan-compile extends paraplan)
    const withExperts = NAMES.filter((n) => (supports(n, "expertParallel") ?? true) === true);
    expect(withExperts).toEqual(["megatron-core", "paraplan", "paraplan-compile"]);
    const i = check("mixtral-8x7b", "torchtitan");
    expect(i?.hint).toBe(`pick an engine that builds every part of mixtral-8x7b (${withExperts.join(", ")}), or a profile that extends torchtitan and sets supports.expertParallel`);
  });

  it("llama2-7b under megatron-2021 lacks rotary positions and SwiGLU: both keys, and the engines that build both", () => {
    const i = check("llama2-7b", "megatron-2021");
    expect(i?.message).toMatch(/^llama2-7b has rotary positions; engine megatron-2021 builds learned positions only \(.*v2\.6.*\)$/);
    expect(i?.hint).toBe("pick an engine that builds every part of llama2-7b (fsdp, megatron-core, megatron-deepspeed, paraplan, paraplan-compile, torchtitan, torchtitan-compile), or a profile that extends megatron-2021 and sets supports.positional and supports.mlp");
  });

  it("without a catalogue (the planner alone) the hint names no engine", () => {
    expect(checkTraining(preset("llama2-7b"), h100, training(engine("megatron-2021")))?.hint).toBe("pick an engine that builds it, or a profile that extends megatron-2021 and sets supports.positional and supports.mlp");
  });

  it("an engine the hint names builds the model: checkTraining passes under it", () => {
    for (const model of ["mixtral-8x7b", "llama2-7b", "qwen3-30b-a3b", "deepseek-v3", "olmoe-1b-7b"])
      for (const e of ALL) {
        const i = checkTraining(preset(model), h100, training(e), () => ALL);
        const named = i?.hint?.match(/every part of [^ ]+ \(([^)]+)\)/)?.[1]?.split(", ") ?? [];
        for (const other of named) expect(modelGaps(preset(model), ALL.find((x) => x.name === other)!), `${model}: ${e.name} names ${other}`).toEqual([]);
        if (i?.code === "engine_unsupported" && i.flag === "--engine" && named.length === 0) expect(i.hint, `${model} under ${e.name}`).toMatch(/^no built-in engine builds every part of /);
      }
  });
});

describe("olmoe-1b-7b: experts and query/key norms over the whole projections", () => {
  it("each engine's refusal names only engines that build both, or says none does with every key its profile lacks", async () => {
    const builders = ALL.filter((e) => modelGaps(preset("olmoe-1b-7b"), e).length === 0).map((e) => e.name);
    for (const name of NAMES) {
      const r = await runCli(["plan", "--model", "olmoe-1b-7b", "--gpus", "64", "--engine", name]);
      if (builders.includes(name)) {
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
        continue;
      }
      expect(r.code, name).toBe(2);
      expect(isOneLine(r.stderr)).toBe(true);
      const keys = modelGaps(preset("olmoe-1b-7b"), engine(name)).map((g) => `supports.${g.key}`);
      if (builders.length === 0) expect(r.stderr, name).toContain(`no built-in engine builds every part of olmoe-1b-7b; an engine file that extends ${name} and sets ${keys.length > 1 ? `${keys.slice(0, -1).join(", ")} and ${keys.at(-1)}` : keys[0]}`);
      else expect(r.stderr, name).toContain(`pick an engine that builds every part of olmoe-1b-7b (${builders.filter((b) => b !== name).join(", ")})`);
      // (the refused part first: experts where the stack has none, else the norms)
      expect(keys[0], name).toBe((supports(name, "expertParallel") ?? true) === true ? "supports.qkNorm" : "supports.expertParallel");
    }
  });
});
