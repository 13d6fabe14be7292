// Writes the calibration's fit on all 277 rows back into the profiles: each engine figure into
// profiles/engines/<engine>.json, each hardware multiplier into the matmul tables of its family's
// profiles, with a source line naming the rows that informed it and its prior. Run after a change
// to the cost model: `npm run build && node dist/bench/calibration/write-back.js`; then
// `npm run bench` prints the committed profiles' predictions as the in-sample column.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/load.js";
import { evaluateCalibration } from "./evaluate.js";
import { familyOf, keysOf } from "./params.js";
import { FLOORS, PRIORS, priorOf } from "./priors.js";
import { profileJson } from "./write-back-format.js";
import { profileCache } from "./predict.js";
import { loadCalibrationRows, runOf } from "./rows.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FIELD: Record<string, string> = { fp8: "fp8Efficiency", attention: "attentionEfficiency", matmul: "matmulEfficiency" };
const read = (p: string): Json => JSON.parse(readFileSync(p, "utf8"));
const write = (p: string, j: Json) => writeFileSync(p, profileJson(j));

export function writeBack(): void {
  const rows = loadCalibrationRows();
  const profile = profileCache();
  const rep = evaluateCalibration(rows, { profile, folds: false });
  const root = packageRoot();
  const informed = (key: string) => {
    const users = rows.filter((r) => keysOf(r.profile, profile(r.profile), r.engine, runOf(r)).includes(key));
    const bySource = new Map<string, number>();
    for (const r of users) bySource.set(r.source, (bySource.get(r.source) ?? 0) + 1);
    return [...bySource].map(([s, n]) => `${s} (${n})`).join(", ");
  };
  // (a figure the fit left at its kernel floor, priors.ts FLOORS, says so)
  const atFloor = (key: string) => {
    const f = FLOORS[key];
    return f !== undefined && Math.abs((rep.fit.params[key] ?? Infinity) - f.value) < 1e-3 ? ` at its floor ${f.value} (${f.source});` : ",";
  };
  const note = (key: string, prior: string) => `fitted on calibration rows ${informed(key)} (bench/calibration, npm run bench)${atFloor(key)} prior ${prior}`;
  for (const [key, v] of Object.entries(rep.fit.params)) {
    if (key.startsWith("hw/")) {
      const [, fam, what] = key.split("/") as [string, string, string];
      for (const name of ["dgx-a100-40g", "dgx-a100-80g", "dgx-h100", "h100-96g-500w"].filter((n) => familyOf(n) === fam)) {
        const path = join(root, "profiles", "hardware", `${name}.json`);
        const j = read(path);
        // A part that takes the figure from a calibrated one ({ "sameAs": … }: the 40 GB A100,
        // the 500 W H100) follows it through the reference; only the referenced file is written.
        if (j.gpu[FIELD[what] ?? ""]?.sameAs !== undefined) continue;
        if (what === "fp8") {
          if (j.gpu.peak?.fp8 === null) continue;
          j.gpu.fp8Efficiency = { value: Number(v.toFixed(3)), source: note(key, `${PRIORS[key]?.value}: ${PRIORS[key]?.source}`) };
          write(path, j);
          continue;
        }
        if (what === "attention") {
          // The source of the figure before any fit, once (earlier write-backs' notes dropped).
          const original = String(j.gpu.attentionEfficiency?.source ?? "").replace(/^(fitted on calibration rows .*? \(bench\/calibration, npm run bench\)(?:,| at its floor [^;]*;) prior [^:]*: )+/, "");
          j.gpu.attentionEfficiency = { value: Number(v.toFixed(3)), source: note(key, `${PRIORS[key]?.value}: ${original}`) };
          write(path, j);
          continue;
        }
        const mm = j.gpu.matmulEfficiency;
        mm.points = mm.points.map(([x, y]: [number, number]) => [x, Math.min(1, Number((y * v).toFixed(4)))]);
        const base = String(mm.source).replace(/ \[Re-fitted .*\]$/, "");
        mm.source = `${base} [Re-fitted ×${v.toFixed(4)} with the engine profiles: ${note(key, "the table before this fit")}]`;
        write(path, j);
      }
      continue;
    }
    const [engine, what, gen] = key.split("/") as [string, string, string | undefined];
    const path = join(root, "profiles", "engines", `${engine}.json`);
    const j = read(path);
    const prior = `${what === "launch" ? `${(priorOf(key) * 1e6).toFixed(1)} us` : priorOf(key)}: ${PRIORS[key]?.source ?? "the profile's figure"}`;
    const fig = (value: unknown) => ({ value, source: note(key, prior) });
    if (what === "attention") {
      j.attention ??= {};
      j.attention.efficiency ??= {};
      j.attention.efficiency[gen!] = fig(Number(v.toFixed(3)));
    } else if (what === "tp-overlap") {
      j.tensorParallel ??= {};
      j.tensorParallel.commOverlap = fig(Number(v.toFixed(3)));
    } else if (what === "matmul") {
      j.gemmEfficiency = fig(Number(v.toFixed(3)));
    } else if (what === "zero3-bandwidth") {
      j.dataParallel.zero3BandwidthShare = fig(Number(v.toFixed(3)));
    } else if (what === "launch") {
      j.launch ??= {};
      j.launch.perKernel = fig(`${(v * 1e6).toFixed(2)} us`);
    } else j.overlapSlowdown = fig(Number(v.toFixed(3)));
    write(path, j);
  }
  console.log(Object.entries(rep.fit.params).map(([k, v]) => `${k} ${v} (prior ${priorOf(k)})`).join("\n"));
}

writeBack();
