// Temporary directories of the tests: made under the system's temp directory with a paraplan-
// prefix, and removed (with everything in them) after the test file that made them. Importing
// this module registers the removal on the importing file (vitest runs each file's module graph
// on its own).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made = new Set<string>();

/** A fresh directory, removed after this test file. */
export function tempDir(prefix = "paraplan-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** The directories made so far and not yet removed. */
export const pendingTempDirs = (): string[] => [...made];

/** Remove every directory tempDir made (what afterAll does). */
export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}

afterAll(removeTempDirs);
