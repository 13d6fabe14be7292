// bench/gpu-check.sh end to end without a GPU: a stand-in Python (fixtures/fake-cuda-python.sh)
// answers as an H200 with torch 2.11 and no torchao. The script must run the prepared specs in
// priority order, skip fp8 for the missing torchao, record an out-of-memory run as such, leave
// settings beyond the time budget unrun, and keep device.txt and status.tsv for the report (the
// report itself is tested in gpu-report.test.ts; the script's Node step is left off here).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDevice, readStatus, reportRows } from "../../bench/gpu-report-lib.js";
import { GPU_SETTINGS } from "../../bench/gpu-settings.js";
import { packageRoot } from "../../src/load.js";
import { tempDir } from "../tmp-dirs.js";

const ROOT = packageRoot();
const FAKE = join(ROOT, "test", "bench", "fixtures", "fake-cuda-python.sh");

function check(budget: number) {
  const dir = tempDir("gpu-check-");
  const raw = join(dir, "raw");
  const log = join(dir, "ran.txt");
  const r = spawnSync("bash", [join(ROOT, "bench", "gpu-check.sh")], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 110_000,
    env: { ...process.env, PARAPLAN_PYTHON: FAKE, GPU_CHECK_OUT: raw, GPU_CHECK_BUDGET: String(budget), GPU_CHECK_MIN_LEFT: "1", GPU_CHECK_REPORT: "0", FAKE_LOG: log, OUT: "" },
  });
  let ran: string[] = [];
  try {
    ran = readFileSync(log, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    ran = [];
  }
  return { r, raw, ran };
}

describe("bench/gpu-check.sh (stand-in Python)", () => {
  it("runs every setting in priority order, skipping fp8 without torchao and naming the OOM", { timeout: 120_000 }, () => {
    const { r, raw, ran } = check(10_000);
    expect(r.status, r.stderr).toBe(0);
    const expected = GPU_SETTINGS.filter((x) => x.precision !== "fp8").map((x) => x.name);
    expect(ran).toEqual(expected);
    const st = readStatus(raw);
    expect(st.get("g13-s2k-mb4-none")).toMatchObject({ status: "ok", exit: 0 });
    expect(st.get("g13-s2k-mb4-none-fp8")?.status).toBe("skipped: torchao not importable");
    expect(st.get("l3b-s2k-mb4-none")).toMatchObject({ status: "out of memory", exit: 1 });
    expect(readDevice(raw)).toMatchObject({ name: "NVIDIA H200", torch: "2.11.0+cu130", torchao: null });
    const fixed = () => ({ stepTime: 0.5, peakMemory: 4e10, mfu: 0.5, modelFlopsPerStep: 1e14, peak: 1e15 });
    const rows = reportRows(raw, GPU_SETTINGS, fixed);
    expect(rows.filter((x) => x.measured).length).toBe(GPU_SETTINGS.length - 2);
    expect(rows.find((x) => x.setting === "g13-s2k-mb4-none")!.measured!.compileTime).toBe(20);
    // measured against predicted, printed on the device without Node (bench/gpu_line.py)
    expect(r.stdout).toMatch(/^g13-s2k-mb4-none \(compiled\): step 0\.500 s vs \d\.\d{3} s \([+-]\d+\.\d%\); peak 37\.3 GiB vs \d+\.\d GiB \([+-]\d+\.\d%\); MFU \d+\.\d% vs \d+\.\d%; compile 20\.0 s \[hgx-h200\]$/m);
  });

  it("leaves the settings beyond the time budget unrun, and says so", { timeout: 120_000 }, () => {
    const { r, raw, ran } = check(0);
    expect(r.status, r.stderr).toBe(0);
    expect(ran).toEqual([]);
    const st = readStatus(raw);
    expect(st.get("g13-s2k-mb4-none")?.status).toBe("not run: time budget spent");
    expect(st.get("g13-s2k-mb4-none-fp8")?.status).toBe("skipped: torchao not importable");
    expect(st.size).toBe(GPU_SETTINGS.length);
  });
});
