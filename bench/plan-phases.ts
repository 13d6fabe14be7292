// Run as its own process by startup.ts: the steps of `paraplan plan --model gpt3-like`, each timed
// as a fresh CLI process pays it (modules loaded and compiled, code not yet optimised, V8 set up
// as the bin sets it for a one-shot command), then the simulation again once the JIT has compiled
// it. Prints one JSON line, milliseconds.
const started = performance.now(); // since the process started: node's own start-up
const { tuneForOneShot, simulationThreadPays } = await import("../src/app/one-shot.js");
tuneForOneShot();
const { parsePlanArgs } = await import("../src/plan-args.js");
const { buildRequest } = await import("../src/plan-request.js");
const { search } = await import("../planner/index.js");
const { simulateTop, SIMULATE_TOP } = await import("../planner/sim/rescore.js");
const { startSimulation } = await import("../src/app/sim-thread.js");
const { planReport } = await import("../src/format/plan-text.js");
const t0 = performance.now();
const args = parsePlanArgs(["--model", "gpt3-like"]);
const req = buildRequest(args);
// As the CLI: the simulator's thread starts before the search and warms up during it.
const helper = startSimulation({ model: req.model, hw: req.hw, training: req.training });
const t1 = performance.now();
const result = search(req.model, req.hw, req.training, req.fixed, { top: Math.max(SIMULATE_TOP, args.top) });
const t2 = performance.now();
await helper.simulate(result.plans);
const t3 = performance.now();
const text = planReport(req, { ...result, plans: result.plans.slice(0, args.top) }, t2 - t1);
const t4 = performance.now();
// In this thread, first cold (as without the helper thread; where the simulation ran in this
// thread, that was its cold run), then once compiled.
const thread = simulationThreadPays();
const c0 = performance.now();
if (thread) simulateTop(req.model, req.hw, req.training, result.plans);
const cold = thread ? performance.now() - c0 : t3 - t2;
let warm = Infinity;
for (let i = 0; i < 5; i++) {
  const w0 = performance.now();
  simulateTop(req.model, req.hw, req.training, result.plans);
  warm = Math.min(warm, performance.now() - w0);
}
console.log(
  JSON.stringify({
    node: started,
    modules: t0 - started,
    inputs: t1 - t0,
    search: t2 - t1,
    simulate: t3 - t2,
    output: t4 - t3,
    simulateCold: cold,
    simulateWarm: warm,
    simulated: result.plans.length,
    thread: thread ? 1 : 0,
    lines: text.split("\n").length,
  }),
);
