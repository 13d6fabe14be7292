// An export's --engine file against the engine its format runs on (src/load-engine.ts
// engineStack): a file profiles the built-in whose name it carries, or failing that the one its
// chain of files extends; one of another stack is refused, as is one of the user's own that names
// no built-in. The same rule for every format (a copy of torchtitan.json, which extends fsdp for
// its shared figures, was taken by llm-foundry and refused by torchtitan).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);

const FORMATS = { megatron: "megatron-core", deepspeed: "megatron-deepspeed", torchtitan: "torchtitan", "llm-foundry": "fsdp" } as const;
const builtin = (name: string) => readFileSync(join("profiles", "engines", `${name}.json`), "utf8");
const exportWith = (format: string, engine: string) => runCli(["export", "--format", format, "--model", "tiny", "--gpus", "8", "--engine", engine]);

describe("a copy of a built-in engine file is that engine's profile, whatever it extends", () => {
  for (const [format, engine] of Object.entries(FORMATS)) {
    const copy = tempFile(`copy-of-${engine}.json`, builtin(engine));
    it(`a copy of ${engine}.json: --format ${format} takes it, the other formats refuse it naming ${engine}`, async () => {
      const own = await exportWith(format, copy);
      expect(own.code, own.stderr).toBe(0);
      for (const [other, otherEngine] of Object.entries(FORMATS)) {
        if (other === format) continue;
        const r = await exportWith(other, copy);
        expect(r.code, `${other}: ${r.stderr}`).toBe(2);
        expect(isOneLine(r.stderr)).toBe(true);
        expect(r.stderr).toBe(`paraplan: --engine ${copy} contradicts --format ${other}, which runs on ${otherEngine}: the file profiles ${engine} (it is named ${engine}); drop --engine`);
      }
    });
  }
});

describe("files of the user's own", () => {
  it("a file that names no built-in and extends none is refused for every format, saying how to state the stack", async () => {
    const mine = tempFile("my-stack.json", builtin("megatron-core").replace('"name": "megatron-core"', '"name": "my-stack"'));
    expect(JSON.parse(readFileSync(mine, "utf8")).name).toBe("my-stack");
    // plan takes it: it is a whole engine profile.
    expect((await runCli(["plan", "--model", "tiny", "--gpus", "8", "--top", "1", "--engine", mine])).code).toBe(0);
    for (const [format, engine] of Object.entries(FORMATS)) {
      const r = await exportWith(format, mine);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`paraplan: --engine ${mine} names no built-in engine and extends none: it is not known to profile ${engine}, the engine --format ${format} runs on; add "extends": "${engine}" to it for your version of that stack, or drop --engine`);
    }
    const launcher = await runCli(["export", "--format", "torchrun", "--model", "tiny", "--gpus", "8", "--engine", mine]);
    expect(launcher.stderr).toMatch(/^paraplan: --engine .* names no built-in engine and extends none: it is not known to profile paraplan-compile, the engine --format torchrun launches \(paraplan's worker\); add "extends": "paraplan-compile" .*, or give --script to launch your own$/);
  });

  it("a chain of 40 files ending in megatron-core profiles megatron-core (it was refused past 32 as contradicting)", async () => {
    let prev = "megatron-core";
    for (let i = 0; i < 40; i++) {
      tempFile(`link${i}.json`, JSON.stringify({ name: `link${i}`, extends: prev }));
      prev = `link${i}.json`;
    }
    const last = tempFile("link40.json", JSON.stringify({ name: "link40", extends: prev }));
    const ok = await exportWith("megatron", last);
    expect(ok.code, ok.stderr).toBe(0);
    const r = await exportWith("llm-foundry", last);
    expect(r.stderr).toBe(`paraplan: --engine ${last} contradicts --format llm-foundry, which runs on fsdp: the file profiles megatron-core (its chain of files extends megatron-core); drop --engine`);
  });

  it("a file that extends a copy of fsdp.json profiles fsdp; a loop is the loop's error, not a contradiction", async () => {
    tempFile("fsdp-base.json", builtin("fsdp"));
    const mine = tempFile("fsdp-tuned.json", JSON.stringify({ name: "fsdp-tuned", extends: "fsdp-base.json" }));
    expect((await exportWith("llm-foundry", mine)).code).toBe(0);
    const r = await exportWith("megatron", mine);
    expect(r.stderr).toBe(`paraplan: --engine ${mine} contradicts --format megatron, which runs on megatron-core: the file profiles fsdp (a file it extends is named fsdp); drop --engine`);
    tempFile("loop-b.json", JSON.stringify({ name: "loop-b", extends: "loop-a.json" }));
    const loop = tempFile("loop-a.json", JSON.stringify({ name: "loop-a", extends: "loop-b.json" }));
    const l = await exportWith("megatron", loop);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/^paraplan: loop-a\.json: "extends" loops through "loop-b\.json"/);
  });

  it("a built-in name: the format's own engine is taken, another refused without a file's reason", async () => {
    expect((await exportWith("llm-foundry", "fsdp")).code).toBe(0);
    expect((await exportWith("llm-foundry", "torchtitan")).stderr).toBe("paraplan: --engine torchtitan contradicts --format llm-foundry, which runs on fsdp; drop --engine");
  });
});
