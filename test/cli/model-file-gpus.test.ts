// QA: a GPU count that does not fill the profile's nodes, taken from the model file's "gpus" (no
// --gpus given), was told as "--gpus: 12 is not a whole number of dgx-h100's 8-GPU nodes", a flag
// the user never typed. It names the model file's field, and that --gpus overrides it; a --gpus
// given is named as before.
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

describe("the model file's gpus on nodes it does not fill", () => {
  const model = tempFile("gpus12.json", JSON.stringify({ name: "m", layers: 4, hidden: 256, heads: 4, vocab: 1000, seqLen: 128, gpus: 12, globalBatch: 24 }));
  it("names the file's field, exit 2", async () => {
    const r = await runCli(["plan", "--model", model]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toMatch(/gpus12\.json: field "gpus" \(--gpus overrides it\): 12 is not a whole number of dgx-h100's 8-GPU nodes; use 8 or 16/);
    expect(r.stderr).not.toMatch(/^paraplan: --gpus:/);
  });
  it("a preset's count on a profile of other nodes, likewise", async () => {
    const hw = tempFile("six.json", JSON.stringify({ name: "six", extends: "dgx-h100", node: { gpusPerNode: 6 } }));
    const r = await runCli(["plan", "--model", "llama3-8b", "--profile", hw]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toMatch(/llama3-8b: field "gpus" \(--gpus overrides it\): 64 is not a whole number of six's 6-GPU nodes/);
  });
  it("a --gpus given is the flag's, and overrides the file's", async () => {
    const r = await runCli(["plan", "--model", model, "--gpus", "12"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --gpus: 12 is not a whole number/);
    expect((await runCli(["plan", "--model", model, "--gpus", "8", "--top", "1", "--simulate-top", "0"])).code).toBe(0);
  });
});
