// export shares plan's flags (src/commands/export.ts EXPORT_OPTIONS spreads PLAN_OPTIONS): those it
// has no use for were accepted and ignored (QA: --trace-out wrote no file, --json, --top,
// --timeline, --simulate-top changed nothing, --script and --rdzv-endpoint ignored by the formats
// that launch no script, --out "" wrote into the current directory). Each is exit 2, one line
// naming the flag and the format; where a flag is used it still works.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";

afterAll(removeTemp);

const TINY = ["--model", "tiny", "--gpus", "8"];

async function refusedLine(argv: string[]): Promise<string> {
  const r = await cli(["export", ...TINY, ...argv]);
  expect(r.code, `${argv.join(" ")}\n${r.stdout}`).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.errLines, argv.join(" ")).toHaveLength(1);
  return r.errLines[0]!;
}

describe("export refuses the flags it would ignore", () => {
  it("plan's output flags, under every format: the flag and the format named", async () => {
    const trace = join(tempDir(), "trace.json");
    for (const format of ["megatron", "deepspeed", "torchtitan", "llm-foundry", "torchrun", "slurm"])
      for (const [flag, ...value] of [["--json"], ["--top", "3"], ["--timeline"], ["--trace-out", trace], ["--simulate-top", "5"]] as const) {
        const line = await refusedLine(["--format", format, flag, ...value]);
        expect(line).toMatch(new RegExp(`^paraplan: ${flag}: export --format ${format} writes .*; drop ${flag} \\(it is paraplan plan's\\)$`));
      }
    expect(existsSync(trace)).toBe(false);
  });

  it("--script outside torchrun and slurm, --rdzv-endpoint outside torchrun", async () => {
    for (const format of ["megatron", "deepspeed", "torchtitan", "llm-foundry"]) {
      expect(await refusedLine(["--format", format, "--script", "train.py"])).toMatch(new RegExp(`^paraplan: --script: --format ${format} writes .*; --script is for --format torchrun and slurm$`));
      expect(await refusedLine(["--format", format, "--rdzv-endpoint", "node0:29500"])).toBe(`paraplan: --rdzv-endpoint: --format ${format} writes no launcher command; --rdzv-endpoint is for --format torchrun`);
    }
    expect(await refusedLine(["--format", "slurm", "--rdzv-endpoint", "node0:29500"])).toMatch(/^paraplan: --rdzv-endpoint: --format slurm takes the rendezvous endpoint from the allocation .*; --rdzv-endpoint is for --format torchrun$/);
  });

  it("--out with no directory name", async () => {
    expect(await refusedLine(["--format", "megatron", "--out", ""])).toBe(`paraplan: --out: "" names no directory (it would write into the current one); give a directory, or --out . for this one`);
    expect(await refusedLine(["--format", "megatron", "--out= "])).toContain("--out: \" \" names no directory");
    // "-" is not standard output here, nor a directory to make (QA: a directory named "-" was written)
    expect(await refusedLine(["--format", "megatron", "--out", "-"])).toBe(`paraplan: --out -: export prints the files on standard output without --out, and writes only into a directory; drop --out to print them, or give --out ./- for a directory named "-"`);
  });

  it("where they are used they still work: torchrun writes --script and --rdzv-endpoint, slurm --script", async () => {
    const t = await cli(["export", ...TINY, "--format", "torchrun", "--script", "train.py --lr 1e-4", "--rdzv-endpoint", "node0:29500"]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain("--rdzv-endpoint node0:29500");
    expect(t.stdout).toContain("train.py --lr 1e-4");
    const s = await cli(["export", ...TINY, "--format", "slurm", "--script", "train.py"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain("train.py");
  });
});
