// Helpers of the end-to-end tests: build once, run the real CLI, look for leftover processes.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../tmp-dirs.js";

export const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "src", "cli.js");

const FAKE_PYTHON_SOURCE = String.raw`#!/usr/bin/env node
// A stand-in for PARAPLAN_PYTHON that needs no torch: it answers paraplan's torch probe, and as
// "torchrun" plays a worker per FAKE_WORKER (ok: 2 steps and a summary; oom: rank 0 runs out of
// memory after step 1 and then hangs, deaf to SIGTERM, as a stuck agent would; stuck: rank 1
// never joins, no step comes, deaf to SIGTERM; joined: rank 0 builds and starts, rank 1 joins and
// never builds, deaf to SIGTERM; rendezvous: waits for other nodes that never come,
// saying nothing, deaf to SIGTERM; otherwise it exits 0 after one step without a summary).
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args[0] === "-c") {
  console.log(JSON.stringify(["2.13.0+fake", 0]));
  process.exit(0);
}
const spec = JSON.parse(readFileSync(args[args.indexOf("--spec") + 1], "utf8"));
const ev = (o, stream = process.stdout) => stream.write("PARAPLAN_EVENT " + JSON.stringify(o) + "\n");
process.on("SIGTERM", () => {});
const world = spec.plan.tp * spec.plan.pp * spec.plan.dp;
if (process.env.FAKE_WORKER === "stuck") {
  // Rank 0 builds its model, rank 1 never joins the process group: no step ever comes.
  ev({ event: "phase", rank: 0, phase: "started" }, process.stderr);
  ev({ event: "phase", rank: 1, phase: "started" }, process.stderr);
  ev({ event: "phase", rank: 0, phase: "joined" }, process.stderr);
  ev({ event: "phase", rank: 0, phase: "built" }, process.stderr);
  setInterval(() => {}, 1000);
} else if (process.env.FAKE_WORKER === "joined") {
  // Rank 0 builds its model and reports the start; rank 1 joins but never finishes building.
  ev({ event: "phase", rank: 0, phase: "started" }, process.stderr);
  ev({ event: "phase", rank: 1, phase: "started" }, process.stderr);
  ev({ event: "phase", rank: 0, phase: "joined" }, process.stderr);
  ev({ event: "phase", rank: 1, phase: "joined" }, process.stderr);
  ev({ event: "phase", rank: 0, phase: "built" }, process.stderr);
  ev({ event: "start", world, mesh: { pp: spec.plan.pp, dp: spec.plan.dp, tp: spec.plan.tp }, torch: "2.13.0+fake" });
  setInterval(() => {}, 1000);
} else if (process.env.FAKE_WORKER === "rendezvous") {
  // torchrun waiting at the rendezvous: no rank is started, nothing is printed.
  setInterval(() => {}, 1000);
} else {
ev({ event: "start", world, mesh: { pp: spec.plan.pp, dp: spec.plan.dp, tp: spec.plan.tp }, torch: "2.13.0+fake" });
ev({ event: "step", step: 1, loss: 5.5, stepTime: 0.5, tokensPerSecond: 512 });
}
if (process.env.FAKE_WORKER === "stuck" || process.env.FAKE_WORKER === "joined" || process.env.FAKE_WORKER === "rendezvous") {
  // (above)
} else if (process.env.FAKE_WORKER === "ok") {
  ev({ event: "step", step: 2, loss: 5.4, stepTime: 0.25, tokensPerSecond: 1024 });
  const comms = { all_reduce: { count: 2, bytes: 1000 } };
  ev({ event: "summary", measured: { stepTime: 0.25, tokensPerSecond: 1024, peakMemory: 2 ** 20, flopsPerStep: 352321536, loss: [5.5, 5.4], comms } });
  process.exit(0);
} else if (process.env.FAKE_WORKER === "oom") {
  ev({ event: "error", rank: 0, kind: "oom", message: "CUDA out of memory. Tried to allocate 2.00 GiB" }, process.stderr);
  setInterval(() => {}, 1000);
} else {
  process.exit(0);
}
`;

/** A stand-in interpreter (an executable node script) written to a temp directory. */
export function fakePython(): string {
  const path = join(tempDir("paraplan-fake-"), "python");
  writeFileSync(path, FAKE_PYTHON_SOURCE, { mode: 0o755 });
  return path;
}
export const hasWorker = () => existsSync(join(ROOT, "executor", "worker", "__main__.py"));
export const hasVenv = () => existsSync(join(ROOT, ".venv", "bin", "python")) || !!process.env.PARAPLAN_PYTHON;

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules" && e.name !== "worker") newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Compile the CLI when a source is newer than dist/src/cli.js. Test files run in parallel, so
 *  one builds under a lock while the others wait (tsc rewriting dist under a running CLI would
 *  let it read a half-written file). */
export function build(): void {
  const lock = join(ROOT, "dist", ".e2e-build.lock");
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      sleep(200);
    }
  }
  try {
    const built = existsSync(CLI) ? statSync(CLI).mtimeMs : 0;
    const newest = Math.max(...["src", "executor", "planner"].map((d) => newestSource(join(ROOT, d))));
    if (newest > built) {
      try {
        execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json")], { stdio: "pipe" });
      } catch (e) {
        // tsc emits despite type errors (elsewhere in the tree, say); the typecheck is not this test's job
        if (!existsSync(CLI)) throw e;
        console.warn(`tsc reported errors:\n${(e as { stdout?: Buffer }).stdout?.toString() ?? ""}`);
      }
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A temp directory, removed after the test file (test/tmp-dirs.ts). */
export const tmp = (prefix = "paraplan-e2e-") => tempDir(prefix);

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<Ran>;
}

/** Start `paraplan execute …` (OMP_NUM_THREADS=1 for the ranks). */
export function start(args: string[], opts: { cwd: string; env?: Record<string, string> }): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, "execute", ...args], {
    cwd: opts.cwd,
    env: { ...process.env, OMP_NUM_THREADS: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<Ran>((r) => child.on("close", (code) => r({ code, stdout: out, stderr: err, ms: Date.now() - started })));
  return { child, stdout: () => out, stderr: () => err, done };
}

export const run = (args: string[], opts: { cwd: string; env?: Record<string, string> }) => start(args, opts).done;

/** Processes (not zombies) whose command line mentions `needle` — what `ps` would show. */
export function processesWith(needle: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(needle) && !/^\s*\d+\s+Z/.test(l) && !l.includes("ps -eo"));
}

export function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  return new Promise((r) => {
    const tick = () => (pred() ? r(true) : Date.now() > until ? r(false) : setTimeout(tick, 50));
    tick();
  });
}

export const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
