import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli.js";
import { search } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { planJson } from "../../../executor/plan-json.js";
import { exportEngineConfigs, exportFileName, exportPlan, planSlug, safeName } from "./export.js";
import { planKey } from "./frontier.js";
import { frameLayout } from "./frame.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("export", () => {
  it("writes plan-<model>-<every dimension>.json with plan --json's plans[] entry", async () => {
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    const top = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    const r = exportPlan(req.model.name, top, dir);
    expect(r.ok).toBe(true);
    expect(r.path).toBe(join(dir, `plan-llama3-8b-${planSlug(top)}.json`));
    expect(r.message).toBe(`wrote plan-llama3-8b-${planSlug(top)}.json in ${dir}`);
    const out: string[] = [];
    await main(["plan", "--model", "llama3-8b", "--gpus", "8", "--global-batch", "16", "--json"], { out: (t) => out.push(t), err: () => {} });
    // The same plan's entry in plan --json (without the optional simulation figures, which
    // only the plan command computes).
    const cli = JSON.parse(out.join("\n")) as { plans: Record<string, unknown>[] };
    const entry = cli.plans.find((q) => ["tp", "pp", "dp", "vpp", "zero", "microBatch", "recompute", "sequenceParallel", "schedule"].every((k) => q[k] === top[k as keyof typeof top]));
    expect(entry).toBeDefined();
    const { simulated: _, ...closedForm } = entry!;
    expect(JSON.parse(readFileSync(r.path, "utf8"))).toEqual(closedForm);
    expect(JSON.parse(readFileSync(r.path, "utf8"))).toEqual(JSON.parse(JSON.stringify(planJson(top))));
  });

  it("keeps file names safe and reports a file that cannot be written", () => {
    expect(safeName("my model/v2")).toBe("my_model_v2");
    expect(safeName("..")).toBe("model");
    const req = sessionOf("tiny", 1, 1).request;
    const p = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    expect(exportFileName("tiny", p)).toBe("plan-tiny-tp1-pp1-dp1-z0-mb8.json");
    const r = exportPlan("tiny", p, join(dir, "missing", "dir"));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^cannot write .*plan-tiny-tp1-pp1-dp1-.*\.json: ENOENT/);
  });

  it("e and g name the absolute directory they write in, also for a relative working directory", () => {
    const req = sessionOf("tiny", 1, 1).request;
    const p = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    const rel = relative(process.cwd(), dir);
    const e = exportPlan("tiny", p, rel, () => {}, () => false);
    expect(e.path).toBe(join(dir, `plan-tiny-${planSlug(p)}.json`));
    expect(e.message).toBe(`wrote plan-tiny-${planSlug(p)}.json in ${dir}`);
    const g = exportEngineConfigs(req, p, rel, () => {}, () => {}, () => false);
    expect(g.path).toBe(join(dir, `paraplan-export-tiny-${planSlug(p)}`));
    expect(g.message).toMatch(new RegExp(`^wrote [a-z, -]+ configs in paraplan-export-tiny-${planSlug(p)}/ under ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(;|$)`));
  });

  it("g writes every engine's configuration of the plan, and names the engines that cannot run it", () => {
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    // A ZeRO-3 plan without a pipeline: every engine runs it (Megatron-LM as Megatron-FSDP).
    const z3 = search(req.model, req.hw, req.training, { zero: 3, pp: 1 }, { top: 1 }).plans[0]!;
    const written = new Map<string, string>();
    const r = exportEngineConfigs(req, z3, dir, (path, text) => written.set(path, text), () => {});
    const base = join(dir, `paraplan-export-llama3-8b-${planSlug(z3)}`);
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/^wrote megatron, deepspeed, torchtitan, llm-foundry, torchrun, slurm configs in paraplan-export-llama3-8b-/);
    const ds = JSON.parse(written.get(join(base, "deepspeed", "ds_config.json"))!);
    expect(ds.zero_optimization.stage).toBe(3);
    expect(ds.train_batch_size).toBe(16);
    expect(written.get(join(base, "megatron", "megatron-args.txt"))).toContain("--data-parallel-sharding-strategy optim_grads_params");
    // A zero-bubble pipeline: Megatron-LM and DeepSpeed run 1F1B schedules only.
    const zb = search(req.model, req.hw, { ...req.training, engine: undefined }, { pp: 2, vpp: 2, schedule: "zbv", zero: 1 }, { top: 1 }).plans[0]!;
    const zbWritten = new Map<string, string>();
    const s = exportEngineConfigs(req, zb, dir, (path, text) => zbWritten.set(path, text), () => {});
    expect(s.message).toMatch(/not runnable as is: megatron(, [a-z-]+)* — megatron \(.*zbv/);
    expect([...zbWritten.keys()].some((k) => k.includes("/megatron/"))).toBe(false);
  });

  it("g writes each format as its own stack runs it, whatever Software the plan was searched under", () => {
    // Planned under fsdp (llm-foundry's PURE bf16: 16-bit gradient reduction) ...
    const fsdp = sessionOf("llama3-8b", 1, 8, 16, "dgx-h100", "fsdp").request;
    expect(fsdp.training.engine.dataParallel.gradReduceBytes).toBe(2);
    const z3 = search(fsdp.model, fsdp.hw, fsdp.training, { zero: 3 }, { top: 1 }).plans[0]!;
    const written = new Map<string, string>();
    exportEngineConfigs(fsdp, z3, dir, (path, text) => written.set(path, text), () => {});
    const base = join(dir, `paraplan-export-llama3-8b-${planSlug(z3)}`);
    // ... the Megatron file reduces as Megatron-Core does (fp32 under bf16: no --grad-reduce-in-bf16)
    // and torchtitan's as FSDP2 does (fp32), as `paraplan export --format …` writes them.
    expect(written.get(join(base, "megatron", "megatron-args.txt"))).not.toContain("--grad-reduce-in-bf16");
    expect(written.get(join(base, "torchtitan", "torchtitan.toml"))).toMatch(/^mixed_precision_reduce = "float32"$/m);
    // An MoE model: torchtitan of Dec 2024 runs no experts, so its configuration is named, not written.
    const moe = sessionOf("mixtral-8x7b", 8, 8, 64).request;
    const ep = search(moe.model, moe.hw, moe.training, { ep: 8, zero: 3, tp: 1, pp: 1 }, { top: 1 }).plans[0]!;
    const moeWritten = new Map<string, string>();
    const r = exportEngineConfigs(moe, ep, dir, (path, text) => moeWritten.set(path, text), () => {});
    expect(r.message).toMatch(/not runnable as is: .*torchtitan.* — .*torchtitan \(engine torchtitan runs no mixture-of-experts layers/);
    expect([...moeWritten.keys()].some((k) => k.includes("/torchtitan/"))).toBe(false);
  });

  it("g names the session's profile as export --profile does: launch.json's prediction, the Megatron read-back, the comments", () => {
    // (QA: on dgx-a100-80g the UI's launch.json had no prediction.profile, so export/calibrate
    // --plan launch.json priced it on dgx-h100, and megatron-args.txt's read-back left out --profile)
    const req = sessionOf("llama3-8b", 2, 8, 64, "dgx-a100-80g").request;
    const z3 = search(req.model, req.hw, req.training, { zero: 3, pp: 1 }, { top: 1 }).plans[0]!;
    const written = new Map<string, string>();
    exportEngineConfigs(req, z3, dir, (path, text) => written.set(path, text), () => {});
    const base = join(dir, `paraplan-export-llama3-8b-${planSlug(z3)}`);
    for (const f of ["torchrun", "slurm"]) expect(JSON.parse(written.get(join(base, f, "launch.json"))!).prediction).toEqual({ profile: "dgx-a100-80g" });
    expect(written.get(join(base, "megatron", "megatron-args.txt"))).toContain("reads this plan back with --gpus 16 --profile dgx-a100-80g");
    expect(written.get(join(base, "slurm", "paraplan.sbatch"))).toContain("# llama3-8b on 16 x A100 SXM4 80GB (dgx-a100-80g)");
    // the worker, run from paraplan's directory, is handed the launch.json written beside each script
    for (const [f, name] of [["torchrun", "torchrun.sh"], ["slurm", "paraplan.sbatch"]]) expect(written.get(join(base, f!, name!))).toContain(`-m executor.worker --spec ${join(base, f!, "launch.json")}`);
  });

  it("g writes no configuration its engine would run out of memory with, as export refuses it (QA: torchrun and slurm written for a plan needing 93.6 GiB of 80 under the worker)", async () => {
    const req = sessionOf("llama3-8b", 2, 8, 64, "dgx-a100-80g").request;
    // 71.3 GiB under megatron-core; the worker (paraplan-compile) needs 93.6 GiB of the A100's 80
    const p = search(req.model, req.hw, req.training, { tp: 2, pp: 1, zero: 1, microBatch: 2, recompute: "none", sequenceParallel: true }, { top: 1 }).plans[0]!;
    const written = new Map<string, string>();
    const r = exportEngineConfigs(req, p, dir, (path, text) => written.set(path, text), () => {});
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/^wrote megatron, deepspeed, /);
    expect(r.message).toMatch(/torchrun \(needs 93\.6 GiB per GPU, 17\.0% over the 80\.0 GiB capacity: it would run out of memory\)/);
    expect([...written.keys()].filter((k) => /\/(torchrun|slurm)\//.test(k))).toEqual([]);
    // the same refusal as `paraplan export --format torchrun` of that plan
    const out: string[] = [];
    const flags = ["--model", "llama3-8b", "--gpus", "16", "--global-batch", "64", "--profile", "dgx-a100-80g", "--tp", "2", "--pp", "1", "--zero", "1", "--micro-batch", "2", "--recompute", "none", "--sequence-parallel"];
    expect(await main(["export", "--format", "torchrun", ...flags], { out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(1);
    expect(out.join("\n")).toContain("needs 93.6 GiB per GPU, 17.0% over the 80.0 GiB capacity");
  });

  it("g names a format written for the nearest plan it runs: DeepSpeed 0.16's own stage split", () => {
    // GPT-3 175B on pp 10 with Megatron-Core's split [8, 10 × 8, 8] (the search job's default);
    // DeepSpeed 0.16 splits the 96 layers itself as 10 × 6, 9 × 4 (planner/layout/deepspeed-016-split.ts)
    const req = sessionOf("gpt3-175b", 120, 8, 1536).request;
    const stageLayers = [8, 10, 10, 10, 10, 10, 10, 10, 10, 8];
    const p = search(req.model, req.hw, req.training, { pp: 10, tp: 8, vpp: 1, zero: 1, schedule: "1f1b", stageLayers }, { top: 1 }).plans[0]!;
    const r = exportEngineConfigs(req, p, dir, () => {}, () => {});
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/; the nearest plan it runs: deepspeed as tp 8 · pp 10 \(stage layers 10×6,9×4\) · dp 12/);
  });
});

describe("export names and existing files", () => {
  const allPlans = (model: string, nodes: number, perNode: number, batch: number, seqLen?: number) => {
    const req = sessionOf(model, nodes, perNode, batch).request;
    const training = seqLen ? { ...req.training, seqLen } : req.training;
    return search(req.model, req.hw, training, {}, { top: 1, keepAll: true }).all!;
  };

  it("gives each plan its own name, also plans with the same tp × pp × dp (vpp, ZeRO, micro-batch, recompute, schedule, cp, ep)", () => {
    for (const plans of [allPlans("llama3-8b", 2, 8, 32), allPlans("llama3-8b", 4, 8, 32, 32768), allPlans("mixtral-8x7b", 8, 8, 64)]) {
      expect(plans.length).toBeGreaterThan(20);
      // Many plans share tp × pp × dp (the old names collided) ...
      expect(new Set(plans.map((p) => `${p.tp}x${p.pp}x${p.dp}`)).size).toBeLessThan(plans.length / 2);
      // ... but no two plans share a name, and the same plan always gets the same one.
      expect(new Set(plans.map((p) => exportFileName("m", p))).size).toBe(new Set(plans.map(planKey)).size);
      expect(plans.map(planSlug)).toEqual(plans.map((p) => planSlug({ ...p })));
    }
    expect(allPlans("llama3-8b", 4, 8, 32, 32768).some((p) => p.cp > 1 && planSlug(p).includes(`-cp${p.cp}`))).toBe(true);
    expect(allPlans("mixtral-8x7b", 8, 8, 64).some((p) => p.ep > 1 && planSlug(p).includes(`-ep${p.ep}`))).toBe(true);
    const p = allPlans("llama3-8b", 2, 8, 32).find((q) => q.pp === 2)!;
    expect(planSlug({ ...p, stageLayers: [15, 17] })).not.toBe(planSlug(p));
    expect(planSlug({ ...p, order: "tp-cp-pp-dp" })).not.toBe(planSlug(p));
    expect(planSlug({ ...p, order: "tp-cp-dp-pp" })).toBe(planSlug(p));
  });

  it("never overwrites a file: the name gets a number, and the message names the file written", () => {
    const at = mkdtempSync(join(dir, "again-"));
    const req = sessionOf("tiny", 1, 1).request;
    const p = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    const name = exportFileName("tiny", p);
    writeFileSync(join(at, name), "mine\n");
    const second = exportPlan("tiny", p, at);
    const base = name.slice(0, -".json".length);
    expect(second).toEqual({ ok: true, path: join(at, `${base}-2.json`), message: `wrote ${base}-2.json in ${at} (${name} already there: kept)` });
    const third = exportPlan("tiny", p, at);
    expect(third.message).toBe(`wrote ${base}-3.json in ${at} (${name} to ${base}-2.json already there: kept)`);
    expect(readFileSync(join(at, name), "utf8")).toBe("mine\n");
    expect(JSON.parse(readFileSync(third.path, "utf8"))).toMatchObject({ tp: p.tp, pp: p.pp, dp: p.dp });
    // A file that appears between the check and the write is not overwritten either.
    const racing = exportPlan("tiny", p, at, (path) => {
      throw Object.assign(new Error(`EEXIST: ${path}`), { code: "EEXIST" });
    }, () => false);
    expect(racing.ok).toBe(false);
    expect(racing.message).toMatch(/^not written: .* numbered copies already exist/);
  });

  it("g writes a new folder each time (numbered), never into an earlier export", () => {
    const at = mkdtempSync(join(dir, "configs-"));
    const req = sessionOf("llama3-8b", 1, 8, 16).request;
    const z3 = search(req.model, req.hw, req.training, { zero: 3, pp: 1 }, { top: 1 }).plans[0]!;
    const first = exportEngineConfigs(req, z3, at);
    const second = exportEngineConfigs(req, z3, at);
    const base = `paraplan-export-llama3-8b-${planSlug(z3)}`;
    expect([first.ok, first.path, second.ok, second.path]).toEqual([true, join(at, base), true, join(at, `${base}-2`)]);
    expect(second.message).toBe(`wrote megatron, deepspeed, torchtitan, llm-foundry, torchrun, slurm configs in ${base}-2/ under ${at} (${base} already there: kept)`);
    expect(existsSync(join(at, `${base}-2`, "deepspeed", "ds_config.json"))).toBe(true);
  });

  it("g names every format it did not write before the reasons, so a cut message still names them all", () => {
    // QA: mixtral-8x7b under paraplan-compile (4 × 8, batch 8): only megatron written; the five
    // others' reasons ran to 2,300 characters and the screen's message area (7 lines at 80 × 24,
    // frame.ts frameLayout) ended inside the first reason, naming deepspeed alone.
    const moe = sessionOf("mixtral-8x7b", 4, 8, 8, "dgx-h100", "paraplan-compile").request;
    const top = search(moe.model, moe.hw, moe.training, {}, { top: 1 }).plans[0]!;
    // (Megatron-LM's file is not written either: under megatron-core the plan needs 81.4 GiB of
    // 79.6, and `paraplan export --format megatron --plan` refuses it so)
    const r = exportEngineConfigs(moe, top, dir, () => {}, () => {}, () => false);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^no configs written: not runnable as is: megatron, deepspeed, torchtitan, llm-foundry, torchrun, slurm — megatron \(needs 81\.4 GiB per GPU, .*, deepspeed \(engine megatron-deepspeed runs no mixture-of-experts /);
    const f = frameLayout({ cols: 80, rows: 24 }, r.message);
    if (f.kind !== "frame") throw new Error("too small");
    expect(f.message.join(" ")).toContain("not runnable as is: megatron, deepspeed, torchtitan, llm-foundry, torchrun, slurm —");
  });
});
