// execute --plan FILE checks the model the file was planned for: a run's plan.json names it
// ("model": "tiny"), plan --json's output too ("model": {"name": …}); another model than --model
// is bad input (exit 2) naming both, not a silent run of the wrong plan.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prepareFromArgs } from "../../src/app/prepare.js";
import { exitFor } from "../../src/errors.js";
import { parseExecuteArgs } from "../../src/execute-args.js";
import { tempDir } from "../tmp-dirs.js";

const PLAN = { tp: 1, pp: 1, dp: 2, microBatch: 1 };

async function withPlan(content: unknown, model = "tiny") {
  const dir = tempDir("paraplan-plan-model-");
  const file = join(dir, "plan.json");
  writeFileSync(file, JSON.stringify(content));
  const args = parseExecuteArgs(["--model", model, "--device", "cpu", "--gpus", "2", "--plan", file, "--print-launch", "--run-dir", join(dir, "run")]);
  try {
    await prepareFromArgs(args, { detect: () => [] });
    return { file, exit: null };
  } catch (e) {
    return { file, exit: exitFor(e) };
  }
}

describe("execute --plan of another model", () => {
  it("refuses plan --json output made for another model, naming both (exit 2)", async () => {
    const { file, exit } = await withPlan({ model: { name: "gpt3-like", params: 1.7e11 }, plans: [PLAN] });
    expect(exit?.status).toBe(2);
    expect(exit?.message).toBe(`--plan ${file} is a plan for the model gpt3-like, not for --model tiny; pass --model gpt3-like, or plan again for tiny`);
  });

  it("refuses a run's plan.json of another model, before any check of its size", async () => {
    const { exit } = await withPlan({ model: "gpt3-like", profile: "cpu", plans: [PLAN] });
    expect(exit?.status).toBe(2);
    expect(exit?.message).toMatch(/is a plan for the model gpt3-like, not for --model tiny/);
    const big = await withPlan({ model: "gpt3-like", plans: [{ tp: 8, pp: 8, dp: 16, microBatch: 1 }] });
    expect(big.exit).toMatchObject({ status: 2, message: expect.stringMatching(/a plan for the model gpt3-like/) });
  });

  it("runs a plan of the same model, and a bare plan that names none", async () => {
    expect((await withPlan({ model: "tiny", plans: [PLAN] })).exit).toBeNull();
    expect((await withPlan({ model: { name: "tiny" }, plans: [PLAN] })).exit).toBeNull();
    expect((await withPlan(PLAN)).exit).toBeNull();
  });
});
