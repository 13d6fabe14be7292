// Input files are regular files of bounded size (src/read-input.ts). `--model /dev/zero` read
// until the timeout killed it; a directory or a huge file is no config either. Each is one line
// naming the flag and the path, exit 2, at once.
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES } from "../../src/read-input.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-inputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("input files that are not files", () => {
  const big = join(dir, "big.json");
  writeFileSync(big, " ".repeat(MAX_INPUT_BYTES + 1));
  const cases: Array<[string[], RegExp]> = [
    [["plan", "--model", "/dev/zero"], /--model "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", "gpt3-like", "--profile", "/dev/zero"], /--profile "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", "gpt3-like", "--engine", "/dev/zero"], /--engine "\/dev\/zero" cannot be read/],
    [["plan", "--model", "gpt3-like", "--from", "/dev/zero"], /--from "\/dev\/zero" cannot be read \(it is not a regular file\)/],
    [["plan", "--model", `${dir}/`], /--model ".*" cannot be read \(it is a directory\)/],
    [["plan", "--model", big], /cannot be read \(it is 17 MiB, more than the 16 MiB an input file may be\)/],
  ];
  it.each(cases)("%j: exit 2, one line", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
