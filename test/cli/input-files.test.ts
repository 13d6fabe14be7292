// Input files are regular files of bounded size (src/read-input.ts). `--model /dev/zero` read
// until the timeout killed it; a directory or a huge file is no config either. Each is one line
// naming the flag and the path, exit 2, at once.
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES } from "../../src/read-input.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-inputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("input files that are not files", () => {
  const big = join(dir, "big.json");
  writeFileSync(big, " ".repeat(MAX_INPUT_BYTES + 1));
  const cases: Array<[string[], RegExp]> = [
    [["plan", "--model", "/dev/zero"], /--model "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", "gpt3-like", "--profile", "/dev/zero"], /--profile "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", "gpt3-like", "--engine", "/dev/zero"], /--engine "\/dev\/zero" cannot be read/],
    [["plan", "--model", "gpt3-like", "--from", "/dev/zero"], /--from "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", `${dir}/`], /--model ".*" cannot be read \(it is a directory\)/],
    // the path is right: the file is too large, not missing
    [["plan", "--model", big], /--model ".*big\.json" is too large to read \(it is 17 MiB, more than the 16 MiB an input file may be\); no configuration is that large$/],
  ];
  it.each(cases)("%j: exit 2, one line", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

// A model name reached the exports as it was: a line break ended a comment and became a command of
// torchrun.sh; a ';' in the rendezvous id did the same without one.
describe("names in exports", () => {
  it("a control character in a model, profile or engine name is refused naming the field", async () => {
    const hf = join(dir, "inj.json");
    writeFileSync(hf, JSON.stringify({ model_type: "llama", _name_or_path: "x\ntouch /tmp/pwned\n", hidden_size: 512, intermediate_size: 1376, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 2048, hidden_act: "silu", tie_word_embeddings: false }));
    const prof = join(dir, "prof.json");
    writeFileSync(prof, JSON.stringify({ name: "p\nrm", extends: "dgx-h100" }));
    const eng = join(dir, "eng.json");
    writeFileSync(eng, JSON.stringify({ name: "e\u001b[31m", extends: "megatron-core" }));
    for (const [args, message] of [
      [["export", "--format", "torchrun", "--model", hf, "--gpus", "16", "--global-batch", "64", "--out", join(dir, "out1")], /inj\.json: the model's name \(_name_or_path\) has a control character/],
      [["plan", "--model", "gpt3-1.3b", "--profile", prof], /field "name" has a control character/],
      [["plan", "--model", "gpt3-1.3b", "--engine", eng], /field "name" has a control character/],
    ] as Array<[string[], RegExp]>) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it("shell characters in a name become '-' where a script uses it unquoted", async () => {
    const m = join(dir, "semi.json");
    writeFileSync(m, JSON.stringify({ model_type: "llama", _name_or_path: "x; touch pwned $(id)", hidden_size: 512, intermediate_size: 1376, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 2048, hidden_act: "silu", tie_word_embeddings: false }));
    const out = join(dir, "out2");
    for (const format of ["torchrun", "slurm"]) {
      const r = await runCli(["export", "--format", format, "--model", m, "--gpus", "16", "--global-batch", "64", "--out", `${out}-${format}`]);
      expect(r.code, r.stderr).toBe(0);
    }
    const { readFileSync } = await import("node:fs");
    const torchrun = readFileSync(join(`${out}-torchrun`, "torchrun.sh"), "utf8");
    expect(torchrun).toContain("--rdzv-id paraplan-x--touch-pwned---id-");
    const slurm = readFileSync(join(`${out}-slurm`, "paraplan.sbatch"), "utf8");
    expect(slurm).toContain("#SBATCH --job-name=paraplan-x--touch-pwned---id-");
    // outside comments no ';' or '$(' of the name is left
    for (const text of [torchrun, slurm]) for (const line of text.split("\n").filter((l) => !l.startsWith("#"))) expect(line).not.toMatch(/touch pwned|\$\(id\)/);
  });
});

// A 30 KB engine nested 5,000 deep overflowed the stack of the readers' recursive walks (a
// RangeError and its trace); "__proto__" set the merged object's prototype, so its fields were
// read as the engine's (a step 8× slower) or vanished.
describe("JSON shapes no input file has", () => {
  const put = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const deep = (n: number) => `{"name":"d","extends":"megatron-core","zz":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`;
  const cases: Array<[string[], RegExp]> = [
    [["plan", "--model", "gpt3-125m", "--engine", put("deep.json", deep(5000))], /deep\.json: nested more than 64 levels deep \(at zz\.a\.a/],
    [["plan", "--model", "gpt3-125m", "--engine", put("deep-array.json", `{"name":"d","description":${"[".repeat(5000)}${"]".repeat(5000)}}`)], /nested more than 64 levels deep/],
    [["plan", "--model", "gpt3-125m", "--profile", put("deep-hw.json", `{"extends":"dgx-h100","zz":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`)], /nested more than 64 levels deep/],
    [["plan", "--model", "gpt3-125m", "--engine", put("proto.json", '{"name":"u","extends":"megatron-core","__proto__":{"gemmEfficiency":0.1}}')], /proto\.json: a key "__proto__": not a field of any input file/],
    [["plan", "--model", put("proto-model.json", '{"name":"m","layers":2,"hidden":64,"heads":2,"vocab":100,"seqLen":64,"x":{"__proto__":{}}}')], /a key "__proto__" in x/],
    [["plan", "--model", "gpt3-125m", "--engine", put("gen.json", '{"name":"g","extends":"megatron-core","attention":{"efficiency":{"H1OO":0.3}}}')], /field "attention\.efficiency\.H1OO": not a GPU generation paraplan knows/],
    [["plan", "--model", "gpt3-125m", "--profile", put("fail.json", '{"extends":"dgx-h100","run":{"failuresPerGpuHour":1}}')], /run\.failuresPerGpuHour/],
    // Bounds in the field's unit ("out of range (0–0.001)" before), both allowed values, with
    // what the field is and an example (planner/schema/engine-quantities.ts).
    [["plan", "--model", "gpt3-125m", "--engine", put("launch.json", '{"name":"x","extends":"megatron-core","launch":{"perKernel":"1.001 ms"}}')], /field "launch\.perKernel": "1\.001 ms" is out of range; give the host time a kernel launch costs from 0 to 1 ms, like 8 us$/],
    [["plan", "--model", "gpt3-125m", "--engine", put("bucket.json", '{"name":"x","extends":"megatron-core","dataParallel":{"bucketSize":"1 KiB"}}')], /"1 KiB" is out of range; give a gradient bucket's size from 1 MiB to 1 TB, like 80 MB$/],
    [["plan", "--model", "gpt3-125m", "--engine", put("launch-bare.json", '{"name":"x","extends":"megatron-core","launch":{"perKernel":{"value":"5","source":"test"}}}')], /field "launch\.perKernel": "5" has no unit; give the host time a kernel launch costs from 0 to 1 ms, like 8 us$/],
    [["plan", "--model", "gpt3-125m", "--engine", put("reduce.json", '{"name":"x","extends":"megatron-core","dataParallel":{"gradReduceBytesPerParam":3}}')], /must be 2 \(16-bit\) or 4 \(fp32\)/],
    // A restart of 0 s is taken, as --restart-time 0s is (test/cli/run-flags.test.ts); past the flag's 100 years it is not.
    [["plan", "--model", "gpt3-125m", "--profile", put("restart-long.json", '{"extends":"dgx-h100","run":{"restartTime":"1000000 h"}}')], /field "run\.restartTime": "1000000 h" is too long: at most 100 years/],
    [["plan", "--model", "gpt3-125m", "--profile", put("power0.json", '{"extends":"dgx-h100","run":{"boardPower":"0 W"}}')], /field "run\.boardPower": "0 W" must be above zero; give a GPU's board power from 10 W to 5 kW, like 700 W$/],
  ];
  it.each(cases)("%j: exit 2, one line", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it("64 levels of an unknown key still get the schema's own message", async () => {
    const r = await runCli(["plan", "--model", "gpt3-125m", "--engine", put("deep60.json", deep(60))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/zz/);
    expect(r.stderr).not.toMatch(/nested/);
  });

  it("a file starting with a byte-order mark reads as without one", async () => {
    const path = join(dir, "bom.json");
    writeFileSync(path, '\uFEFF{"extends": "fsdp"}');
    const r = await runCli(["plan", "--model", "gpt3-125m", "--gpus", "8", "--engine", path, "--json", "--top", "1", "--simulate-top", "0"]);
    expect([r.code, JSON.parse(r.stdout).engine]).toEqual([0, "bom"]);
  });

  it("a name ending .JSON in capitals is a file, as .json is", async () => {
    const { isPath } = await import("../../src/load.js");
    expect(["MINE.JSON", "mine.Json", "mine.json"].map(isPath)).toEqual([true, true, true]);
    expect(isPath("fsdp")).toBe(false);
  });

  it("an engine file that changes another without a name of its own is named after the file, not the engine it changes", async () => {
    const slow = put("slow-core.json", '{"extends":"megatron-core","gemmEfficiency":0.5}');
    const r = await runCli(["plan", "--model", "gpt3-like", "--engine", slow, "--json", "--top", "1", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).engine).toBe("slow-core");
  });
});

// JSON.parse keeps the last of a repeated key: {"num_hidden_layers": 32, …, "num_hidden_layers": 2}
// planned a 2-layer model with no word. Malformed JSON was said with the absolute path, every other
// message about a file's contents with its name; a file of neither format was told paraplan's
// first field ("name": missing).
describe("what a model file's text says", () => {
  const llama = { model_type: "llama", hidden_size: 512, intermediate_size: 1376, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 2048 };
  const body = JSON.stringify(llama).slice(1, -1);
  const cases: Array<[string, string, string]> = [
    ["dup.json", `{"num_hidden_layers": 32, ${body}}`, 'dup.json: the key "num_hidden_layers" is given twice in one object (a JSON reader would keep one of them silently); fix the file'],
    ["dup-escaped.json", `{"\\u006dodel_type": "llama", ${body}}`, 'dup-escaped.json: the key "model_type" is given twice in one object'],
    ["dup-nested.json", `{${body}, "rope_scaling": {"rope_type": "llama3", "factor": 8, "factor": 32}}`, 'dup-nested.json: the key "rope_scaling.factor" is given twice in one object'],
    ["bad.json", `{${body},}`, "paraplan: bad.json: malformed JSON ("],
    ["neither.json", '{"architectures": ["LlamaForCausalLM"], "d_model": 4096}', "neither.json: neither a paraplan model file (fields \"name\", \"layers\""],
  ];
  it.each(cases)("%s: exit 2, one line", async (name, text, message) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    const r = await runCli(["plan", "--model", path]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain(dir);
  });
  it("the same key in two objects, or in an array's objects, is not repeated", async () => {
    const path = join(dir, "ok.json");
    writeFileSync(path, JSON.stringify({ ...llama, rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 2048 }, id2label: { "0": "a" }, label2id: { a: 0 }, task_specific_params: [{ factor: 1 }, { factor: 2 }] }));
    const r = await runCli(["plan", "--model", path, "--gpus", "8", "--global-batch", "8", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
  });
});
