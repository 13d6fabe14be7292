// "Did you mean …?" for mistyped flags and built-in names, and case ignored in every enumerated
// value: a built-in in capitals is that built-in, as `--precision BF16` is bf16.
import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, nearest } from "../../src/suggest.js";
import { isOneLine, runCli } from "./helpers.js";

describe("edit distance and the nearest known word", () => {
  it("counts inserts, deletes, substitutions and swapped neighbours, case ignored", () => {
    expect(editDistance("engin", "engine")).toBe(1);
    expect(editDistance("fsdpp", "fsdp")).toBe(1);
    expect(editDistance("fsdp", "fdsp")).toBe(1);
    expect(editDistance("FSDP", "fsdp")).toBe(0);
    expect(editDistance("", "tp")).toBe(2);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("offers only close words: one edit up to four characters, two beyond; then the words it begins", () => {
    expect(nearest("fsdpp", ["fsdp", "megatron-core"])).toEqual(["fsdp"]);
    expect(nearest("tpp", ["tp", "pp", "dp"])).toEqual(["tp", "pp"]);
    expect(nearest("zzz", ["tp", "pp", "dp"])).toEqual([]);
    expect(nearest("megatorn", ["megatron", "deepspeed"])).toEqual(["megatron"]);
    expect(nearest("sweep", ["seq", "sweep-gpus"])).toEqual(["sweep-gpus"]);
    expect(nearest("llama2-7", ["llama2-13b", "llama2-70b", "llama2-7b"])).toEqual(["llama2-7b", "llama2-70b"]);
    expect(nearest("FSDP", ["fsdp", "fsdq"])).toEqual(["fsdp"]);
    expect(didYouMean("engin", ["engine", "gpus"], (k) => `--${k}`)).toBe(" (did you mean --engine?)");
    expect(didYouMean("tpp", ["tp", "pp"])).toBe(" (did you mean tp or pp?)");
    expect(didYouMean("zzz", ["tp"])).toBe("");
  });
});

describe("a mistyped flag names the flag meant", () => {
  const cases: [string[], string][] = [
    [["plan", "--model", "tiny", "--engin", "fsdp"], "paraplan: Unknown option '--engin' (did you mean --engine?); see paraplan plan --help"],
    // parseArgs read it as the short options -e -n …: "Unknown option '-e'".
    [["plan", "--model", "tiny", "-engine", "fsdp"], "paraplan: Unknown option '-engine' (did you mean --engine?); see paraplan plan --help"],
    // A flag plan takes out before parsing the rest (the whole run's) is offered too.
    [["plan", "--model", "tiny", "--tokenz", "1T"], "paraplan: Unknown option '--tokenz' (did you mean --tokens?); see paraplan plan --help"],
    [["plan", "--model", "tiny", "--sweep", "8,16"], "paraplan: Unknown option '--sweep' (did you mean --sweep-gpus?); see paraplan plan --help"],
    [["export", "--model", "tiny", "--formt", "megatron"], "paraplan: Unknown option '--formt' (did you mean --format?); see paraplan export --help"],
    [["plan", "--model", "tiny", "--zzz"], "paraplan: Unknown option '--zzz'; see paraplan plan --help"],
    [["plan", "--model", "tiny", "-x"], "paraplan: Unknown option '-x'; see paraplan plan --help"],
  ];
  for (const [argv, line] of cases)
    it(argv.slice(3).join(" "), async () => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(line);
    });
});

describe("an unknown built-in names the one meant", () => {
  const cases: [string[], RegExp][] = [
    [["--engine", "fsdpp"], /^paraplan: --engine: unknown engine "fsdpp" \(did you mean fsdp\?\); built-ins: fsdp, /],
    [["--engine", "megatron-cor"], /^paraplan: --engine: unknown engine "megatron-cor" \(did you mean megatron-core\?\); /],
    [["--profile", "dgx-h10"], /^paraplan: --profile: unknown profile "dgx-h10" \(did you mean dgx-h100\?\); built-ins: /],
    [["--model", "llama2-7"], /^paraplan: --model: unknown preset "llama2-7" \(did you mean llama2-7b or llama2-70b\?\); presets: /],
    [["--engine", "nothing-like-it"], /^paraplan: --engine: unknown engine "nothing-like-it"; built-ins: /],
    [["--precision", "bf17"], /^paraplan: --precision: "bf17" is not one of bf16, fp16, fp8 \(did you mean bf16\?\)$/],
  ];
  for (const [flags, line] of cases)
    it(flags.join(" "), async () => {
      const r = await runCli(["plan", ...(flags.includes("--model") ? [] : ["--model", "llama2-7b"]), ...flags]);
      expect(r.code).toBe(2);
      expect(isOneLine(r.stderr)).toBe(true);
      expect(r.stderr).toMatch(line);
    });

  it("export --format and execute --device say the one meant", async () => {
    const f = await runCli(["export", "--format", "megatorn", "--model", "tiny"]);
    expect(f.stderr).toBe("paraplan: --format: \"megatorn\" is not one of megatron, deepspeed, torchtitan, llm-foundry, torchrun, slurm (did you mean megatron?)");
    const d = await runCli(["execute", "--model", "tiny", "--device", "cpus", "--print-launch"]);
    expect(d.stderr).toBe("paraplan: --device: \"cpus\" is not one of cuda, cpu (did you mean cpu?)");
  });
});

describe("case is ignored in every enumerated value, built-in names included", () => {
  const plan = async (argv: string[]) => {
    const r = await runCli(["plan", "--gpus", "8", "--top", "1", "--simulate-top", "0", "--json", ...argv]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it("--engine FSDP, --model Llama2-7B, --profile DGX-H100 plan as their built-ins (--engine FSDP was refused while --attention FUSED was taken)", async () => {
    const upper = await plan(["--model", "Llama2-7B", "--profile", "DGX-H100", "--engine", "FSDP", "--attention", "FUSED", "--precision", "BF16"]);
    const lower = await plan(["--model", "llama2-7b", "--profile", "dgx-h100", "--engine", "fsdp", "--attention", "fused", "--precision", "bf16"]);
    expect(upper).toEqual({ ...lower, elapsedMs: upper.elapsedMs });
    expect(JSON.stringify(upper)).toContain('"fsdp"');
  });

  it("export --format Megatron and --engine FSDP under --format llm-foundry (the format's own engine, not a contradiction)", async () => {
    const m = await runCli(["export", "--format", "Megatron", "--model", "tiny", "--gpus", "8"]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^# Megatron-LM pretrain_gpt\.py arguments/);
    const l = await runCli(["export", "--format", "llm-foundry", "--engine", "FSDP", "--model", "tiny", "--gpus", "8"]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toBe((await runCli(["export", "--format", "llm-foundry", "--model", "tiny", "--gpus", "8"])).stdout);
  });
});
