// The tests remove the temporary directories they make: tempDir's registry and its removal, and
// a guard that every test source making one with mkdtempSync also removes what it made.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pendingTempDirs, removeTempDirs, tempDir } from "./tmp-dirs.js";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" || name === "fixtures" ? [] : sources(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

describe("temporary directories of the tests", () => {
  it("tempDir registers each directory; removeTempDirs removes them with their contents", () => {
    const a = tempDir();
    const b = tempDir("paraplan-other-");
    writeFileSync(join(a, "f.json"), "{}");
    expect(pendingTempDirs()).toEqual(expect.arrayContaining([a, b]));
    expect(a).toMatch(/paraplan-test-/);
    removeTempDirs();
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(false);
    expect(pendingTempDirs()).toEqual([]);
  });

  it("every test source that calls mkdtempSync also removes (rmSync) what it made; the rest use tempDir", () => {
    const files = [...sources(join(ROOT, "test")), ...sources(join(ROOT, "src")).filter((f) => /\.test\.tsx?$|test-utils\.ts$/.test(f))];
    const leaking = files.filter((f) => {
      const text = readFileSync(f, "utf8");
      return /\bmkdtempSync\(/.test(text) && !/\brmSync\(/.test(text);
    });
    expect(leaking.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
