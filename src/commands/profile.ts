// `paraplan profile`: detect this node, measure it through the Python profiler, and write a
// hardware profile that extends the closest built-in (src/profile/*).
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, resolve } from "node:path";
import { deviceOfProfile } from "../../executor/devices.js";
import { PythonMissing } from "../../executor/errors.js";
import { type PythonInfo, checkPython, pythonPath } from "../../executor/python.js";
import { INTERNAL_STATUS, UserError, exitFor, internalErrorLine, printable } from "../errors.js";
import type { Io } from "../io.js";
import { plural } from "../format/units.js";
import { packageRoot } from "../load.js";
import { PROFILE_USAGE, type ProfileArgs, parseProfileArgs } from "../profile/args.js";
import { buildProfile } from "../profile/build.js";
import { type Detected, type Runner, closestBuiltin, detect, firstGpus, runQuiet } from "../profile/detect.js";
import type { Measurements } from "../profile/events.js";
import { estimateLine, estimateProfileSeconds } from "../profile/duration.js";
import { checkWritable, defaultLocalPath, readProfile, sameFile, today, writeProfile } from "../profile/files.js";
import { type MeasureOptions, measure } from "../profile/measure.js";
import { type ProgressBar, stderrBar } from "../profile/progress.js";
import { detectionLines, resultLines } from "../profile/report.js";

/** Statuses of its own; bad input (2), a failed measurement (3) and no Python (4) come from exitFor. */
export const EXIT_PROFILE = { ok: 0, noDevice: 1 } as const;

export interface ProfileDeps {
  run?: Runner;
  measure?: (o: MeasureOptions) => Promise<Measurements>;
  bar?: ProgressBar;
  env?: NodeJS.ProcessEnv;
  host?: string;
  /** Override the interpreter check (tests). */
  checkPython?: (...a: Parameters<typeof checkPython>) => PythonInfo | Promise<PythonInfo>;
}

const cpuOnly = (d: Detected): Detected => ({ ...d, device: "cpu", gpus: [], topology: null, summary: null, nvlink: [] });

async function profile(args: ProfileArgs, io: Io, deps: ProfileDeps): Promise<number> {
  const host = deps.host ?? hostname();
  const all = args.device === "cpu" ? cpuOnly({ ...detect(() => null), notes: ["--device cpu: CPU ranks over gloo"] }) : detect(deps.run ?? runQuiet);
  if ((args.device === "cuda" || args.gpus !== undefined) && all.device === "cpu") {
    io.err(`paraplan: ${args.gpus !== undefined ? "--gpus" : "--device cuda"}: no NVIDIA GPU found (${all.notes.join("; ")}); use --device cpu`);
    return EXIT_PROFILE.noDevice;
  }
  if (args.gpus !== undefined && args.gpus > all.gpus.length) {
    io.err(`paraplan: --gpus ${args.gpus}: nvidia-smi lists ${plural(all.gpus.length, "GPU")}`);
    return EXIT_PROFILE.noDevice;
  }
  const found = args.gpus === undefined ? all : firstGpus(all, args.gpus);
  // An unknown --base is bad input even under --detect (it would print it as the "closest built-in").
  const given = args.base === undefined ? null : readProfile(args.base, "--base");
  if (given !== null && given.name === null)
    throw new UserError(`--base: "${args.base}" is a file; name a profile in profiles/hardware (the measured profile extends it by name)`);
  // (the built-in's own spelling: the written profile extends it by name, and "extends" is exact)
  const baseName = given?.name ?? closestBuiltin(found);
  // The measured rates are divided by the base's peaks: a CPU measurement against an H100's peak
  // wrote a "measured" GPU profile at 1.6e-5 attention efficiency (planned steps of 3 hours).
  if (given !== null && deviceOfProfile(given.hw.gpuName) !== found.device) {
    const on = (d: string) => (d === "cpu" ? "CPU ranks" : "CUDA GPUs");
    const how = found.device === "cpu" ? (args.device === "cpu" ? " (--device cpu)" : " (no GPU found)") : "";
    const fix = found.device === "cpu" ? "use --base cpu, or profile on the GPUs themselves" : "use --base with a built-in profile of this GPU, or --device cpu for CPU ranks";
    throw new UserError(`--base ${args.base}: the measurement runs on ${on(found.device)}${how}, but profile ${args.base} is ${given.hw.gpuName} (${on(deviceOfProfile(given.hw.gpuName))}); ${fix}`);
  }
  if (args.detectOnly) {
    if (args.json) io.out(JSON.stringify({ host, detected: found, base: baseName }));
    else for (const l of detectionLines(found, host, baseName)) io.out(l);
    return EXIT_PROFILE.ok;
  }
  if (baseName === null)
    throw new UserError(`no built-in profile matches the GPU "${found.gpus[0]!.name}"; pass --base NAME, a built-in whose datasheet peaks and link rates fit this GPU`);
  const base = given ?? readProfile(baseName, "--base");
  const root = packageRoot();
  const env = deps.env ?? process.env;
  const python = pythonPath(root, env);
  const info = await (deps.checkPython ?? checkPython)(python, env, found.device === "cuda");
  const ranks = found.device === "cpu" ? args.ranks : found.gpus.length;
  if (found.device === "cuda" && info.cudaDevices < ranks)
    throw new PythonMissing(
      `torch ${info.torch} at ${python} sees ${plural(info.cudaDevices, "CUDA device")} but ${ranks} ${ranks === 1 ? "is" : "are"} to be profiled; point PARAPLAN_PYTHON at a CUDA build of torch (and check CUDA_VISIBLE_DEVICES)`,
    );
  // Where the results go, checked before minutes of measuring: never a built-in (the default
  // cluster and every profile `sameAs` it would change), a directory that can be made and written.
  // After the Python check: a node without Python or torch is refused with no directory made.
  const out = checkWritable(args.out ?? defaultLocalPath(), "--out", defaultLocalPath());
  const raw = args.raw === undefined ? undefined : checkWritable(args.raw, "--raw");
  // One path for both would leave the raw measurements where the profile was said to be written.
  if (raw !== undefined && sameFile(raw, out))
    throw new UserError(`--raw and --out name the same file (${out}): the raw measurements would overwrite the profile; give --raw another path`);
  const estimate = estimateProfileSeconds(base.hw, { device: found.device, ranks, quick: args.quick, collectives: args.collectives });
  if (!args.json) {
    for (const l of detectionLines(found, host, baseName)) io.out(l);
    io.out(estimateLine(estimate, found.device));
  }
  const bar = deps.bar ?? stderrBar();
  const started = Date.now();
  let m: Measurements;
  try {
    m = await (deps.measure ?? measure)({
      root,
      python,
      env,
      device: found.device,
      ranks,
      quick: args.quick,
      skip: { collectives: !args.collectives },
      onProgress: (phase, done, total, label) => bar.update(phase, done, total, label),
    });
  } finally {
    bar.clear();
  }
  const built = buildProfile({
    name: args.name ?? basename(out, ".json"),
    host,
    date: today(),
    baseName,
    base: base.hw,
    device: found.device,
    detected: found,
    m,
    quick: args.quick,
    ranks,
  });
  const path = writeProfile(out, built.profile);
  if (raw !== undefined) {
    try {
      // (linkCheck: each collective measured against the written link's price of it, link.ts fitCheck)
      writeFileSync(raw, JSON.stringify({ host, detected: found, measurements: m, fits: built.link.fits, linkCheck: built.link.check?.points ?? [] }, null, 2) + "\n");
    } catch (e) {
      throw new UserError(`--raw: cannot write "${args.raw}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  if (args.json) {
    const { profile: p, link, ...rest } = built;
    io.out(JSON.stringify({ path, seconds, estimatedSeconds: Math.round(estimate.total), profile: p, ...rest, link: { node: link.node, fits: link.fits, check: link.check?.points ?? [] } }));
    return EXIT_PROFILE.ok;
  }
  for (const l of resultLines(built)) io.out(l);
  io.out(`wrote ${path} in ${seconds.toFixed(0)} s: extends ${baseName}; measured ${built.measuredFields.join(", ")}`);
  io.out(`took ${seconds.toFixed(0)} s; estimated ~${Math.round(estimate.total)} s`);
  const local = path === resolve(defaultLocalPath());
  io.out(`use it: paraplan plan --model <preset|file> --profile ${local ? "local" : path}`);
  return EXIT_PROFILE.ok;
}

/** The command, start to end; resolves to the exit status. */
export async function profileCommand(argv: string[], io: Io, deps: ProfileDeps = {}): Promise<number> {
  try {
    const args = parseProfileArgs(argv);
    if (args.help) {
      io.out(PROFILE_USAGE);
      return EXIT_PROFILE.ok;
    }
    return await profile(args, io, deps);
  } catch (e) {
    // UserError → 2, PythonMissing → 4, ProfileFailed → 3 (src/errors.ts)
    const exit = exitFor(e);
    if (exit === null) throw e;
    io.err(`paraplan: ${printable(exit.message)}`);
    return exit.status;
  }
}

/** Adapter for the synchronous dispatcher in cli.ts (as runExecute): flags are checked at once,
 *  the measurement goes on asynchronously and sets process.exitCode. */
export function runProfile(argv: string[], io: Io): number {
  parseProfileArgs(argv);
  profileCommand(argv, io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      io.err(internalErrorLine(e));
      process.exitCode = INTERNAL_STATUS;
    },
  );
  return 0;
}
