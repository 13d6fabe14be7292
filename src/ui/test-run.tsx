// Shared by the UI tests of the execute screen: the App at a size, its first search done and the
// selected plan's run started (x) on a fake executor, its worker prepared.
import { render } from "ink-testing-library";
import { App } from "./app.js";
import { KEY, fakeExecutor, smallOptions, testServices, tick, waitFor } from "./test-utils.js";

export async function startedRun(width: number, height: number, eager: string | null = null) {
  const run = fakeExecutor();
  const screen = render(<App options={smallOptions()} services={testServices(run)} width={width} height={height} />);
  screen.stdin.write(KEY.enter);
  await waitFor(() => screen.lastFrame()!.includes("done in"), () => screen.lastFrame()!);
  screen.stdin.write("x");
  await tick();
  const cb = run.callbacks[0]!;
  cb.prepared({ runDir: "/tmp/runs/a", torch: "2.13", engine: "paraplan", eager });
  return { run, cb, ...screen };
}
