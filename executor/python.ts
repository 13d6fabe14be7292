// The Python interpreter that runs torchrun and the worker: $PARAPLAN_PYTHON, else the project's
// .venv. Checked once before a run so that a missing interpreter or torch is one clear message.
import { spawnSync } from "node:child_process";
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

/** Check that `python` runs and has torch; throws PythonMissing with the fix otherwise. */
export function checkPython(python: string, env: NodeJS.ProcessEnv = process.env, countCuda = false): PythonInfo {
  const where = env.PARAPLAN_PYTHON ? `PARAPLAN_PYTHON=${python}` : python;
  if (python.includes("/") && !existsSync(python))
    throw new PythonMissing(`no Python interpreter at ${where}; ${SETUP_HINT}`);
  const probe = spawnSync(python, ["-c", PROBE, countCuda ? "cuda" : "cpu"], { encoding: "utf8", env, timeout: 120_000 });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "not found" : code === "EACCES" ? "not executable" : probe.error.message;
    throw new PythonMissing(`cannot run the Python interpreter ${where} (${why}); ${SETUP_HINT}`);
  }
  if (probe.status === 3) throw new PythonMissing(`torch is not installed for ${where}; ${SETUP_HINT}`);
  if (probe.status !== 0) {
    const last = (probe.stderr ?? "").trim().split("\n").pop() || `exit status ${probe.status}`;
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
