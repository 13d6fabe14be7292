// `plan --from` given what is no engine configuration, and the messages of malformed values (QA of
// the readers): paraplan's own plan JSON and a model's config.json were read as a ds_config
// ("train_batch_size … is required"); a JSON number beyond a double (1e400 reads as Infinity) was
// named "train_batch_size null" (JSON.stringify(Infinity)); a YAML alias was refused as "*a"; a
// script with an unterminated quote was planned from the words before it.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";
import { fileWriter, refused } from "./from-cli.js";
import { openQuote, shellWords } from "../../src/engines/shell-words.js";

afterAll(removeTemp);
const file = fileWriter("from-not-config");

describe("plan --from on paraplan's plan JSON and on model files", () => {
  it("plan --json's output, and one entry of its plans, are pointed at --plan (export, execute)", async () => {
    const out = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1"]);
    expect(out.code).toBe(0);
    const whole = file("json", out.stdout);
    await refused(["--model", "llama3-8b", "--from", whole], "is a paraplan plan (plan --json's output), not an engine's configuration; give it to export --plan or execute --plan");
    const entry = file("json", JSON.stringify(JSON.parse(out.stdout).plans[0]));
    await refused(["--model", "llama3-8b", "--from", entry], `is a paraplan plan (an entry of plan --json's "plans")`, "export --plan");
    // "plans": null is the output corrupt, not a ds_config; --plan says what is wrong with it
    const nulled = file("json", JSON.stringify({ ...JSON.parse(out.stdout), plans: null }));
    await refused(["--model", "llama3-8b", "--from", nulled], "is a paraplan plan (plan --json's output)");
    const ex = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "16", "--plan", nulled, "--out", join(tempDir(), "n")]);
    expect([ex.code, ex.stderr.trim()]).toEqual([2, `paraplan: --plan ${nulled}: "plans" is null, not a list of plans (plan --json writes "plans": [ … ])`]);
    // and --plan does take both (src/plan-file.ts planFromJson)
    const dir = tempDir();
    expect((await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "16", "--plan", entry, "--out", join(dir, "a")])).code).toBe(0);
  });
  it("a HuggingFace config.json, and paraplan's own model file, are pointed at --model", async () => {
    const hf = file("json", JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 128256 }));
    await refused(["--model", "llama3-8b", "--from", hf], "is a model's config.json (HuggingFace), not an engine's configuration; give it as --model");
    // without --model too: the file is named before any model is looked for
    await refused(["--from", hf], "give it as --model");
    await refused(["--from", "profiles/models/llama3-8b.json"], "is a paraplan model file, not an engine's configuration; give it as --model profiles/models/llama3-8b.json");
  });
  it("a torchrun or slurm export with --script of a trainer of the user's own: exit 2 saying its arguments are the script's (was read as Megatron-LM's: \"--micro-batch-size is missing\")", async () => {
    const dir = tempDir();
    const say = "is paraplan's launch script for a trainer of your own (export --script): its arguments are that script's, not a configuration paraplan reads";
    for (const [format, name] of [["torchrun", "torchrun.sh"], ["slurm", "paraplan.sbatch"]] as const) {
      const out = join(dir, `own-${format}`);
      const ex = await cli(["export", "--format", format, "--model", "llama3-8b", "--gpus", "16", "--script", "train.py --lr 3", "--out", out]);
      expect(ex.code, ex.stderr).toBe(0);
      await refused(["--model", "llama3-8b", "--gpus", "16", "--from", join(out, name)], say, "or the plan --json it was exported from to export --plan");
    }
    // a script given Megatron-LM's arguments is still read as them
    const mg = join(dir, "own-megatron");
    expect((await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16", "--script", "pretrain_gpt.py --micro-batch-size 1 --global-batch-size 512 --seq-length 8192 --bf16", "--out", mg])).code).toBe(0);
    const r = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", join(mg, "torchrun.sh"), "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).from.plan).toMatchObject({ dp: 16, microBatch: 1 });
  });
  it("a ds_config is still read as one", async () => {
    const ds = file("json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, gradient_accumulation_steps: 1, bf16: { enabled: true }, zero_optimization: { stage: 2 } }));
    const r = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", ds, "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).from.plan).toMatchObject({ dp: 16, zero: 2, microBatch: 1 });
  });
});

describe("malformed values, said as they are", () => {
  it("a JSON number beyond a double is named by its digits as too large, not as null", async () => {
    // 1e400 > Number.MAX_VALUE ≈ 1.8e308: JSON.parse gives Infinity, JSON.stringify(Infinity) is "null"
    const line = await refused(["--model", "llama3-8b", "--from", file("json", '{"train_batch_size": 1e400, "bf16": {"enabled": true}}')], "train_batch_size 1e400 (a number too large to hold: beyond ±1.8e308) (line 1)");
    expect(line).not.toContain("null");
  });
  it("zero_optimization neither an object nor DeepSpeed's deprecated boolean is exit 2 naming it, not read as ZeRO-0 (DeepSpeedZeroConfig(**2) raises: runtime/zero/config.py get_zero_config)", async () => {
    const ds = (zo: string) => file("json", `{"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1, "bf16": {"enabled": true},\n "zero_optimization": ${zo}}`);
    for (const zo of ["2", "null", '"2"', "[2]"])
      await refused(["--model", "llama3-8b", "--gpus", "16", "--from", ds(zo)], `zero_optimization ${zo} (line 2): must be an object ({"stage": 0-3, …}) or DeepSpeed's deprecated true / false`);
    // the deprecated boolean: true is stage 1, false stage 0 (read_zero_config_deprecated)
    const on = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", ds("true"), "--json", "--top", "1"]);
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout).from.plan.zero).toBe(1);
    // its switches as text: DeepSpeed's pydantic model reads "false" as False, so contiguous_gradients
    // "false" (refused when false) was priced as the default true; text is refused by key
    await refused(["--model", "llama3-8b", "--gpus", "16", "--from", ds('{"stage": 2,\n "contiguous_gradients": "false"}')], 'zero_optimization.contiguous_gradients "false" (line 3): must be true or false');
    await refused(["--model", "llama3-8b", "--gpus", "16", "--from", ds('{"stage": 2, "overlap_comm": "yes"}')], 'zero_optimization.overlap_comm "yes" (line 2): must be true or false');
    const ok = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", ds('{"stage": 2, "contiguous_gradients": true, "overlap_comm": null}'), "--json", "--top", "1"]);
    expect(ok.code, ok.stderr).toBe(0);
    // no batch size, with a typo of one among the keys DeepSpeed does not know: named in the refusal,
    // whose warning was left unsaid (QA)
    await refused(["--model", "llama3-8b", "--gpus", "16", "--from", file("json", '{"train_batch_sz": 512, "bf16": {"enabled": true}}')], 'train_batch_size or train_micro_batch_size_per_gpu is required (the file\'s "train_batch_sz" is no DeepSpeed key)');
    // a key DeepSpeedZeroConfig does not define: its config model forbids extras (extra="forbid"),
    // so deepspeed.initialize raises; a typo was a warning and the run priced without it (QA)
    await refused(["--model", "llama3-8b", "--gpus", "16", "--from", ds('{"stage": 2, "overlap_comms": true}')], "zero_optimization.overlap_comms true (line 2) is not a field of DeepSpeed's zero_optimization", 'extra="forbid"');
    // (a field under its alias is one: stage3_prefetch_bucket_size for prefetch_bucket_size)
    const alias = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", ds('{"stage": 3, "stage3_prefetch_bucket_size": 50000000}'), "--json", "--top", "1"]);
    expect(alias.code, alias.stderr).toBe(0);
  });
  it("a YAML alias is read as its anchor's value (global 16, micro *a = 16 on 1 GPU); a merge key is refused", async () => {
    const yaml = "model:\n  name: hf_causal_lm\nglobal_train_batch_size: &a 16\ndevice_train_microbatch_size: *a\n";
    const r = await cli(["plan", "--model", "gpt3-125m", "--gpus", "1", "--from", file("yaml", yaml), "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    // 16 = 16 · dp 1: one micro-batch of 16 a step
    expect(JSON.parse(r.stdout).from.plan).toMatchObject({ dp: 1, microBatch: 16 });
    await refused(["--model", "llama3-8b", "--gpus", "1", "--from", file("yaml", "base: &b\n  name: hf_causal_lm\nmodel:\n  <<: *b\nglobal_train_batch_size: 16\n")], "a YAML merge key (<<, line 4), which paraplan does not read");
  });
  it("an arguments file with an unterminated quote is exit 2 naming the line the quote opened on", async () => {
    await refused(["--model", "llama3-8b", "--from", file("sh", '--micro-batch-size 1 --bf16 "unterminated\n')], 'the " quote opened on line 1 is never closed');
    await refused(["--model", "llama3-8b", "--from", file("sh", "torchrun pretrain_gpt.py \\\n  --micro-batch-size 1 \\\n  --bf16 \\\n  --data-path 'a b\n")], "the ' quote opened on line 4 is never closed");
  });
  it("openQuote: closed quotes spanning lines, comments and here-documents are not open quotes", () => {
    expect(openQuote('A="x\ny"\n--bf16\n')).toBeUndefined();
    expect(openQuote("--bf16 # it's a comment\n")).toBeUndefined();
    expect(openQuote("cat <<EOF > ds.json\n{\"it's\": 1}\nEOF\n--bf16\n")).toBeUndefined();
    expect(openQuote("--a 1\n--b 'x\n")).toEqual({ quote: "'", line: 2 });
    // shellWords itself is unchanged: the open quote's text is one word
    expect(shellWords("--b 'x y").map((w) => w.text)).toEqual(["--b", "x y"]);
  });
});
