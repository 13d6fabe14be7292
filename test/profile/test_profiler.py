"""pytest suite of the Python profiler (executor/profiler): shapes, group sizes, iteration counts,
timing, and one quick CPU pass of the single-process part.

    .venv/bin/python -m pytest test/profile/test_profiler.py -q
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from executor.profiler import collectives, matmul, memory  # noqa: E402
from executor.profiler.common import PREFIX, spread, time_call  # noqa: E402


def test_layer_gemms_are_the_planners():
    # planner/cost/flops.ts layerGemms for MHA with a 4h MLP: QKV, proj, MLP up, MLP down
    assert matmul.layer_gemms(2048, 4096, 2) == [(2048, 6144, 4096), (2048, 4096, 2048), (2048, 8192, 4096), (2048, 4096, 8192)]


def test_grids_are_deduplicated_and_sorted_by_flops():
    shapes = matmul.grid_shapes(matmul.GRIDS[("cuda", False)])
    flops = [2 * m * n * k for m, n, k in shapes]
    assert len(set(shapes)) == len(shapes) and flops == sorted(flops)
    assert min(flops) < 1e9 < 1e13 < max(flops)
    assert all(m in (2048, 4096, 8192, 16384) for m, _, _ in shapes)
    assert all(n % 16 == 0 and k % 16 == 0 for _, n, k in shapes)  # fp8 (cuBLASLt) needs multiples of 16


def test_cpu_plan_is_fp32_only():
    jobs = matmul.plan(torch.device("cpu"), quick=True)
    assert {d for d, _ in jobs} == {"fp32"}
    assert not matmul.fp8_supported(torch.device("cpu"))


def test_cpu_grids_reach_the_tiny_models_gemms():
    # profiles/models/tiny.json: hidden 64, seqLen 32. At micro-batch 1 (32 tokens), tp 1 its
    # smallest layer GEMM is the projection 2·32·64·64 = 262,144 FLOPs; the quick and full CPU
    # grids must reach it, or the planner prices it below the table's first point.
    tiny_smallest = min(2 * m * n * k for m, n, k in matmul.layer_gemms(32, 64, 1))
    assert tiny_smallest == 262_144
    for quick in (True, False):
        flops = [2 * m * n * k for m, n, k in matmul.grid_shapes(matmul.GRIDS[("cpu", quick)])]
        assert min(flops) <= tiny_smallest
        # tp 2 at hidden 64: projection (32, 64, 32) = 2·32·64·32 = 131,072 FLOPs, the smallest.
        assert min(flops) == 131_072


def test_cpu_gemm_is_timed_as_the_worker_calls_it():
    # An nn.Linear call on a (1, m, k) activation, its weight a parameter: the output is the
    # (m×k)·(k×n) product and carries an autograd node, as the worker's forward does.
    fn = matmul.gemm_fn("fp32", 8, 5, 3, torch.device("cpu"))
    out = fn()
    assert out.shape == (1, 8, 5) and out.grad_fn is not None
    held = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__)))
    assert isinstance(held["layer"], torch.nn.Linear) and held["layer"].bias is None
    torch.testing.assert_close(out, held["x"] @ held["layer"].weight.t())


def test_group_sizes_and_iterations():
    assert collectives.group_sizes(8) == [2, 4, 8]
    assert collectives.group_sizes(6) == [2, 4, 6]
    assert collectives.group_sizes(1) == []
    assert collectives.iterations(8192, cuda=True, quick=False) == 50
    assert collectives.iterations(2**30, cuda=True, quick=False) == 5
    assert collectives.iterations(2**23, cuda=False, quick=True) == 8


def test_memory_kernels_count_planner_bytes():
    ks = {name: nbytes for name, nbytes, _ in memory.kernels(torch.device("cpu"), 64, 32, 2, 16)}
    assert ks == {"layer_norm": 4 * 64 * 32, "gelu": 16 * 64 * 32, "softmax": 4 * 2 * 16 * 16, "residual_add": 6 * 64 * 32}


def test_memory_shapes_exceed_the_last_level_cache():
    # cpu quick SHAPES: copy 64 MiB, tokens 2048 × hidden 256, softmax 4 × 512². With a 32 MiB
    # cache each must hold 2 × 32 MiB = 64 MiB in fp32: tokens 64 MiB / (256 × 4 B) = 65,536;
    # softmax batch·heads 64 MiB / (512² × 4 B) = 64; the copy already holds 64 MiB.
    assert memory.shapes(torch.device("cpu"), True, 32 << 20) == (64 << 20, 65536, 256, 64, 512)
    # A 1 MiB cache leaves the table's sizes as they are (each above 2 MiB already).
    assert memory.shapes(torch.device("cpu"), True, 1 << 20) == memory.SHAPES[("cpu", True)]
    # The residual add's smallest operand, x: 65,536 × 256 × 4 B = 64 MiB = 2 × the cache.
    _, tokens, hidden, _, _ = memory.shapes(torch.device("cpu"), False, 32 << 20)
    assert tokens * hidden * 4 >= 2 * (32 << 20)


def test_cpu_kernels_compute_what_the_functional_forms_do():
    # The CPU kernels write into kept outputs (no page faults per call); the results are those of
    # F.layer_norm, F.gelu, torch.softmax and torch.add on the same inputs.
    import torch.nn.functional as F

    torch.manual_seed(0)
    ks = {name: fn for name, _, fn in memory.kernels(torch.device("cpu"), 64, 32, 2, 16)}
    a, b = ks["layer_norm"]()[0].clone(), ks["gelu"]().clone()
    assert a.shape == (64, 32) and b.shape == (64, 128)
    assert torch.allclose(a.mean(-1), torch.zeros(64), atol=1e-5)  # normalised rows, weight 1 bias 0
    sm = ks["softmax"]()
    assert torch.allclose(sm.sum(-1), torch.ones(2, 16), atol=1e-5)
    assert ks["residual_add"]().shape == (64, 32)
    held = {n: c.cell_contents for n, c in zip(ks["gelu"].__code__.co_freevars, ks["gelu"].__closure__)}
    assert torch.allclose(b, F.gelu(held["wide"]))


def test_last_level_cache_is_read():
    cache = memory.last_level_cache(torch.device("cpu"))
    assert cache >= 1 << 20  # every x86-64 or arm64 server has at least 1 MiB of last-level cache


def test_repeats_and_spread():
    samples = []
    time_call(lambda: None, torch.device("cpu"), target_s=0.001, repeats=4, warmup=1, samples=samples)
    assert len(samples) == 4 and all(s > 0 for s in samples)
    # (max − min) / median: (1.3 − 0.9) / 1.0 = 0.4 for [0.9, 1.0, 1.0, 1.3]; median 1.0
    assert abs(spread([0.9, 1.0, 1.0, 1.3]) - 0.4) < 1e-12
    assert spread([2.0, 2.0, 2.0]) == 0.0


def test_time_call_measures_a_sleep():
    import time

    t = time_call(lambda: time.sleep(0.002), torch.device("cpu"), target_s=0.005, repeats=2, warmup=1)
    assert 0.0015 < t < 0.05


def test_single_quick_cpu_pass_emits_events():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "executor.profiler", "single", "--device", "cpu", "--quick", "--threads", "1", "--skip", "matmul"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    events = [json.loads(line[len(PREFIX):]) for line in r.stdout.splitlines() if line.startswith(PREFIX)]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "versions" and kinds[-1] == "done"
    assert kinds.count("kernel") == 4 and kinds.count("copy") == 1 and kinds.count("attention") == 1
    assert all(e["seconds"] > 0 for e in events if "seconds" in e)
    # Memory timings carry their repeats (memory.REPEATS) and spread; attention its own repeats.
    for e in events:
        if e["event"] in ("copy", "kernel"):
            assert len(e["repeats"]) == memory.REPEATS and e["spread"] >= 0
        if e["event"] == "attention":
            assert len(e["repeats"]) == 2 and e["spread"] >= 0


def test_cuda_without_a_gpu_is_one_error_line():
    if torch.cuda.is_available():
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "executor.profiler", "single", "--device", "cuda"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    err = [json.loads(l[len(PREFIX):]) for l in r.stderr.splitlines() if l.startswith(PREFIX)]
    assert err and "no CUDA device" in err[0]["message"]
