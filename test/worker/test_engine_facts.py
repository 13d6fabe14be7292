"""bench/gpu_engine_facts.py, the GPU measurement of the paraplan engines' launch and activation
facts, on CPU with tiny shapes (--quick): it runs its eager measurements end to end and writes
their figures; on CPU the kernel counts are top-level CPU ops."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_each_measurement(tmp_path: Path) -> None:
    only = "kernels/gpt/eager,kernels/llama/eager,host/gpt/eager,step/gpt/eager"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_engine_facts.py"), "--quick", "--out", str(tmp_path),
                        "--only", only, "--file", "f.json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    facts = json.loads((tmp_path / "f.json").read_text())
    assert facts["quick"] is True and facts["device"] == "cpu"
    res = facts["results"]
    assert sorted(res) == sorted(only.split(","))
    for style in ("gpt", "llama"):
        k = res[f"kernels/{style}/eager"]
        assert "error" not in k
        # more layers, more ops, forward and backward: per layer = the difference over 2 layers
        assert k["forward"] == (k["raw"]["4"]["forward"] - k["raw"]["2"]["forward"]) / 2 > 0
        assert k["backward"] > 0
    host = res["host/gpt/eager"]
    assert host["perKernelSeconds"] > 0 and host["wall"]["6"] > host["wall"]["2"]
    step = res["step/gpt/eager"]
    # the same tokens a step: micro-batch 1 runs 4 micro-batches, 4 runs one
    assert [step[b]["microBatches"] for b in ("1", "2", "4")] == [4, 2, 1]
    assert step["1"]["kernels"] > step["4"]["kernels"]
