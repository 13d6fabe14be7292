const { tuneForOneShot } = await import("../src/app/one-shot.js");
tuneForOneShot();
const { parsePlanArgs } = await import("../src/plan-args.js");
const { buildRequest } = await import("../src/plan-request.js");
const { search } = await import("../planner/index.js");
const { Simulator } = await import("../planner/sim/simulate.js");
const { buildSimCosts } = await import("../planner/sim/costs.js");
const { buildGraph } = await import("../planner/sim/graph.js");
const { addDataParallel } = await import("../planner/sim/dp.js");
const { buildTimeline } = await import("../planner/sim/timeline.js");
const args = parsePlanArgs(["--model", "gpt3-like"]);
const req = buildRequest(args);
const result = search(req.model, req.hw, req.training, req.fixed, { top: 20 });
const sim = new Simulator();
for (let pass = 0; pass < 2; pass++) {
  const tot = [0, 0, 0, 0, 0];
  const per: string[] = [];
  for (const p of result.plans) {
    const t: number[] = [performance.now()];
    const c = buildSimCosts(req.model, req.hw, req.training, p, {}); t.push(performance.now());
    const g = buildGraph(c, sim.arena); t.push(performance.now());
    addDataParallel(g); t.push(performance.now());
    const r = g.engine.run(); t.push(performance.now());
    buildTimeline(g, r, false); t.push(performance.now());
    for (let k = 0; k < 5; k++) tot[k]! += t[k + 1]! - t[k]!;
    per.push((t[5]! - t[0]!).toFixed(0));
  }
  console.log(pass, "costs/graph/dp/run/timeline", tot.map((x) => x.toFixed(0)).join(" "), "| per plan", per.join(" "));
}
