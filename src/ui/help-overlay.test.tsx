import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { App } from "./app.js";
import { HelpOverlay } from "./help-overlay.js";
import { KEY, fakeExecutor, overflow, smallOptions, testServices, tick } from "./test-utils.js";

describe("the key list (?)", () => {
  it("lists the screen's keys in a box within the screen", () => {
    const f = render(<HelpOverlay screen="detail" width={80} height={20} />).lastFrame()!;
    expect(f).toContain("keys — detail (any key closes this)");
    expect(f).toMatch(/↑ ↓\s+previous \/ next plan of the table/);
    expect(f).toMatch(/q {2}Ctrl-C\s+quit/);
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("opens with ? and closes with any key, on the setup too", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    stdin.write("?");
    await tick();
    expect(lastFrame()).toContain("keys — setup");
    expect(lastFrame()).toMatch(/Enter\s+search the plans/);
    stdin.write(KEY.down);
    await tick();
    expect(lastFrame()).not.toContain("keys — setup");
    expect(lastFrame()).toMatch(/› Model/);
  });
});
