"""CUDA checks of the worker, for a machine with one GPU (not collected by pytest).

    python test/worker/gpu_check.py [OUT_DIR]

Runs single-process CUDA (nccl, bf16 autocast) trainings: tiny, a GPT-3 125M-shaped model with
and without full recompute, a small Llama-style model, and one deliberately out-of-memory run
(must fail with an error event of kind "oom"). Prints one line per run with loss, step time,
tokens/s, peak memory, FLOPs and the MFU they imply at the GPU's dense bf16 peak.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import launch, make_spec  # noqa: E402

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def gpt(layers, hidden, heads, vocab, vocab_padded, seq, **extra):
    return dict(name=f"gpt-{layers}x{hidden}", layers=layers, hidden=hidden, heads=heads,
                kvHeads=extra.pop("kvHeads", heads), ffnHidden=extra.pop("ffnHidden", 4 * hidden),
                vocab=vocab, seqLen=seq, **extra)


def spec(model: dict, plan: dict, batch: int, steps: int = 6) -> dict:
    s = make_spec(plan=plan, training={"globalBatch": batch, "steps": steps})
    s["model"] = {**s["model"], **model}
    s["training"].update(seqLen=model["seqLen"], vocabPadded=model.pop("vocabPadded", model["vocab"]))
    s["model"].pop("vocabPadded", None)
    s["device"] = "cuda"
    return s


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gpu-check")
    out.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(0)
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    print(f"device {name}, torch {torch.__version__}, bf16 peak {peak}")
    g125 = gpt(12, 768, 12, 50257, 50304, 2048, vocabPadded=50304)
    llama = gpt(8, 1024, 16, 32000, 32000, 2048, kvHeads=4, ffnHidden=2816, mlp="swiglu",
                positional="rope", tiedEmbeddings=False, vocabPadded=32000)
    runs = {
        "tiny": make_spec(training={"steps": 5}) | {"device": "cuda"},
        "gpt125m": spec(dict(g125), {"microBatch": 4}, 16),
        "gpt125m-full": spec(dict(g125), {"microBatch": 4, "recompute": "full"}, 16),
        "llama-small": spec(dict(llama), {"microBatch": 4, "recompute": "selective"}, 16),
        "oom": spec(dict(g125), {"microBatch": 1024}, 1024, steps=2),
    }
    failures = 0
    for key, s in runs.items():
        run = launch(s, out, key)
        (out / f"{key}.log").write_text(run.stdout + "\n--- stderr ---\n" + run.stderr[-20000:])
        if key == "oom":
            kinds = [e.get("kind") for e in run.errors]
            ok = run.returncode != 0 and "oom" in kinds
            print(f"{key}: rc={run.returncode} error kinds={kinds} -> {'OK' if ok else 'FAIL'}")
            failures += not ok
            continue
        if run.returncode != 0 or not run.of("summary"):
            print(f"{key}: FAILED rc={run.returncode}\n{run.stderr[-3000:]}")
            failures += 1
            continue
        m = run.summary
        mfu = m["flopsPerStep"] / (m["stepTime"] * peak) if peak else None
        print(f"{key}: loss {[round(x, 4) for x in m['loss']]} stepTime {m['stepTime']:.4f}s "
              f"tok/s {m['tokensPerSecond']:.0f} peak {m['peakMemory'] / 2**30:.2f} GiB "
              f"({m['peakMemorySource']}) flops/step {m['flopsPerStep']:.4g} "
              f"hw-MFU {mfu and round(mfu, 3)}")
        print("   summary " + json.dumps(m)[:400])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
