import { render } from "ink-testing-library";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../../planner/index.js";
import { App } from "./app.js";
import { gib, compact } from "../format/units.js";
import { shortPlan } from "./core/detail.js";
import { paretoFrontier, planKey } from "./core/frontier.js";
import { FrontierScreen } from "./frontier-screen.js";
import { KEY, best, fakeExecutor, finished, overflow, sessionOf, smallOptions, testServices, tick, waitFor } from "./test-utils.js";

let plans: PlanResult[];
beforeAll(() => {
  plans = finished(sessionOf("llama3-8b", 1, 8, 16)).plans;
});

describe("the frontier screen", () => {
  it("plots every feasible plan, the frontier and the selected plan, within 80 × 20", () => {
    const top = best(plans);
    const f = render(<FrontierScreen plans={plans} selected={top} width={80} height={20} />).lastFrame()!;
    expect(f).toMatch(/^tokens\/s ↑ against memory per GPU → · [\d,]+ feasible plans · ◆ frontier \(\d+\)$/m);
    expect(f).toMatch(new RegExp(`^● [\\d.]+ GiB, [\\d.]+k tokens/s: tp ${top.tp} · pp ${top.pp}`, "m"));
    expect(f.split("●")).toHaveLength(3); // the caption's and the chart's
    expect(f).toContain("◆");
    expect(f).toMatch(/└─+$/m);
    expect(f).toMatch(/^\s+[\d.]+ GiB\s+[\d.]+ GiB\s+[\d.]+ GiB$/m);
    expect(overflow(f, 80, 20)).toEqual([]);
  });

  it("moves along the frontier with ← → and opens the selected plan with Enter", async () => {
    const { lastFrame, stdin } = render(<App options={smallOptions()} services={testServices(fakeExecutor())} width={80} height={23} />);
    stdin.write(KEY.enter);
    await waitFor(() => lastFrame()!.includes("done in"), () => lastFrame()!);
    stdin.write("f");
    await tick();
    expect(lastFrame()).toContain("paraplan · frontier");
    const frontier = paretoFrontier(plans);
    const top = frontier[frontier.length - 1]!;
    expect(lastFrame()).toContain(`tp ${top.tp} · pp ${top.pp} · dp ${top.dp}`);
    stdin.write(KEY.left);
    await tick();
    const next = frontier[frontier.length - 2]!;
    const caption = lastFrame()!.split("\n").find((l) => l.startsWith("● "))!;
    expect(caption).toBe(`● ${gib(next.memory.total)}, ${compact(next.tokensPerSecond)} tokens/s: ${shortPlan(next)}`);
    stdin.write(KEY.enter);
    await tick();
    expect(lastFrame()).toContain("paraplan · plan detail");
    expect(lastFrame()).toContain(shortPlan(next));
    expect(planKey(next)).not.toBe(planKey(top));
  });
});
