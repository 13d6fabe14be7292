"""One line of the GPU check on the device itself (no Node there): a setting's measured step time,
peak memory and MFU (the worker's summary event) against the planner's prediction, which
bench/gpu-specs.ts computed beforehand into bench/results/gpu-check-specs/predictions.json.

    python bench/gpu_line.py NAME RAW_DIR PREDICTIONS_JSON DEVICE_NAME
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PREFIX = "PARAPLAN_EVENT "


def summary(out: Path):
    if not out.exists():
        return None
    for line in reversed(out.read_text(errors="replace").splitlines()):
        at = line.find(PREFIX)
        if at < 0:
            continue
        try:
            event = json.loads(line[at + len(PREFIX):])
        except ValueError:
            continue
        if event.get("event") == "summary":
            return event.get("measured")
    return None


def profile_for(device: str) -> str:
    return "hgx-h200" if "H200" in device else "dgx-h100" if "H100" in device else "dgx-a100-80g"


def line(name: str, raw: Path, predictions: dict, device: str) -> str:
    profile = profile_for(device)
    p = predictions.get(profile, {}).get(name)
    m = summary(raw / f"{name}.out")
    if m is None or p is None:
        return f"{name}: no measurement" if p is not None else f"{name}: no prediction for {profile}"
    step, peak = m["stepTime"], m.get("peakMemory")
    mfu = p["modelFlopsPerStep"] / (step * p["peak"])
    mode = (m.get("execution") or {}).get("mode", "?")
    compile_time = m.get("compileTime")
    peak_text = "—" if peak is None else (f"{peak / 2**30:.1f} GiB vs {p['peakMemory'] / 2**30:.1f} GiB "
                                          f"({100 * (peak - p['peakMemory']) / p['peakMemory']:+.1f}%)")
    return (f"{name} ({mode}): step {step:.3f} s vs {p['stepTime']:.3f} s "
            f"({100 * (step - p['stepTime']) / p['stepTime']:+.1f}%); peak {peak_text}; "
            f"MFU {100 * mfu:.1f}% vs {100 * p['mfu']:.1f}%"
            + (f"; compile {compile_time:.1f} s" if mode == "compiled" and compile_time else "")
            + f" [{profile}]")


if __name__ == "__main__":
    name, raw, preds, device = sys.argv[1:5]
    print(line(name, Path(raw), json.loads(Path(preds).read_text()), device))
