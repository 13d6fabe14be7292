// A file given to the flag of another kind is told which flag takes it (src/file-kind.ts). QA: an
// engine file given to --model said `field "layers": missing`, a model file given to --profile
// `field "name": missing`, naming a field rather than the mistake.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-kind-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const copy = (from: string, name: string) => {
  const to = join(dir, name);
  copyFileSync(from, to);
  return to;
};
const engine = copy(join("profiles", "engines", "fsdp.json"), "eng.json");
const hw = copy(join("profiles", "hardware", "dgx-a100-80g.json"), "hw.json");
const model = copy(join("profiles", "models", "llama3-8b.json"), "model.json");

describe("a file given to another kind's flag", () => {
  it("names what the file is and the flag that takes it, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--model", engine], "--model: eng.json is an engine file, not a model file; give it to --engine"],
      [["--model", hw], "--model: hw.json is a hardware profile, not a model file; give it to --profile"],
      [["--model", "llama3-8b", "--profile", model], "--profile: model.json is a model file, not a hardware profile; give it to --model"],
      [["--model", "llama3-8b", "--engine", model], "--engine: model.json is a model file, not an engine file; give it to --model"],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(["plan", "--gpus", "8", ...args]);
      expect([r.code, r.stderr.trim()], args.join(" ")).toEqual([2, `paraplan: ${line}`]);
    }
  });

  it("a profile or engine file that is not one JSON object says so (QA: an array was told of a missing field)", async () => {
    const arr = join(dir, "arr.json");
    writeFileSync(arr, "[1, 2]");
    const e = await runCli(["plan", "--gpus", "8", "--model", "llama3-8b", "--engine", arr]);
    expect([e.code, e.stderr.trim()]).toEqual([2, 'paraplan: arr.json: an engine file is one JSON object of fields ({"name": …}), not an array']);
    const p = await runCli(["plan", "--gpus", "8", "--model", "llama3-8b", "--profile", arr]);
    expect([p.code, p.stderr.trim()]).toEqual([2, 'paraplan: arr.json: a hardware profile is one JSON object of fields ({"name": …}), not an array']);
  });
});
