import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { afterAll, describe, expect, it } from "vitest";
import { hardwareDir } from "../load.js";
import { App } from "./app.js";
import { initialSetup } from "./core/state.js";
import { SetupScreen } from "./setup-screen.js";
import { KEY, allOptions, fakeExecutor, overflow, smallOptions, testServices, tick } from "./test-utils.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the setup screen", () => {
  it("shows the defaults and the presets with their sizes, within 80 × 20", () => {
    const o = allOptions();
    const { lastFrame } = render(<SetupScreen setup={initialSetup(o)} options={o} width={80} height={20} />);
    const f = lastFrame()!;
    expect(f).toMatch(/› Model\s+‹ gpt3-like \(175B parameters\) ›/);
    expect(f).toMatch(/Cluster\s+dgx-h100 — H100 SXM5 80GB, 8 per node/);
    expect(f).toContain("1,024 GPUs = 128 nodes × 8");
    expect(f).toMatch(/▸ gpt3-like\s+175B\s+1,024 GPUs/);
    expect(f).toMatch(/bloom-176b\s+176B\s+384 GPUs/);
    expect(f).toMatch(/megatron-310.1b\s+310B\s+1,920 GPUs/);
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("changes the model with ← →, moves with ↓, and types numbers", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions("llama3-8b", 8, 16)} services={testServices(fakeExecutor())} width={80} height={23} />);
    expect(lastFrame()).toMatch(/Model\s+‹ llama3-8b \(8\.0B parameters\) ›/);
    stdin.write(KEY.right);
    await tick();
    expect(lastFrame()).toMatch(/Model\s+‹ tiny \(218k parameters\) ›/);
    expect(lastFrame()).toContain("1 GPU = 1 node × 1");
    stdin.write(KEY.left);
    await tick();
    stdin.write(KEY.down);
    await tick();
    expect(lastFrame()).toMatch(/› Cluster\s+‹ dgx-h100/);
    expect(lastFrame()).toMatch(/▸ dgx-h100\s+H100 SXM5 80GB, 8 per node/);
    stdin.write(KEY.down);
    await tick();
    expect(lastFrame()).toMatch(/› Software\s+‹ megatron-core ›/);
    expect(lastFrame()).toMatch(/▸ megatron-core\s+Megatron-Core with/);
    stdin.write(KEY.right);
    await tick();
    expect(lastFrame()).toMatch(/› Software\s+‹ fsdp ›/);
    stdin.write(KEY.down);
    await tick();
    stdin.write("4");
    await tick();
    expect(lastFrame()).toMatch(/› Nodes\s+4/);
    expect(lastFrame()).toContain("32 GPUs = 4 nodes × 8");
    stdin.write(KEY.right);
    await tick();
    expect(lastFrame()).toContain("64 GPUs = 8 nodes × 8");
  });

  it("loads a model file typed as a path, and names a bad one", async () => {
    const path = join(dir, "small.json");
    writeFileSync(path, JSON.stringify({ name: "small", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true }));
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    for (const c of "/nope.json") stdin.write(c);
    await tick();
    expect(lastFrame()).toMatch(/Model\s+\/nope\.json/);
    stdin.write(KEY.enter);
    await tick();
    // (QA: it said the CLI's flag, --model; the screen has a Model field, no flags)
    expect(lastFrame()).toContain('Model: "/nope.json" cannot be read; check the path');
    expect(lastFrame()).not.toContain("--model");
    stdin.write(KEY.escape);
    await tick();
    for (const c of path) stdin.write(c);
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toMatch(new RegExp(`Model\\s+‹ ${path.replace(/[.]/g, "\\.")} \\([\\d.]+k parameters\\) ›`));
    expect(lastFrame()).not.toContain("cannot be read");
  });

  it("keeps a long file path's row within the width while ‹ › mark it focused", async () => {
    // (QA: the value was cut one column too long for its ‹ ›: the row wrapped, the intro lost its
    // first letter, "› Model" its space, and a blank line pushed the form down)
    const deep = join(dir, "a-rather-long-directory-name-for-this-test", "and-another-level-below-it");
    mkdirSync(deep, { recursive: true });
    const path = join(deep, "model.json");
    writeFileSync(path, JSON.stringify({ name: "small", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true }));
    for (const width of [60, 80, 120]) {
      const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={width} height={23} />);
      stdin.write(path);
      stdin.write(KEY.enter);
      await tick();
      const lines = lastFrame()!.split("\n");
      expect(overflow(lastFrame()!, width, 24)).toEqual([]);
      expect(lines[1]).toMatch(/^How should this model be split/);
      expect(lines[3]).toMatch(/^ › Model {9}‹ \/.*… ›$/);
      expect(lines[3]).toHaveLength(width);
      expect(lines[4]).toMatch(/^ {3}Cluster /);
      unmount();
    }
  });

  it("names the field a file of another kind belongs in, not a flag", async () => {
    // (QA: a profile typed into Model said "give it to --profile"; the screen has a Cluster field)
    const o = allOptions();
    const hw = join(dir, "hw.json");
    copyFileSync(join(hardwareDir(), "dgx-h100.json"), hw);
    const engine = join(dir, "engine.json");
    copyFileSync(join(hardwareDir(), "..", "engines", "fsdp.json"), engine);
    const model = join(dir, "model.json");
    writeFileSync(model, JSON.stringify({ name: "small", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true }));
    for (const [down, path, said] of [
      [0, hw, "Model: hw.json is a hardware profile, not a model file; give it to the Cluster field"],
      [1, model, "Cluster: model.json is a model file, not a hardware profile; give it to the Model field"],
      [1, engine, 'engine.json: the file is an engine (it has "attention"), not a hardware profile; give it to the Software field'],
      [2, model, "Software: model.json is a model file, not an engine file; give it to the Model field"],
    ] as const) {
      const { lastFrame, stdin, unmount } = render(<App options={o} services={testServices(fakeExecutor())} width={120} height={23} />);
      for (let i = 0; i < down; i++) stdin.write(KEY.down);
      await tick();
      stdin.write(path);
      stdin.write(KEY.enter);
      await tick();
      expect(lastFrame()).toContain(said);
      expect(lastFrame()).not.toMatch(/ --(model|profile|engine)\b/);
      unmount();
    }
  });

  it("shows a terminal escape quoted from a bad file escaped, as the CLI prints it, not sent to the terminal", async () => {
    // (QA: a key holding ESC [2J, or a JSON parser's excerpt of raw control bytes, went to the
    // terminal as it was: the screen cleared or recoloured, the line lost characters)
    const key = join(dir, "esc-key.json");
    writeFileSync(key, JSON.stringify({ name: "k", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true, "\u001b[2J\u001b[31mred": 1 }));
    const raw = join(dir, "esc-raw.json");
    writeFileSync(raw, '{"name": \u001b[2J\u0000 }');
    for (const [path, shown] of [[key, 'esc-key.json: unknown field "\\x1b[2J\\x1b[31mred"'], [raw, "esc-raw.json: malformed JSON (Unexpected token '\\x1b'"]] as const) {
      const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
      stdin.write(path);
      stdin.write(KEY.enter);
      await tick();
      const f = lastFrame()!;
      expect(f).toContain(shown);
      expect(f).not.toMatch(/\u001b\[2J|\u0000/);
      unmount();
    }
  });

  it("accepts a pasted path followed by Enter (one chunk of input), also into a path being typed", async () => {
    const path = join(dir, "pasted.json");
    writeFileSync(path, JSON.stringify({ name: "pasted", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true }));
    const loaded = new RegExp(`Model\\s+‹ ${path.replace(/[.]/g, "\\.")} \\([\\d.]+k parameters\\) ›`);
    const first = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    first.stdin.write(`${path}\r`);
    await tick();
    expect(first.lastFrame()).toMatch(loaded);
    expect(first.lastFrame()).toContain("paraplan · setup");
    const second = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    second.stdin.write(path.slice(0, 1));
    await tick();
    second.stdin.write(`${path.slice(1)}\r\n`);
    await tick();
    expect(second.lastFrame()).toMatch(loaded);
    // A relative path, as the brief pastes it: "path/to/model.json" + Enter, from the working directory.
    mkdirSync(join(dir, "path", "to"), { recursive: true });
    writeFileSync(join(dir, "path", "to", "model.json"), JSON.stringify({ name: "relative", layers: 2, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true }));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const third = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
      third.stdin.write("path/to/model.json\r");
      await tick();
      expect(third.lastFrame()).toMatch(/Model\s+‹ path\/to\/model\.json \([\d.]+k parameters\) ›/);
    } finally {
      process.chdir(cwd);
    }
  });

  it("names an unreadable cluster profile file and stays on the setup", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions("llama3-8b", 8, 16)} services={testServices(fakeExecutor())} width={80} height={23} />);
    stdin.write(KEY.down);
    await tick();
    for (const c of "./missing-profile.json") stdin.write(c);
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toMatch(/Cluster: ".*missing-profile\.json" cannot be read; check the path/);
    expect(lastFrame()).not.toContain("--profile");
    expect(lastFrame()).toContain("paraplan · setup");
    expect(lastFrame()).toMatch(/Cluster\s+\.\/missing-profile\.json/);
  });

  it("names an unreadable Software (engine) file by its field, at 60 × 20", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions("llama3-8b", 8, 16)} services={testServices(fakeExecutor())} width={60} height={19} />);
    stdin.write(KEY.down);
    stdin.write(KEY.down);
    await tick();
    for (const c of "/nonexistent/engine.json") stdin.write(c);
    stdin.write(KEY.enter);
    await tick();
    const flat = lastFrame()!.split("\n").join(" ");
    expect(flat).toMatch(/Software: "\/nonexistent\/engine\.json" cannot be read; check the path/);
    expect(flat).not.toContain("--engine");
    expect(lastFrame()!.split("\n").length).toBeLessThanOrEqual(19);
  });

  it("an ALiBi preset on megatron-core names the Software field, not a flag, and plans once fsdp is picked", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions("mpt-7b", 8, 16)} services={testServices(fakeExecutor())} width={80} height={23} />);
    stdin.write(KEY.enter);
    await tick();
    const f = lastFrame()!;
    expect(f).toMatch(/^Software: mpt-7b has ALiBi positions; engine megatron-core builds learned or/m);
    expect(f).not.toContain("--engine");
    expect(f).toContain("paraplan · setup");
    for (const k of [KEY.down, KEY.down, KEY.right, KEY.enter]) {
      stdin.write(k);
      await tick();
    }
    expect(lastFrame()).not.toContain("ALiBi positions; engine");
  });
});
