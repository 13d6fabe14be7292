// Helpers of the profile tests: recorded nvidia-smi outputs as a Runner, temp dirs, captured io.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Runner } from "../../src/profile/detect.js";
import { tempDir } from "../tmp-dirs.js";

export const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
export const FIXTURES = join(ROOT, "test", "profile", "fixtures");
export const MACHINES = ["dgx-a100", "dgx-h100", "pcie-8gpu-2socket", "workstation-4gpu-nvlink"] as const;
export type Machine = (typeof MACHINES)[number];

export const fixture = (machine: string, file: string) => readFileSync(join(FIXTURES, machine, file), "utf8");

/** A Runner that answers nvidia-smi from a fixture directory (null for anything else). */
export function fixtureRunner(machine: string): Runner {
  return (cmd, args) => {
    if (cmd !== "nvidia-smi") return null;
    if (args.length === 0) return fixture(machine, "banner.txt");
    if (args[0]?.startsWith("--query-gpu")) return fixture(machine, "query.csv");
    if (args[0] === "topo") return fixture(machine, "topo.txt");
    if (args[0] === "nvlink") return fixture(machine, "nvlink.txt");
    return null;
  };
}

export const noSmi: Runner = () => null;

/** A temp directory, removed after the test file (test/tmp-dirs.ts). */
export const tmp = (prefix = "paraplan-profile-") => tempDir(prefix);

export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err, stdout: () => out.join("\n"), stderr: () => err.join("\n") };
}
