// Flags of `paraplan execute`: the plan flags of `paraplan plan` (parsed by parsePlanArgs, so
// they mean exactly the same) plus the run's own.
import type { Device } from "../executor/devices.js";
import type { Endpoint } from "../executor/launch.js";
import { UserError } from "./errors.js";
import { PLAN_FIELDS } from "../planner/schema/plan.js";
import { MAX, int, oneOf, parseFlags } from "./flags.js";
import { parseDuration } from "../planner/run/index.js";
import { PLAN_OPTIONS, PLAN_OUTPUT_FLAGS, type PlanArgs, parsePlanArgs } from "./plan-args.js";
import { refuseOwnTree } from "./own-paths.js";

export const EXECUTE_OPTIONS = {
  ...PLAN_OPTIONS,
  device: { type: "string" },
  steps: { type: "string" },
  plan: { type: "string" },
  nnodes: { type: "string" },
  "node-rank": { type: "string" },
  "rdzv-endpoint": { type: "string" },
  "rdzv-id": { type: "string" },
  "run-dir": { type: "string" },
  "print-launch": { type: "boolean" },
  compile: { type: "boolean" },
  "no-compile": { type: "boolean" },
  "startup-timeout": { type: "string" },
} as const;

import type { RunSettings } from "../executor/prepare.js";

export const DEFAULT_STEPS = 10;

/** The run settings the executor takes (executor/prepare.ts RunSettings), plus the flags' own. */
export interface ExecuteArgs extends RunSettings {
  plan: PlanArgs;
  device: Device | undefined;
  planFile: string | undefined;
  json: boolean;
  help: boolean;
}

/** `HOST:PORT` (IPv6 as `[::1]:PORT`). */
export function parseEndpoint(v: string): Endpoint {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UserError(`--rdzv-endpoint: "${v}" is not HOST:PORT (port 1-65535)`);
  return { host: m[1]!, port };
}

export function parseExecuteArgs(argv: string[]): ExecuteArgs {
  const { values, tokens } = parseFlags(argv, EXECUTE_OPTIONS, "execute");
  // (execute runs the plan and prints measured against predicted; its --json is its own)
  for (const flag of PLAN_OUTPUT_FLAGS)
    if (values[flag] !== undefined && values[flag] !== false)
      throw new UserError(`--${flag}: execute runs the plan and prints measured against predicted, not plan's output; drop --${flag} (it is paraplan plan's)`);
  // Hand the plan flags, as given, to the plan command's parser.
  const planArgv: string[] = [];
  for (const t of tokens) {
    if (t.kind !== "option" || !(t.name in PLAN_OPTIONS)) continue;
    planArgv.push(t.value === undefined ? `--${t.name}` : `--${t.name}=${t.value}`);
  }
  const plan = parsePlanArgs(planArgv);
  const s = (k: string) => values[k] as string | undefined;
  // An empty path is no path: `--run-dir ""` wrote the run into the current directory.
  for (const k of ["run-dir", "plan", "rdzv-id"]) if (s(k)?.trim() === "") throw new UserError(`--${k} needs a value`);
  if (s("run-dir") !== undefined) refuseOwnTree("--run-dir", s("run-dir")!);
  const device = oneOf("device", s("device"), ["cuda", "cpu"] as const);
  const nnodes = int("nnodes", s("nnodes"), 1, MAX.gpus) ?? 1;
  const nodeRank = int("node-rank", s("node-rank"), 0, MAX.gpus) ?? 0;
  if (nodeRank >= nnodes) throw new UserError(`--node-rank: ${nodeRank} is not below --nnodes ${nnodes}`);
  const endpoint = s("rdzv-endpoint") === undefined ? undefined : parseEndpoint(s("rdzv-endpoint")!);
  if (nnodes > 1 && endpoint === undefined)
    throw new UserError("--nnodes > 1 needs --rdzv-endpoint HOST:PORT, an address of one node that every node can reach");
  const planFile = s("plan");
  if (planFile !== undefined) {
    const clash = [...PLAN_FIELDS.filter((k) => plan.fixed[k] !== undefined), ...(plan.recomputeLayers !== undefined ? ["recomputeLayers"] : [])];
    if (clash.length > 0) throw new UserError(`--plan fixes every dimension; drop the plan flags (${clash.join(", ")})`);
  }
  if (values.compile === true && values["no-compile"] === true) throw new UserError("--compile and --no-compile: give one of them");
  // --print-launch prints shell lines: --json beside it was ignored, its reader handed no JSON.
  if (values["print-launch"] === true && plan.json)
    throw new UserError("--json: --print-launch prints each node's torchrun command, one shell line each, not JSON; drop --json (launch.json in the run directory is the spec as JSON)");
  const compile = values.compile === true ? true : values["no-compile"] === true ? false : undefined;
  // The first step's deadline (executor/prepare.ts DEFAULT_STARTUP_TIMEOUT): 10s to 24 h.
  let startupTimeout: number | undefined;
  if (s("startup-timeout") !== undefined) {
    const d = parseDuration(s("startup-timeout")!, ["s", "min", "m", "h"]);
    if (!d.ok) throw new UserError(`--startup-timeout: ${d.message}`);
    if (d.value < 10 || d.value > 86400) throw new UserError(`--startup-timeout: "${s("startup-timeout")}" is out of range (10s to 24h)`);
    startupTimeout = d.value;
  }
  return {
    plan,
    device,
    compile,
    steps: int("steps", s("steps"), 1, MAX.steps) ?? DEFAULT_STEPS,
    planFile,
    nnodes,
    nodeRank,
    endpoint,
    rdzvId: s("rdzv-id"),
    runDir: s("run-dir"),
    printLaunch: values["print-launch"] === true,
    startupTimeout,
    json: plan.json,
    help: plan.help,
  };
}
