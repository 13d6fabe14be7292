// --engine on the command line: plan, export, plan --from (issue 12 §1).
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "../cli/helpers.js";
import { fixture } from "../export/helpers.js";

afterAll(removeTempFiles);

const SMALL = ["--model", "gpt3-125m", "--gpus", "8", "--global-batch", "64", "--micro-batch", "1", "--top", "1"];

describe("plan --engine", () => {
  it("names the engine in the header and in --json; megatron-core by default", async () => {
    const text = await runCli(["plan", ...SMALL]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[2]).toBe("engine megatron-core (default)");
    const json = await runCli(["plan", ...SMALL, "--json"]);
    expect(JSON.parse(json.stdout).engine).toBe("megatron-core");
    const fsdp = await runCli(["plan", ...SMALL, "--engine", "fsdp", "--json"]);
    expect(JSON.parse(fsdp.stdout).engine).toBe("fsdp");
    const t = await runCli(["plan", ...SMALL, "--engine", "fsdp"]);
    expect(t.stdout).toContain("\nengine fsdp (--engine)\n");
  });

  it("an eager engine predicts a slower step at micro-batch 1", async () => {
    const step = async (engine: string) => JSON.parse((await runCli(["plan", ...SMALL, "--engine", engine, "--json"])).stdout).plans[0].time.step as number;
    expect(await step("fsdp")).toBeGreaterThan(await step("megatron-core"));
  });

  it("a dimension the engine's stack does not run is exit 2 naming the flag; the search leaves it out", async () => {
    const r = await runCli(["plan", ...SMALL, "--engine", "fsdp", "--tp", "2"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^paraplan: --tp: engine fsdp does not run tensor parallel \(tp 2\) \(llm-foundry/);
    const searched = JSON.parse((await runCli(["plan", "--model", "gpt3-125m", "--gpus", "8", "--global-batch", "64", "--top", "50", "--engine", "fsdp", "--json"])).stdout).plans as { tp: number; pp: number; zero: number }[];
    expect(searched.length).toBeGreaterThan(1);
    for (const p of searched) expect([p.tp, p.pp, [0, 2, 3].includes(p.zero)]).toEqual([1, 1, true]);
  });

  it("an unknown name is exit 2, naming it and the built-ins", async () => {
    const r = await runCli(["plan", ...SMALL, "--engine", "megatron-1999"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain('--engine: unknown engine "megatron-1999"');
    expect(r.stderr).toContain("fsdp, megatron-2021, megatron-core, megatron-deepspeed, paraplan, paraplan-compile, torchtitan, torchtitan-compile");
  });

  it("a file: extends a built-in; a bad unit or an unknown field is exit 2 naming it", async () => {
    const good = tempFile("mine.json", JSON.stringify({ name: "mine", extends: "torchtitan", launch: { perKernel: { value: "20 us", source: "measured" } } }));
    const r = await runCli(["plan", ...SMALL, "--engine", good, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).engine).toBe("mine");
    const unit = tempFile("unit.json", JSON.stringify({ name: "u", extends: "fsdp", launch: { perKernel: "8 parsecs" } }));
    const u = await runCli(["plan", ...SMALL, "--engine", unit]);
    expect(u.code).toBe(2);
    expect(isOneLine(u.stderr)).toBe(true);
    expect(u.stderr).toContain('unit.json: field "launch.perKernel"');
    const field = tempFile("field.json", JSON.stringify({ name: "f", extends: "fsdp", launch: { perKernal: "8 us" } }));
    const f = await runCli(["plan", ...SMALL, "--engine", field]);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('unknown field "perKernal" in "launch"');
  });

  it("--moe-imbalance for a dense model is exit 2: it would change nothing", async () => {
    const r = await runCli(["plan", ...SMALL, "--moe-imbalance", "1.5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--moe-imbalance: gpt3-125m is a dense model (no experts)");
  });

  it("--attention and --no-grad-overlap override the engine and say so", async () => {
    const r = await runCli(["plan", ...SMALL, "--engine", "megatron-core", "--attention", "unfused", "--no-grad-overlap"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("unfused attention");
    expect(r.stdout).toContain("engine megatron-core (--engine; attention unfused; gradient reduction after backward)");
    // --json said only "engine": "megatron-core", the same as without the overrides.
    const json = async (...extra: string[]) => {
      const j = JSON.parse((await runCli(["plan", ...SMALL, "--engine", "megatron-core", "--json", ...extra])).stdout);
      return [j.engine, j.fusedAttention, j.overlapGradReduce];
    };
    expect(await json()).toEqual(["megatron-core", true, true]);
    expect(await json("--attention", "unfused", "--no-grad-overlap")).toEqual(["megatron-core", false, false]);
  });
});

describe("exports and --from", () => {
  it("an --engine that contradicts the format is refused in one line", async () => {
    const r = await runCli(["export", "--format", "deepspeed", "--engine", "fsdp", "--model", "gpt3-1.3b", "--gpus", "8", "--out", "/nonexistent/x"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain("--engine fsdp contradicts --format deepspeed, which runs on megatron-deepspeed");
  });

  it("an engine file that extends the format's engine is the user's profile of that stack: accepted", async () => {
    // torchtitan of 2025 runs mixtures of experts (0.2's expert_parallel_degree); the built-in
    // profile is Dec 2024's and refuses them, naming --engine.
    const args = ["export", "--format", "torchtitan", "--release", "0.2", "--model", "mixtral-8x7b", "--gpus", "64"];
    const builtin = await runCli(args);
    expect(builtin.code).toBe(2);
    // The format chose the engine, so the format is named; the hint says how to state a newer stack.
    expect(builtin.stderr).toMatch(/^paraplan: --format torchtitan: engine torchtitan runs no mixture-of-experts layers .*; --format torchtitan runs on torchtitan only: --format megatron \(megatron-core\), --format torchrun \(paraplan-compile\) and --format slurm \(paraplan-compile\) build every part of mixtral-8x7b; or give --engine a file that extends torchtitan and sets supports\.expertParallel \(with the source that says your version builds them\)$/);
    // QA: llm-foundry (fsdp only) was told to pick megatron-core or paraplan, engines it cannot run on
    const foundry = await runCli(["export", "--format", "llm-foundry", "--model", "mixtral-8x7b", "--gpus", "64"]);
    expect(foundry.code).toBe(2);
    expect(foundry.stderr).toMatch(/^paraplan: --format llm-foundry: engine fsdp runs no mixture-of-experts layers .*; --format llm-foundry runs on fsdp only: --format megatron \(megatron-core\), --format torchrun \(paraplan-compile\) and --format slurm \(paraplan-compile\) build every part of mixtral-8x7b; or give --engine a file that extends fsdp and sets supports\.expertParallel \(with the source that says your version builds them\)$/);
    const mine = tempFile("tt-2025.json", JSON.stringify({ name: "tt-2025", extends: "torchtitan", supports: { expertParallel: { value: true, source: "torchtitan 0.2 expert_parallel_degree" } } }));
    const r = await runCli([...args, "--engine", mine]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("# torchtitan job config: mixtral-8x7b on 64 x H100");
    // fsdp's file extends megatron-core for its shared figures; a profile of fsdp is not Megatron.
    const other = tempFile("fsdp-mine.json", JSON.stringify({ name: "fsdp-mine", extends: "fsdp" }));
    expect((await runCli(["export", "--format", "megatron", "--model", "llama3-8b", "--engine", other])).stderr).toContain("contradicts --format megatron");
  });

  it("plan --from evaluates with the engine the file belongs to", async () => {
    const cases: Array<[string, string, string]> = [
      ["llama3-8b", "user-llama3-8b-torchtitan.toml", "torchtitan"],
      ["llama3-70b", "user-llama3-70b-ds-zero3.json", "megatron-deepspeed"],
      ["gpt3-175b", "user-gpt3-175b-megatron.sh", "megatron-core"],
    ];
    for (const [model, file, engine] of cases) {
      const r = await runCli(["plan", "--model", model, "--from", fixture(file), "--json", "--top", "1"]);
      expect(JSON.parse(r.stdout).engine, file).toBe(engine);
    }
  });
});

describe("execute", () => {
  /** choosePlan for execute's arguments on two CPU ranks (compile as parsed: CPU runs eager). */
  const choose = async (argv: string[]) => {
    const { choosePlan } = await import("../../src/app/choose.js");
    const { parseExecuteArgs } = await import("../../src/execute-args.js");
    const { presentDevices } = await import("../../executor/devices.js");
    const a = parseExecuteArgs(["--model", "tiny", "--device", "cpu", "--gpus", "2", ...argv]);
    return choosePlan({ args: a.plan, devices: presentDevices(undefined, 2, []), nnodes: 1, planFile: undefined, forOtherMachines: false, compile: a.compile });
  };
  const engineOf = async (argv: string[]) => (await choose(argv)).req.training.engine.name;

  it("predicts with the worker's engine, paraplan, and refuses another --engine", async () => {
    expect(await engineOf([])).toBe("paraplan");
    expect(await engineOf(["--engine", "paraplan"])).toBe("paraplan");
    await expect(choose(["--engine", "fsdp"])).rejects.toThrow(/--engine fsdp: execute runs paraplan's worker, engine paraplan/);
    // compiled runs (the GPU default, or --compile) are predicted with the compiled worker's profile
    expect(await engineOf(["--compile"])).toBe("paraplan-compile");
    expect(await engineOf(["--no-compile"])).toBe("paraplan");
    // the worker's other mode: the flag that runs it (it said only "drop --engine")
    await expect(choose(["--engine", "paraplan-compile"])).rejects.toThrow(/engine paraplan; pass --compile to run that mode, or drop --engine$/);
    await expect(choose(["--engine", "paraplan", "--compile"])).rejects.toThrow(/engine paraplan-compile; pass --no-compile to run that mode, or drop --engine$/);
    await expect(choose(["--engine", "fsdp"])).rejects.toThrow(/engine paraplan; drop --engine$/);
  });

  // It advised "pick another --engine", which execute refuses.
  it("a fixed dimension the worker does not run: leave it to the search, no other engine to pick", async () => {
    for (const engine of [[], ["--engine", "paraplan"]]) {
      const err = await choose(["--pp", "2", "--dp", "1", "--zero", "3", ...engine]).catch((e: Error) => e.message);
      expect(err).toMatch(/^--zero: engine paraplan runs ZeRO stages 0, 1 beside a pipeline, not 3 .*; execute runs paraplan's worker: leave --zero to the search$/);
      expect(err).not.toMatch(/another --engine/);
    }
  });

  it("refuses an engine override the worker never runs, so the prediction prices the run measured", async () => {
    await expect(choose(["--optimizer-states", "bf16"])).rejects.toThrow(/^--optimizer-states bf16: the worker's AdamW keeps fp32 moments .*; drop the flag$/);
    await expect(choose(["--grad-reduce-in-bf16"])).rejects.toThrow(/^--grad-reduce-in-bf16: the worker reduces fp32 gradients/);
    await expect(choose(["--attention", "unfused"])).rejects.toThrow(/^--attention unfused: the worker runs torch's scaled_dot_product_attention/);
    // What the worker does anyway, or may do (GradReplicator reduces after the backward), passes.
    expect(await engineOf(["--attention", "fused"])).toBe("paraplan");
    expect((await choose(["--no-grad-overlap"])).req.training.overlapGradReduce).toBe(false);
  });
});

describe("the launchers (torchrun, slurm) predict with paraplan's worker unless --script names another", () => {
  it("the worker's compiled engine by default; --engine contradicts it, and is free with --script", async () => {
    // (--top is plan's: export refuses it)
    const tiny = ["--model", "tiny"];
    const planned = JSON.parse((await runCli(["plan", ...tiny, "--top", "1", "--engine", "paraplan-compile", "--json"])).stdout).plans[0].tokensPerSecond as number;
    const worker = await runCli(["export", "--format", "torchrun", ...tiny]);
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stderr).toContain(`predicted ${Math.round(planned).toLocaleString("en-US")} tokens/s`);
    const clash = await runCli(["export", "--format", "slurm", ...tiny, "--engine", "fsdp"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toBe("paraplan: --engine fsdp contradicts --format slurm, which launches paraplan's worker (engine paraplan-compile); drop --engine, or give --script to launch your own");
    const own = await runCli(["export", "--format", "slurm", ...tiny, "--engine", "fsdp", "--script", "train.py"]);
    expect(own.code, own.stderr).toBe(0);
  });
});

describe("Megatron-DeepSpeed's experts (DeepSpeed-MoE)", () => {
  it("export --format deepspeed of an MoE model is refused by its engine (einsum dispatch paraplan does not price); an engine file that sets supports.expertParallel writes the expert arguments", async () => {
    const stock = await runCli(["export", "--format", "deepspeed", "--model", "mixtral-8x7b", "--gpus", "64"]);
    expect(stock.code).toBe(2);
    expect(stock.stderr).toContain("engine megatron-deepspeed runs no mixture-of-experts layers as paraplan prices them (DeepSpeed-MoE");
    expect(stock.stderr).toContain("sec,sm->ecm");
    const own = tempFile("mds-moe.json", JSON.stringify({ name: "mds-moe", extends: "megatron-deepspeed", description: "DeepSpeed-MoE priced as Megatron-Core's experts", supports: { expertParallel: { value: true, source: "the user's" } } }));
    const r = await runCli(["export", "--format", "deepspeed", "--engine", own, "--model", "mixtral-8x7b", "--gpus", "64"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^--num-experts 8$/m);
    expect(r.stdout).toMatch(/^--moe-expert-parallel-size \d+$/m);
  });
});

describe("a model the stack's code cannot build", () => {
  // The tiny preset with ALiBi positions (MPT's, Press et al. 2022).
  const alibi = () => {
    const tiny = JSON.parse(readFileSync(new URL("../../profiles/models/tiny.json", import.meta.url), "utf8")) as Record<string, unknown>;
    return tempFile("tiny-alibi.json", JSON.stringify({ ...tiny, name: "tiny-alibi", positional: "alibi" }));
  };
  it("plan: exit 2 naming --engine, its source and what to change", async () => {
    const r = await runCli(["plan", "--model", "llama2-7b", "--engine", "megatron-2021", "--gpus", "64"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^paraplan: --engine: llama2-7b has rotary positions; engine megatron-2021 builds learned positions only \(.*v2\.6.*\); pick an engine that builds every part of llama2-7b \(fsdp, megatron-core, .*\), or a profile that extends megatron-2021 and sets supports\.positional and supports\.mlp$/);
    const fsdp = await runCli(["plan", "--model", alibi(), "--engine", "fsdp", "--gpus", "8", "--top", "1"]);
    expect(fsdp.code, fsdp.stderr).toBe(0);
  });
  it("export: the format that chose the engine is named", async () => {
    const r = await runCli(["export", "--format", "megatron", "--model", alibi(), "--gpus", "8"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --format megatron: tiny-alibi has ALiBi positions; engine megatron-core builds learned or rotary positions only/);
  });
});
