// `paraplan export`: the best plan (or --plan's) as an engine's own configuration files, printed
// or written to --out DIR.
import { existsSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { makeDirs } from "../../executor/fs-safe.js";
import { ARTIFACTS } from "../../executor/run-dir.js";
import { DEFAULT_ENGINE, FORMAT_ENGINES, type Fixed, type ModelSpec, checkFixed, evaluatePlan, modelGaps } from "../../planner/index.js";
import { checkLayout } from "../../planner/space.js";
import { planFileError, readPlanFile } from "../plan-file.js";
import { planFileArgs, planFileProfile } from "../plan-file-settings.js";
import { type Device, deviceOfProfile } from "../../executor/devices.js";
import { loadProfile } from "../load.js";
import { worldOf } from "../../planner/layout/groups.js";
import { checkPlanModel, readPlanFor } from "../app/plan-model.js";
import { EXPORT_FORMATS, type ExportFormat, ExportRefused, describe, pickRelease, planOf } from "../engines/engine-plan.js";
import { ENGINES, exportPlan, fasterElsewhere, formatEngineName, searchForFormat } from "../engines/export-plan.js";
import { LAUNCH_SPEC } from "../engines/torchrun.js";
import { engineStack, loadEngine } from "../load-engine.js";
import { isPath } from "../builtin-names.js";
import { UserError } from "../errors.js";
import { DoesNotFit } from "../../executor/errors.js";
import { noPlanMessage } from "../format/no-plan.js";
import { count, gib, percent } from "../format/units.js";
import type { Io } from "../io.js";
import { oneOf, parseFlags } from "../flags.js";
import { PLAN_OPTIONS, PLAN_OUTPUT_FLAGS, parsePlanArgs, planFlagsGiven } from "../plan-args.js";
import { type PlanRequest, buildRequest, unmeasuredOverlap } from "../plan-request.js";
import { calibrationStanding, standingLine } from "../calibration-standing.js";
import { refuseOwnTree } from "../own-paths.js";

export const EXPORT_USAGE = `usage: paraplan export --format megatron|deepspeed|torchtitan|llm-foundry|torchrun|slurm --model <preset|file> [options]

Writes the best plan (among those the engine runs as is) or --plan's as the engine's own
configuration. The plan flags of paraplan plan (--gpus --profile --global-batch --tp --zero …)
apply; see paraplan plan --help. Its output flags (--json --top --timeline --trace-out
--simulate-top) have nothing to act on here and are refused (exit 2), as are --script and
--rdzv-endpoint with a format that does not use them.

  --format F               megatron (pretrain_gpt.py arguments), deepspeed (ds_config.json, plus
                           Megatron-DeepSpeed arguments when needed), torchtitan (TOML job file or
                           command-line overrides), llm-foundry (training YAML, on the fsdp engine),
                           torchrun (one command per node), slurm (sbatch)
  --plan FILE              export this plan (an entry of plan --json's "plans", or the whole output)
  --release R              engine release: megatron core_r0.14 (default) or core_v0.7; torchtitan
                           0.2 (TOML, default) or main (overrides); deepspeed 0.16; llm-foundry
                           8c8dd48; torchrun 2; slurm 23
  --script "CMD ARGS"      torchrun/slurm: the training script (default: paraplan's worker with launch.json)
  --rdzv-endpoint H:P      torchrun: the rendezvous endpoint (default: $MASTER_ADDR:29500)
  --out DIR                write the files into DIR (created) instead of printing them; never
                           over the files of a run of paraplan execute there

exit status: 0 exported, 1 no plan (nothing fits in memory, or no valid configuration), 2 bad input or a plan the engine cannot run`;

const ENGINE_NAME: Record<ExportFormat, string> = { megatron: "Megatron-LM", deepspeed: "DeepSpeed", torchtitan: "torchtitan", "llm-foundry": "llm-foundry", torchrun: "torchrun", slurm: "Slurm" };

const EXPORT_OPTIONS = {
  ...PLAN_OPTIONS,
  format: { type: "string" },
  plan: { type: "string" },
  release: { type: "string" },
  script: { type: "string" },
  "rdzv-endpoint": { type: "string" },
  out: { type: "string" },
} as const;

/** An --engine beside a format that runs on `formatEngine`: the built-in itself, or a file that
 *  profiles it (load-engine.ts engineStack: its name or what it extends); another stack's, or a file
 *  of the user's own that names no built-in, is refused (an unreadable or looping file first, as
 *  loading it says). */
function checkFormatEngine(engine: string, f: ExportFormat, formatEngine: string): void {
  loadEngine(engine);
  const stack = isPath(engine) ? engineStack(engine) : { engine, by: "name" as const, through: 0 };
  if (stack?.engine === formatEngine) return;
  const runs = f in FORMAT_ENGINES ? `which runs on ${formatEngine}` : `which launches paraplan's worker (engine ${formatEngine})`;
  const drop = f in FORMAT_ENGINES ? "drop --engine" : "drop --engine, or give --script to launch your own";
  if (stack === undefined)
    throw new UserError(`--engine ${engine} names no built-in engine and extends none: it is not known to profile ${formatEngine}, the engine --format ${f} ${f in FORMAT_ENGINES ? "runs on" : "launches (paraplan's worker)"}; add "extends": "${formatEngine}" to it for your version of that stack, or ${drop}`);
  const it = stack.by === "name" ? `${stack.through > 0 ? "a file it extends" : "it"} is named ${stack.engine}` : `${stack.through > 0 ? "its chain of files" : "it"} extends ${stack.engine}`;
  throw new UserError(`--engine ${engine} contradicts --format ${f}, ${runs}${isPath(engine) ? `: the file profiles ${stack.engine} (${it})` : ""}; ${drop}`);
}

function checkStructure(req: PlanRequest, plan: Parameters<typeof describe>[0], file: string): void {
  const bad = checkLayout(req.model, req.training, req.hw.gpusPerNode, plan);
  if (bad) throw planFileError(`--plan ${file}`, bad.flag, plan, `${bad.message} [${bad.code}]`);
}

/** The device paraplan's worker runs a launcher's launch.json on: the profile's
 *  (executor/devices.ts deviceOfProfile: CPU ranks for a CPU profile), CUDA by default; a profile
 *  that cannot be read is named where the request loads it. */
function launcherDevice(profile: string | undefined): Device {
  if (profile === undefined) return "cuda";
  try {
    return deviceOfProfile(loadProfile(profile).gpuName);
  } catch {
    return "cuda";
  }
}

/** What to do about a model the engine of --format f (one of FORMAT_ENGINES) cannot build: the
 *  other formats whose engine builds every part of it, or an engine file extending f's (an
 *  --engine of another stack is refused beside f: checkFormatEngine). QA: llm-foundry was told
 *  to pick megatron-core or paraplan, engines it cannot run on. */
function formatHint(f: ExportFormat, formatEngine: string, m: ModelSpec): string {
  const and = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}` : xs[0] ?? "");
  const sets = and(modelGaps(m, loadEngine(formatEngine)).map((g) => `supports.${g.key}`));
  const builds = (g: ExportFormat) => {
    const e = formatEngineName(g);
    return e !== undefined && modelGaps(m, loadEngine(e)).length === 0 ? [`--format ${g} (${e})`] : [];
  };
  const others = EXPORT_FORMATS.filter((g) => g !== f).flatMap(builds);
  const own = `give --engine a file that extends ${formatEngine} and sets ${sets} (with the source that says your version builds them)`;
  return `--format ${f} runs on ${formatEngine} only: ${others.length > 0 ? `${and(others)} ${others.length > 1 ? "build" : "builds"} every part of ${m.name}; or ${own}` : `no export format's engine builds every part of ${m.name}; ${own}`}`;
}

/** plan's output flags (plan-args.ts), and --json, which export has no output for. */
const UNUSED_OUTPUT_FLAGS = ["json", ...PLAN_OUTPUT_FLAGS] as const;
const LAUNCHERS: readonly ExportFormat[] = ["torchrun", "slurm"];

/** A flag the format would leave unused is exit 2 naming it and the format, not ignored (export
 *  shares plan's flags, README "paraplan export"). */
function refuseUnused(values: Record<string, unknown>, f: ExportFormat): void {
  for (const flag of UNUSED_OUTPUT_FLAGS)
    if (values[flag] !== undefined && values[flag] !== false)
      throw new UserError(`--${flag}: export --format ${f} writes ${ENGINE_NAME[f]}'s configuration, not plan's output; drop --${flag} (it is paraplan plan's)`);
  if (values.script !== undefined && !LAUNCHERS.includes(f))
    throw new UserError(`--script: --format ${f} writes the configuration of ${ENGINE_NAME[f]}'s own trainer, not a launcher of your script; --script is for --format torchrun and slurm`);
  if (values["rdzv-endpoint"] !== undefined && f !== "torchrun")
    throw new UserError(f === "slurm"
      ? "--rdzv-endpoint: --format slurm takes the rendezvous endpoint from the allocation ($MASTER_ADDR:$MASTER_PORT, its first node); --rdzv-endpoint is for --format torchrun"
      : `--rdzv-endpoint: --format ${f} writes no launcher command; --rdzv-endpoint is for --format torchrun`);
  if (typeof values.out === "string" && values.out.trim() === "")
    throw new UserError(`--out: "${values.out}" names no directory (it would write into the current one); give a directory, or --out . for this one`);
  // "-" is standard output to most tools; export prints there without --out, and "-" would be
  // taken for a directory of that name (QA: it made one).
  if (values.out === "-")
    throw new UserError(`--out -: export prints the files on standard output without --out, and writes only into a directory; drop --out to print them, or give --out ./- for a directory named "-"`);
}

/** Exit 2 where --out holds a run of paraplan execute whose files export would replace (its
 *  launch.json, what the worker ran: the run could no longer be calibrated as recorded). */
function refuseRunFiles(out: string, names: string[]): void {
  const run = Object.values(ARTIFACTS).filter((n) => existsSync(join(out, n)));
  const replaced = names.filter((n) => existsSync(join(out, n)));
  if (run.length > 0 && replaced.length > 0)
    throw new UserError(`--out: "${out}" holds a run of paraplan execute (${run.join(", ")}); export would replace its ${replaced.join(", ")}; write elsewhere`);
}

export function runExport(argv: string[], io: Io): number {
  const { values, tokens } = parseFlags(argv, EXPORT_OPTIONS, "export");
  // Hand the plan flags, as given, to the plan command's parser.
  const planArgv: string[] = [];
  for (const t of tokens) {
    if (t.kind !== "option" || !(t.name in PLAN_OPTIONS)) continue;
    planArgv.push(t.value === undefined ? `--${t.name}` : `--${t.name}=${t.value}`);
  }
  let args = parsePlanArgs(planArgv);
  if (args.help) {
    io.out(EXPORT_USAGE);
    return 0;
  }
  const s = (k: string) => values[k] as string | undefined;
  const f = oneOf<ExportFormat>("format", s("format"), EXPORT_FORMATS);
  if (f === undefined) throw new UserError(`--format is required: one of ${EXPORT_FORMATS.join(", ")}`);
  refuseUnused(values, f);
  const release = pickRelease(ENGINES[f], s("release"));
  const planFile = s("plan") === undefined ? undefined : readPlanFile(s("plan")!);
  if (planFile) {
    const clash = planFlagsGiven(args);
    if (clash.length > 0) throw new UserError(`--plan fixes every dimension; drop the plan flags (${clash.join(", ")})`);
  }
  // An engine's format predicts with that engine, or with an engine file that extends it directly
  // (the user's profile of their version of the stack); another --engine contradicts it. The
  // launchers (torchrun, slurm) start paraplan's worker, compiled on CUDA as their launch.json says
  // (src/engines/torchrun.ts launchSpecFile), so they predict with its engine as execute does;
  // with --script they start the user's script and --engine is free.
  // (on CPU ranks, where the profile's host runs the ops, the worker runs eager: launcherDevice)
  const formatEngine = formatEngineName(f, s("script"), launcherDevice(args.profile ?? (s("plan") !== undefined ? planFileProfile(s("plan")!) : undefined)));
  if (formatEngine && args.engine !== undefined) checkFormatEngine(args.engine, f, formatEngine);
  // The file's model (where --model is absent) and training: the plan is priced as it was planned
  // (src/plan-file-settings.ts), not on the model's default sequence, batch and precision.
  if (planFile) args = planFileArgs(args, s("plan")!, args.engine ?? formatEngine ?? DEFAULT_ENGINE, true);
  // The release's own behaviour where it differs from the format's engine profile (torchtitan
  // main frees the last stage's outputs; DeepSpeed 0.16 splits the stages by the smallest spread);
  // an --engine file states the user's version instead (--engine naming the format's own engine
  // is no other version: it was priced as 0.2's).
  const own = args.engine === undefined || args.engine === formatEngine;
  const releaseEngine = {
    ...(own && release.keptOutputBytes !== undefined ? { keptOutputBytes: release.keptOutputBytes } : {}),
    ...(own && release.stageSplit !== undefined ? { stageSplit: release.stageSplit } : {}),
  };
  const options = {
    release: release.id,
    ...(s("script") !== undefined ? { script: s("script")! } : {}),
    ...(s("rdzv-endpoint") !== undefined ? { rdzvEndpoint: s("rdzv-endpoint")! } : {}),
    // (the worker runs from paraplan's directory: it finds launch.json in --out by its full path)
    ...(s("out") !== undefined ? { specPath: resolve(s("out")!, LAUNCH_SPEC) } : {}),
  };
  const request = (fixed: Fixed, fixedFrom?: string) => buildRequest(
    { ...args, ...releaseEngine, fixed, ...(fixedFrom ? { fixedFrom } : {}), ...(planFile && args.gpus === undefined ? { gpus: worldOf(planFile) } : {}) },
    formatEngine ? { engine: formatEngine, from: `--format ${f}`, ...(f in FORMAT_ENGINES ? { modelHint: (m: ModelSpec) => formatHint(f, formatEngine, m) } : {}) } : undefined,
  );
  let req = request(planFile ? {} : args.fixed);
  // A --plan file gets the engine's nearest plan, as the search's best does (README "Which plan":
  // torchtitan's and llm-foundry's ZeRO-1, torchtitan's ZeRO-2/3 beside a pipeline, DDP beside tp):
  // the plan the engine runs is the one checked (a bad value named by the file's field); one it
  // cannot run at all is refused with the file's field where the layout rules name one, else by
  // the engine (exportPlan below).
  let runs = planFile;
  if (planFile) {
    // (a layout rule the file breaks whatever the engine runs is named by its field first, as before)
    const asWritten = checkFixed(req.model, req.training, planFile);
    if (asWritten && asWritten.code !== "engine_unsupported") request(planFile, `--plan ${s("plan")}`);
    const t = ENGINES[f].translate(planOf(planFile), { model: req.model, training: req.training, hw: req.hw, options, release });
    if (t.kind === "nearest") runs = t.plan;
    req = request(runs!, `--plan ${s("plan")}`);
  }
  // A plan made for another model is refused, as execute refuses it (app/plan-model.ts).
  if (s("plan") !== undefined) checkPlanModel(readPlanFor(s("plan")!), req.model.name);
  // A model the engine cannot build is refused by the model, before any plan is sought.
  const modelRefused = ENGINES[f].modelRefusal?.({ model: req.model, training: req.training, hw: req.hw, options: {}, release });
  if (modelRefused) throw new ExportRefused(f, modelRefused);
  let plan = planFile;
  let fallback = false;
  let elsewhere: string | null = null;
  if (plan) checkStructure(req, runs!, s("plan")!);
  else {
    // (the script matters: paraplan's worker, the default, runs fewer plans than a trainer's own)
    const found = searchForFormat(f, req.model, req.hw, req.training, req.fixed, release, s("script") !== undefined ? { script: s("script")! } : {});
    const best = found.best ?? found.unrestricted?.plans[0];
    if (!best) {
      // (as plan says it: the closest plan, or why nothing was valid and which input to change)
      io.err(`paraplan: ${noPlanMessage(req, found.unrestricted!)}`);
      return 1;
    }
    plan = best;
    fallback = found.best === null && found.searchedEngineSpace;
    if (found.best !== null) elsewhere = fasterElsewhere(f, req.model, req.hw, req.training, req.fixed, release, found.best, s("script") !== undefined ? { script: s("script")! } : {});
  }
  let result: ReturnType<typeof exportPlan>;
  try {
    result = exportPlan(f, req.model, plan, req.training, req.hw, { ...options, profileName: req.profileName });
  } catch (e) {
    // The search found nothing the engine runs as is; say so rather than blame a plan not asked for.
    if (fallback && e instanceof ExportRefused)
      throw new UserError(
        `--format ${f}: none of the plans ${ENGINE_NAME[f]} runs as is fits here; the best plan found, ${describe(plan)}, cannot run on it: ${e.message.replace(/^--format \w+: /, "")}`,
      );
    throw e;
  }
  const predicted = evaluatePlan(req.model, req.hw, result.training, result.plan);
  const summary = [
    `${f} (${result.release.id}): ${describe(result.plan)}`,
    `predicted ${count(predicted.tokensPerSecond)} tokens/s, ${gib(predicted.memory.total)} per GPU (${percent(predicted.memory.total / predicted.memory.capacity, 0)} of capacity), MFU ${percent(predicted.mfu)}`,
    ...result.notes.map((n) => `note: ${n}`),
    ...(elsewhere !== null ? [`note: ${elsewhere}`] : []),
  ];
  // (the overlap priced on an AMD part from NVIDIA runs: said, as plan says it)
  const overlapNote = unmeasuredOverlap(req.hw, result.training.engine);
  if (overlapNote !== null) summary.push(`note: ${overlapNote}`);
  // A rotary scaling the config reads but no exporter writes (frequencies only: no cost): the
  // trainer must be told, or it trains another model.
  if (req.model.ropeScalingNotExported !== undefined)
    summary.push(`note: the model's rope_scaling (${req.model.ropeScalingNotExported}) is not in these files: paraplan writes only Llama 3.1's; give it to the trainer yourself`);
  // The prediction outside the published runs its engine was fitted on is an extrapolation: said.
  // (the engine the prediction was made with: the worker's eager one where it runs the plan eager)
  const standing = result.training.engine && result.training.engine !== req.training.engine
    ? calibrationStanding({ engine: result.training.engine.name, engineIsFile: false, profile: isPath(req.profileName) ? basename(req.profileName) : req.profileName, profileIsFile: isPath(req.profileName) || req.profileName === "local", model: req.model, training: result.training })
    : req.calibration;
  if (standing && (standing.runs === 0 || standing.outside.length > 0)) summary.push(`note: ${standingLine(standing)}`);
  // A plan that does not fit is refused, exit 1, nothing written: as execute refuses it
  // (src/app/choose.ts runnable), not a config that runs out of memory at its first step.
  if (predicted.memory.total > predicted.memory.capacity) {
    const over = predicted.memory.total / predicted.memory.capacity - 1;
    const what = s("plan") !== undefined ? `--plan ${s("plan")}: ` : "";
    throw new DoesNotFit(`${what}${describe(result.plan)} needs ${gib(predicted.memory.total)} per GPU, ${percent(over)} over the ${gib(predicted.memory.capacity)} capacity: it would run out of memory; nothing written (add GPUs, raise recompute or ZeRO)`);
  }
  const out = s("out");
  if (out !== undefined) {
    refuseOwnTree("--out", out);
    refuseRunFiles(out, result.files.map((f) => f.name));
    const made = makeDirs(out);
    if (!made.ok) throw new UserError(`--out: cannot write into "${out}" (${made.errno})`);
    try {
      for (const file of result.files) writeFileSync(join(out, file.name), file.content);
    } catch (e) {
      throw new UserError(`--out: cannot write into "${out}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const line of summary) io.out(line);
    for (const file of result.files) io.out(`wrote ${join(out, file.name)}`);
    return 0;
  }
  for (const line of summary) io.err(`paraplan: ${line}`);
  if (result.files.length === 1) io.out(result.files[0]!.content.replace(/\n$/, ""));
  else for (const file of result.files) io.out(`==> ${file.name} <==\n${file.content.replace(/\n$/, "")}`);
  return 0;
}
