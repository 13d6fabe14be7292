// Start-up: wall time of `paraplan --help` and `paraplan plan --model gpt3-like` (which simulates
// the closed form's top 20) against a bare `node -e 0`, each run 5 times in turns so that the
// machine's drift cancels; and where a plan's time goes, in a fresh process as the CLI pays it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../src/load.js";

/** Targets of the start-up issue: wall time over a bare node start, medians of 5. */
export const STARTUP_TARGETS = { help: 2, plan: 5 } as const;
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall milliseconds of `node args…` to its exit, output discarded. */
function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: packageRoot(), stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

interface Phases {
  node: number;
  modules: number;
  inputs: number;
  search: number;
  simulate: number;
  output: number;
  simulateCold: number;
  simulateWarm: number;
  simulated: number;
  /** 1 where the simulation ran on the helper thread (src/app/one-shot.ts), 0 in the main thread. */
  thread: number;
}

function phases(): Phases {
  const r = spawnSync(process.execPath, [join(packageRoot(), "dist", "bench", "plan-phases.js")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`plan-phases exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Phases;
}

export function runStartup(): boolean {
  const cli = join(packageRoot(), "dist", "src", "paraplan.js"); // the bin: the bundled CLI (src/bundle.ts)
  const cases: Array<[string, string[], number | null]> = [
    ["node -e 0 (bare node)", ["-e", "0"], null],
    ["paraplan --help", [cli, "--help"], STARTUP_TARGETS.help],
    ["paraplan plan --model gpt3-like", [cli, "plan", "--model", "gpt3-like"], STARTUP_TARGETS.plan],
    ["  the same, --simulate-top 0", [cli, "plan", "--model", "gpt3-like", "--simulate-top", "0"], null],
  ];
  const times = cases.map(() => [] as number[]);
  wall(cases[2]![1]); // the file system's cache
  for (let i = 0; i < RUNS; i++) cases.forEach(([, args], k) => times[k]!.push(wall(args)));
  const bare = median(times[0]!);
  console.log(`Start-up (wall time to exit, median of ${RUNS} runs in turns; ratio to a bare node start)\n`);
  let ok = true;
  cases.forEach(([label, , target], k) => {
    const ms = median(times[k]!);
    const ratio = ms / bare;
    let verdict = "";
    if (target !== null) {
      const met = ratio <= target;
      ok &&= met;
      verdict = `  target ≤ ${target}× ${met ? "met" : "MISSED"}`;
    }
    console.log(`${label.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms  ${ratio.toFixed(1).padStart(4)}×${verdict}`);
  });
  const runs = Array.from({ length: RUNS }, phases);
  const p = (k: keyof Phases) => median(runs.map((r) => r[k]));
  const n = p("simulated");
  const where = p("thread") === 1 ? "on the helper thread, warmed during the search" : "in the main thread, after the search: too few cores for a helper thread to pay";
  console.log(
    `\nwhere plan --model gpt3-like's time goes (a fresh process, median of ${RUNS}): node ${p("node").toFixed(0)} ms, ` +
      `modules ${p("modules").toFixed(0)} ms, inputs ${p("inputs").toFixed(0)} ms, search ${p("search").toFixed(0)} ms, ` +
      `simulation of the top ${n} ${p("simulate").toFixed(0)} ms (${where}), output ${p("output").toFixed(0)} ms`,
  );
  console.log(
    (p("thread") === 1 ? `simulation of the top ${n}: ${(p("simulate") / n).toFixed(1)} ms each on the warmed helper thread, ` : `simulation of the top ${n}: `) +
      `${(p("simulateCold") / n).toFixed(1)} ms each cold in one thread, ${(p("simulateWarm") / n).toFixed(1)} ms each once compiled (as the simulation bench measures)`,
  );
  return ok;
}
