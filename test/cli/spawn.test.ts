// The built CLI as a user runs it: `node dist/src/cli.js ...` in a child process. A few cases
// only (each is a Node start-up); the full matrix of flags runs in-process in plan.test.ts.
// `npm test` builds first; when dist is missing or older than the sources, build it here.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../planner/fixtures.js";
import { isOneLine, removeTempFiles, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

const CLI = join(ROOT, "dist", "src", "cli.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const stale = !existsSync(CLI) || statSync(CLI).mtimeMs < Math.max(newestSource(join(ROOT, "src")), newestSource(join(ROOT, "planner")));
  if (stale) spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: ROOT });
}

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[]): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const malformed = tempFile("spawn-malformed.json", '{\n  "name": "broken",\n  "layers": 4,\n}\n');

const RUNS = {
  plan: ["plan", "--model", "gpt3-like"],
  json: ["plan", "--model", "gpt3-like", "--json", "--top", "3"],
  malformed: ["plan", "--model", malformed],
  noFit: ["plan", "--model", "llama3-405b", "--gpus", "8", "--profile", "dgx-a100-40g"],
} as const;

const results: Partial<Record<keyof typeof RUNS, Proc>> = {};

beforeAll(async () => {
  ensureBuilt();
  const entries = Object.entries(RUNS) as [keyof typeof RUNS, readonly string[]][];
  const procs = await Promise.all(entries.map(([, args]) => runNode([...args])));
  entries.forEach(([k], i) => (results[k] = procs[i]));
}, 60_000);

describe("node dist/src/cli.js", () => {
  it("plan --model gpt3-like: exit 0, a header naming the cluster, the table", () => {
    const r = results.plan!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("dgx-h100");
    expect(r.stdout).toContain("1024");
    expect(r.stdout).toContain("1536");
    expect(r.stdout).toContain("best plan:");
  });

  it("--json --top 3: one JSON document with 3 plans", () => {
    const r = results.json!;
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.plans.length).toBe(3);
    expect(j.cluster).toEqual({ profile: "dgx-h100", gpus: 1024, gpusPerNode: 8, intraNodeLink: { kind: "nvlink", bandwidth: 450e9 }, networkPerGpu: 50e9 });
  });

  it("a malformed model file: exit 2, one line on stderr, no stack trace", () => {
    const r = results.malformed!;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(isOneLine(r.stderr), r.stderr).toBe(true);
    expect(r.stderr.startsWith("paraplan: ")).toBe(true);
  });

  it("nothing fits: exit 1, one line naming the closest plan", () => {
    const r = results.noFit!;
    expect(r.code).toBe(1);
    expect(isOneLine(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toContain("closest");
    expect(r.stderr).toMatch(/% over/);
  });
});

describe("npx paraplan (the README's first command, on the built package)", () => {
  it("runs the CLI through the package's bin: the built file is executable", () => {
    const r = spawnSync("npx", ["--no-install", "paraplan", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^paraplan — how should I split this model on this cluster\?/);
  });
});
