// Directories the CLI is told to create, through the built CLI in a spawned process with a time
// limit (a loop in mkdir would otherwise hang the test run): every bad path ends within seconds
// with exit 2 and one line naming the flag and the path, never a stack trace.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../tmp-dirs.js";
import { CLI, build } from "./e2e-helpers.js";

beforeAll(() => build(), 120_000);

const LIMIT_MS = 20_000;

function cli(args: string[], cwd: string) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: LIMIT_MS, killSignal: "SIGKILL" });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

const EXECUTE = ["execute", "--model", "tiny", "--device", "cpu", "--gpus", "2", "--print-launch"];
const EXPORT = ["export", "--format", "megatron", "--model", "tiny"];

function expectOneLine(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.signal, `killed after ${r.ms} ms: ${r.stderr}`).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split("\n"), r.stderr).toEqual([expect.stringMatching(pattern)]);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe("directories the CLI creates", () => {
  it("execute --run-dir under a file or through a dangling link: exit 2, one line naming the path", () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "file"), "x");
    const under = cli([...EXECUTE, "--run-dir", join(cwd, "file", "sub")], cwd);
    expectOneLine(under, /^paraplan: --run-dir: cannot create the directory ".*\/file\/sub": .*\/file exists and is not a directory \(ENOTDIR\)$/);
    symlinkSync(join(cwd, "missing"), join(cwd, "dangling"));
    const dangling = cli([...EXECUTE, "--run-dir", join(cwd, "dangling")], cwd);
    expectOneLine(dangling, /^paraplan: --run-dir: cannot create the directory ".*\/dangling": .*\/dangling is a symbolic link to a missing target \(ENOENT\)$/);
    expect(existsSync(join(cwd, "missing"))).toBe(false);
  });

  // QA: `--run-dir ""` wrote plan.json, launch.json and command.txt into the current directory.
  it("execute with an empty --run-dir, --plan or --rdzv-id: exit 2 naming the flag, nothing written", () => {
    const cwd = tempDir();
    for (const [flag, v] of [["--run-dir", ""], ["--run-dir", "  "], ["--plan", ""], ["--rdzv-id", ""]] as const)
      expectOneLine(cli([...EXECUTE, flag, v], cwd), new RegExp(`^paraplan: ${flag} needs a value$`));
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("execute --run-dir that already holds a run: exit 2, one line, the old run untouched", () => {
    const cwd = tempDir();
    const first = cli([...EXECUTE, "--run-dir", join(cwd, "run")], cwd);
    expect(first.code, first.stderr).toBe(0);
    const again = cli([...EXECUTE, "--run-dir", join(cwd, "run")], cwd);
    expectOneLine(again, /^paraplan: --run-dir: ".*\/run" already holds a run \(plan\.json, launch\.json, command\.txt\); pass a new directory or remove that one$/);
    // A failed run's error.json alone is a run too (calibrate would refuse the next one in it).
    mkdirSync(join(cwd, "failed"));
    writeFileSync(join(cwd, "failed", "error.json"), "{}");
    expectOneLine(cli([...EXECUTE, "--run-dir", join(cwd, "failed")], cwd), /already holds a run \(error\.json\)/);
    expect(readFileSync(join(cwd, "failed", "error.json"), "utf8")).toBe("{}");
    // An existing directory without a run is used as it is.
    mkdirSync(join(cwd, "empty"));
    writeFileSync(join(cwd, "empty", "notes.txt"), "mine");
    expect(cli([...EXECUTE, "--run-dir", join(cwd, "empty")], cwd).code).toBe(0);
  });

  // QA: `--run-dir /` wrote plan.json, launch.json and command.txt into the root.
  it("execute --run-dir / (or a path that resolves to it): exit 2, one line, nothing written there", () => {
    const cwd = tempDir();
    const before = readdirSync("/").sort();
    for (const dir of ["/", "/tmp/.."]) expectOneLine(cli([...EXECUTE, "--run-dir", dir], cwd), /^paraplan: --run-dir: "\/(tmp\/\.\.)?" is the file system's root; pass a directory of its own for the run$/);
    expect(readdirSync("/").sort()).toEqual(before);
  });

  it.runIf(existsSync("/proc/1"))("execute --run-dir /proc/1/nope and export --out /proc/1/nope end at once (no mkdir loop)", () => {
    const cwd = tempDir();
    const run = cli([...EXECUTE, "--run-dir", "/proc/1/nope"], cwd);
    expectOneLine(run, /^paraplan: --run-dir: cannot create the directory "\/proc\/1\/nope": .* \(E[A-Z]+\)$/);
    const out = cli([...EXPORT, "--out", "/proc/1/nope"], cwd);
    expectOneLine(out, /^paraplan: --out: cannot write into "\/proc\/1\/nope" \(E[A-Z]+\)$/);
    expect(run.ms + out.ms).toBeLessThan(LIMIT_MS);
  });
});
