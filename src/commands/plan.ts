// `paraplan plan`: search and print the ranked plans.
import { search } from "../../planner/index.js";
import { planReport, rejections, describePlan, header } from "../format/plan-text.js";
import { searchJson } from "../format/plan-json.js";
import { gib, percent } from "../format/units.js";
import type { Io } from "../io.js";
import { parsePlanArgs } from "../plan-args.js";
import { buildRequest } from "../plan-request.js";

export const PLAN_USAGE = `usage: paraplan plan --model <preset|file.json> [options]

  --model NAME|FILE        model preset (see profiles/models) or a model / HuggingFace config.json file
  --profile NAME|FILE      hardware profile: a built-in, "local", or a .json file (default dgx-h100)
  --gpus N                 total GPUs (default: the model file's, else one node)
  --global-batch B         sequences per step (default: the model file's)
  --seq S                  sequence length (default: the model's)
  --precision P            bf16 (default), fp16, fp8 (Hopper and Ada matmuls)
  --attention A            fused (default, flash attention) or unfused
  --no-grad-overlap        gradient reduction after backward instead of overlapped with it
  --tp T --pp P --dp D     fix the tensor / pipeline / data parallel sizes
  --vpp V                  fix the virtual pipeline stages per rank
  --schedule S             1f1b, interleaved or gpipe
  --zero Z                 fix the ZeRO stage (0-3)
  --micro-batch M          fix the micro-batch size
  --recompute R            none, selective or full
  --sequence-parallel / --no-sequence-parallel
  --top K                  how many plans to list (default 10)
  --json                   one JSON object instead of the table

exit status: 0 plans found, 1 nothing fits in memory, 2 bad input`;

export function runPlan(argv: string[], io: Io): number {
  const args = parsePlanArgs(argv);
  if (args.help) {
    io.out(PLAN_USAGE);
    return 0;
  }
  const req = buildRequest(args);
  const started = performance.now();
  const result = search(req.model, req.hw, req.training, req.fixed, { top: args.top });
  const elapsedMs = performance.now() - started;
  if (args.json) io.out(JSON.stringify(searchJson(req, result, elapsedMs), null, 2));
  if (result.plans.length > 0) {
    if (!args.json) io.out(planReport(req, result, elapsedMs));
    return 0;
  }
  if (!args.json) io.out([header(req), rejections(result)].join("\n"));
  const c = result.closest;
  if (c) {
    const over = c.memory.total / c.memory.capacity - 1;
    io.err(
      `paraplan: no plan fits in memory; the closest, ${describePlan(c)}, needs ${gib(c.memory.total)} per GPU, ${percent(over)} over the ${gib(c.memory.capacity)} capacity. Add GPUs, raise recompute or ZeRO, or use a GPU with more memory.`,
    );
  } else {
    const why = result.searched === 0 ? "no configuration matches the fixed dimensions together" : rejections(result).replace(/^rejected: /, "");
    io.err(`paraplan: no valid configuration: ${why}. Relax the fixed dimensions.`);
  }
  return 1;
}
