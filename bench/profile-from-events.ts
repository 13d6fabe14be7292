// Builds a measured hardware profile from the profiler's recorded event lines
// (`python -m executor.profiler single --device cuda`, which needs only Python on the GPU machine), through
// the same buildProfile that `paraplan profile` uses. Single GPU: no interconnect is measured.
// Usage: node dist/bench/profile-from-events.js <dir with single.jsonl and device.txt> <base> <out.json> [YYYY-MM-DD recorded]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildProfile } from "../src/profile/build.js";
import type { Detected } from "../src/profile/detect.js";
import { collect, emptyMeasurements, parseProfileLine } from "../src/profile/events.js";
import { readProfile, writeProfile } from "../src/profile/files.js";
import { resultLines } from "../src/profile/report.js";

// The date the events were recorded on (the profile's measuredOn): the default recording's, else today.
const DEFAULT_DIR = "bench/results/profile-raw-h200";
const [dir = DEFAULT_DIR, baseName = "hgx-h200", out = "profiles/hardware/measured/h200.json", date = dir === DEFAULT_DIR ? "2026-11-27" : new Date().toISOString().slice(0, 10)] = process.argv.slice(2);
const [name = "unknown", memory = "0 MiB", driver = ""] = readFileSync(join(dir, "device.txt"), "utf8").split("\n")[0]!.split(",").map((s) => s.trim());
const m = emptyMeasurements();
for (const line of readFileSync(join(dir, "single.jsonl"), "utf8").split("\n")) {
  const ev = parseProfileLine(line);
  if (ev) collect(m, ev);
}
const detected: Detected = {
  device: "cuda",
  gpus: [{ index: 0, name, memory: Number.parseInt(memory, 10) * 2 ** 20, driver, pcieGen: null, pcieWidth: null }],
  driver,
  cuda: m.versions?.cuda ?? null,
  topology: null,
  summary: null,
  nvlink: [],
  notes: ["recorded on a GPU machine without Node: nvidia-smi name, memory and driver only"],
};
const base = readProfile(baseName);
const built = buildProfile({
  name: out.replace(/^.*\//, "").replace(/\.json$/, ""),
  host: "device",
  date,
  baseName,
  base: base.hw,
  device: "cuda",
  detected,
  m,
  quick: false,
  ranks: 1,
});
for (const l of resultLines(built)) console.log(l);
console.log(`wrote ${writeProfile(resolve(out), built.profile)}; measured ${built.measuredFields.join(", ")}`);
