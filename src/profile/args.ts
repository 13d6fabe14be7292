// Flags of `paraplan profile`.
import { UserError } from "../errors.js";
import { MAX, int, oneOf, parseFlags } from "../flags.js";
import { CONTROL } from "../load.js";

export const PROFILE_USAGE = `usage: paraplan profile [options]

Measures this machine and writes a hardware profile (the schema of the built-ins) that
\`paraplan plan --profile local\` uses: GPUs, driver and CUDA versions and the GPU-pair topology
from nvidia-smi; matmul TFLOP/s over transformer GEMM shapes (bf16, fp16, tf32, fp8 on Hopper)
→ the matmul efficiency table; HBM copy and memory-bound kernels → memoryBandwidthEfficiency;
attention → attentionEfficiency; all-reduce, all-gather, reduce-scatter and send/recv from 8 KB
to 1 GB over 2..N GPUs → α and bus bandwidth → node.link latency and collectiveEfficiency.
The profile extends the closest built-in for what one node cannot measure (the network).

  --device cuda|cpu   default: cuda when nvidia-smi finds GPUs, else cpu (gloo ranks, fp32)
  --ranks N           CPU ranks for the collectives (default 2)
  --gpus N            GPUs to profile: the first N that nvidia-smi lists (default: all; N ≤ 1,048,576)
  --quick             a coarse pass: few shapes, few message sizes
  --out FILE          default profiles/hardware/local-<host>.json; never one of paraplan's own
                      files; checked writable before measuring (as --raw)
  --base NAME         the profile in profiles/hardware to extend (default: the built-in matching
                      the GPU; cpu on CPU)
  --name NAME         the profile's name (default: the file's name; no control characters)
  --raw FILE          also write every raw measurement and fit as JSON
  --no-collectives    measure the GPU only (the link keeps the base's figures)
  --detect            print what was detected and stop
  --json              print the result as one JSON object

Python: PARAPLAN_PYTHON, else .venv (npm run setup).
exit status: 0 written, 1 no GPU for --device cuda, 2 bad input, 3 a measurement failed,
4 no Python/torch`;

export interface ProfileArgs {
  device: "cuda" | "cpu" | undefined;
  ranks: number;
  gpus: number | undefined;
  quick: boolean;
  out: string | undefined;
  base: string | undefined;
  name: string | undefined;
  raw: string | undefined;
  collectives: boolean;
  detectOnly: boolean;
  json: boolean;
  help: boolean;
}

const OPTIONS = {
  device: { type: "string" },
  ranks: { type: "string" },
  gpus: { type: "string" },
  quick: { type: "boolean" },
  out: { type: "string" },
  base: { type: "string" },
  name: { type: "string" },
  raw: { type: "string" },
  "no-collectives": { type: "boolean" },
  detect: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseProfileArgs(argv: string[]): ProfileArgs {
  const { values } = parseFlags(argv, OPTIONS, "profile");
  const s = (k: string) => values[k] as string | undefined;
  const device = oneOf("device", s("device"), ["cuda", "cpu"] as const);
  const ranksText = s("ranks");
  if (ranksText !== undefined && (!/^\d+$/.test(ranksText.trim()) || Number(ranksText) < 1 || Number(ranksText) > 64))
    throw new UserError(`--ranks: "${ranksText}" is not an integer from 1 to 64`);
  if (ranksText !== undefined && device !== "cpu") throw new UserError("--ranks is for --device cpu (on GPUs every GPU found is a rank)");
  const gpusText = s("gpus");
  const gpus = int("gpus", gpusText, 1, MAX.gpus);
  if (gpusText !== undefined && device === "cpu") throw new UserError("--gpus is for GPUs; CPU ranks are --ranks N");
  for (const k of ["out", "raw", "base", "name"]) if (s(k)?.trim() === "") throw new UserError(`--${k} needs a value`);
  // The written profile's "name", which its loader refuses with a control character (load.ts
  // parseProfile): refused before measuring, not after writing a profile that cannot be loaded.
  if (CONTROL.test(s("name") ?? "")) throw new UserError("--name has a control character (a line break, an escape); remove it");
  return {
    device,
    ranks: ranksText === undefined ? 2 : Number(ranksText),
    gpus,
    quick: values.quick === true,
    out: s("out"),
    base: s("base"),
    name: s("name"),
    raw: s("raw"),
    collectives: values["no-collectives"] !== true,
    detectOnly: values.detect === true,
    json: values.json === true,
    help: values.help === true,
  };
}
