// Inputs built to break a reader: arrays nested past any configuration's depth are one line and
// exit 2 (TOML bounded as JSON inputs are, src/read-input.ts MAX_JSON_DEPTH; YAML's own guard
// named as nesting, not as the stack it ran out of), and a malformed llm-foundry YAML without
// --model names its YAML error rather than asking for --model.
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("deeply nested and malformed configuration files", () => {
  it("a torchtitan TOML array nested 10,000 deep is exit 2 at its line; 64 levels are the bound", async () => {
    const deep = await cli(["plan", "--model", "llama3-8b", "--from", tempFile("deep.toml", `[job]\ndescription = "x"\n[a]\nx = ${nested(10000)}\n`)]);
    expect(deep.code).toBe(2);
    expect(deep.errLines).toEqual(["paraplan: deep.toml:4: arrays nested more than 64 levels deep; fix the TOML"]);
    // 64 levels parse: whatever the file says next is the reader's, not the parser's
    const ok = await cli(["plan", "--model", "llama3-8b", "--from", tempFile("ok.toml", `[a]\nx = ${nested(64)}\n`)]);
    expect(ok.stderr).not.toContain("nested more than");
  });

  it("an llm-foundry YAML nested 10,000 deep names the nesting", async () => {
    const deep = await cli(["plan", "--model", "mpt-7b", "--from", tempFile("deep.yaml", `model:\n  x: ${nested(10000)}\n`)]);
    expect(deep.code).toBe(2);
    expect(deep.errLines).toHaveLength(1);
    expect(deep.errLines[0]).toMatch(/^paraplan: deep\.yaml: not valid YAML \(nested too deeply to read at line 2/);
  });

  it("a malformed llm-foundry YAML without --model names its YAML error", async () => {
    const bad = await cli(["plan", "--from", tempFile("bad.yaml", "model:\n  name: [unclosed\n")]);
    expect(bad.code).toBe(2);
    expect(bad.errLines).toHaveLength(1);
    expect(bad.errLines[0]).toMatch(/^paraplan: bad\.yaml: not valid YAML \(/);
    expect(bad.stderr).not.toContain("--model is required");
  });
});
