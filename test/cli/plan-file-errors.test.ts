// A --plan file's bad dimension is named as the file's field, not as a flag the user never gave
// ("--tp: 3 does not divide…" read as if --tp had been typed). Flags still name themselves.
import { describe, expect, it } from "vitest";
import { runCli, tempFile } from "./helpers.js";
import { run, tmp } from "../executor/e2e-helpers.js";

const file = (name: string, plan: object) => tempFile(name, JSON.stringify(plan));

describe("errors in a --plan file", () => {
  const tp3 = file("tp3.json", { tp: 3, pp: 1, dp: 2, microBatch: 2 });
  const split = file("split.json", { tp: 1, pp: 2, dp: 1, microBatch: 2, stageLayers: [1, 2] });
  const zbv = file("zbv.json", { tp: 1, pp: 2, dp: 1, microBatch: 1, schedule: "zbv", recompute: "none" });

  it("export names the file and the field (tiny: 4 heads, 4 layers)", async () => {
    const cases: [string, string][] = [
      [tp3, `--plan ${tp3}: field "tp": 3 does not divide the 4 attention heads`],
      [split, `--plan ${split}: field "stageLayers": 1,2 sums to 3, not the model's 4 layers`],
      [zbv, `--plan ${zbv}: field "schedule": zbv runs exactly two stages per rank in a V`],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`paraplan: ${message}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("execute too (--print-launch: nothing runs)", async () => {
    // (the CLI as a process: in-process, execute leaves its exit status to the process)
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--plan", split, "--print-launch"], { cwd: tmp() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`paraplan: --plan ${split}: field "stageLayers": 1,2 sums to 3, not the model's 4 layers`);
  });

  it("the same dimension given as a flag still names the flag", async () => {
    const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--gpus", "6", "--tp", "3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --tp: 3 does not divide the 4 attention heads/);
  });
});
