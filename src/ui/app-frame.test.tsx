// The frame at any terminal size: a terminal below the smallest layout says so (and recovers on
// resize), status messages wrap instead of being cut, and the setup keeps every field with a long
// error below it and refuses to plan with a field that holds no number.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { App } from "./app.js";
import type { Services } from "./core/controller.js";
import { FIELDS, FIELD_LABEL } from "./core/setup.js";
import { KEY, fakeExecutor, overflow, smallOptions, testServices, tick, waitFor } from "./test-utils.js";

/** The frame's lines joined (a wrapped message reads as one). */
const flat = (f: string) => f.split("\n").join(" ");

describe("the frame", () => {
  it("below 60 × 20 says the terminal is too small, and keys still work", async () => {
    const onQuit = vi.fn();
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={40} height={9} onQuit={onQuit} />);
    const f = lastFrame()!;
    expect(flat(f)).toContain("terminal too small: need at least 60×20, have 40×10");
    expect(f).not.toContain("paraplan · setup");
    expect(overflow(f, 40, 9)).toEqual([]);
    stdin.write("q");
    await tick();
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it("follows a resize: too small, then the setup again", async () => {
    const { lastFrame, stdout } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} />);
    const resize = (columns: number, rows: number) => {
      Object.defineProperty(stdout, "columns", { value: columns, configurable: true });
      Object.defineProperty(stdout, "rows", { value: rows, configurable: true });
      stdout.emit("resize");
    };
    resize(50, 30);
    await tick(100);
    expect(flat(lastFrame()!)).toContain("terminal too small: need at least 60×20, have 50×30");
    resize(80, 19);
    await tick(100);
    expect(flat(lastFrame()!)).toContain("have 80×19");
    resize(80, 24);
    await tick(100);
    expect(lastFrame()).toContain("paraplan · setup");
    expect(overflow(lastFrame()!, 80, 23)).toEqual([]);
  });

  it("wraps a long status message over lines instead of cutting it", async () => {
    const cwd = "/work/shared/out";
    const why = "EACCES: permission denied (the folder belongs to another user, who has not given this one the right to write in it; ask them, or quit and start paraplan in another folder)";
    const services: Services = {
      ...testServices(fakeExecutor(), new Map(), cwd),
      writeFile: () => {
        throw new Error(why);
      },
    };
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={services} width={80} height={23} />);
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    stdin.write("e");
    await tick();
    const f = lastFrame()!;
    expect(flat(f)).toMatch(new RegExp(`cannot write ${cwd}/plan-llama3-8b-[^ ]+\\.json: ${why.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(overflow(f, 80, 24)).toEqual([]);
    expect(f.split("\n").at(-1)).toMatch(/^↑↓ move/);
  });
});

describe("the setup screen's layout", () => {
  it("keeps the intro and every field with a two-line error (a truncated model file)", async () => {
    const path = join(tmpdir(), `paraplan-ui-truncated-model-file-${process.pid}.json`);
    writeFileSync(path, '{"name": "small", "layers": 2, "hidden": 64, "hea');
    for (const [width, height] of [[80, 23], [60, 19]] as const) {
      const { lastFrame, stdin, unmount } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={width} height={height} />);
      stdin.write(`${path}\r`);
      await tick();
      const f = lastFrame()!;
      expect(flat(f)).toContain(`${basename(path)}: malformed JSON`);
      const lines = f.split("\n");
      expect(lines[1]).toMatch(/^How should this model be split on this cluster\?/);
      for (const id of FIELDS) expect(f).toMatch(new RegExp(`^ (›| ) ${FIELD_LABEL[id]}\\s`, "m"));
      expect(overflow(f, width, height + 1)).toEqual([]);
      unmount();
    }
  });

  it("does not plan with an empty or zero number: the field says why, Enter names it", async () => {
    const startSearch = vi.fn(testServices(fakeExecutor()).startSearch);
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={{ ...testServices(fakeExecutor()), startSearch }} width={80} height={23} />);
    for (let i = 0; i < 3; i++) {
      stdin.write(KEY.down);
      await tick();
    }
    stdin.write(KEY.backspace);
    await tick();
    expect(lastFrame()).toMatch(/› Nodes\s+▏?\s+empty: type a number \(1 or more\)/);
    stdin.write("0");
    await tick();
    expect(lastFrame()).toMatch(/› Nodes\s+0▏\s+must be 1 or more/);
    expect(lastFrame()).toContain("GPUs: — (Nodes needs a number)");
    stdin.write(KEY.down);
    await tick();
    stdin.write(KEY.enter);
    await tick();
    expect(startSearch).not.toHaveBeenCalled();
    expect(lastFrame()).toContain("paraplan · setup");
    expect(lastFrame()).toMatch(/^ {3}Nodes\s+0\s+must be 1 or more/m);
    expect(lastFrame()).toContain("not planned: fix Nodes (must be 1 or more)");
    stdin.write(KEY.up);
    await tick();
    stdin.write("2");
    await tick();
    expect(lastFrame()).toContain("16 GPUs = 2 nodes × 8");
    stdin.write(KEY.enter);
    await tick();
    expect(startSearch).toHaveBeenCalledTimes(1);
    expect(startSearch.mock.calls[0]![0].nodes).toBe(2);
  });
});
