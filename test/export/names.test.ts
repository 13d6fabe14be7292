// Every flag and key an export writes is one the engine documents for the release it names:
// checked against the lists recorded in fixtures/ (each with its repository, commit and file).
import { describe, expect, it } from "vitest";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { parseToml } from "../../src/engines/toml.js";
import { LLAMA, PLANS, matrixModels, TRAININGS, argFlags, h100, jsonKeys, model, overrideKeys, pcie, recorded, tomlKeys } from "./helpers.js";

type Case = { label: string; files: Map<string, string> };

/** Every accepted export of the matrix (models × plans × trainings) for one format and release. */
function exports(format: "megatron" | "deepspeed" | "torchtitan" | "torchrun" | "slurm", release?: string): Case[] {
  const out: Case[] = [];
  for (const name of matrixModels(format, release))
    for (const p of PLANS)
      for (const t of TRAININGS) {
        if (format === "torchtitan" && t.precision === "fp16") continue;
        try {
          const r = exportPlan(format, model(name), p, t, h100, release ? { release } : {});
          out.push({ label: `${name} ${JSON.stringify(p)} ${t.precision}`, files: new Map(r.files.map((f) => [f.name, f.content])) });
        } catch (e) {
          if (!(e instanceof ExportRefused)) throw e;
        }
      }
  return out;
}

function expectKnown(used: string[], known: Set<string>, label: string) {
  expect(used.length, label).toBeGreaterThan(0);
  const unknown = used.filter((n) => !known.has(n));
  expect(unknown, label).toEqual([]);
}

describe("Megatron-LM flags against arguments.py of the release", () => {
  for (const [release, list] of [["core_r0.14", "megatron-lm-core_r0.14.txt"], ["core_v0.7", "megatron-lm-core_v0.7.0.txt"]] as const) {
    it(`${release}: every flag is in ${list}`, () => {
      const known = recorded(list);
      const cases = exports("megatron", release);
      // 2 models × 8 plans × 3 trainings, less the plans Megatron refuses: GPipe, and ZeRO-2/3 in
      // core_v0.7 (core_r0.14 writes those two, without a pipeline, as Megatron-FSDP, less ZeRO-2
      // under the training without gradient overlap, which Megatron-FSDP asserts: 2 models × 1;
      // core_v0.7 refuses the Llama model's unfused training, whose local layers run LayerNorm only:
      // its 5 plans).
      expect(cases.length).toBe(release === "core_r0.14" ? 2 * 7 * 3 - 2 : 2 * 5 * 3 - 5);
      for (const c of cases) expectKnown(argFlags(c.files.get("megatron-args.txt")!), known, c.label);
    });
  }
  it("the two releases name virtual stages differently, each its own way", () => {
    const r14 = recorded("megatron-lm-core_r0.14.txt");
    const v07 = recorded("megatron-lm-core_v0.7.0.txt");
    expect(r14.has("--num-virtual-stages-per-pipeline-rank") && !v07.has("--num-virtual-stages-per-pipeline-rank")).toBe(true);
    expect(v07.has("--num-layers-per-virtual-pipeline-stage")).toBe(true);
    expect(v07.has("--attention-backend")).toBe(false);
  });
});

describe("DeepSpeed keys and Megatron-DeepSpeed flags", () => {
  it("every ds_config.json key is documented; every argument is Megatron-DeepSpeed's", () => {
    const keys = recorded("deepspeed-config.txt");
    const flags = recorded("megatron-deepspeed.txt");
    const cases = exports("deepspeed");
    expect(cases.length).toBeGreaterThanOrEqual(20);
    let withArgs = 0;
    for (const c of cases) {
      expectKnown(jsonKeys(JSON.parse(c.files.get("ds_config.json")!)), keys, c.label);
      const args = c.files.get("megatron-deepspeed-args.txt");
      if (args) {
        withArgs++;
        expectKnown(argFlags(args), flags, c.label);
      }
    }
    expect(withArgs).toBeGreaterThan(10);
  });
});

describe("torchtitan settings", () => {
  it("0.2: every TOML section.key is in job_config.py", () => {
    const known = recorded("torchtitan-0.2.txt");
    const cases = exports("torchtitan", "0.2");
    expect(cases.length).toBe(2 * 7 * 2); // fp16 refused, and tp 8 · pp 8 on all GPUs (no FSDP rank: fp32 in torchtitan)
    for (const c of cases) expectKnown(tomlKeys(parseToml(c.files.get("torchtitan.toml")!, c.label)), known, c.label);
  });
  it("0.2.2: every TOML section.key is in v0.2.2's job_config.py", () => {
    const known = recorded("torchtitan-v0.2.2.txt");
    const cases = exports("torchtitan", "0.2.2");
    expect(cases.length).toBe(2 * 7 * 2);
    for (const c of cases) expectKnown(tomlKeys(parseToml(c.files.get("torchtitan.toml")!, c.label)), known, c.label);
  });
  it("main: every override is a configs.py field", () => {
    const known = recorded("torchtitan-main.txt");
    for (const c of exports("torchtitan", "main")) expectKnown(overrideKeys(c.files.get("torchtitan-overrides.txt")!), known, c.label);
  });
});

describe("launchers", () => {
  const torchrunOptions = (line: string) => line.split(" -m ")[0]!.split(" ").filter((w) => w.startsWith("--"));
  it("torchrun options are torch/distributed/run.py's", () => {
    const known = recorded("torchrun.txt");
    for (const c of exports("torchrun")) {
      const lines = c.files.get("torchrun.sh")!.split("\n").filter((l) => l.startsWith("torchrun "));
      expect(lines.length, c.label).toBe(8); // 64 GPUs, 8 per node
      for (const l of lines) expectKnown(torchrunOptions(l), known, c.label);
    }
  });
  it("sbatch options, SLURM variables, NCCL variables and torchrun options are documented ones", () => {
    const sbatch = recorded("sbatch.txt");
    const nccl = recorded("nccl-env.txt");
    const torchrunKnown = recorded("torchrun.txt");
    for (const hw of [h100, pcie]) {
      const r = exportPlan("slurm", model(LLAMA), PLANS[1]!, TRAININGS[0]!, hw);
      const s = r.files.find((f) => f.name === "paraplan.sbatch")!.content;
      expectKnown([...s.matchAll(/^#SBATCH (--[a-z-]+)/gm)].map((m) => m[1]!), sbatch, hw.name);
      expectKnown([...s.matchAll(/\$\{?(SLURM_[A-Z_]+)/g)].map((m) => m[1]!), sbatch, hw.name);
      expectKnown([...s.matchAll(/^#? ?export (NCCL_[A-Z_]+)=/gm)].map((m) => m[1]!), nccl, hw.name);
      expectKnown(s.split("srun bash -c '")[1]!.split(" -m ")[0]!.split(" ").filter((w) => w.startsWith("--")), torchrunKnown, hw.name);
    }
  });
});
