// A flag that would change nothing, or whose output the command does not print, is exit 2 naming
// it, not ignored: plan's output flags given to execute, --timeline beside --json, --tp-comm-overlap
// beside --tp 1. And export and execute write nowhere inside paraplan's own trees (profiles/,
// where a run's JSON files would sit among the built-in hardware profiles the loader scans).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/load.js";
import { ownTree } from "../../src/own-paths.js";
import { tempDir } from "../tmp-dirs.js";
import { isOneLine, runCli } from "./helpers.js";

const refused = async (argv: string[], says: string) => {
  const r = await runCli(argv);
  expect(r.code, r.stderr).toBe(2);
  expect(isOneLine(r.stderr)).toBe(true);
  expect(r.stderr).toContain(says);
};

describe("flags that would change nothing", () => {
  it.each(["--top 3", "--timeline", "--trace-out t.json", "--simulate-top 5"])("execute %s: plan's output, which execute does not print", async (flag) => {
    const [name, value] = flag.split(" ");
    await refused(["execute", "--model", "tiny", "--device", "cpu", "--print-launch", "--run-dir", join(tempDir(), "run"), name!, ...(value ? [value] : [])], `${name}: execute runs the plan and prints measured against predicted, not plan's output`);
  });

  it("execute --print-launch --json: shell lines were printed to a reader asking for JSON", async () => {
    const dir = tempDir();
    await refused(["execute", "--model", "tiny", "--device", "cpu", "--print-launch", "--json", "--run-dir", join(dir, "run")], "--json: --print-launch prints each node's torchrun command, one shell line each, not JSON");
    expect(existsSync(join(dir, "run"))).toBe(false);
  });

  it("plan --json --timeline: the drawing is the table's", async () => {
    await refused(["plan", "--model", "tiny", "--json", "--timeline"], "--timeline draws the step beside the table, and --json prints no table");
    // --trace-out beside --json writes the step (the way to have both)
    const trace = join(tempDir(), "t.json");
    const r = await runCli(["plan", "--model", "tiny", "--json", "--trace-out", trace, "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("--tp-comm-overlap beside --tp 1 hides nothing", async () => {
    await refused(["plan", "--model", "llama3-8b", "--tp", "1", "--tp-comm-overlap"], "--tp-comm-overlap: --tp 1 has no tensor-parallel communication to hide; the flag would change nothing");
    const r = await runCli(["plan", "--model", "llama3-8b", "--tp", "2", "--tp-comm-overlap", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("paraplan's own trees", () => {
  it("are profiles/, the sources, the build and the environments; runs/ and the temp directory are not", () => {
    const root = packageRoot();
    expect(ownTree(join(root, "profiles"))).toBe("profiles");
    expect(ownTree(join(root, "profiles", "hardware", "new-dir", "x"))).toBe("profiles");
    expect(ownTree(join(root, "src", "commands"))).toBe("src");
    expect(ownTree(join(root, "runs", "today"))).toBeUndefined();
    expect(ownTree(root)).toBeUndefined();
    expect(ownTree(tempDir())).toBeUndefined();
  });

  it("export --out and execute --run-dir refuse them", async () => {
    const profiles = join(packageRoot(), "profiles");
    await refused(["export", "--model", "llama3-8b", "--format", "megatron", "--out", profiles], `--out ${profiles} is inside paraplan's own profiles/; write elsewhere`);
    await refused(["execute", "--model", "tiny", "--device", "cpu", "--print-launch", "--run-dir", join(profiles, "hardware", "run")], "is inside paraplan's own profiles/; write elsewhere");
  });
});
