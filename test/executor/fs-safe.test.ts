// Directory creation that always ends (executor/fs-safe.ts): one level at a time, every failure
// a value with a code and a reason naming the path. (The paths Node's recursive mkdir loops on
// are tried in spawned processes with a timeout: test/executor/cli.test.ts, test/export/cli.test.ts.)
import { existsSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exitFor } from "../../src/errors.js";
import { ensureDir, makeDirs } from "../../executor/fs-safe.js";
import { tempDir } from "../tmp-dirs.js";

describe("makeDirs", () => {
  it("creates every missing level and accepts an existing directory", () => {
    const root = tempDir();
    const deep = join(root, "a", "b", "c");
    expect(makeDirs(deep)).toEqual({ ok: true, path: deep });
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(makeDirs(deep)).toEqual({ ok: true, path: deep });
    expect(makeDirs(join(root, "a", "..", "a", "b"))).toEqual({ ok: true, path: join(root, "a", "b") });
  });

  it("refuses a path under a file, naming the file", () => {
    const root = tempDir();
    writeFileSync(join(root, "f"), "x");
    const r = makeDirs(join(root, "f", "sub", "deeper"));
    expect(r).toMatchObject({ ok: false, code: "bad-input", errno: "ENOTDIR", path: join(root, "f") });
    expect(!r.ok && r.reason).toBe(`${join(root, "f")} exists and is not a directory`);
    expect(existsSync(join(root, "f", "sub"))).toBe(false);
  });

  it("refuses a dangling symbolic link, and a path through one", () => {
    const root = tempDir();
    const link = join(root, "gone");
    symlinkSync(join(root, "missing-target"), link);
    for (const p of [link, join(link, "sub")]) {
      const r = makeDirs(p);
      expect(r).toMatchObject({ ok: false, errno: "ENOENT", path: link });
      expect(!r.ok && r.reason).toMatch(/is a symbolic link to a missing target/);
    }
    expect(existsSync(join(root, "missing-target"))).toBe(false);
  });

  it("ensureDir throws a one-line bad-input failure (exit 2) naming the flag and the path", () => {
    const root = tempDir();
    writeFileSync(join(root, "f"), "x");
    let caught: unknown;
    try {
      ensureDir(join(root, "f", "sub"), "--run-dir");
    } catch (e) {
      caught = e;
    }
    const exit = exitFor(caught);
    expect(exit?.status).toBe(2);
    expect(exit?.message).toBe(`--run-dir: cannot create the directory "${join(root, "f", "sub")}": ${join(root, "f")} exists and is not a directory (ENOTDIR)`);
    expect(exit?.message).not.toMatch(/\n/);
  });
});
