// `paraplan ui`: its flags read by plan's parsers before the planner starts, a bad one one line
// naming the flag and exit 2; without a terminal the planner does not start (exit 2, one line).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../planner/fixtures.js";
import { isOneLine, runCli } from "./helpers.js";

describe("paraplan ui", () => {
  it.each([
    [["--gpus", "0"], /^paraplan: --gpus: "0" is not a positive integer$/],
    [["--gpus", "-8"], /^paraplan: --gpus: "-8" is not a positive integer$/],
    [["--model", "llama3-7b"], /^paraplan: --model: unknown preset "llama3-7b"/],
    [["--profile", "dgx-h1000"], /^paraplan: --profile: unknown profile "dgx-h1000"/],
    [["--engine", "dgx-h100"], /^paraplan: --engine: unknown engine "dgx-h100" \(a hardware profile: --profile\)/],
    [["--tokens", "lots"], /^paraplan: --tokens: "lots" is not a token count/],
    [["--price", "-1"], /^paraplan: --price: -1 is negative; give USD per GPU-hour from 0/],
    [["--gpus", "8", "--gpus", "16"], /^paraplan: --gpus is given twice, as "8" and "16"; give it once$/],
    [["--engin", "fsdp"], /^paraplan: Unknown option '--engin' \(did you mean --engine\?\); see paraplan ui --help$/],
    [["--model", "tiny", "--tp", "2"], /^paraplan: Unknown option '--tp'; see paraplan ui --help$/],
  ])("%j: exit 2, one line naming the flag", async (argv, line) => {
    const r = await runCli(["ui", ...argv]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(line);
  });

  it("good flags without a terminal: exit 2, one line saying the planner needs one", async () => {
    const r = await runCli(["ui", "--model", "llama3-8b", "--gpus", "64", "--tokens", "15.6T", "--price", "2.5"]);
    expect(r.code).toBe(2);
    expect(r.errCalls).toEqual(["paraplan: ui: the interactive planner needs a terminal (stdin and stdout); paraplan plan takes --model, --profile, --gpus, --engine, --tokens and --price without one"]);
  });

  it("--help lists its flags; paraplan --help lists ui", async () => {
    const r = await runCli(["ui", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--model", "--profile", "--gpus", "--engine", "--tokens", "--price"]) expect(r.stdout).toContain(flag);
    expect((await runCli(["--help"])).stdout).toMatch(/paraplan ui \[--model M\] \[--gpus N\] \[options\]/);
    expect((await runCli(["nope"])).stderr).toContain("commands: ui, plan,");
  });

  it("node dist/src/cli.js ui --gpus 0, no terminal: exit 2 before the planner starts, one line", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "dist", "src", "cli.js"), "ui", "--model", "llama3-8b", "--gpus", "0"], { cwd: ROOT, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('paraplan: --gpus: "0" is not a positive integer\n');
  });
  it("a planner flag without a command points to paraplan ui and plan; any other word stays an unknown command", async () => {
    for (const flag of ["--model", "--gpus=8"]) {
      const r = await runCli([flag, "llama3-8b"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`paraplan: ${flag} needs a command before it: paraplan ui ${flag} … opens the interactive planner set up, paraplan plan ${flag} … ranks plans (see paraplan --help)`);
    }
    const other = await runCli(["--tp", "2"]);
    expect(other.stderr).toBe('paraplan: unknown command "--tp"; commands: ui, plan, execute, export, profile, calibrate (see paraplan --help)');
  });
});
