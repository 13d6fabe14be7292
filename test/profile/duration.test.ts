// The profiler's duration estimate (src/profile/duration.ts, src/profile/schedule.ts): a hand computation of a small case,
// the design property of the defaults (an 8-GPU DGX H100 in under 3 minutes), and the schedule
// checked against the Python profiler itself so that the mirror cannot drift.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Hardware } from "../../planner/types.js";
import { loadProfile } from "../../src/load.js";
import { type FixedCosts, estimateLine, estimateProfileSeconds, timeCallSeconds } from "../../src/profile/duration.js";
import { collectiveBytes, collectiveIterations, collectiveSchedule, groupSizes, singleSchedule } from "../../src/profile/schedule.js";
import { messageSizes } from "../../src/profile/measure.js";
import { ROOT } from "./helpers.js";

const ZERO: FixedCosts = { pythonStart: 0, exit: 0, deviceInit: 0, commInit: 0, job: 0, phaseSetup: 0, measurement: 0, callFloor: 0 };

/** A CPU-like node with round figures: α = 10 µs, B·efficiency = 1 GB/s. */
function node(): Hardware {
  const cpu = loadProfile("cpu");
  return { ...cpu, intra: { kind: "pcie", bandwidth: 2e9, latency: 10e-6, efficiency: 0.5 } };
}

describe("time_call's wall time", () => {
  it("warm-up, one sizing call, then repeats × iters calls, iters = clamp(⌈target / t⌉, 1, 200)", () => {
    expect(timeCallSeconds(1e-3, 0.01, 2)).toBeCloseTo((2 + 1 + 2 * 10) * 1e-3, 12);
    expect(timeCallSeconds(0.5, 0.01, 3)).toBeCloseTo((2 + 1 + 3 * 1) * 0.5, 12); // longer than the target: one call a batch
    expect(timeCallSeconds(1e-6, 0.01, 3)).toBeCloseTo((2 + 1 + 3 * 200) * 1e-6, 12); // capped at 200 calls
  });
});

describe("2 CPU ranks, --quick, by hand", () => {
  it("collectives: sizes 8 KB, 128 KB, 2 MB, 8 MB; one group of 2; one send/recv pair", () => {
    const α = 10e-6;
    const B = 1e9;
    const sizes = [8192, 131072, 2097152, 8388608];
    expect(messageSizes("cpu", true)).toEqual(sizes);
    // iterations: 64 MiB / size within [2, 10] on CPU --quick
    const iters = [10, 10, 10, 8];
    const allReduce = (M: number) => 2 * α + M / B; // 2(n−1)α + 2(n−1)/n·M/B at n = 2
    const gather = (M: number) => α + M / (2 * B); // (n−1)α + (n−1)/n·M/B at n = 2
    const roundTrip = (M: number) => 2 * (α + M / B);
    const lineUp = allReduce(4);
    const resultMax = allReduce(8);
    let expected = 0;
    for (const call of [allReduce, gather, gather])
      sizes.forEach((M, i) => {
        expected += (2 + iters[i]!) * call(M) + lineUp + resultMax;
      });
    sizes.forEach((M, i) => {
      expected += (2 + iters[i]!) * roundTrip(M);
    });
    expected += 4 * lineUp; // after each of the 3 ops and after the pair
    const e = estimateProfileSeconds(node(), { device: "cpu", ranks: 2, quick: true, costs: ZERO });
    expect(e.collectives).toBeCloseTo(expected, 12);
    expect(e.measurements).toBe(16);
    expect(e.startup).toBe(0);
  });

  it("single process: 46 fp32 GEMMs, a copy and 4 kernels, one attention shape; fixed costs added as stated", () => {
    const hw = node();
    const zero = estimateProfileSeconds(hw, { device: "cpu", ranks: 2, quick: true, costs: ZERO });
    // The quick CPU grid: tokens {32, 256} × hidden {64, 128, 512} × tp {1, 2} × 4 layer GEMMs = 48,
    // less one duplicate per token count: hidden 64's MLP up at tp 2 (t, 4·64/2, 64) = (t, 128, 64)
    // is hidden 128's projection at tp 2 (t, 128, 128/2): 46.
    expect(zero.jobs).toBe(46 + 5 + 1);
    // The copy alone, by hand: 2 × 64 MiB over 25.6 GB/s × 0.6, target 50 ms, 5 repeats (64 MiB:
    // already 2 × the 32 MiB cache assumed, memoryShapes).
    const copy = (2 * 64 * 2 ** 20) / (25.6e9 * 0.6);
    const copyJob = singleSchedule("cpu", true, false).find((j) => j.work.kind === "copy")!;
    expect(copyJob).toMatchObject({ target: 0.05, repeats: 5, label: `copy ${2 * 64 * 2 ** 20}` });
    expect(timeCallSeconds(copy, 0.05, 5)).toBeCloseTo((3 + 5 * Math.ceil(0.05 / copy)) * copy, 12);
    const costs = { ...ZERO, pythonStart: 5, exit: 2, commInit: 0.1, job: 0.01, phaseSetup: 1, measurement: 0.02 };
    const e = estimateProfileSeconds(hw, { device: "cpu", ranks: 2, quick: true, costs });
    expect(e.single).toBeCloseTo(zero.single + 52 * 0.01 + 2 * 1, 9); // 52 jobs, 2 phases
    expect(e.collectives).toBeCloseTo(zero.collectives + 16 * 0.02, 9);
    // single process: start + exit; torchrun's agent and the ranks start, one gloo context, exit
    expect(e.startupParts).toEqual({ single: 5 + 2, collectives: 5 + 5 + 0.1 + 2 });
    expect(e.total).toBeCloseTo(e.single + e.collectives + e.startup, 9);
  });

  it("--no-collectives and one rank leave the collectives out", () => {
    const hw = node();
    for (const e of [
      estimateProfileSeconds(hw, { device: "cpu", ranks: 2, quick: true, collectives: false }),
      estimateProfileSeconds(hw, { device: "cpu", ranks: 1, quick: true }),
    ]) {
      expect(e).toMatchObject({ collectives: 0, measurements: 0, ranks: 0 });
      expect(e.startupParts.collectives).toBe(0);
      expect(estimateLine(e, "cpu")).toMatch(/no collectives/);
    }
  });
});

describe("8-GPU nodes with the defaults", () => {
  it("DGX H100: under 3 minutes (the issue's requirement), computed from the schedule", () => {
    const hw = loadProfile("dgx-h100");
    const e = estimateProfileSeconds(hw, { device: "cuda", ranks: 8, quick: false });
    expect(e.total).toBeLessThan(180);
    expect(e.total).toBeGreaterThan(0);
    // 196 bf16 shapes + 3 × 32 fp16/tf32/fp8, 5 memory jobs, 2 attention shapes
    expect(e.jobs).toBe(196 + 3 * 32 + 5 + 2);
    // 3 ops × groups {2, 4, 8} × 10 sizes + 2 pairs × 10 sizes; NCCL: 3 groups + 2 send/recv pairs
    expect(e.measurements).toBe(3 * 3 * 10 + 2 * 10);
    expect(e.communicators).toBe(5);
    const quick = estimateProfileSeconds(hw, { device: "cuda", ranks: 8, quick: true });
    expect(quick.total).toBeLessThan(e.total);
    expect(estimateLine(e, "cuda")).toMatch(/^estimated: ~\d+ s \(single-GPU part [\d.]+ s, collectives [\d.]+ s over 8 ranks, start-up [\d.]+ s\)$/);
  });

  it("no fp8 peak (A100): no fp8 GEMMs", () => {
    expect(singleSchedule("cuda", false, false).some((j) => j.label.startsWith("fp8"))).toBe(false);
    expect(estimateProfileSeconds(loadProfile("dgx-a100-80g"), { device: "cuda", ranks: 8, quick: false }).jobs).toBe(196 + 2 * 32 + 5 + 2);
  });
});

// The mirror against the Python profiler: every time_call of the single process (recorded by
// replacing time_call, emit and the tensor factories, so nothing runs and no GPU is needed), the
// group sizes, iterations(), OPS and make_call's element count; two source checks for what
// collectives.run keeps inline (the send/recv pairs, the warm-up calls).
const python = process.env.PARAPLAN_PYTHON || join(ROOT, ".venv", "bin", "python");
const hasPython = existsSync(python);

const SCRIPT = String.raw`
import inspect, json, sys
sys.path.insert(0, sys.argv[1])
import torch
from executor.profiler import attention, collectives, common, matmul, memory

out = {}
sig = inspect.signature(common.time_call)
out["timeCall"] = {"warmup": sig.parameters["warmup"].default, "maxIters": sig.parameters["max_iters"].default}
pending, calls = [], []

def fake_time_call(fn, device, target_s, max_iters=200, repeats=3, warmup=2, samples=None):
    if samples is not None:
        samples.append(1.0)
    pending.append((target_s, repeats, max_iters, warmup))
    return 1.0

def fake_emit(event, **f):
    if event == "skipped":
        calls.append(["skipped " + f["label"]])
        return
    target, repeats, max_iters, warmup = pending.pop()
    if event == "matmul":
        label = f"{f['dtype']} {f['m']}x{f['n']}x{f['k']}"
    elif event == "copy":
        label = f"copy {f['bytes']}"
    elif event == "kernel":
        label = f"{f['name']} {f['bytes']}"
    else:
        label = f"attention b{f['batch']} a{f['heads']} s{f['seq']} d{f['headDim']}"
    calls.append([label, target, repeats, max_iters, warmup])

for mod in (matmul, memory, attention):
    mod.time_call, mod.emit = fake_time_call, fake_emit
matmul.gemm_fn = lambda *a, **k: None
small = torch.zeros
recorded = []
def factory(*a, **k):
    recorded.append(a[0] if len(a) == 1 else list(a))
    return small(1)
for name in ("randn", "empty", "ones", "zeros"):
    setattr(torch, name, factory)
torch.cuda.mem_get_info = lambda *a, **k: (1 << 40, 1 << 40)
memory.last_level_cache = lambda d: 32 << 20  # schedule.ts DEFAULT_CACHE

single = {}
for dev in ("cpu", "cuda"):
    for quick in (False, True):
        for fp8 in ((False, True) if dev == "cuda" else (False,)):
            matmul.fp8_supported = lambda d, fp8=fp8: fp8
            calls.clear()
            d = torch.device(dev)
            matmul.run(d, quick, False)
            memory.run(d, quick, False)
            attention.run(d, quick, False)
            single[f"{dev}/{int(quick)}/{int(fp8)}"] = list(calls)
out["single"] = single
out["groupSizes"] = {str(w): collectives.group_sizes(w) for w in range(1, 17)}
sizes = sorted({2**e for e in range(0, 32)} | {3, 1000, 12345, 10**6, 3 * 2**20, 10**9})
out["iterations"] = [[s, int(c), int(q), collectives.iterations(s, c, q)] for s in sizes for c in (False, True) for q in (False, True)]
out["ops"] = list(collectives.OPS)
elems = []
for n in (2, 3, 4, 8):
    for s in (4, 8192, 12345, 2**20 + 4):
        recorded.clear()
        collectives.make_call("all_reduce", s, n, None, torch.device("cpu"))
        elems.append([s, n, recorded[0]])
out["elems"] = elems
print(json.dumps(out))
`;

describe.skipIf(!hasPython)("the schedule is the Python profiler's", () => {
  const run = () => {
    const r = spawnSync(python, ["-c", SCRIPT, ROOT], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
  };

  it("single process, collectives' group sizes, iterations, ops and element counts", () => {
    const py = run();
    expect(py.timeCall).toEqual({ warmup: 2, maxIters: 200 });
    expect(Object.keys(py.single).sort()).toEqual(["cpu/0/0", "cpu/1/0", "cuda/0/0", "cuda/0/1", "cuda/1/0", "cuda/1/1"]);
    for (const [k, calls] of Object.entries(py.single as Record<string, unknown[][]>)) {
      const [dev, quick, fp8] = k.split("/") as ["cpu" | "cuda", string, string];
      const ts = singleSchedule(dev, quick === "1", fp8 === "1").map((j) => [j.label, j.target, j.repeats, 200, 2]);
      expect(ts, k).toEqual(calls);
    }
    for (const [w, sizes] of Object.entries(py.groupSizes as Record<string, number[]>)) expect(groupSizes(Number(w)), `world ${w}`).toEqual(sizes);
    for (const [size, cuda, quick, iters] of py.iterations as [number, number, number, number][])
      expect(collectiveIterations(size, cuda === 1, quick === 1), `${size} B cuda=${cuda} quick=${quick}`).toBe(iters);
    expect(py.ops).toEqual(["all_reduce", "all_gather", "reduce_scatter"]);
    for (const [size, n, elems] of py.elems as [number, number, number][]) expect(collectiveBytes(size, n), `${size} B over ${n}`).toBe(4 * elems);
    // and the schedule prices those bytes
    for (const m of collectiveSchedule("cuda", 8, false)) if (m.op !== "send_recv") expect(m.bytes).toBe(collectiveBytes(m.size, m.n));
  }, 120_000);

  it("send/recv pairs and warm-up calls, as collectives.py writes them", () => {
    const src = readFileSync(join(ROOT, "executor", "profiler", "collectives.py"), "utf8");
    // duration.ts sendRecvPairs and the "2 +" warm-up calls of timed() and ping_pong()
    expect(src).toContain("pairs = [(0, 1)] + ([(0, world - 1)] if world > 2 else [])");
    expect(src.match(/for _ in range\(2\):\n\s+(call|trip)\(\)/g)?.length).toBe(2);
  });
});
