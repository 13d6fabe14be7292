// `execute --device cpu --tp 2 --recompute selective --compile` launched and every rank raised in
// step 1 (torch 2.13 AOTAutograd save_from_forward: "expected all tensors_saved_with_vc_check to be
// Tensors", a DeviceMesh among a compiled per-op-SAC block's saved values when its SDPA runs
// between DTensor projections): the pair is refused before launch, naming --recompute (or a plan
// file's "recompute"), and the search passes it by.
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CapabilityContext, workerRefusal } from "../../planner/layout/capabilities.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import type { Plan } from "../../planner/types.js";
import { tempDir } from "../tmp-dirs.js";
import { CLI, build } from "./e2e-helpers.js";

beforeAll(() => build(), 120_000);

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
  return { code: r.status, stderr: r.stderr };
}

const ctx: CapabilityContext = { precision: "bf16", globalBatch: 8, seqLen: 32, ffnHidden: 256, gpus: 2, gpusPerNode: 2, device: "cpu", compile: true };
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, microBatch: 8, ...p });

describe("compiled selective recompute beside tensor parallel on CPU ranks", () => {
  it("is refused with its code; eager, full or no recompute, tp 1 and CUDA are not", () => {
    expect(workerRefusal(plan({ tp: 2, recompute: "selective" }), ctx)?.code).toBe("worker_compile_sac_tp");
    expect(workerRefusal(plan({ tp: 2, recompute: "selective" }), { ...ctx, compile: false })).toBeNull();
    expect(workerRefusal(plan({ tp: 2, recompute: "full" }), ctx)).toBeNull(); // compiled, then checkpointed
    expect(workerRefusal(plan({ tp: 2, recompute: "none" }), ctx)).toBeNull();
    expect(workerRefusal(plan({ dp: 2, microBatch: 4, recompute: "selective" }), ctx)).toBeNull();
    expect(workerRefusal(plan({ tp: 2, recompute: "selective" }), { ...ctx, device: "cuda" })).toBeNull(); // not run on GPUs here
  });

  it("execute refuses the fixed pair in one line, exit 2, nothing written; a plan file's by its field", () => {
    // (--print-launch: were the pair not refused, the run directory would be written, exit 0)
    const cwd = tempDir();
    const flags = ["execute", "--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "3", "--compile", "--print-launch"];
    const fixed = cli([...flags, "--tp", "2", "--recompute", "selective", "--run-dir", join(cwd, "a")], cwd);
    expect(fixed.code, fixed.stderr).toBe(2);
    expect(fixed.stderr.trim().split("\n")).toEqual([expect.stringContaining("torch 2.13 cannot compile the worker's selectively recomputed blocks beside tensor parallel on CPU ranks")]);
    const file = join(cwd, "tp2-sac.json");
    writeFileSync(file, JSON.stringify({ tp: 2, pp: 1, dp: 1, microBatch: 8, recompute: "selective" }));
    const fromFile = cli([...flags, "--plan", file, "--run-dir", join(cwd, "b")], cwd);
    expect(fromFile.code, fromFile.stderr).toBe(2);
    expect(fromFile.stderr).toMatch(/^paraplan: --plan .*tp2-sac\.json: field "recompute": torch 2\.13 cannot compile/);
    expect(readdirSync(cwd)).toEqual(["tp2-sac.json"]);
    // The search passes the pair by: tiny on 2 ranks still finds a plan to compile.
    const searched = cli(["execute", "--model", "tiny", "--device", "cpu", "--gpus", "2", "--compile", "--print-launch", "--run-dir", join(cwd, "c")], cwd);
    expect(searched.code, searched.stderr).toBe(0);
  });
});
