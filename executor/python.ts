// The Python interpreter that runs torchrun and the worker: $PARAPLAN_PYTHON, else the project's
// .venv. Checked once before a run so that a missing interpreter or torch is one clear message.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PythonMissing } from "./errors.js";

export const SETUP_HINT =
  "run `npm run setup` (that is, `bash executor/setup-venv.sh`, which creates .venv with torch), or set PARAPLAN_PYTHON to a python that has torch";

/** The interpreter paraplan will use (not checked). */
export function pythonPath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PARAPLAN_PYTHON;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  return join(root, ".venv", "bin", "python");
}

export interface PythonInfo {
  python: string;
  torch: string;
  cudaDevices: number;
}

/** Finds torch without importing it (seconds saved on every run); imports it only to count CUDA
 *  devices. Exit 3: torch is not installed. */
const PROBE = `
import importlib.util, importlib.metadata, json, sys
if importlib.util.find_spec("torch") is None:
    sys.exit(3)
version, cuda = importlib.metadata.version("torch"), 0
if sys.argv[1] == "cuda":
    import torch
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
print(json.dumps([version, cuda]))
`;

/** How long the probe may take: importing torch from a cold or network file system is slow. */
export const PROBE_TIMEOUT_MS = 120_000;

interface Probe {
  status: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: NodeJS.ErrnoException;
  timedOut?: boolean;
}

/** Run the probe in a process group of its own, so that a timeout or a stop signal ends what it
 *  started too: PARAPLAN_PYTHON may be a wrapper script whose python outlived it (QA: a hung
 *  wrapper's child was left running, orphaned, after spawnSync's timeout killed the wrapper). */
function runProbe(python: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    // A stop signal while the probe runs: end the group, then the signal's own default.
    const onSignal = (sig: NodeJS.Signals) => {
      killGroup();
      done();
      process.kill(process.pid, sig);
    };
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const sig of signals) process.on(sig, onSignal);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      for (const sig of signals) process.off(sig, onSignal);
    };
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", (error: NodeJS.ErrnoException) => {
      done();
      resolve({ status: null, stdout, stderr, error });
    });
    child.on("close", (status, signal) => {
      done();
      killGroup(); // anything the interpreter left behind
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

/** Check that `python` runs and has torch; throws PythonMissing with the fix otherwise. */
export async function checkPython(python: string, env: NodeJS.ProcessEnv = process.env, countCuda = false, timeoutMs = PROBE_TIMEOUT_MS): Promise<PythonInfo> {
  const where = env.PARAPLAN_PYTHON ? `PARAPLAN_PYTHON=${python}` : python;
  if (python.includes("/") && !existsSync(python))
    throw new PythonMissing(`no Python interpreter at ${where}; ${SETUP_HINT}`);
  const probe = await runProbe(python, ["-c", PROBE, countCuda ? "cuda" : "cpu"], env, timeoutMs);
  if (probe.error) {
    const code = probe.error.code;
    const why = code === "ENOENT" ? "not found" : code === "EACCES" ? "not executable" : probe.error.message;
    throw new PythonMissing(`cannot run the Python interpreter ${where} (${why}); ${SETUP_HINT}`);
  }
  if (probe.timedOut)
    throw new PythonMissing(`${where} did not answer within ${timeoutMs / 1000} s whether torch is installed (stopped it); ${SETUP_HINT}`);
  if (probe.status === 3) throw new PythonMissing(`torch is not installed for ${where}; ${SETUP_HINT}`);
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split("\n").pop() || (probe.status === null ? `killed by ${probe.signal ?? "a signal"}` : `exit status ${probe.status}`);
    throw new PythonMissing(`${where} cannot load torch (${last}); ${SETUP_HINT}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(probe.stdout.trim().split("\n").pop() ?? "");
  } catch {
    throw new PythonMissing(`${where} printed no torch version; ${SETUP_HINT}`);
  }
  const [torch, cuda] = Array.isArray(parsed) ? parsed : [];
  return { python, torch: String(torch), cudaDevices: typeof cuda === "number" ? cuda : 0 };
}
