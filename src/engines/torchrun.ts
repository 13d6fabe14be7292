// torchrun: the command line of every node, with c10d rendezvous. Options from
// torch/distributed/run.py (pytorch/pytorch @010929fd; PyTorch 2.x "torchrun (Elastic Launch)"),
// recorded in test/export/fixtures/torchrun.txt. The training script is the user's (--script),
// by default paraplan's own worker, which reads the plan from launch.json (executor/PROTOCOL.md).
import type { Fixed } from "../../planner/index.js";
import { DEFAULT_STEPS } from "../execute-args.js";
import { WORKER_MODULE } from "../../executor/launch.js";
import { buildSpec } from "../../executor/spec.js";
import type { Plan } from "../../planner/types.js";
import { workerRefusal } from "../../planner/layout/capabilities.js";
import {
  type Engine,
  capabilityContext,
  type EngineContext,
  type ExportFile,
  type NodeLayout,
  type Release,
  type Translation,
  describe,
  nodeLayout,
} from "./engine-plan.js";

export const TORCHRUN_RELEASES: readonly Release[] = [
  { id: "2", label: "PyTorch 2.x torchrun (torch/distributed/run.py at pytorch/pytorch @010929fd)" },
];

export const LAUNCH_SPEC = "launch.json";

/** The model's name where a script or a path uses it unquoted (a rendezvous id, a Slurm job name,
 *  a run directory): letters, digits, '.', '_' and '-' kept, anything else '-'. A name is the
 *  user's (a config.json's _name_or_path): "x; rm -rf ~" became a command of the script. */
export const exportId = (name: string) => `paraplan-${name.replace(/[^A-Za-z0-9._-]/g, "-")}`;
export const DEFAULT_RDZV = "$MASTER_ADDR:29500";

/** The script torchrun starts, as shell text: the user's, or `-m executor.worker --spec launch.json`. */
export function scriptText(ctx: EngineContext): string {
  return ctx.options.script ?? `-m ${WORKER_MODULE} --spec ${LAUNCH_SPEC}`;
}

export function layout(ctx: Omit<EngineContext, "plan">): NodeLayout {
  const l = nodeLayout(ctx.training, ctx.hw);
  if (typeof l === "string") throw new Error(l); // translate() refuses such plans first
  return l;
}

/** torchrun's options for one node; node rank and endpoint are shell text (literal or variables). */
export function torchrunArgs(l: NodeLayout, nodes: string, nodeRank: string, endpoint: string, rdzvId: string): string[] {
  return [
    "torchrun",
    "--nnodes", nodes,
    "--nproc-per-node", String(l.perNode),
    "--node-rank", nodeRank,
    "--rdzv-backend", "c10d",
    "--rdzv-endpoint", endpoint,
    "--rdzv-id", rdzvId,
  ];
}

/** launch.json for the default worker script (executor/spec.ts, the worker's only input). */
export function launchSpecFile(ctx: EngineContext): ExportFile {
  const spec = buildSpec({
    runDir: `runs/${exportId(ctx.model.name).replace(/^paraplan-/, "export-")}`,
    device: "cuda",
    model: ctx.model,
    plan: ctx.plan,
    globalBatch: ctx.training.globalBatch,
    seqLen: ctx.training.seqLen,
    precision: ctx.training.precision,
    steps: DEFAULT_STEPS,
  });
  return { name: LAUNCH_SPEC, content: JSON.stringify(spec, null, 2) + "\n" };
}

/** Launchers run any plan on GPU counts that fill whole nodes; with the default script, paraplan's
 *  worker, only the plans the worker runs on CUDA (planner/layout/capabilities.ts workerRefusal:
 *  its mixtures of experts at tp 1 and ZeRO 0, its context parallel, enough micro-batches…), as
 *  `execute --plan launch.json` would check them. */
export function launcherTranslate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  const l = nodeLayout(ctx.training, ctx.hw);
  if (typeof l === "string") return { kind: "refused", reason: l };
  if (ctx.options.script !== undefined) return { kind: "exact" };
  const m = ctx.model;
  const refused = workerRefusal(plan, {
    ...capabilityContext(ctx.training, ctx.hw, undefined, m),
    experts: m.moe?.experts ?? 0, mla: m.mla !== undefined, mtpLayers: m.mtpLayers ?? 0, device: "cuda",
  });
  return refused ? { kind: "refused", reason: `${refused.reason}; give --script to launch a trainer of your own` } : { kind: "exact" };
}

function files(ctx: EngineContext): ExportFile[] {
  const l = layout(ctx);
  const endpoint = ctx.options.rdzvEndpoint ?? DEFAULT_RDZV;
  const id = exportId(ctx.model.name);
  const lines = [
    "#!/usr/bin/env bash",
    `# torchrun for ${ctx.model.name}: ${l.nodes} node(s) x ${l.perNode} ${ctx.hw.gpuName}`,
    `# plan: ${describe(ctx.plan)}`,
    `# options from ${ctx.release.label}`,
    "# run the line of each node on that node; every node must reach the rendezvous endpoint",
  ];
  if (ctx.options.rdzvEndpoint === undefined) lines.push("# (set MASTER_ADDR to the address of node 0 first)");
  if (ctx.options.script === undefined) lines.push("# the worker is paraplan's: run from paraplan's directory (PYTHONPATH=.) with its .venv; it reads launch.json");
  for (let k = 0; k < l.nodes; k++) {
    lines.push(`# node ${k}`);
    lines.push([...torchrunArgs(l, String(l.nodes), String(k), endpoint, id), scriptText(ctx)].join(" "));
  }
  const out: ExportFile[] = [{ name: "torchrun.sh", content: lines.join("\n") + "\n" }];
  if (ctx.options.script === undefined) out.push(launchSpecFile(ctx));
  return out;
}

export const torchrun: Engine = {
  format: "torchrun",
  releases: TORCHRUN_RELEASES,
  overlays: (): Fixed[] => [{}],
  translate: launcherTranslate,
  files,
};
