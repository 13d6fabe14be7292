// `plan --tokens` / `--sweep-gpus`: every run default named (text and --json), a run flag given
// twice refused, messages that say what is wrong, a profile held to its flag's bounds, and the
// run's words at the edges (one step, no checkpoint, the copy that limits a write).
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

const lines = (stdout: string) => stdout.split("\n");

describe("the run's defaults are named, as the header names the plan's", () => {
  it("plan --tokens: PUE, storage, restart, --power board and --ckpt sync on an 'assumed for the run' line and in --json", async () => {
    const args = ["plan", "--model", "gpt3-like", "--tokens", "300B", "--top", "1", "--simulate-top", "0"];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toContain(
      "  assumed for the run: --power board (default); --ckpt sync (default); PUE 1.09 (default; --pue); checkpoint storage 2.00 TB/s (default; --ckpt-bandwidth); restart 10.0 min (default; --restart-time)",
    );
    const j = JSON.parse((await runCli([...args, "--json"])).stdout).run;
    expect(j.assumed).toEqual(["--power board (default)", "--ckpt sync (default)", "PUE 1.09 (default; --pue)", "checkpoint storage 2.00 TB/s (default; --ckpt-bandwidth)", "restart 10.0 min (default; --restart-time)"]);
    expect(j.powerBasis).toEqual({ value: "board", from: "default" });
    expect(j.power).toMatchObject({ basis: "board", basisFrom: "default", from: "profile", wattsPerGpu: 700 });
    expect(j.checkpoint).toMatchObject({ mode: "sync", modeFrom: "default" });
  });

  it("what is given is not a default: --power node --ckpt async --pue 1.2 leave only storage and restart", async () => {
    const j = JSON.parse((await runCli(["plan", "--model", "gpt3-like", "--tokens", "300B", "--top", "1", "--simulate-top", "0", "--power", "node", "--ckpt", "async", "--pue", "1.2", "--json"])).stdout).run;
    expect(j.assumed).toEqual(["checkpoint storage 2.00 TB/s (default; --ckpt-bandwidth)", "restart 10.0 min (default; --restart-time)"]);
    expect(j.powerBasis).toEqual({ value: "node", from: "flag" });
    expect(j.checkpoint.modeFrom).toBe("flag");
  });

  it("--sweep-gpus: plan's header (model, hardware, engine, assumed, calibration), the run's defaults and its sources; --json too", async () => {
    const args = ["plan", "--model", "gpt3-350m", "--sweep-gpus", "8,16", "--tokens", "1B"];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^gpt3-350m \(356M parameters\) on 8, 16 × H100 SXM5 80GB — dgx-h100: 8 GPUs a node, /);
    expect(out).toContain("engine megatron-core (default)");
    expect(out).toContain("assumed: profile dgx-h100 (default); global batch 256 from the gpt3-350m model file");
    expect(out.some((l) => /^calibration: megatron-core fitted on .*outside them here: 8 and 16 GPUs; 0\.4B parameters; on NVIDIA's Megatron-Core tables .*, which nothing was fitted to: .*$/.test(l))).toBe(true);
    expect(out).toContain("assumed for the run: --power board (default); --ckpt sync (default); PUE 1.09 (default; --pue); checkpoint storage 2.00 TB/s (default; --ckpt-bandwidth); restart 10.0 min (default; --restart-time)");
    expect(out).toContain("sources of the run's figures:");
    expect(out.some((l) => l.startsWith("    PUE (default): Meta, sustainability.fb.com"))).toBe(true);
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.assumed).toEqual(["profile dgx-h100 (default)", "global batch 256 from the gpt3-350m model file"]);
    expect(j.calibration.outside).toEqual(["8 and 16 GPUs", "0.4B parameters"]);
    // each beyond the runs' span along a dimension they vary: in degree (src/calibration-standing.ts OutsideKind)
    expect(j.calibration.outsideKind).toEqual(["degree", "degree"]);
    expect(j.figures.pue).toMatchObject({ value: 1.09, from: "default" });
    expect(j.figures.restartTime).toMatchObject({ value: 600, from: "default" });
    expect(j.figures.powerBasis).toEqual({ value: "board", from: "default" });
    expect(j.figures.assumed).toContain("PUE 1.09 (default; --pue)");
    // the checkpoint the goodput and interval columns are priced with, as plan --tokens says it:
    // 14 bytes a parameter (16-bit weights, fp32 master and Adam's moments), 356M at a padded vocabulary
    expect(j.figures.checkpointBytes / 14).toBeCloseTo(j.points[0].plan.memory.weights / 2, -3);
    expect(out).toContain(`checkpoint: ${(j.figures.checkpointBytes / 1e9).toFixed(1)} GB of model states (weights + optimizer) at every count`);
  }, 60_000);

  // QA: run.restartTime.value (600), the checkpoint's bandwidth and stagingBandwidth values (B/s)
  // and the sweep's figures carried no unit. Each figure's value now has one beside it.
  it("--json: each run figure's value carries its unit, plan's run and the sweep's figures alike", async () => {
    const flags = ["--tokens", "1B", "--restart-time", "30d", "--ckpt-bandwidth", "500 GB/s", "--json"];
    const plan = JSON.parse((await runCli(["plan", "--model", "gpt3-350m", "--gpus", "8", "--top", "1", "--simulate-top", "0", ...flags])).stdout).run;
    const sweep = JSON.parse((await runCli(["plan", "--model", "gpt3-350m", "--sweep-gpus", "8,16", ...flags])).stdout).figures;
    for (const figures of [{ ...plan, checkpointBandwidth: plan.checkpoint.bandwidth, stagingBandwidth: plan.checkpoint.stagingBandwidth }, sweep]) {
      // 30 days = 30 × 86,400 s; 500 GB/s = 5e11 B/s; dgx-h100's device-to-host 64 GB/s (its datasheet's PCIe Gen5 128 GB/s both ways)
      expect(figures.restartTime).toMatchObject({ value: 30 * 86400, unit: "s", from: "flag" });
      expect(figures.checkpointBandwidth).toMatchObject({ value: 5e11, unit: "B/s", from: "flag" });
      expect(figures.stagingBandwidth).toMatchObject({ value: 64e9, unit: "B/s", from: "profile" });
      expect(figures.pue).toMatchObject({ value: 1.09, unit: "ratio" });
      // Llama 3's 419 interruptions / (54 × 24 h × 16,384 GPUs)
      expect(figures.failuresPerGpuHour.unit).toBe("1/GPU-hour");
      expect(figures.failuresPerGpuHour.value).toBeCloseTo(419 / (54 * 24 * 16384), 10);
    }
    // No figure object in the sweep's `figures` holds a number without its unit.
    for (const [k, v] of Object.entries(sweep as Record<string, unknown>))
      if (typeof v === "object" && v !== null && typeof (v as { value?: unknown }).value === "number") expect((v as { unit?: unknown }).unit, k).toEqual(expect.any(String));
  }, 60_000);

  it("a sweep whose global batch follows the count says so once (llama3.2-3b's file gives none)", async () => {
    const r = await runCli(["plan", "--model", "llama3.2-3b", "--sweep-gpus", "8,16", "--tokens", "1B"]);
    expect(lines(r.stdout)[1]).toMatch(/^global batch 8–16 × 8192 tokens, /);
    expect(lines(r.stdout)).toContain("assumed: profile dgx-h100 (default); global batch of one sequence per GPU at each count");
  }, 60_000);
});

/** One test a case: `plan --model tiny` with the flags is exit 2 with exactly the message. */
function refusedEach(cases: [string[], string][]): void {
  for (const [flags, msg] of cases)
    it(flags.join(" "), async () => {
      const r = await runCli(["plan", "--model", "tiny", ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(msg);
    });
}

describe("a run flag given twice is refused, as the plan flags are (exit 2)", () => {
  const cases: [string[], string][] = [
    [["--tokens", "300B", "--tokens", "1T"], 'paraplan: --tokens is given twice, as "300B" and "1T"; give it once'],
    [["--tokens", "300B", "--sweep-gpus", "64,128", "--sweep-gpus", "256"], 'paraplan: --sweep-gpus is given twice, as "64,128" and "256"; give it once'],
    [["--tokens=1B", "--price", "2", "--price=3"], 'paraplan: --price is given twice, as "2" and "3"; give it once'],
  ];
  refusedEach(cases);

  it("the same value twice is harmless", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--tokens", "1B", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("messages that say what is wrong", () => {
  const refused: [string[], string][] = [
    [["--tokens", "1B", "--price", "-1"], "paraplan: --price: -1 is negative; give USD per GPU-hour from 0 to 1,000,000, like 2.5"],
    [["--tokens", "0.5"], 'paraplan: --tokens: "0.5" is below 1 token: a run trains at least one'],
    // 1.5 tokens read as 2 in the text ("2 tokens = 1 step") and 1.5 in the JSON: refused.
    [["--tokens", "1.5"], 'paraplan: --tokens: "1.5" is not a whole number of tokens; write a count like 2, 1.5k or 15.6T'],
    [["--tokens", "1B", "--ckpt-bandwidth", "1e30 TB/s"], 'paraplan: --ckpt-bandwidth: "1e30 TB/s" is out of range; give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s'],
    [["--tokens", "1B", "--pue", "11"], "paraplan: --pue: 11 is out of range; give a PUE from 1 to 10, like 1.1"],
  ];
  refusedEach(refused);
});

// QA: a zero, a negative, a bare number or an absurd one was said to be unreadable ("0" is not a
// bytes/s value, "-1min" not a duration, "1e400" not a token count), or a negative bandwidth told
// "at least 0", which 0 is not.
describe("a run flag at 0, negative, without a unit or absurd says which", () => {
  const range = "give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s";
  refusedEach([
    [["--tokens", "1B", "--ckpt-bandwidth", "0"], `paraplan: --ckpt-bandwidth: "0" must be above zero; ${range}`],
    [["--tokens", "1B", "--ckpt-bandwidth", "-1TB/s"], `paraplan: --ckpt-bandwidth: "-1TB/s" is negative; ${range}`],
    [["--tokens", "1B", "--ckpt-bandwidth", "2e12"], 'paraplan: --ckpt-bandwidth: "2e12" has no unit; give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2e12 B/s or 2 TB/s'],
    [["--tokens", "1B", "--ckpt-bandwidth", "1e400 TB/s"], `paraplan: --ckpt-bandwidth: "1e400 TB/s" is out of range; ${range}`],
    [["--tokens", "1B", "--restart-time", "-1min"], 'paraplan: --restart-time: "-1min" is negative; give 0 or more, like 10min'],
    [["--tokens", "1B", "--sweep-gpus", "8,16", "--deadline", "0"], 'paraplan: --deadline: "0" must be above zero'],
    [["--tokens", "1B", "--sweep-gpus", "8,16", "--deadline", "-2d"], 'paraplan: --deadline: "-2d" is negative; give a duration above zero, like 90d'],
    [["--tokens", "-1T"], 'paraplan: --tokens: "-1T" is below 1 token: a run trains at least one'],
    [["--tokens", "1e400"], 'paraplan: --tokens: "1e400" is too many tokens: at most 1e16'],
    [["--tokens", "1B", "--sweep-gpus", "64,0"], 'paraplan: --sweep-gpus: "64,0" has a GPU count below 1: each is at least 1, like 256..16384 or 256,1024,4096'],
  ]);

  it("no count swept has a plan because --tp 3 divides none: said, not 'nothing fits'; the header names the hardware and engine", async () => {
    const r = await runCli(["plan", "--model", "llama2-7b", "--tokens", "1B", "--sweep-gpus", "64..128", "--tp", "3"]);
    expect(r.code).toBe(1);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toBe("paraplan: no GPU count swept has a plan: at 64 GPUs, --tp: 3 does not divide the 64 GPUs; pick a divisor of 64 (likewise at 128)");
    expect(lines(r.stdout)[0]).toMatch(/^llama2-7b \(6\.7B parameters\) on 64, 128 × H100 SXM5 80GB — dgx-h100: /);
    expect(lines(r.stdout)).toContain("engine megatron-core (default)");
    const d = await runCli(["plan", "--model", "llama2-7b", "--tokens", "1B", "--sweep-gpus", "64..128", "--tp", "3", "--deadline", "1w"]);
    expect(d.stderr).toBe("paraplan: deadline 7.0 days: no GPU count swept has a plan: at 64 GPUs, --tp: 3 does not divide the 64 GPUs; pick a divisor of 64 (likewise at 128)");
  });

  it("beyond three reasons, how many more, in the singular for one (QA: \"and 1 more reasons\")", async () => {
    const six = tempFile("six-per-node.json", JSON.stringify({ name: "six", extends: "dgx-h100", node: { gpusPerNode: 6 } }));
    const r = await runCli(["plan", "--model", "llama2-7b", "--tokens", "1B", "--sweep-gpus", "8..64", "--profile", six]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([1, true]);
    expect(r.stderr).toMatch(/; and 1 more reason \(each row says its own\)$/);
  });

  it("--stage-layers whose pp a swept count cannot hold: that count's row, as --pp's, not the sweep refused", async () => {
    const args = ["plan", "--model", "llama3-8b", "--tokens", "1T", "--sweep-gpus", "4..16"];
    const r = await runCli([...args, "--stage-layers", "4,4,4,4,4,4,4,4"]);
    expect(r.code, r.stderr).toBe(0);
    const row = (out: string, n: number) => lines(out).find((l) => new RegExp(`^ +${n}  `).test(l))!;
    expect(row(r.stdout, 4)).toMatch(/^ +4 {2}--stage-layers: 8 stages make pp 8: 8 does not divide the 4 GPUs; pick a divisor of 4$/);
    // 8 and 16 GPUs plan the same split as --pp 8 with its even split does (32 layers on 8 stages: 4 each)
    const pp = await runCli([...args, "--pp", "8", "--schedule", "1f1b"]);
    for (const n of [8, 16]) expect(row(r.stdout, n)).toBe(row(pp.stdout, n));
  });

  it("--power node on a profile with neither power: no advice to try --power board", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--profile", "cpu", "--tokens", "1B", "--power", "node", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("energy: unknown (the profile gives neither board nor node power; a profile extending it with run.boardPower or run.nodePower gives it)");
    // dgx-h100 has both: the other is offered only where the profile has it.
    const h = await runCli(["plan", "--model", "tiny", "--profile", tempFile("boardOnly.json", JSON.stringify({ extends: "h800" })), "--tokens", "1B", "--power", "node", "--top", "1", "--simulate-top", "0"]);
    expect(h.stdout).toContain("energy: unknown (the profile gives no node power; try --power board)");
  });
});

describe("a profile's run figures are held to their flags' bounds", () => {
  const profile = (run: object) => tempFile(`run-${Object.keys(run).join("-")}-${JSON.stringify(run).length}.json`, JSON.stringify({ extends: "dgx-h100", run }));

  it("run.pue 100 is refused as --pue 100 is (it was accepted: energy at PUE 100)", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--profile", profile({ pue: 100 })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "run\.pue": 100 is out of range; give a PUE from 1 to 10, like 1\.1$/);
    expect((await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--pue", "100"])).stderr).toMatch(/--pue: 100 is out of range/);
  });

  it("run.restartTime \"0 s\" is taken as --restart-time 0s is (it was refused)", async () => {
    const j = JSON.parse((await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--top", "1", "--simulate-top", "0", "--json", "--profile", profile({ restartTime: "0 s" })])).stdout).run;
    expect(j.restartTime).toMatchObject({ value: 0, from: "profile" });
  });

  it("run.checkpointBandwidth above 100 TB/s is refused as --ckpt-bandwidth is", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--profile", profile({ checkpointBandwidth: "1000 TB/s" })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "run\.checkpointBandwidth": "1000 TB\/s" is out of range; give an aggregate write bandwidth from 1 MB\/s to 100 TB\/s, like 2 TB\/s$/);
    expect((await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--ckpt-bandwidth", "1000 TB/s"])).stderr).toMatch(/--ckpt-bandwidth: "1000 TB\/s" is out of range; give an aggregate write bandwidth from 1 MB\/s to 100 TB\/s, like 2 TB\/s$/);
  });
});

describe("the run's words at the edges", () => {
  it("tiny, 1 token: '1 token', one step, no checkpoint written (it said 'every 10,262,070 steps')", async () => {
    const args = ["plan", "--model", "tiny", "--tokens", "1", "--top", "1", "--simulate-top", "0"];
    const r = await runCli(args);
    expect(r.stdout).toMatch(/^whole run: 1 token = 1 step of 256 tokens on 1 GPU$/m);
    expect(r.stdout).toMatch(/none written: the run's [\d.]+ us of compute ends before the first \(Daly 2006's optimum/);
    expect(r.stdout).not.toMatch(/every [\d,]+ steps/);
    // tiny on 1 GPU, 218k parameters: outside the engine's runs as "1 GPU" and "218k parameters" (it read "1 GPUs; 0B parameters").
    expect(r.stdout).toContain("beyond megatron-core's 21 published runs in degree: sequence of 32 tokens; 1 GPU; 218k parameters)");
    const c = JSON.parse((await runCli([...args, "--json"])).stdout).run.checkpoint;
    expect([c.written, c.notWritten, c.intervalSteps]).toEqual([false, "run shorter", 1]);
    expect(typeof c.youngSeconds).toBe("number");
    expect(c.intervalIsPersist).toBe(false);
  });

  it("no failures: job MTBF and the optimum are null with failureFree (JSON has no Infinity)", async () => {
    const p = tempFile("nofail.json", JSON.stringify({ extends: "dgx-h100", run: { failuresPerGpuHour: 0 } }));
    const j = JSON.parse((await runCli(["plan", "--model", "tiny", "--tokens", "1B", "--top", "1", "--simulate-top", "0", "--json", "--profile", p])).stdout).run;
    expect([j.failureFree, j.jobMtbfSeconds, j.checkpoint.optimumSeconds, j.checkpoint.youngSeconds, j.checkpoint.notWritten]).toEqual([true, null, null, null, "no failures"]);
  });

  it("no failures: no loss per interruption, null in JSON and said so in text (it read the 10 min restart)", async () => {
    const p = tempFile("nofail-lost.json", JSON.stringify({ extends: "dgx-h100", run: { failuresPerGpuHour: 0 } }));
    const args = ["plan", "--model", "tiny", "--tokens", "15T", "--top", "1", "--simulate-top", "0", "--profile", p];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}no interruptions expected \(a failure rate of 0\), so nothing lost to them; goodput 100\.0% of wall-clock time is training$/m);
    expect(r.stdout).not.toContain("lost per interruption");
    const j = JSON.parse((await runCli([...args, "--json"])).stdout).run;
    expect([j.checkpoint.lostPerFailureSeconds, j.lostSeconds]).toEqual([null, 0]);
  });

  it("async where the device-to-host copy is the limit names the copy, not slow storage", async () => {
    // dgx-a100-80g with a 16 GB/s copy a GPU. llama3-70b on 64 GPUs: Megatron-Core's fully parallel
    // save spreads the 987.8 GB checkpoint over them, 987.8 / 64 = 15.4 GB a GPU (the pipeline
    // ranks near equal) = 0.965 s at 16 GB/s; the write at 2 TB/s 0.494 s.
    const p = tempFile("slow-staging.json", JSON.stringify({ extends: "dgx-a100-80g", run: { stagingBandwidth: "16 GB/s" } }));
    const r = await runCli(["plan", "--model", "llama3-70b", "--gpus", "64", "--tokens", "1T", "--profile", p, "--ckpt", "async", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/async, waiting 96\d ms for each write as sync does: the device-to-host copy, 15\.4 GB a GPU at 16\.0 GB\/s = 96\d ms, is the limit, not the write, 987\.8 GB at 2\.00 TB\/s = 494 ms/);
    expect(r.stdout).not.toContain("the storage is too slow");
    // an interruption also loses the checkpoint not yet on storage (here the copy bounds it, 96x ms),
    // added to the restart, and said
    // (it was priced unsaid: "the restart 10.0 min" only)
    expect(r.stdout).toMatch(/the restart 10\.0 min with the 96\d ms write of the checkpoint not yet on storage \(async/);
  });

  it("the sweep's rule stops at goodput: no stray '-' under the unlabelled ◀ column", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--sweep-gpus", "8..64", "--tokens", "1T", "--deadline", "60d"]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split("\n");
    const rule = out[out.findIndex((l) => l.startsWith("GPUs  best plan")) + 1]!;
    // The last heading is "goodput" (7 letters): the rule ends in 7 dashes after two spaces.
    expect(rule).toMatch(/  -{7}$/);
    expect(r.stdout).toContain("◀");
  });

  it("sweep costs with separators: $1,234.56, not $1234.56", async () => {
    const r = await runCli(["plan", "--model", "gpt3-350m", "--sweep-gpus", "8", "--tokens", "300B", "--price", "2"]);
    expect(r.stdout).toMatch(/ \$\d,\d{3}\.\d{2} /);
  });
});
