// The `plan --from` refusal tests' two outcomes, through main(argv, io): exit 2 with one line, or
// exit 0 with --json. Not a test file.
import { expect } from "vitest";
import { cli, tempFile } from "./helpers.js";

/** Exit 2, one line on stderr, containing every one of `says`. */
export async function refused(argv: string[], ...says: string[]): Promise<string> {
  const r = await cli(["plan", ...argv]);
  expect(r.code, `${argv.join(" ")}\n${r.stdout}`).toBe(2);
  expect(r.errLines, argv.join(" ")).toHaveLength(1);
  expect(r.errLines[0]!.includes("\n")).toBe(false);
  for (const s of says) expect(r.errLines[0], argv.join(" ")).toContain(s);
  return r.errLines[0]!;
}

/** Exit 0 with --json: the from object and the request's figures. */
export async function accepted(argv: string[]): Promise<{ from: { plan: Record<string, unknown>; gpus: number; notes: string[]; warnings: string[] }; precision: string; gpus: number }> {
  const r = await cli(["plan", ...argv, "--json", "--top", "1"]);
  expect(r.code, `${argv.join(" ")}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

/** A writer of numbered temp files named after `prefix`. */
export function fileWriter(prefix: string): (ext: string, text: string) => string {
  let n = 0;
  return (ext, text) => tempFile(`${prefix}-${n++}.${ext}`, text);
}

/** Mixtral 8x7B on 64 GPUs as the Megatron export plans it: tp 8, pp 2, vpp 4 (29 lines; the
 *  precision, the dispatcher and the expert layout are each test's own). */
export const MIXTRAL_MEGATRON = [
  "--num-layers 32", "--hidden-size 4096", "--ffn-hidden-size 14336", "--num-attention-heads 32", "--group-query-attention", "--num-query-groups 8",
  "--position-embedding-type rope", "--rotary-base 1000000", "--swiglu", "--normalization RMSNorm", "--norm-epsilon 0.00001",
  "--untie-embeddings-and-output-weights", "--num-experts 8", "--moe-router-topk 2", "--moe-ffn-hidden-size 14336", "--expert-tensor-parallel-size 1",
  "--attention-dropout 0", "--hidden-dropout 0", "--seq-length 32768", "--tensor-model-parallel-size 8", "--pipeline-model-parallel-size 2",
  "--num-virtual-stages-per-pipeline-rank 4", "--use-distributed-optimizer", "--overlap-grad-reduce", "--sequence-parallel", "--micro-batch-size 1",
  "--global-batch-size 64", "--disable-bias-linear", "--attention-backend flash",
];

/** Llama 3 8B's Megatron-LM arguments, one a line (21 lines), as the Megatron export writes them
 *  less the degrees, precision and attention backend each test adds. */
export const LLAMA8B_MEGATRON = [
  "--num-layers 32", "--hidden-size 4096", "--ffn-hidden-size 14336", "--num-attention-heads 32", "--group-query-attention",
  "--num-query-groups 8", "--max-position-embeddings 8192", "--position-embedding-type rope", "--rotary-base 500000", "--swiglu",
  "--normalization RMSNorm", "--norm-epsilon 0.00001", "--untie-embeddings-and-output-weights", "--attention-dropout 0",
  "--hidden-dropout 0", "--seq-length 8192", "--use-distributed-optimizer", "--overlap-grad-reduce", "--micro-batch-size 1",
  "--global-batch-size 512", "--disable-bias-linear",
];
