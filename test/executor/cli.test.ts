// The command end to end without torch: flags, refusals, --print-launch, a missing Python, and a
// fake worker that runs out of memory.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { executeCommand } from "../../src/commands/execute.js";
import { CLI, build, fakePython, processesWith, run, tmp } from "./e2e-helpers.js";

beforeAll(() => build(), 120_000);

describe("paraplan execute (no torch needed)", () => {
  it("prints help and refuses bad input with exit 2", async () => {
    const cwd = tmp();
    const help = await run(["--help"], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: paraplan execute/);
    const bad = await run(["--model", "tiny", "--device", "tpu"], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^paraplan: --device: "tpu"/);
    const tp = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--tp", "8"], { cwd });
    expect(tp.code).toBe(2);
  });

  it("a model the worker cannot build is exit 2 naming --model, not an --engine execute has no flag for", async () => {
    const cwd = tmp();
    const tiny = JSON.parse(readFileSync(new URL("../../profiles/models/tiny.json", import.meta.url), "utf8")) as Record<string, unknown>;
    const model = join(cwd, "tiny-alibi.json");
    writeFileSync(model, JSON.stringify({ ...tiny, name: "tiny-alibi", positional: "alibi" }));
    const r = await run(["--model", model, "--device", "cpu", "--steps", "2"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --model: tiny-alibi has ALiBi positions; engine paraplan builds learned or rotary positions only \(.*executor\/worker\/spec\.py.*\); execute runs paraplan's worker\n?$/);
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });

  it("refuses a plan that does not fit with exit 1 and the reason", async () => {
    const cwd = tmp();
    const big = await run(["--model", "llama3-70b", "--device", "cpu", "--gpus", "2"], { cwd });
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/no plan fits in memory; the closest, .* needs .* GiB per device/);
    const plan = join(cwd, "p.json");
    execFileSync("sh", ["-c", `echo '{"tp":1,"pp":1,"dp":4,"microBatch":2}' > ${plan}`]);
    const many = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--plan", plan], { cwd });
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/needs tp·cp·dp·pp = 4 devices but 2 are present/);
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });

  it("--print-launch prints every node's torchrun line and runs nothing", async () => {
    const cwd = tmp();
    const one = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--print-launch"], { cwd });
    expect(one.code).toBe(0);
    const lines = one.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/-m torch\.distributed\.run --nnodes 1 --nproc-per-node 2 --node-rank 0 --rdzv-backend c10d --rdzv-endpoint 127\.0\.0\.1:\d+ /);
    const dir = /--spec (\S+)\/launch\.json/.exec(lines[0]!)![1]!;
    expect(readdirSync(dir).sort()).toEqual(["command.txt", "launch.json", "plan.json"]);
    // The engine the prediction used (the eager worker's on CPU), for paraplan calibrate.
    expect(JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")).engine).toBe("paraplan");
    expect(processesWith(dir)).toEqual([]);
    const two = await run(
      ["--model", "tiny", "--device", "cpu", "--gpus", "4", "--nnodes", "2", "--rdzv-endpoint", "10.1.2.3:29400", "--print-launch"],
      { cwd },
    );
    expect(two.code).toBe(0);
    const nodes = two.stdout.trim().split("\n");
    expect(nodes).toHaveLength(2);
    nodes.forEach((l, r) => expect(l).toMatch(new RegExp(`--nnodes 2 --nproc-per-node 2 --node-rank ${r} .*--rdzv-endpoint 10\\.1\\.2\\.3:29400`)));
    expect(two.stderr).toMatch(/shared file system/);
  });

  it("--print-launch of an H100 plan on a node without GPUs launches CUDA ranks and says the node has none", async () => {
    const cwd = tmp();
    const noSmi = { PATH: dirname(process.execPath) }; // no nvidia-smi to find
    const args = ["--model", "tiny", "--global-batch", "256", "--profile", "dgx-h100", "--gpus", "16", "--nnodes", "2", "--rdzv-endpoint", "10.1.2.3:29400"];
    const r = await run([...args, "--print-launch", "--run-dir", join(cwd, "h100")], { cwd, env: noSmi });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, "h100", "launch.json"), "utf8")).device).toBe("cuda");
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(r.stderr).toMatch(/^paraplan: the launch is for CUDA GPUs \(profile dgx-h100\); this node has none/m);
  });

  it("runs the first plan of a plan --json output, and a run's own plan.json", async () => {
    const cwd = tmp();
    const out = execFileSync(process.execPath, [CLI, "plan", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--tp", "2", "--json"], { encoding: "utf8" });
    writeFileSync(join(cwd, "plans.json"), out);
    const first = JSON.parse(out).plans[0];
    const r = await run(["--model", "tiny", "--device", "cpu", "--plan", join(cwd, "plans.json"), "--print-launch", "--run-dir", join(cwd, "a")], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(cwd, "a", "launch.json"), "utf8"));
    for (const k of ["tp", "pp", "dp", "vpp", "zero", "microBatch", "recompute", "sequenceParallel", "schedule"]) expect(spec.plan[k], k).toEqual(first[k]);
    const again = await run(["--model", "tiny", "--device", "cpu", "--plan", join(cwd, "a", "plan.json"), "--print-launch", "--run-dir", join(cwd, "b")], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, "b", "launch.json"), "utf8")).plan).toEqual(spec.plan);
  });

  it("says how to install Python and torch when they are missing", async () => {
    const cwd = tmp();
    const none = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2"], { cwd, env: { PARAPLAN_PYTHON: "/nonexistent/python" } });
    expect(none.code).toBe(4);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/no Python interpreter at PARAPLAN_PYTHON=\/nonexistent\/python; run `npm run setup` \(that is, `bash executor\/setup-venv.sh`/);
    // a fresh virtual environment has no torch, whatever the system python has
    const venv = join(tmp(), "venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    const bare = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2"], { cwd, env: { PARAPLAN_PYTHON: join(venv, "bin", "python") } });
    expect(bare.code).toBe(4);
    expect(bare.stderr).toMatch(/torch is not installed for PARAPLAN_PYTHON=.*venv\/bin\/python; run `npm run setup`/);
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  }, 60_000);

  it("reports an out-of-memory rank beside the planner's predicted memory, and stops a SIGTERM-deaf worker", async () => {
    const cwd = tmp();
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "5", "--json"], {
      cwd,
      env: { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "oom" },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/rank 0 ran out of memory \(CUDA out of memory\. Tried to allocate 2\.00 GiB\); the planner predicted \d+\.\d+ GiB per device for this plan/);
    const last = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(last).toMatchObject({ failed: true, failure: { rank: 0, kind: "oom" }, steps: 1 });
    const runDir = last.runDir as string;
    expect(readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(runDir, "error.json"), "utf8"))).toMatchObject({ failure: { kind: "rank-error" } });
    expect(processesWith(runDir)).toEqual([]);
    expect(r.ms).toBeLessThan(20_000);
  }, 30_000);

  it("draws a live progress bar in a terminal and ends with the summary table", async () => {
    const dir = join(tmp(), "run");
    const out: string[] = [];
    const err: string[] = [];
    const drawn: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "ok" });
    let code: number;
    try {
      code = await executeCommand(
        ["--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "2", "--run-dir", dir],
        { out: (t) => out.push(t), err: (t) => err.push(t) },
        { write: (t) => drawn.push(t) },
      );
    } finally {
      process.env = saved;
    }
    expect(code, err.join("\n")).toBe(0);
    expect(drawn).toEqual([
      expect.stringMatching(/^\rstep 1\/2 \[█{10}░{10}\] loss 5\.5000 · 500 ms\/step · 512 tokens\/s\x1b\[K$/),
      expect.stringMatching(/^\rstep 2\/2 \[█{20}\] loss 5\.4000 · 250 ms\/step/),
      "\n",
    ]);
    const text = out.join("\n");
    expect(text).toMatch(/^tiny \(218k parameters\) on 2 × /);
    expect(text).toMatch(/step time\s+250 ms/);
    expect(text).toMatch(/all_reduce\s+2\s+1000\.0 B|all_reduce\s+2\s+1\.0 KiB/);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ steps: 2, runDir: dir, measured: { stepTime: 0.25, loss: [5.5, 5.4], mfu: null } });
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);
  });

  it("a rank stuck before its first step: a notice halfway, then every rank stopped at --startup-timeout, naming the ranks behind", async () => {
    const cwd = tmp();
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--startup-timeout", "10s"], { cwd, env: { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "stuck" } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^paraplan: waiting 5\.\d s for the first step: rank 1 started but never joined the process group; rank 0 built the model; every rank stops at 10 s without one \(--startup-timeout\)$/);
    expect(lines.at(-1)).toMatch(/^paraplan: no step after 10 s: rank 1 started but never joined the process group; rank 0 built the model: a rank is stuck before its first step \(--startup-timeout to wait longer if it is only slow\); stopped every rank, 0 steps of metrics kept in .* \(log: worker\.log\)$/);
    const runDir = /kept in (\S+) \(log/.exec(lines.at(-1)!)![1]!;
    expect(JSON.parse(readFileSync(join(runDir, "error.json"), "utf8"))).toMatchObject({ failure: { kind: "startup-stalled", phases: { 0: "built", 1: "started" }, started: false } });
    // The fake is deaf to SIGTERM: the group was killed, nothing is left.
    expect(processesWith(runDir)).toEqual([]);
    expect(r.ms).toBeLessThan(25_000);
  }, 40_000);

  // QA: rank 0 built and reported the start, rank 1 never finished building: the failure said
  // "every rank built the model" (rank 0's start event), error.json {"0":"built","1":"joined"}.
  it("rank 0 started its steps, rank 1 never built: the notice and the failure name rank 1 by its phase, not 'every rank built'", async () => {
    const cwd = tmp();
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--startup-timeout", "10s"], { cwd, env: { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "joined" } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^paraplan: waiting 5\.\d s for the first step: rank 1 joined the process group but never finished building the model; rank 0 built the model; every rank stops/);
    expect(lines.at(-1)).toMatch(/^paraplan: no step after 10 s: rank 1 joined the process group but never finished building the model; rank 0 built the model: a rank is stuck before its first step /);
    expect(r.stderr).not.toMatch(/every rank built/);
    const runDir = /kept in (\S+) \(log/.exec(lines.at(-1)!)![1]!;
    expect(JSON.parse(readFileSync(join(runDir, "error.json"), "utf8"))).toMatchObject({ failure: { kind: "startup-stalled", phases: { 0: "built", 1: "joined" }, started: true } });
    expect(processesWith(runDir)).toEqual([]);
  }, 40_000);

  it("node 0 of 2 started alone: says at once what it waits for, again halfway, and stops at --startup-timeout naming the rendezvous", async () => {
    const cwd = tmp();
    const args = ["--model", "tiny", "--device", "cpu", "--gpus", "4", "--nnodes", "2", "--node-rank", "0", "--rdzv-endpoint", "127.0.0.1:29533", "--startup-timeout", "10s"];
    const r = await run(args, { cwd, env: { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "rendezvous" } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      "paraplan: node 0 of 2: waiting for all 2 nodes to join the rendezvous at 127.0.0.1:29533 (id paraplan); start paraplan execute on each with the same --nnodes, --rdzv-endpoint and --rdzv-id; every rank stops at 10 s without one (--startup-timeout)",
    );
    expect(lines[1]).toMatch(/^paraplan: waiting 5\.\d s for all 2 nodes to join the rendezvous at 127\.0\.0\.1:29533 \(start paraplan execute with this --rdzv-endpoint on each\); every rank stops at 10 s without one \(--startup-timeout\)$/);
    expect(lines[2]).toMatch(/^paraplan: no rank of this node started in 10 s: the 2 nodes never all joined the rendezvous at 127\.0\.0\.1:29533; stopped, 0 steps of metrics kept in (\S+) \(log: worker\.log\)$/);
    const runDir = /kept in (\S+) \(log/.exec(lines[2]!)![1]!;
    // torchrun's own rendezvous wait (600 s by default) ends 30 s after the deadline, as the ranks' own watch does.
    expect(readFileSync(join(runDir, "command.txt"), "utf8")).toContain("--rdzv-conf join_timeout=40 ");
    expect(JSON.parse(readFileSync(join(runDir, "launch.json"), "utf8")).startupTimeout).toBe(40);
    // The log the message names exists, though nothing was printed (QA: it was created by the first line).
    expect(readFileSync(join(runDir, "worker.log"), "utf8")).toBe("");
    expect(processesWith(runDir)).toEqual([]);
    expect(r.ms).toBeLessThan(25_000);
  }, 40_000);

  it("node 0 of 2 whose rendezvous port is held by another program: refused at once, naming it, not blamed on the other nodes", async () => {
    const cwd = tmp();
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen({ host: "127.0.0.1", port: 0 }, ok));
    const port = (busy.address() as { port: number }).port;
    try {
      const args = ["--model", "tiny", "--device", "cpu", "--gpus", "2", "--dp", "2", "--nnodes", "2", "--node-rank", "0", "--rdzv-endpoint", `127.0.0.1:${port}`, "--startup-timeout", "10s"];
      const r = await run(args, { cwd, env: { PARAPLAN_PYTHON: fakePython(), FAKE_WORKER: "rendezvous" } });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      // The holder is this test's process.
      expect(lines[0]).toMatch(new RegExp(`^paraplan: port ${port} on 127\\.0\\.0\\.1 is held by another program \\(pid ${process.pid}: .*\\), not a torch rendezvous; .*--rdzv-endpoint on every node$`));
      expect(existsSync(join(cwd, "runs"))).toBe(false);
      expect(r.ms).toBeLessThan(8_000);
    } finally {
      busy.close();
    }
  }, 20_000);

  it("--startup-timeout takes a duration from 10 s to 24 h", async () => {
    for (const [v, why] of [["5s", /out of range \(10s to 24h\)/], ["2d", /not a duration/], ["soon", /not a duration/]] as const) {
      const r = await run(["--model", "tiny", "--device", "cpu", "--startup-timeout", v], { cwd: tmp() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });

  it("fails clearly when the worker ends without a summary", async () => {
    const cwd = tmp();
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "1"], { cwd, env: { PARAPLAN_PYTHON: fakePython() } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the worker finished without reporting a summary; 1 step of metrics kept/);
    // (one step, not "1 steps"; ranks counted, not "rank(s)")
    expect(r.stdout).toMatch(/^plan: .*; 1 step on 2 ranks here, torch /m);
    const one = await run(["--model", "tiny", "--device", "cpu", "--gpus", "1", "--steps", "2"], { cwd, env: { PARAPLAN_PYTHON: fakePython() } });
    expect(one.stdout).toMatch(/^plan: .*; 2 steps on 1 rank here, torch /m);
  });
});
