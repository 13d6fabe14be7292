// What torchrun.sh and the sbatch script take from the command line: --rdzv-endpoint is HOST:PORT
// or exit 2, every --script word is written quoted (a ";" or "$(…)" is text, not a command), an
// empty script or an open quote is exit 2; names from the user's files cannot end a comment; and
// with paraplan's worker, settings it never runs (--attention unfused, --grad-reduce-in-bf16,
// --optimizer-states bf16) are exit 2 rather than a launch.json that runs something else.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportPlan } from "../../src/engines/export-plan.js";
import { scriptWords, shellQuote } from "../../src/engines/torchrun.js";
import { LLAMA, cli, h100, model, plan, refusalMessage, removeTemp, tempDir, training } from "./helpers.js";

afterAll(removeTemp);

const p = plan({ tp: 8, pp: 2, zero: 1 });

/** The words bash passes to `torchrun` when it runs the last line of `script` after `env` (bash
 *  itself, with torchrun a function that prints its arguments one a line, exported to srun's
 *  `bash -c`: nothing else runs). */
function torchrunArgv(script: string, env = ""): string[] {
  const line = script.trim().split("\n").at(-1)!;
  const fake = `torchrun() { printf '%s\\n' "$@"; }; export -f torchrun; srun() { "$@"; }; export MASTER_ADDR=m MASTER_PORT=1 SLURM_NNODES=2 SLURM_NODEID=0 SLURM_JOB_ID=7`;
  const r = spawnSync("bash", ["-c", `${fake}; ${env} ${line}`], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").slice(0, -1);
}

describe("--rdzv-endpoint", () => {
  it.each(["bad endpoint", "host", "h;rm -rf x", "h;rm -rf x:1", "host:0", "host:65536", "host:29500 --x", "$(id):1"])("%j is exit 2 with one line", async (v) => {
    const r = await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16", "--rdzv-endpoint", v]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`paraplan: --rdzv-endpoint: ${JSON.stringify(v)} is not HOST:PORT (a host name, an IPv4 address, [IPv6] or $VARIABLE, and a port 1-65535 or $VARIABLE)`]);
  });
  it("names, addresses and variables pass; a variable is double-quoted so that it expands as one word", () => {
    const line = (v: string) => exportPlan("torchrun", model(LLAMA), p, training(), h100, { rdzvEndpoint: v }).files[0]!.content.trim().split("\n").at(-1)!;
    expect(line("node-0.cluster:29400")).toContain("--rdzv-endpoint node-0.cluster:29400 ");
    // ([…] is a glob: quoted, bash hands it over as written even under nullglob; QA: a file named
    // "1:29400" beside the script replaced it)
    expect(line("[fe80::1]:29400")).toContain("--rdzv-endpoint '[fe80::1]:29400' ");
    expect(torchrunArgv(exportPlan("torchrun", model(LLAMA), p, training(), h100, { rdzvEndpoint: "[fe80::1]:29400" }).files[0]!.content, "shopt -s nullglob;")).toContain("[fe80::1]:29400");
    expect(line("$HEAD:29400")).toContain('--rdzv-endpoint "$HEAD:29400" ');
    expect(torchrunArgv(exportPlan("torchrun", model(LLAMA), p, training(), h100, { rdzvEndpoint: "${HEAD_NODE}:$PORT" }).files[0]!.content, "HEAD_NODE='a b'; PORT=5;")).toContain("a b:5");
  });
  it("slurm takes the endpoint from the allocation: the flag is exit 2, not ignored", async () => {
    const r = await cli(["export", "--format", "slurm", "--model", "llama3-8b", "--gpus", "16", "--rdzv-endpoint", "h:1"]);
    expect(r.code).toBe(2);
    expect(r.errLines[0]).toMatch(/^paraplan: --rdzv-endpoint: --format slurm takes the rendezvous endpoint from the allocation/);
    // the export's own check, for callers past the CLI (src/engines/slurm.ts)
    expect(() => exportPlan("slurm", model(LLAMA), plan({ tp: 8 }), training(), h100, { rdzvEndpoint: "h:1" })).toThrow(/the sbatch script rendezvouses at the allocation's first node/);
  });
});

describe("--script", () => {
  it("words split as bash splits them; quotes and backslashes quote; nothing expands", () => {
    expect(scriptWords(`train.py --name 'run a' --x "b \\"c\\"" d\\ e`)).toEqual(["train.py", "--name", "run a", "--x", 'b "c"', "d e"]);
    expect(scriptWords("train.py; rm -rf x $(id)")).toEqual(["train.py;", "rm", "-rf", "x", "$(id)"]);
    expect([shellQuote("-m"), shellQuote("a=b,c:d/e.f"), shellQuote("it's"), shellQuote("")]).toEqual(["-m", "a=b,c:d/e.f", `'it'\\''s'`, "''"]);
  });
  it.each([
    ["", /^paraplan: --script: "" names no script/],
    ["   ", /^paraplan: --script: " {3}" names no script/],
    ["train.py 'unterminated", /^paraplan: --script: "train.py 'unterminated" opens a ' quote it does not close$/],
    ['train.py "open', /opens a " quote it does not close$/],
    ["train.py \\", /ends in a backslash$/],
  ])("%j is exit 2 with one line", async (script, says) => {
    for (const format of ["torchrun", "slurm"]) {
      const r = await cli(["export", "--format", format, "--model", "llama3-8b", "--gpus", "16", "--script", script]);
      expect(r.code, format).toBe(2);
      expect(r.errLines, format).toHaveLength(1);
      expect(r.errLines[0], format).toMatch(says);
    }
  });
  it("torchrun.sh and the sbatch script hand torchrun the script's words as given, a command in them as text", () => {
    const script = `train.py; touch /tmp/pwned $(id) --name 'run a'`;
    // the worker's own launch is unchanged: -m executor.worker --spec launch.json
    const words = ["train.py;", "touch", "/tmp/pwned", "$(id)", "--name", "run a"];
    const run = exportPlan("torchrun", model(LLAMA), p, training(), h100, { script, rdzvEndpoint: "h:1" }).files[0]!.content;
    expect(torchrunArgv(run).slice(-words.length)).toEqual(words);
    const sbatch = exportPlan("slurm", model(LLAMA), p, training(), h100, { script }).files[0]!.content;
    const argv = torchrunArgv(sbatch);
    expect(argv.slice(-words.length)).toEqual(words);
    expect(argv).toContain("m:1"); // "$MASTER_ADDR:$MASTER_PORT" still expands inside bash -c
  });
  it("a model name from a config.json cannot end a comment line and start a command", () => {
    const named = { ...model(LLAMA), name: "x\ntouch /tmp/pwned" };
    for (const format of ["torchrun", "slurm"] as const) {
      const content = exportPlan(format, named, p, training(), h100).files[0]!.content;
      expect(content.split("\n"), format).not.toContain("touch /tmp/pwned");
      expect(content, format).toContain("x touch /tmp/pwned");
    }
  });
});

describe("--out: the worker finds launch.json", () => {
  it("torchrun.sh and the sbatch script hand the worker launch.json's full path, a space and a quote in it kept (QA: --spec launch.json, read from paraplan's directory, named no file written by --out job/)", async () => {
    for (const [format, name] of [["torchrun", "torchrun.sh"], ["slurm", "paraplan.sbatch"]] as const) {
      const out = join(tempDir(), `job dir's ${format}`);
      const r = await cli(["export", "--format", format, "--model", "llama3-8b", "--gpus", "16", "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const script = readFileSync(join(out, name), "utf8");
      expect(spawnSync("bash", ["-n"], { input: script }).status, format).toBe(0);
      expect(torchrunArgv(script).slice(-2), format).toEqual(["--spec", join(out, "launch.json")]);
      expect(JSON.parse(readFileSync(join(out, "launch.json"), "utf8")).plan.dp, format).toBeGreaterThan(0);
    }
    // printed rather than written: the file is the user's to place, beside the script
    const printed = await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16"]);
    expect(printed.stdout).toContain("-m executor.worker --spec launch.json\n");
  });
});

describe("paraplan's worker runs only what launch.json says", () => {
  it.each([
    [{ fusedAttention: false }, "--attention unfused: paraplan's worker runs torch's scaled_dot_product_attention"],
    [{ optimizerStates: "bf16" as const }, "--optimizer-states bf16: paraplan's worker's AdamW keeps fp32 moments"],
  ])("%j is refused with the default worker, allowed with --script", (over, says) => {
    for (const format of ["torchrun", "slurm"] as const) {
      expect(refusalMessage(() => exportPlan(format, model(LLAMA), p, training(over), h100))).toContain(says);
      expect(exportPlan(format, model(LLAMA), p, training(over), h100, { script: "train.py" }).files).toHaveLength(1);
    }
  });
  it("the CLI: --attention unfused and --grad-reduce-in-bf16 are exit 2 naming the flag (the worker runs SDPA and fp32 reduction)", async () => {
    for (const [flags, says] of [
      [["--attention", "unfused"], "--attention unfused: paraplan's worker runs torch's scaled_dot_product_attention (executor/worker/model.py), a fused kernel, and launch.json has no attention setting"],
      [["--grad-reduce-in-bf16"], "--grad-reduce-in-bf16: paraplan's worker reduces fp32 gradients"],
    ] as const) {
      for (const format of ["torchrun", "slurm"]) {
        const r = await cli(["export", "--format", format, "--model", "llama3-8b", "--gpus", "16", ...flags]);
        expect(r.code, `${format} ${flags.join(" ")}`).toBe(2);
        expect(r.errLines, format).toHaveLength(1);
        expect(r.errLines[0], format).toContain(says);
      }
    }
    // with the user's script the flag prices the user's trainer, which paraplan does not write
    expect((await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16", "--attention", "unfused", "--script", "train.py"])).code).toBe(0);
  });
});
