// The `paraplan` bin is the bundled CLI (src/bundle.ts: dist/src/paraplan.js and its chunks, written
// by `npm run build`). It must answer exactly as the compiled modules do — same output, same exit
// status, same one-line errors — in every command it loads lazily, and start its simulation thread
// from the bundled sim-worker.js. Early thread: plansToSimulate decides from the arguments alone.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../planner/fixtures.js";
import { plansToSimulate } from "../../src/app/sim-early.js";

const BIN = join(ROOT, "dist", "src", "paraplan.js");
const CLI = join(ROOT, "dist", "src", "cli.js");
const run = (entry: string, args: string[]) => spawnSync(process.execPath, [entry, ...args], { encoding: "utf8", timeout: 120_000, cwd: ROOT });
const noElapsed = (s: string) => s.replace(/"elapsedMs": ?[0-9.e+-]+/, "").replace(/ in [0-9.]+ m?s/g, "");

describe("the bundled bin", () => {
  it("is what package.json installs, and npm run build wrote it", () => {
    expect((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> }).bin.paraplan).toBe("dist/src/paraplan.js");
    expect(existsSync(BIN), "dist/src/paraplan.js missing: run npm run build").toBe(true);
    expect(existsSync(join(ROOT, "dist", "src", "sim-worker.js"))).toBe(true);
  });

  it.each([
    [["--help"]],
    [["plan", "--help"]],
    [["plan", "--model", "gpt3-like", "--top", "3", "--json"]],
    [["plan", "--model", "llama3-8b", "--gpus", "16", "--top", "2"]],
    [["plan", "--model", "gpt3-175b", "--gpus", "8"]],
    [["plan", "--model", "nope"]],
    [["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "8"]],
    [["execute", "--model", "tiny", "--gpus", "0"]],
    [["bogus"]],
    [["ui", "--model", "tiny", "--gpus", "0"]],
    [["ui", "--model", "tiny", "--engine", "fsdp"]],
  ])("paraplan %j answers as the compiled modules do", (args) => {
    const a = run(BIN, args);
    const b = run(CLI, args);
    expect(a.error).toBeUndefined();
    expect(a.status).toBe(b.status);
    expect(noElapsed(a.stdout)).toBe(noElapsed(b.stdout));
    expect(a.stderr).toBe(b.stderr);
    expect(a.stdout.length + a.stderr.length).toBeGreaterThan(0);
  });

  it("simulates on its thread what the modules simulate in theirs (--json, thread forced on)", () => {
    const env = { ...process.env, PARAPLAN_SIM_THREAD: "1" };
    const a = spawnSync(process.execPath, [BIN, "plan", "--model", "gpt3-like", "--json"], { encoding: "utf8", timeout: 120_000, cwd: ROOT, env });
    const b = run(CLI, ["plan", "--model", "gpt3-like", "--json"]);
    const [ja, jb] = [a, b].map((r) => ({ ...(JSON.parse(r.stdout) as { simulatedTop: number }), elapsedMs: 0 }));
    expect(ja!.simulatedTop).toBe(20);
    expect(ja).toEqual(jb);
  });
});

describe("whether plan starts its simulation thread early", () => {
  it.each([
    [["--model", "gpt3-like"], true],
    [["--model", "gpt3-like", "--simulate-top", "5"], true],
    [["--model", "gpt3-like", "--simulate-top", "0"], false],
    [["--model", "gpt3-like", "--simulate-top=0"], false],
    [["--help"], false],
    [["--model", "x", "--from", "a.toml"], false],
    [["--model", "gpt3-like", "--sweep-gpus", "8,16"], false],
  ])("%j → %s", (argv, want) => {
    expect(plansToSimulate(argv)).toBe(want);
  });
});
