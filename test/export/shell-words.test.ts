// Launch scripts as bash splits them (src/engines/shell-words.ts): quotes that span lines,
// continuations, comments, assignments; the arguments a script keeps in quoted strings (Megatron-LM's
// 2021-22 examples) are read as its arrays are, and the variables it sets to literals stand for them.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { shellWords } from "../../src/engines/shell-words.js";
import { readArgs, shellVariables } from "../../src/engines/args-file.js";
import { launcherWorld } from "../../src/engines/launcher-world.js";
import { cli, fixture, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

const texts = (s: string) => shellWords(s).map((w) => w.text);

describe("shellWords", () => {
  it("splits on blanks and newlines, removes quotes, keeps quoted blanks and empty words", () => {
    expect(texts(`a  "b c"\t'd e' f"g h"i ""`)).toEqual(["a", "b c", "d e", "fg hi", ""]);
  });

  it("continues lines at a backslash-newline, inside double quotes too; a quoted string may span lines", () => {
    const w = shellWords('X="--a 1 \\\n  --b 2"\n--c \\\n 3\n\'--d\n4\'');
    expect(w.map((x) => x.text)).toEqual(["X=--a 1   --b 2", "--c", "3", "--d\n4"]);
    expect(w.map((x) => x.line)).toEqual([1, 3, 4, 5]);
  });

  it("comments start at a word's start only; # inside a word or quotes is text", () => {
    expect(texts("a # b c\nd#e '#f' # g\nh")).toEqual(["a", "d#e", "#f", "h"]);
  });

  it("escapes: \\x is x outside quotes; \\\" \\\\ \\$ inside double quotes; nothing inside single quotes", () => {
    expect(texts(`a\\ b "c\\"d\\\\e\\$f\\g" 'h\\i'`)).toEqual(["a b", 'c"d\\e$f\\g', "h\\i"]);
  });

  it("an assignment is NAME= unquoted; ; separates commands", () => {
    const w = shellWords(`A=1;export B="x y" "C=2" D='$E'`);
    expect(w.map((x) => x.assign ?? null)).toEqual([{ name: "A", value: "1" }, null, { name: "B", value: "x y" }, null, { name: "D", value: "$E" }]);
  });
});

describe("variables set to literals", () => {
  it("literals and references to them; computed, environment-defaulted, listed or twice-set ones are left out", () => {
    const v = shellVariables('A=8\nexport B="4" # four\nC=$A\nD=${B}\nE=$(nproc)\nF=${SLURM_NNODES:-1}\nG="1 2"\nH=1\nH=2\nI=$E\nJ=$UNSET\nK=${E:-3}\n');
    // F takes the default bash gives it where SLURM_NNODES is unset (said by defaultsRead); K's
    // variable is computed, so its value is not known.
    expect(Object.fromEntries(v)).toEqual({ A: "8", B: "4", C: "8", D: "4", F: "1" });
  });
});

describe("a script that keeps its arguments in strings (Megatron-LM 2021-22 examples)", () => {
  const script = fixture("from-refusals/launch-gpt3-1.3b-strings.sh");
  const text = readFileSync(script, "utf8");

  it("reads the flags of GPT_ARGS=\"…\" (spanning lines) and DISTRIBUTED_ARGS=\"…\" where they stand", () => {
    const flags = Object.fromEntries(readArgs(text).map((s) => [s.flag, s.values[0] ?? true]));
    expect(flags).toMatchObject({ "num-layers": "24", "hidden-size": "2048", "micro-batch-size": "4", "global-batch-size": "512", fp16: true, "tensor-model-parallel-size": "2", "data-path": "/data/my-gpt2_text_document" });
    expect(flags["nproc_per_node"]).toBeUndefined(); // the launcher's, not Megatron's
    expect(launcherWorld(text)).toEqual({ gpus: 16, says: "torchrun --nproc_per_node 8 --nnodes 2" });
  });

  it("plan --from: 16 GPUs from the script, fp16, tp 2 · dp 8 · micro-batch 4, no warnings", async () => {
    const r = await cli(["plan", "--model", "gpt3-1.3b", "--from", script, "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.from.gpus).toBe(16);
    expect(j.precision).toBe("fp16");
    expect(j.from.plan).toMatchObject({ tp: 2, pp: 1, dp: 8, microBatch: 4 });
    expect(j.from.warnings).toEqual([]);
  });
});

// Megatron-LM's examples/llama/train_llama3_8b_h100_fp8.sh (@d98e8a64) keeps its fp8 flags as
// quoted array elements inside `if [[ "$DTYPE" == "fp8" ]]`, and Megatron-DeepSpeed's
// pretrain_llama2_distributed.sh adds recompute inside `if [ "${activation_checkpoint}" = "true" ]`
// with activation_checkpoint="false": the fp8 flags were "unknown" (bf16 priced) and the recompute
// read although it never runs.
describe("launch scripts as bash runs them", () => {
  const flags = (text: string) => readArgs(text).map((s) => [s.flag, ...s.values].join(" "));
  it("a quoted array element of a flag and its value is two words, as the unquoted expansion makes it", () => {
    expect(flags('DT=()\nDT+=(\n  "--fp8-format hybrid"\n  "--fp8-amax-history-len 1024"\n)\ntorchrun pretrain_gpt.py ${DT[@]}\n')).toEqual(["fp8-format hybrid", "fp8-amax-history-len 1024"]);
  });
  it("an if whose test compares literals runs its branch; the others are skipped", () => {
    const text = [
      'ckpt="false"', 'DTYPE="bf16"',
      'if [ "${ckpt}" = "true" ]; then', '  ARGS+=(--recompute-granularity full)', "fi",
      'if [[ "$DTYPE" == "fp8" ]]; then', '  D=( "--fp8-format hybrid" )', 'elif [[ "$DTYPE" == "bf16" ]]; then', '  D=( "--bf16" )', "else", '  D=( "--fp16" )', "fi",
      'if [ "$ckpt" != "true" ]; then', "  ARGS+=(--use-distributed-optimizer)", "fi",
    ].join("\n");
    expect(flags(text)).toEqual(["bf16", "use-distributed-optimizer"]);
  });
  // QA: `USE_FP8=0` then `if [ $USE_FP8 -eq 1 ]` was read through its fp8 branch, said to depend on the environment.
  it("integer comparisons of literals are decided too: -eq -ne -gt -ge -lt -le in [ ] and [[ ]], == != > >= < <= in (( ))", () => {
    const branch = (test: string, vars = "USE_FP8=0\nTP=2\n") => flags(`${vars}if ${test}; then\n  A=(--fp8-format hybrid)\nelse\n  A=(--bf16)\nfi\n`);
    for (const t of ["[ $USE_FP8 -eq 1 ]", "[ $TP -ne 2 ]", "[[ $TP -gt 2 ]]", "[ 1 -ge $TP ]", "[ $TP -lt 2 ]", "[ $TP -le 1 ]", "(( TP > 2 ))", "(( $TP == 1 ))", "((TP<=1))", "[[ TP -eq 1 ]]"])
      expect(branch(t), t).toEqual(["bf16"]);
    for (const t of ["[ $USE_FP8 -eq 0 ]", "[ $TP -ne 1 ]", "[[ $TP -gt 1 ]]", "[ 2 -ge $TP ]", "(( TP > 1 ))", "(( $TP != 1 ))", "((TP>=2))", "[[ TP -eq 2 ]]"])
      expect(branch(t), t).toEqual(["fp8-format hybrid"]);
    // Not integers, an unset variable, a bare name inside [ ] (a string there), octal in (( )): undecided, the first branch read and marked.
    for (const t of ["[ $MODE -eq 1 ]", "[ fp8 -eq 1 ]", "[ TP -eq 2 ]", "(( 08 > 1 ))", "(( X > 1 ))"]) {
      const s = readArgs(`TP=2\nMODE=\${MODE_ENV}\nif ${t}; then\n  A=(--fp8-format hybrid)\nelse\n  A=(--bf16)\nfi\n`);
      expect(s, t).toEqual([{ flag: "fp8-format", values: ["hybrid"], line: 4, undecidedIf: 3 }]);
    }
  });
  it("an undecided test (a value from the environment): its first branch is read and marked, the rest not", () => {
    const s = readArgs('if [[ "$TOKENIZER" == "MOCK" ]]; then\n  A=( "--tokenizer-type NullTokenizer" )\nelse\n  A=( "--tokenizer-type HuggingFaceTokenizer" )\nfi\n');
    expect(s).toEqual([{ flag: "tokenizer-type", values: ["NullTokenizer"], line: 2, undecidedIf: 1 }]);
  });
  // QA: SP="--sequence-parallel" set in a decided if, PREC_ARGS differing between an undecided if's
  // branches, `$SP $PREC_ARGS` on the launch line: "--sequence-parallel is given twice, as "" (line 12) and "$PREC_ARGS" (line 21)".
  it("a variable holding flags adds nothing where it is expanded: its flags are read where it is set, as the if around it decides", async () => {
    const script = (tp: string) => [
      `TP=${tp}`,
      'if [ "$MODE" = fp8 ]; then', '  PREC_ARGS="--bf16 --fp8-format hybrid"', "else", '  PREC_ARGS="--bf16"', "fi",
      'if [ "$TP" != "1" ]; then', '  SP="--sequence-parallel"', "fi",
      "torchrun pretrain_gpt.py --tensor-model-parallel-size $TP \\", "  --recompute-activations $SP $PREC_ARGS",
    ].join("\n");
    const s = readArgs(script("2"));
    expect(s.map((x) => [x.flag, ...x.values].join(" "))).toEqual(["bf16", "fp8-format hybrid", "sequence-parallel", "tensor-model-parallel-size 2", "recompute-activations"]);
    expect(s.find((x) => x.flag === "sequence-parallel")).toEqual({ flag: "sequence-parallel", values: [], line: 8 });
    // tp 1: the if does not run, SP is never set and $SP is empty (it was read as --sequence-parallel).
    expect(flags(script("1"))).toEqual(["bf16", "fp8-format hybrid", "tensor-model-parallel-size 1", "recompute-activations"]);
    expect(flags("if false; then\n  A=(--bf16)\nfi\nif true; then\n  B=(--fp16)\nfi\n")).toEqual(["fp16"]);
    // QA's b1.sh, as plan --from reads it: USE_FP8=0 decides the precision, TP=2 the sequence parallel.
    const b1 = [
      "USE_FP8=0", "TP=2", "if [ $USE_FP8 -eq 1 ]; then", '  PREC_ARGS="--bf16 --fp8-format hybrid"', "else", '  PREC_ARGS="--bf16"', "fi",
      'if [ "$TP" != "1" ]; then', '  SP="--sequence-parallel"', "fi",
      "torchrun --nproc_per_node 8 --nnodes 1 pretrain_gpt.py \\",
      "  --tensor-model-parallel-size $TP --micro-batch-size 1 --global-batch-size 128 --seq-length 8192 --use-distributed-optimizer $SP $PREC_ARGS",
    ].join("\n");
    const r = await cli(["plan", "--model", "llama3-8b", "--from", tempFile("b1.sh", b1), "--json", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.precision, j.from.plan.tp, j.from.plan.sequenceParallel, j.from.warnings]).toEqual(["bf16", 2, true, []]);
  });
  it("--flag=$NAME takes the variable's literal, and ARGS+=(--a 1 … --b 2) its words without the parentheses", () => {
    expect(flags("Z=1\nARGS+=(--num-layers 4\n  --hidden-size 64)\ntorchrun pretrain_gpt.py ${ARGS[@]} --zero-stage=$Z\n")).toEqual(["num-layers 4", "hidden-size 64", "zero-stage 1"]);
    // `A=(--a 1 …` opens an array as `A+=(` does (it was read as a string "(--a": no flags).
    expect(flags("A=(--num-layers 4\n  --hidden-size 64)\nB=(--bf16)\ntorchrun pretrain_gpt.py ${A[@]} ${B[@]}\n")).toEqual(["num-layers 4", "hidden-size 64", "bf16"]);
  });
});

// bigscience tr11-176B-ml.slurm ran `python $LOAD_RATIOS_SCRIPT … --split train` and `--split valid`
// before the launch ("--split is given twice"); Megatron-DeepSpeed's 13B script counts GPUs with
// `$(… nvidia-smi --format=csv,noheader | wc -l)`: neither is the trainer's.
describe("other commands in a launch script", () => {
  const flags = (text: string) => readArgs(text).map((s) => [s.flag, ...s.values].join(" "));
  it("a helper program's flags are skipped; a command that goes on to launch the training is read from there", () => {
    const text = [
      "n=$(($(ds_ssh nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)-2))",
      "python $RATIOS --dataset-ratios-path x.json --split train",
      "python $RATIOS --dataset-ratios-path y.json --split valid",
      "nsys profile --trace=cuda torchrun --nproc_per_node 8 pretrain_gpt.py --num-layers 4",
      "python -u -m torch.distributed.run --nnodes 2 pretrain_gpt.py --hidden-size 64",
    ].join("\n");
    expect(flags(text)).toEqual(["num-layers 4", "hidden-size 64"]);
    // tr11-176B-ml.slurm: srun's options kept in SRUN_ARGS ("--wait is not a Megatron-DeepSpeed argument");
    // a variable that holds the launcher (`srun $LAUNCHER $CMD`) is still the training's.
    const srun = [
      'SRUN_ARGS=" \\', "    --wait=60 \\", "    --kill-on-bad-exit=1 \\", '    "',
      'CMD="pretrain_gpt.py --num-layers 4"', 'LAUNCHER="torchrun --nproc_per_node 8"', 'MPI="--np 16"',
      'clear; srun $SRUN_ARGS --jobid $SLURM_JOB_ID bash -c "$LAUNCHER $CMD" 2>&1 | tee -a log.txt',
      "srun --wait=60 $LAUNCHER $CMD", "mpirun $MPI python pretrain_gpt.py --hidden-size 64",
    ].join("\n");
    expect(flags(srun)).toEqual(["num-layers 4", "hidden-size 64"]);
    expect(flags(srun.replace("clear; srun", "echo"))).toEqual(["wait 60", "kill-on-bad-exit 1", "num-layers 4", "hidden-size 64"]);
    expect(shellWords("x=$(a --b c)\n`d --e`")).toMatchObject([{ text: "x=$(a --b c)", assign: { name: "x" } }, { text: "`d --e`", line: 2 }]);
  });
});
