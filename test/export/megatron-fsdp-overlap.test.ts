// Megatron-FSDP and --no-grad-overlap (core_r0.14): MegatronFSDP.__init__ asserts an overlapped
// reduce-scatter for optim_grads (ZeRO-2) and turns it on for optim_grads_params (ZeRO-3)
// (megatron/core/distributed/fsdp/src/megatron_fsdp/megatron_fsdp.py:263-270 @ core_v0.14.0).
// QA: ZeRO-2 was written without --overlap-grad-reduce (a crash at start), ZeRO-3 predicted and read
// back as if the reduction ran after the backward.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir, tempFile } from "./helpers.js";

afterAll(removeTemp);

const BASE = ["--format", "megatron", "--model", "llama3-8b", "--gpus", "16"];
/** The export's "predicted N tokens/s, X GiB" line: [tokens/s, GiB]. */
function predicted(text: string): [number, number] {
  const m = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB/.exec(text);
  expect(m, text).not.toBeNull();
  return [Number(m![1]!.replace(/,/g, "")), Number(m![2])];
}
/** plan --from FILE --json: the plan read, its prediction, notes. */
async function readBack(path: string, extra: string[] = []) {
  const r = await cli(["plan", "--from", path, "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  return { tokens: j.from.plan.tokensPerSecond as number, gib: j.from.plan.memory.total / 2 ** 30, notes: j.from.notes as string[], overlap: j.overlapGradReduce as boolean };
}

describe("export --format megatron with Megatron-FSDP and --no-grad-overlap", () => {
  it("ZeRO-2 (optim_grads) without overlap: exit 2, one line naming --no-grad-overlap and the assertion", async () => {
    const r = await cli(["export", ...BASE, "--zero", "2", "--no-grad-overlap"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    // (the engine's own rule, dataParallel.overlapRequiredAtZero, refuses it before any export)
    expect(r.errLines[0]).toMatch(/^paraplan: --no-grad-overlap: engine megatron-core runs ZeRO-2 only with the gradient reduction overlapped/);
    expect(r.errLines[0]).toContain("megatron_fsdp.py:263-270");
    // with the overlap (the default) the same plan is written, --overlap-grad-reduce beside it
    const ok = await cli(["export", ...BASE, "--zero", "2"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^--data-parallel-sharding-strategy optim_grads\n(.|\n)*^--overlap-grad-reduce$/m);
  });

  it("without --zero the search leaves ZeRO-2 out under --no-grad-overlap, and exports what Megatron runs", async () => {
    // (gpt3-1.3b on 32 GPUs: the search wrote tp 1 · dp 32 · ZeRO-2 without --overlap-grad-reduce)
    const r = await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "32", "--no-grad-overlap"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.errLines[0]).not.toContain("ZeRO-2");
    expect(r.stdout).not.toMatch(/^--data-parallel-sharding-strategy optim_grads$/m);
  });

  it("ZeRO-3 (optim_grads_params): written with --overlap-grad-reduce and predicted as the overlapped run, noted; read back the same", async () => {
    const dir = join(tempDir(), "fsdp-z3");
    const off = await cli(["export", ...BASE, "--zero", "3", "--no-grad-overlap", "--out", dir]);
    expect(off.code, off.stderr).toBe(0);
    const file = readFileSync(join(dir, "megatron-args.txt"), "utf8");
    expect(file).toMatch(/^--data-parallel-sharding-strategy optim_grads_params$/m);
    expect(file).toMatch(/^--overlap-grad-reduce$/m);
    expect(off.stdout).toContain("note: --no-grad-overlap does not hold under Megatron-FSDP's optim_grads_params (ZeRO-3)");
    // Megatron runs the two the same, so the prediction is the one without the flag, to the token…
    const on = await cli(["export", ...BASE, "--zero", "3"]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/^--overlap-grad-reduce$/m);
    expect(predicted(off.stdout)).toEqual(predicted(on.stderr));
    // …and plan prices the same plan so too (the engine's dataParallel.overlapForcedAtZero): it
    // used to price it with the reduction after the backward, slower.
    const plan = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--tp", "1", "--pp", "1", "--zero", "3", "--micro-batch", "1", "--recompute", "none", "--no-grad-overlap", "--json", "--top", "1"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(Math.round(JSON.parse(plan.stdout).plans[0].tokensPerSecond as number)).toBe(predicted(off.stdout)[0]);
    // plan --from reads the file back overlapped, at the export's prediction.
    const back = await readBack(join(dir, "megatron-args.txt"));
    expect(back.overlap).toBe(true);
    expect(Math.round(back.tokens)).toBe(predicted(off.stdout)[0]);
  });
});

describe("plan --from a Megatron-FSDP file without --overlap-grad-reduce", () => {
  /** The export's file for --zero Z, less its --overlap-grad-reduce line; and the strategy's line number. */
  async function without(zero: 2 | 3): Promise<{ path: string; line: number }> {
    const r = await cli(["export", ...BASE, "--zero", String(zero)]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l !== "--overlap-grad-reduce");
    const line = lines.findIndex((l) => l.startsWith("--data-parallel-sharding-strategy ")) + 1;
    return { path: tempFile(`fsdp-z${zero}.txt`, lines.join("\n") + "\n"), line };
  }

  it("optim_grads_params (ZeRO-3) is read overlapped, with a note citing megatron_fsdp.py; --no-grad-overlap beside it is exit 2", async () => {
    const { path, line } = await without(3);
    const back = await readBack(path);
    expect(back.overlap).toBe(true);
    expect(back.notes).toContainEqual(expect.stringContaining(`--data-parallel-sharding-strategy optim_grads_params (line ${line}) overlaps the gradient reduction whatever the flags say`));
    expect(back.notes).toContainEqual(expect.stringContaining("megatron_fsdp.py:263-266"));
    // the same file with --overlap-grad-reduce stated is the same run, priced the same
    const stated = tempFile("fsdp-stated.txt", readFileSync(path, "utf8") + "--overlap-grad-reduce\n");
    expect((await readBack(stated)).tokens).toBe(back.tokens);
    const r = await cli(["plan", "--from", path, "--model", "llama3-8b", "--gpus", "16", "--no-grad-overlap"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(new RegExp(`^paraplan: --no-grad-overlap: --data-parallel-sharding-strategy optim_grads_params \\(line ${line}\\) overlaps .*; drop the flag$`));
  });

  it("optim_grads (ZeRO-2) is exit 2 naming the line and the assertion, as the export refuses to write it", async () => {
    const { path, line } = await without(2);
    const r = await cli(["plan", "--from", path, "--model", "llama3-8b", "--gpus", "16"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(`--data-parallel-sharding-strategy optim_grads (line ${line}) without --overlap-grad-reduce`);
    expect(r.errLines[0]).toContain("megatron_fsdp.py:270");
  });
});
