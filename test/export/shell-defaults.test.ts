// A launch script's defaults for variables it leaves to the environment (`TP=${TP:-8}`,
// `--nnodes ${NNODES:-1}`; bash §3.5.3 "${parameter:-word}": the word where the parameter is
// unset): read as bash runs the script with none of them set, and said in a warning, since the
// environment can change them. Before, every such flag was refused as "a shell variable".
import { describe, expect, it } from "vitest";
import { defaultsRead, readArgs, shellVariables } from "../../src/engines/args-file.js";
import { launcherWorld } from "../../src/engines/launcher-world.js";
import { cli, tempFile } from "./helpers.js";

const SCRIPT = [
  "#!/bin/bash",
  "TP=${TP:-2}",
  'GPUS_PER_NODE=${GPUS_PER_NODE:-"8"}',
  "MBS=4",
  "torchrun --nproc_per_node $GPUS_PER_NODE --nnodes ${NNODES:-2} pretrain_gpt.py \\",
  "  --num-layers 24 --hidden-size 2048 --num-attention-heads 16 --seq-length 2048 \\",
  "  --max-position-embeddings 2048 --micro-batch-size ${MBS:-1} --global-batch-size 512 --bf16 \\",
  "  --tensor-model-parallel-size $TP --pipeline-model-parallel-size=${PP:-1} --save ${1:-ckpt/gpt}",
].join("\n");

describe("variables read at the defaults their script gives them", () => {
  it("an assignment from a default, and a flag's own default; a variable the script sets wins over a default", () => {
    expect(Object.fromEntries(shellVariables(SCRIPT))).toEqual({ TP: "2", GPUS_PER_NODE: "8", MBS: "4" });
    const flags = Object.fromEntries(readArgs(SCRIPT).map((s) => [s.flag, s.values[0]]));
    // MBS=4 is set by the script: ${MBS:-1} is 4, as bash makes it.
    expect(flags).toMatchObject({ "tensor-model-parallel-size": "2", "pipeline-model-parallel-size": "1", "micro-batch-size": "4" });
    // The trainer's flags' defaults; the launcher's counts from defaults are decided at launch.
    expect(defaultsRead(SCRIPT)).toEqual([
      { name: "TP", value: "2", line: 2, uses: ["tensor-model-parallel-size"] },
      { name: "PP", value: "1", line: 8, uses: ["pipeline-model-parallel-size"] },
      { name: "1", value: "ckpt/gpt", line: 8, uses: ["save"] },
    ]);
    expect(launcherWorld(SCRIPT)).toEqual({ unset: "torchrun --nproc_per_node 8 is the default the script gives a variable the environment can set at launch" });
    expect(launcherWorld(SCRIPT.replace("$GPUS_PER_NODE", "8"))).toEqual({ unset: "torchrun --nnodes 2 is the default the script gives a variable the environment can set at launch" });
    expect(launcherWorld(SCRIPT.replace("$GPUS_PER_NODE", "8").replace("${NNODES:-2}", "2"))).toEqual({ gpus: 16, says: "torchrun --nproc_per_node 8 --nnodes 2" });
  });

  it("plan --from: the defaults' plan, one warning naming each and its line; the GPU count from defaults needs --gpus", async () => {
    const path = tempFile("defaults.sh", SCRIPT);
    const refused = await cli(["plan", "--model", "gpt3-1.3b", "--from", path]);
    expect(refused.code).toBe(2);
    expect(refused.errLines).toHaveLength(1);
    expect(refused.stderr).toContain("the environment can set at launch; pass --gpus");
    const r = await cli(["plan", "--model", "gpt3-1.3b", "--from", path, "--gpus", "64", "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.from.gpus).toBe(64);
    expect(j.from.plan).toMatchObject({ tp: 2, pp: 1, dp: 32, microBatch: 4 });
    // ${1:-ckpt/gpt}, the positional parameter's default, names where --save writes: not said.
    const said = j.from.warnings.filter((w: string) => w.includes("defaults"));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("read with the script's defaults for TP=2 (line 2), PP=1 (line 8); set in the environment when the script runs, they change the plan");
  });

  // (QA: a positional parameter's default was said to be "set in the environment")
  it("a positional parameter's default is the script's argument, not the environment's", async () => {
    const script = SCRIPT.replace("$TP ", "${3:-2} ").replace("TP=${TP:-2}", "");
    const path = tempFile("positional.sh", script);
    const r = await cli(["plan", "--model", "gpt3-1.3b", "--from", path, "--gpus", "64", "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const said = JSON.parse(r.stdout).from.warnings.filter((w: string) => w.includes("defaults"));
    expect(said[0]).toContain("read with the script's defaults for $3=2 (line 8), PP=1 (line 8); set in the environment or given as the script's arguments when the script runs");
  });

  it("an if decided by a default is said with it", () => {
    const text = 'MODE=${MODE:-fast}\nif [ "$MODE" = "fast" ]; then\n  A=(--recompute-granularity selective)\nfi\ntorchrun pretrain_gpt.py ${A[@]}\n';
    expect(readArgs(text).map((s) => [s.flag, ...s.values].join(" "))).toEqual(["recompute-granularity selective"]);
    expect(defaultsRead(text)).toEqual([{ name: "MODE", value: "fast", line: 1, uses: ["if"] }]);
  });

  // Megatron-LM's examples/llama/train_llama3_8b_h100_fp8.sh (@d98e8a64): TOKENIZER_ARG=${3:-"MOCK"},
  // then `if [[ "$TOKENIZER_ARG" == "MOCK" ]] || [[ "$DATA_ARG" == "MOCK" ]] || [[ -z "$TOKENIZER_ARG" ]]`.
  it("a list of tests is decided where its undecided parts cannot change it; -z and -n on known values", () => {
    const script = (test: string) => `T=\${3:-"MOCK"}\nif ${test}; then\n  A=(--mock-data)\nelse\n  A=(--data-path x)\nfi\ntorchrun pretrain_gpt.py \${A[@]}\n`;
    const read = (test: string) => readArgs(script(test)).map((s) => [s.flag, ...s.values, ...(s.undecidedIf ? ["(undecided)"] : [])].join(" "));
    expect(read('[[ "$T" == "MOCK" ]] || [[ "$D" == "MOCK" ]] || [[ -z "$T" ]]')).toEqual(["mock-data"]);
    expect(read('[[ "$T" != "MOCK" ]] && [[ "$D" == "MOCK" ]]')).toEqual(["data-path x"]);
    expect(read('[[ "$T" == "MOCK" ]] && [[ "$D" == "MOCK" ]]')).toEqual(["mock-data (undecided)"]);
    expect(read('[ -n "$T" ]')).toEqual(["mock-data"]);
    expect(read('[ -z "$T" ]')).toEqual(["data-path x"]);
    // A [[ == ]] right side with * is a pattern: not decided.
    expect(read('[[ "$T" == MO* ]]')).toEqual(["mock-data (undecided)"]);
    expect(defaultsRead(script('[[ "$T" == "MOCK" ]]'))).toEqual([{ name: "T", value: "MOCK", line: 1, uses: ["if"] }]);
  });

  it("a default that is not a literal, or a variable the script computes, is still refused where a number is needed", async () => {
    const text = SCRIPT.replace("TP=${TP:-2}", "TP=${TP:-$(nproc)}");
    expect(readArgs(text).find((s) => s.flag === "tensor-model-parallel-size")!.values[0]).toBe("$TP");
    const r = await cli(["plan", "--model", "gpt3-1.3b", "--from", tempFile("computed.sh", text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tensor-model-parallel-size is "$TP", a shell variable; write its value');
  });
});
