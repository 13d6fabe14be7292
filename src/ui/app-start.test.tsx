// The planner opened by `paraplan ui --model … --gpus …`: the setup screen shows the choices,
// and Enter plans them.
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { App } from "./app.js";
import { startState } from "./core/start-preset.js";
import { KEY, allOptions, fakeExecutor, overflow, testServices, waitFor } from "./test-utils.js";

describe("the planner started from ui's flags", () => {
  it("lands on the setup screen with the model, cluster, software and GPUs chosen", () => {
    const o = allOptions();
    const start = startState(o, { model: "llama3-70b", profile: "dgx-a100-80g", engine: "fsdp", gpus: 64 });
    const { lastFrame } = render(<App options={o} services={testServices(fakeExecutor())} start={start} width={80} height={23} />);
    const f = lastFrame()!;
    expect(f).toMatch(/› Model\s+‹ llama3-70b \(70\.6B parameters\) ›/);
    expect(f).toMatch(/Cluster\s+dgx-a100-80g — A100 SXM4 80GB, 8 per node/);
    expect(f).toMatch(/Software\s+fsdp/);
    expect(f).toContain("64 GPUs = 8 nodes × 8");
    expect(overflow(f, 80, 23)).toEqual([]);
  });

  it("Enter plans them, and the detail prices the whole run the flags set", async () => {
    const o = allOptions();
    const start = startState(o, { model: "llama3-8b", gpus: 8, tokens: 15.6e12, price: 2.5 });
    const { lastFrame, stdin } = render(<App options={o} services={testServices(fakeExecutor())} start={start} width={100} height={40} />);
    expect(lastFrame()).toContain("8 GPUs = 1 node × 8");
    stdin.write(KEY.enter);
    await waitFor(() => /ranked plans|results/.test(lastFrame()!) && /\n\s*1\s/.test(lastFrame()!), () => lastFrame()!);
    stdin.write(KEY.enter);
    await waitFor(() => /plan detail/.test(lastFrame()!), () => lastFrame()!);
    expect(lastFrame()).toContain("for 15.6T tokens");
    expect(lastFrame()).toContain("at $2.5/GPU-hour");
  });
});
