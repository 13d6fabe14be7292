// The README's example blocks against what paraplan prints today. Each block is a fenced code block
// whose first line is `$ paraplan …` (or `$ npx paraplan …`); the command is run through the built
// bin (`node dist/src/paraplan.js`, what `npx paraplan` runs) and every line the block shows must be
// a line of the output, verbatim and in the same order (the block may leave lines out). So a
// cost-model change that moves a figure of an example fails here until the README shows the new
// output. Kept to the examples that are deterministic and quick (well under 2 s each).
// Rules for a block's lines: `…` and `# …` stand for lines left out; a line ending in ` …` is a
// line cut short (the output's line begins with what precedes the `…`); `N ms` stands for the
// search's wall time, the one figure that changes from run to run.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./planner/fixtures.js";
import { tempDir } from "./tmp-dirs.js";

const BIN = join(ROOT, "dist", "src", "paraplan.js");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

interface Example {
  /** The command as the README writes it, after `$ ` and without `npx `. */
  command: string;
  /** Files the command reads, written into its working directory first. */
  setup?: (dir: string) => void;
  /** What the block shows: the output (stderr then stdout, as a terminal shows an export), or a file the command wrote. */
  shows?: { file: string };
}

// The README's `--from` example: Megatron-LM's examples/gpt3/train_gpt3_175b_distributed.sh (main,
// d98e8a64) with NUM_NODES=128, as the README says; the test fixture is that script with the 2024
// ramp-up flag, so the README's `--step-batch-size-schedule` (the note's flag) takes its place.
function gpt3Script(dir: string): void {
  const fixture = readFileSync(join(ROOT, "test", "export", "fixtures", "user-gpt3-175b-megatron.sh"), "utf8");
  const script = fixture.replace("--rampup-batch-size 16 16 5859375", '--step-batch-size-schedule "0:16 2.4B:320 4.8B:624 7.2B:928 9.6B:1232 12B:1536"');
  if (script === fixture) throw new Error("test/export/fixtures/user-gpt3-175b-megatron.sh no longer has --rampup-batch-size 16 16 5859375");
  writeFileSync(join(dir, "train_gpt3_175b_distributed.sh"), script);
}

const EXAMPLES: Example[] = [
  { command: "paraplan plan --model gpt3-like --top 3" },
  { command: "paraplan plan --model llama3-8b --seq 1048576 --gpus 256 --global-batch 8 --top 3 --simulate-top 0" },
  { command: "paraplan plan --model llama3-405b --gpus 16384 --tokens 15.6T" },
  { command: "paraplan plan --model deepseek-v3 --profile h800 --gpus 2048 --tokens 14.8T --precision fp8 --optimizer-states bf16 --tp 1 --pp 16 --ep 64" },
  { command: "paraplan export --format megatron --model llama3-70b --gpus 64" },
  { command: "paraplan export --format torchtitan --model llama3-8b --gpus 64" },
  { command: 'paraplan export --format torchrun --model llama3-8b --gpus 16 --rdzv-endpoint node0:29500 --script "train.py --config llama3_8b.yaml"' },
  { command: "paraplan export --format slurm --model llama3-70b --gpus 64 --out job/", shows: { file: "job/paraplan.sbatch" } },
  { command: "paraplan plan --model gpt3-175b --from train_gpt3_175b_distributed.sh", setup: gpt3Script },
];

/** Every fenced block whose first line is a `$ paraplan` command: command → the lines below it. */
function readmeBlocks(text: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("```")) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith("```")) end++;
    const first = lines[i + 1] ?? "";
    if (first.startsWith("$ ")) blocks.set(first.slice(2).replace(/^npx /, ""), lines.slice(i + 2, end));
    i = end;
  }
  return blocks;
}

/** The command's words as a shell splits them (double quotes only: all the README uses). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const normalise = (line: string) => line.replace(/^(searched [\d,]+ configurations in )[\d.]+ m?s:/, "$1N ms:");

/** The first line of the block that is not in the output (in order), or undefined when all are. */
function missingLine(block: readonly string[], output: string): string | undefined {
  const out = output.split("\n").map(normalise);
  let at = 0;
  for (const line of block) {
    if (line.trim() === "…" || line.trim() === "# …") continue;
    const cut = line.endsWith(" …") ? line.slice(0, -2) : undefined;
    const found = out.findIndex((o, k) => k >= at && (cut !== undefined ? o.startsWith(cut) : o === line));
    if (found < 0) return line;
    at = found + 1;
  }
  return undefined;
}

interface Ran {
  code: number | null;
  shown: string;
  stderr: string;
}

function run(ex: Example): Promise<Ran> {
  const dir = tempDir("paraplan-readme-");
  ex.setup?.(dir);
  const [, ...args] = words(ex.command);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr, shown: ex.shows ? readFileSync(join(dir, ex.shows.file), "utf8") : stderr + stdout }));
  });
}

const blocks = readmeBlocks(README);
const results = new Map<string, Ran>();

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error("dist/src/paraplan.js missing: run npm run build");
  // two at a time: each is one Node process, and the machine may have two cores
  for (let i = 0; i < EXAMPLES.length; i += 2) {
    const pair = EXAMPLES.slice(i, i + 2);
    const ran = await Promise.all(pair.map(run));
    pair.forEach((ex, k) => results.set(ex.command, ran[k]!));
  }
}, 60_000);

describe("the README's examples print what the README shows", () => {
  it("every example this test runs is still a block of the README (else update EXAMPLES)", () => {
    for (const ex of EXAMPLES) expect(blocks.has(ex.command), `no README block starts with "$ ${ex.command}"`).toBe(true);
  });

  it.each(EXAMPLES.map((ex) => [ex.command, ex] as const))("$ %s", (_command, ex) => {
    const r = results.get(ex.command)!;
    expect(r.code, r.stderr).toBe(0);
    const block = blocks.get(ex.command)!;
    // a block of only elisions would check nothing
    expect(block.filter((l) => l.trim() !== "…" && l.trim() !== "# …").length).toBeGreaterThan(3);
    const missing = missingLine(block, r.shown);
    expect(missing, `README line not printed by \`${ex.command}\` (the README is stale, or the output changed):\n${missing}\n--- printed:\n${r.shown}`).toBeUndefined();
  });
});

describe("the comparison itself", () => {
  const block = ["a", "…", "searched 1,024 configurations in N ms: 9 fit in memory", "  sources: …", "c"];
  it("takes lines in order, elisions, the search's time and lines cut short", () => {
    expect(missingLine(block, "a\nb\nsearched 1,024 configurations in 71 ms: 9 fit in memory\n  sources:\nc\n")).toBeUndefined();
  });
  it("finds a changed digit, a line out of order and a line missing", () => {
    expect(missingLine(block, "a\nsearched 1,024 configurations in 71 ms: 8 fit in memory\n  sources:\nc")).toBe(block[2]);
    expect(missingLine(block, "c\na\nsearched 1,024 configurations in 7 ms: 9 fit in memory\n  sources:")).toBe("c");
    expect(missingLine(["x 1.23 s"], "x 1.24 s")).toBe("x 1.23 s");
  });
  it("splits a quoted --script as the shell does", () => {
    expect(words('paraplan export --script "train.py --config a.yaml" --gpus 16')).toEqual(["paraplan", "export", "--script", "train.py --config a.yaml", "--gpus", "16"]);
  });
});
