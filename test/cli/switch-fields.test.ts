// QA: a switch (a true/false field) of a model, hardware or engine file given as anything else was
// told zod's own words, "Invalid input: expected boolean, received string", not what to write.
// Each is one line naming the field, the value as written and what to write, exit 2.
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

const model = (dropout: unknown) =>
  tempFile(`model-${String(Math.random()).slice(2)}.json`, JSON.stringify({ name: "m", layers: 4, hidden: 256, heads: 4, vocab: 1000, seqLen: 128, dropout }));

describe("a switch written as anything but true or false", () => {
  it.each([
    ["yes", 'field "dropout": "yes" is not a switch; write true or false (JSON, without quotes)'],
    [0.1, 'field "dropout": 0.1 is not a switch; write true or false (JSON, without quotes)'],
    [1, 'field "dropout": 1 is not a switch; write true or false (JSON, without quotes)'],
    ["true", 'field "dropout": "true" is text; write true without quotes'],
    ["False", 'field "dropout": "False" is text; write false without quotes'],
  ])("a model file's dropout %j", async (value, message) => {
    const r = await runCli(["plan", "--model", model(value), "--gpus", "1"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`: ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  });

  it("a hardware profile's and an engine file's", async () => {
    const hw = tempFile("hw.json", JSON.stringify({ name: "hw", extends: "dgx-h100", gpu: { hostRunsOps: "no" } }));
    const a = await runCli(["plan", "--model", "gpt3-125m", "--gpus", "8", "--profile", hw]);
    expect([a.code, isOneLine(a.stderr)]).toEqual([2, true]);
    expect(a.stderr).toMatch(/: field "gpu\.hostRunsOps": "no" is not a switch; write true or false \(JSON, without quotes\)$/);
    const eng = tempFile("eng.json", JSON.stringify({ name: "eng", extends: "megatron-core", fused: { norm: 1 } }));
    const b = await runCli(["plan", "--model", "gpt3-125m", "--gpus", "8", "--engine", eng]);
    expect([b.code, isOneLine(b.stderr)]).toEqual([2, true]);
    expect(b.stderr).toMatch(/: field "fused\.norm": 1 is not a switch; write true or false \(JSON, without quotes\)$/);
  });

  it("true and false themselves load", async () => {
    for (const v of [true, false]) expect((await runCli(["plan", "--model", model(v), "--gpus", "1", "--top", "1", "--simulate-top", "0"])).code).toBe(0);
  });
});
