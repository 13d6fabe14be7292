// `paraplan profile` checks where its results go before it measures anything, never overwrites
// paraplan's own files (a built-in profile changed would change the default cluster and every
// profile `sameAs` it), and refuses an unknown --base even under --detect.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PythonMissing } from "../../executor/errors.js";
import { profileCommand } from "../../src/commands/profile.js";
import { writeProfile } from "../../src/profile/files.js";
import { ROOT, capture, fixtureRunner, tmp } from "./helpers.js";

const BUILTIN = join(ROOT, "profiles", "hardware", "dgx-h100.json");

/** Deps whose measurement records that it was called (and fails: no test here should reach it). */
function spy() {
  const calls: number[] = [];
  return {
    calls,
    deps: {
      run: fixtureRunner("dgx-h100"),
      host: "dgx1",
      checkPython: () => ({ python: "python", torch: "2.5.1", cudaDevices: 8 }),
      measure: async () => {
        calls.push(1);
        throw new Error("measured although the output could not be written");
      },
    },
  };
}

describe("paraplan profile --out", () => {
  it("refuses a built-in profile (also through a link) before measuring, and leaves it as it was", async () => {
    const before = readFileSync(BUILTIN, "utf8");
    const link = join(tmp(), "h100.json");
    symlinkSync(BUILTIN, link);
    for (const out of [BUILTIN, link]) {
      const s = spy();
      const c = capture();
      expect(await profileCommand(["--out", out], c.io, s.deps)).toBe(2);
      expect(c.err).toEqual([expect.stringMatching(/^paraplan: --out .*\.json is one of paraplan's own files; write elsewhere \(default: .*local-.*\.json\)$/)]);
      expect(s.calls).toEqual([]);
    }
    expect(readFileSync(BUILTIN, "utf8")).toBe(before);
    // writeProfile itself refuses, whoever calls it.
    expect(() => writeProfile(BUILTIN, { name: "x", extends: "dgx-h100" })).toThrow(/one of paraplan's own files/);
    expect(readFileSync(BUILTIN, "utf8")).toBe(before);
  });

  it("an --out, --raw or directory that cannot be written stops before measuring", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "x");
    for (const argv of [
      ["--out", join(dir, "file", "sub", "p.json")],
      ["--out", join(dir, "ok.json"), "--raw", join(dir, "file", "raw.json")],
      ["--out", dir],
    ]) {
      const s = spy();
      const c = capture();
      expect(await profileCommand(argv, c.io, s.deps)).toBe(2);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(/^paraplan: --(out|raw): cannot write ".*": .*\((ENOTDIR|EISDIR)\)$/);
      expect(s.calls).toEqual([]);
    }
  });

  // QA: `profile --device cpu --out a.json --raw a.json` wrote the raw measurements over the
  // profile, then said "use it: paraplan plan --profile a.json", which fails (field "name": missing).
  it("refuses --raw naming --out's file (also through a link) before measuring", async () => {
    const dir = tmp();
    symlinkSync(dir, join(dir, "alias"));
    for (const raw of [join(dir, "p.json"), join(dir, "alias", "p.json")]) {
      const s = spy();
      const c = capture();
      expect(await profileCommand(["--out", join(dir, "p.json"), "--raw", raw], c.io, s.deps)).toBe(2);
      expect(c.err).toEqual([`paraplan: --raw and --out name the same file (${join(dir, "p.json")}): the raw measurements would overwrite the profile; give --raw another path`]);
      expect([s.calls, existsSync(join(dir, "p.json"))]).toEqual([[], false]);
    }
  });
});

describe("paraplan profile without Python", () => {
  // QA: `profile --device cpu --out /tmp/new/sub/x.json` made /tmp/new/sub, then failed (no Python).
  it("is exit 4 and makes none of --out's or --raw's directories", async () => {
    const dir = tmp();
    const s = spy();
    const deps = { ...s.deps, checkPython: () => { throw new PythonMissing("no Python at /nonexistent/python"); } };
    const c = capture();
    const argv = ["--device", "cpu", "--out", join(dir, "new", "sub", "x.json"), "--raw", join(dir, "raw", "r.json")];
    expect(await profileCommand(argv, c.io, deps)).toBe(4);
    expect(c.err).toEqual(["paraplan: no Python at /nonexistent/python"]);
    expect([existsSync(join(dir, "new")), existsSync(join(dir, "raw")), s.calls]).toEqual([false, false, []]);
  });
});

describe("paraplan profile --base", () => {
  it("an unknown --base is exit 2 naming it, with --detect too; a file is not a name to extend", async () => {
    const c = capture();
    expect(await profileCommand(["--detect", "--base", "nonexistent"], c.io, spy().deps)).toBe(2);
    expect(c.err).toEqual(["paraplan: --base: unknown profile \"nonexistent\"; name one in profiles/hardware or a .json file"]);
    expect(c.out).toEqual([]);
    const f = join(tmp(), "mine.json");
    writeFileSync(f, JSON.stringify({ name: "mine", extends: "dgx-h100" }));
    const s = spy();
    const d = capture();
    expect(await profileCommand(["--base", f, "--out", join(tmp(), "p.json")], d.io, s.deps)).toBe(2);
    expect(d.err).toEqual([expect.stringMatching(/^paraplan: --base: ".*mine\.json" is a file; name a profile in profiles\/hardware/)]);
    expect(s.calls).toEqual([]);
    const ok = capture();
    expect(await profileCommand(["--detect", "--base", "hgx-h200"], ok.io, spy().deps)).toBe(0);
    expect(ok.stdout()).toMatch(/hgx-h200/);
  });

  // QA: --device cpu --base dgx-h100 exited 0 writing a "measured" GPU profile whose efficiencies
  // were CPU rates over the H100's peak (attention 1.58e-5; plans of an 11,881 s step).
  it("a --base of another kind of device than the one measured is exit 2 naming both, before measuring or writing", async () => {
    const out = join(tmp(), "x.json");
    const s = spy();
    const c = capture();
    expect(await profileCommand(["--device", "cpu", "--quick", "--no-collectives", "--base", "dgx-h100", "--out", out], c.io, s.deps)).toBe(2);
    expect(c.err).toEqual(["paraplan: --base dgx-h100: the measurement runs on CPU ranks (--device cpu), but profile dgx-h100 is H100 SXM5 80GB (CUDA GPUs); use --base cpu, or profile on the GPUs themselves"]);
    expect([s.calls, existsSync(out)]).toEqual([[], false]);
    // The other way: GPUs found (the dgx-h100 fixture), a CPU base.
    const g = capture();
    expect(await profileCommand(["--base", "cpu", "--out", out], g.io, spy().deps)).toBe(2);
    expect(g.err).toEqual([expect.stringMatching(/^paraplan: --base cpu: the measurement runs on CUDA GPUs, but profile cpu is .*CPU.* \(CPU ranks\); use --base with a built-in profile of this GPU, or --device cpu for CPU ranks$/)]);
    // Under --detect too: it would print a base the measurement cannot use.
    expect(await profileCommand(["--detect", "--device", "cpu", "--base", "hgx-h200"], capture().io, spy().deps)).toBe(2);
  });
});
