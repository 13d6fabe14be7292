// The one mapping from known failures to exit statuses and messages (src/errors.ts), as
// `paraplan execute`, `paraplan profile`, main and the interactive planner use it.
import { describe, expect, it } from "vitest";
import { DoesNotFit, PythonMissing } from "../../executor/errors.js";
import { runFailure } from "../../src/app/run.js";
import { INTERNAL_STATUS, UserError, exitFor, exitOf, internalErrorLine, printable } from "../../src/errors.js";
import { ProfileFailed } from "../../src/profile/measure.js";

describe("exit statuses of known failures", () => {
  it("maps each error's code: bad input 2, does not fit 1, no Python 4, a failed measurement 3", () => {
    expect(exitFor(new UserError("--tp: bad"))).toEqual({ status: 2, message: "--tp: bad" });
    expect(exitFor(new DoesNotFit("needs 16 GPUs"))).toEqual({ status: 1, message: "needs 16 GPUs" });
    expect(exitFor(new PythonMissing("no torch"))).toEqual({ status: 4, message: "no torch" });
    expect(exitFor(new ProfileFailed("matmul failed"))).toEqual({ status: 3, message: "matmul failed" });
  });

  it("maps a run that ended without a summary: 3, or the signal that stopped it (130, 143, 129)", () => {
    const rank = runFailure({ kind: "rank-error", error: { event: "error", rank: 0, kind: "oom", message: "CUDA out of memory" } }, "rank 0 ran out of memory");
    expect(exitOf(rank)).toEqual({ status: 3, message: "rank 0 ran out of memory" });
    expect(exitOf(runFailure({ kind: "no-summary", reason: null }, "no summary")).status).toBe(3);
    expect(exitOf(runFailure({ kind: "interrupted", signal: "SIGINT" }, "interrupted")).status).toBe(130);
    expect(exitOf(runFailure({ kind: "interrupted", signal: "SIGTERM" }, "terminated")).status).toBe(143);
    expect(exitOf(runFailure({ kind: "interrupted", signal: "SIGHUP" }, "hung up")).status).toBe(129);
  });

  it("leaves anything else to the caller (a bug, rethrown)", () => {
    expect(exitFor(new Error("bug"))).toBeNull();
    expect(exitFor(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBeNull();
    expect(exitFor("bad-input")).toBeNull();
    expect(exitFor(null)).toBeNull();
  });
});

describe("what an error line may hold", () => {
  it("control characters quoted from an input are escaped: no terminal escape, no second line", () => {
    // a key holding ESC[31m and a newline (QA: it recoloured the terminal and split the message)
    expect(printable('unknown field "\u001b[31mevil\nline2"')).toBe('unknown field "\\x1b[31mevil\\nline2"');
    expect(printable("\ufeff{ bom")).toBe("\\ufeff{ bom");
    expect(printable("NUL \u0000 and DEL \u007f")).toBe("NUL \\x00 and DEL \\x7f");
    expect(printable("--tp 3: must divide 8 · 3 = 24 GiB ≤ 80 GiB")).toBe("--tp 3: must divide 8 · 3 = 24 GiB ≤ 80 GiB");
  });

  it("a bug is one line naming it as paraplan's, with exit 70; the stack trace only under PARAPLAN_DEBUG", () => {
    const bug = new Error("simulation deadlocked: 8 of 9 operations never ran\n    at WasmEngine.play");
    const line = internalErrorLine(bug, {});
    expect(line).toBe("paraplan: internal error (a bug in paraplan, not in the input): Error: simulation deadlocked: 8 of 9 operations never ran; rerun with PARAPLAN_DEBUG=1 for its stack trace and report it");
    expect(internalErrorLine(bug, { PARAPLAN_DEBUG: "1" })).toContain("at WasmEngine.play");
    expect(INTERNAL_STATUS).toBe(70);
  });
});
