// The torch probe of PARAPLAN_PYTHON (executor/python.ts checkPython): bounded, and a wrapper
// script's own children end with it (QA: a hung wrapper was killed after spawnSync's 120 s while
// the process it started ran on, orphaned, and the message was "spawnSync … ETIMEDOUT").
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkPython } from "../../executor/python.js";
import { PythonMissing } from "../../executor/errors.js";
import { tempDir } from "../tmp-dirs.js";

/** Running (not a zombie), as ps would say. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  const s = readFileSync(stat, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
}

const script = (name: string, body: string) => {
  const path = join(tempDir("paraplan-probe-"), name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
};

describe("the torch probe", () => {
  it("stops a wrapper that never answers, and what it started, with one line", async () => {
    const pidFile = join(tempDir("paraplan-probe-"), "child.pid");
    const hung = script("python", `sleep 300 & echo $! > ${pidFile}; wait`);
    const env = { ...process.env, PARAPLAN_PYTHON: hung };
    const err = await checkPython(hung, env, false, 1500).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PythonMissing);
    expect((err as Error).message).toContain(`PARAPLAN_PYTHON=${hung} did not answer within 1.5 s`);
    expect((err as Error).message.split("\n")).toHaveLength(1);
    const child = Number(readFileSync(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 200));
    expect(running(child)).toBe(false);
  });

  it("reads the answer of an interpreter that has torch", async () => {
    const ok = script("python", `echo '["2.13.0+fake", 0]'`);
    expect(await checkPython(ok, { ...process.env, PARAPLAN_PYTHON: ok })).toEqual({ python: ok, torch: "2.13.0+fake", cudaDevices: 0 });
  });
});
