// torchrun: the command line of every node, with c10d rendezvous. Options from
// torch/distributed/run.py (pytorch/pytorch @010929fd; PyTorch 2.x "torchrun (Elastic Launch)"),
// recorded in test/export/fixtures/torchrun.txt. The training script is the user's (--script),
// by default paraplan's own worker, which reads the plan from launch.json (executor/PROTOCOL.md).
import { type Fixed, type ModelSpec, type Training, executorEngineName, engineGradReduceBytes } from "../../planner/index.js";
import { eagerReason, workerEngineName } from "../../executor/compile-mode.js";
import { loadEngine } from "../load-engine.js";
import { UserError } from "../errors.js";
import { DEFAULT_STEPS } from "../execute-args.js";
import { WORKER_MODULE } from "../../executor/launch.js";
import { buildSpec, predictionOf } from "../../executor/spec.js";
import { deviceOfProfile } from "../../executor/devices.js";
import type { Plan } from "../../planner/types.js";
import { workerRefusal } from "../../planner/layout/capabilities.js";
import { engineDispatchRefusal } from "./engine-dispatch.js";
import { modulesExportRefusal } from "./recompute-modules-export.js";
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

/** The script torchrun starts, as shell text: the user's words, each quoted (scriptWords), or
 *  `-m executor.worker --spec launch.json` (the file's path where it was written to a directory,
 *  quoted: the script runs from paraplan's directory, not beside launch.json). */
export function scriptText(ctx: EngineContext): string {
  if (ctx.options.script === undefined) return `-m ${WORKER_MODULE} --spec ${shellQuote(ctx.options.specPath ?? LAUNCH_SPEC)}`;
  return scriptWords(ctx.options.script).map(shellQuote).join(" ");
}

/** The words of --script as bash splits them (bash manual §3.1.2 "Quoting"): blanks separate them,
 *  '…' quotes literally, "…" quotes with \", \\, \$ and \` escaped, a backslash quotes the
 *  next character. Nothing expands and no operator acts: ";" or "$(…)" is text of a word, and the
 *  script writes every word back quoted. Empty text or an open quote is exit 2. */
export function scriptWords(script: string): string[] {
  const words: string[] = [];
  let word = "";
  let open = false; // a word has begun (an empty quoted one too)
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    const next = script[i + 1] ?? "";
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && '"\\$`'.includes(next) && next !== "") word += script[++i]!;
      else word += c;
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (open) words.push(word);
      word = "";
      open = false;
    } else if (c === "'" || c === '"') {
      quote = c;
      open = true;
    } else if (c === "\\") {
      if (next === "") throw new UserError(`--script: ${JSON.stringify(script)} ends in a backslash`);
      word += script[++i]!;
      open = true;
    } else {
      word += c;
      open = true;
    }
  }
  if (quote !== null) throw new UserError(`--script: ${JSON.stringify(script)} opens a ${quote} quote it does not close`);
  if (open) words.push(word);
  if (words.length === 0 || words[0] === "")
    throw new UserError(`--script: ${JSON.stringify(script)} names no script; give the training script and its arguments (--script "train.py --config run.yaml")`);
  return words;
}

/** A word as shell text: bare where every character is one no shell treats specially, else in
 *  single quotes (a ' inside as '\''), which bash takes literally. */
export function shellQuote(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A line of a comment: a name from the user's files (a model's _name_or_path, a profile's GPU
 *  name) with its line breaks and other control characters as spaces, so that it cannot end the
 *  comment and start a command. */
export const commentText = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");

/** --rdzv-endpoint as shell text: HOST:PORT, the host a name, an IPv4 address, [IPv6] (quoted) or
 *  a variable ($NAME, ${NAME}, double-quoted so it expands), the port 1-65535 or a variable. */
export function endpointText(v: string): string {
  const variable = /^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$/;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:]+):([^:]+)$/.exec(v);
  const host = m?.[1] ?? "";
  const port = m?.[2] ?? "";
  const hostOk = /^\[[0-9A-Fa-f:.]+\]$|^[A-Za-z0-9._-]+$/.test(host) || variable.test(host);
  const portOk = (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535) || variable.test(port);
  if (!hostOk || !portOk)
    throw new UserError(`--rdzv-endpoint: ${JSON.stringify(v)} is not HOST:PORT (a host name, an IPv4 address, [IPv6] or $VARIABLE, and a port 1-65535 or $VARIABLE)`);
  // ([IPv6] is a bash glob: single-quoted, else a file such as "1:29400" in the directory, or
  // nullglob, would take its place)
  return v.includes("$") ? `"${v}"` : shellQuote(v);
}

/** A setting the prediction was made with that paraplan's worker never runs, or null (as
 *  execute refuses it, src/app/choose.ts workerOverride): the worker's attention is torch's
 *  scaled_dot_product_attention (executor/worker/model.py), its FSDP2 reduces in fp32
 *  (executor/worker/fastpaths.py fsdp_mixed_precision), its AdamW keeps fp32 moments
 *  (executor/worker/optim.py). */
function workerSetting(t: Training): string | null {
  const own = "; drop the flag, or give --script to launch a trainer of your own";
  if (!t.fusedAttention) return `--attention unfused: paraplan's worker runs torch's scaled_dot_product_attention (executor/worker/model.py), a fused kernel, and launch.json has no attention setting${own}`;
  if (engineGradReduceBytes(t) === 2) return `--grad-reduce-in-bf16: paraplan's worker reduces fp32 gradients (FSDP2 reduce_dtype fp32, executor/worker/fastpaths.py)${own}`;
  if (t.optimizerStates === "bf16") return `--optimizer-states bf16: paraplan's worker's AdamW keeps fp32 moments (executor/worker/optim.py)${own}`;
  return null;
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
    // (the profile's device: CPU ranks for a CPU profile, eager there, as execute --device cpu runs
    // them: executor/spec.ts defaultCompile)
    device: deviceOfProfile(ctx.hw.gpuName),
    model: ctx.model,
    plan: ctx.plan,
    globalBatch: ctx.training.globalBatch,
    seqLen: ctx.training.seqLen,
    precision: ctx.training.precision,
    steps: DEFAULT_STEPS,
    prediction: predictionOf(ctx.options.profileName, ctx.model, ctx.training),
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
  const setting = workerSetting(ctx.training) ?? modulesExportRefusal(plan, ctx.training, "paraplan's worker", "its selective recompute saves the matmul outputs: executor/worker/fastpaths.py:151 sac_context_fn")
    ?? engineDispatchRefusal(ctx.model, plan, ctx.training, "paraplan's worker", "dispatches with torch.distributed's 16-bit all_to_all_single on the critical path (executor/worker/moe.py)");
  if (setting) return { kind: "refused", reason: setting };
  const m = ctx.model;
  const refused = workerRefusal(plan, {
    ...capabilityContext(ctx.training, ctx.hw, undefined, m),
    experts: m.moe?.experts ?? 0, mla: m.mla !== undefined, mtpLayers: m.mtpLayers ?? 0, qkNormFull: m.qkNorm === "full", device: deviceOfProfile(ctx.hw.gpuName),
  });
  return refused ? { kind: "refused", reason: `${refused.reason}; give --script to launch a trainer of your own` } : { kind: "exact" };
}

function files(ctx: EngineContext): ExportFile[] {
  const l = layout(ctx);
  const endpoint = endpointText(ctx.options.rdzvEndpoint ?? DEFAULT_RDZV);
  const id = exportId(ctx.model.name);
  const lines = [
    "#!/usr/bin/env bash",
    `# torchrun for ${commentText(ctx.model.name)}: ${l.nodes} node(s) x ${l.perNode} ${commentText(ctx.hw.gpuName)}`,
    `# plan: ${describe(ctx.plan)}`,
    `# options from ${ctx.release.label}`,
    "# run the line of each node on that node; every node must reach the rendezvous endpoint",
  ];
  if (ctx.options.rdzvEndpoint === undefined) lines.push("# (set MASTER_ADDR to the address of node 0 first)");
  if (ctx.options.script === undefined) lines.push("# the worker is paraplan's: run from paraplan's directory (PYTHONPATH=.) with its .venv; it reads launch.json");
  else lines.push("# the script's words are written quoted, as given: nothing in them expands");
  for (let k = 0; k < l.nodes; k++) {
    lines.push(`# node ${k}`);
    lines.push([...torchrunArgs(l, String(l.nodes), String(k), endpoint, id), scriptText(ctx)].join(" "));
  }
  const out: ExportFile[] = [{ name: "torchrun.sh", content: lines.join("\n") + "\n" }];
  if (ctx.options.script === undefined) out.push(launchSpecFile(ctx));
  return out;
}

/** paraplan's worker runs some plans eager though launch.json asks it to compile (zero-bubble
 *  stages, context parallel, mixtures of experts: executor/compile-mode.ts, the worker's
 *  compile.py rule): those are predicted with the eager engine, as execute predicts them. With
 *  --script (another engine) the user's trainer decides. */
export function workerRunsWith(dims: Pick<Fixed, "pp" | "cp" | "schedule">, t: Training, _release: Release, model?: ModelSpec): { training: Training; note: string } | undefined {
  if (t.engine?.name !== executorEngineName(true)) return undefined;
  const plan = { pp: dims.pp ?? 1, cp: dims.cp ?? 1, schedule: dims.schedule ?? "1f1b" };
  const runs = workerEngineName(true, plan, model ?? {});
  if (runs === t.engine.name) return undefined;
  return { training: { ...t, engine: loadEngine(runs) }, note: `paraplan's worker runs this plan eager (${eagerReason(plan, model ?? {})}) though launch.json asks it to compile: predicted with engine ${runs}` };
}

export const torchrun: Engine = {
  format: "torchrun",
  releases: TORCHRUN_RELEASES,
  overlays: (): Fixed[] => [{}],
  translate: launcherTranslate,
  files,
  runsWith: workerRunsWith,
};
