"""Context parallel (executor/worker/context.py, issue 14): the all-gather-K/V variant trains the
same function as one process — the first 5 losses and gradient norms within 1e-4 relative — and
what the worker cannot run is refused with the reason.

The shard indices and the causal mask are checked against hand-written tables for s = 8, cp = 2.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from conftest import LLAMA, ROOT, _free_port, make_spec, ok
import torch.nn.functional as F

from executor.worker.context import causal_mask, causal_spans, shard_positions, span_attention
from executor.worker.spec import parse_spec
from test_layouts import assert_close, reference

GPT_LAYOUTS = {
    "cp2": {"cp": 2},  # zigzag, the default; DDP over the 2 cp ranks
    "cp2-dp2": {"cp": 2, "dp": 2},  # DDP over the 4 dp·cp ranks
    # FSDP2 over the flattened dp·cp mesh; full recompute re-runs the K/V gather in backward
    "cp2-contiguous-zero3": {"cp": 2, "cpSplit": "contiguous", "zero": 3, "recompute": "full"},
    # static shard shapes: the pipeline stages infer them; per-op SAC around the gather
    "cp2-pp2": {"cp": 2, "pp": 2, "recompute": "selective"},
}
# Llama style: rotary positions must follow the shard's global positions, GQA kv heads (2 of 4)
# are gathered before the repeat, and tensor parallel splits the heads inside each cp rank
LLAMA_LAYOUTS = {
    "llama-cp2-tp2": {"cp": 2, "tp": 2},
}


def with_cp(plan: dict) -> dict:
    """cpComm / cpSplit as the launcher writes them (planOnly: always, with cp > 1)."""
    return {"cpComm": "allgather", "cpSplit": "zigzag", **plan}


def check(runs, name: str, plan: dict, llama: bool) -> None:
    ref = reference(runs, llama)
    run = ok(runs(name, make_spec(plan=with_cp(plan), model=LLAMA if llama else None)))
    assert_close(run.losses, ref.losses, f"{name} loss")
    assert_close([e["gradNorm"] for e in run.of("step")],
                 [e["gradNorm"] for e in ref.of("step")], f"{name} gradient norm")
    start = run.of("start")[0]
    assert start["mesh"]["cp"] == 2 and start["world"] == 2 * plan.get("dp", 1) * plan.get("tp", 1) * plan.get("pp", 1)


@pytest.mark.parametrize("name", list(GPT_LAYOUTS))
def test_gpt_cp_matches_single_process(runs, name):
    check(runs, name, GPT_LAYOUTS[name], llama=False)


@pytest.mark.parametrize("name", list(LLAMA_LAYOUTS))
def test_llama_cp_matches_single_process(runs, name):
    check(runs, name, LLAMA_LAYOUTS[name], llama=True)


def test_cp_runs_eager_with_the_reason(runs):
    from executor.worker.compile import eager_reason

    spec = make_spec(plan=with_cp({"cp": 2}))
    spec["execution"] = {"compile": True}
    assert "cp blocks run eager" in eager_reason(parse_spec(spec))
    start = ok(runs("cp2", make_spec(plan=with_cp(GPT_LAYOUTS["cp2"])))).of("start")[0]
    assert start["dataParallel"] == "ddp"  # gradients averaged over the 2 cp ranks
    zero3 = make_spec(plan=with_cp(GPT_LAYOUTS["cp2-contiguous-zero3"]))
    assert ok(runs("cp2-contiguous-zero3", zero3)).of("start")[0]["dataParallel"].startswith("fsdp2")


def test_zigzag_and_contiguous_shards_by_hand():
    # s = 8, cp = 2. zigzag: 4 chunks of 2 tokens; rank 0 holds chunks 0 and 3, rank 1 chunks 1, 2
    assert shard_positions(8, 0, 2, "zigzag").tolist() == [0, 1, 6, 7]
    assert shard_positions(8, 1, 2, "zigzag").tolist() == [2, 3, 4, 5]
    assert shard_positions(8, 1, 2, "contiguous").tolist() == [4, 5, 6, 7]
    # cp = 4, s = 16: rank 1 holds chunks 1 and 6 of 8
    assert shard_positions(16, 1, 4, "zigzag").tolist() == [2, 3, 12, 13]


def test_causal_mask_of_a_zigzag_shard_by_hand():
    mask = causal_mask(shard_positions(8, 0, 2, "zigzag"), 8).int().tolist()
    assert mask == [  # queries at positions 0, 1, 6, 7 against keys 0..7
        [1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ]
    # the rows of both shards, put back in sequence order, are the square causal mask
    rows = torch.cat([causal_mask(shard_positions(8, r, 2, "zigzag"), 8) for r in (0, 1)])
    order = torch.argsort(torch.cat([shard_positions(8, r, 2, "zigzag") for r in (0, 1)]))
    assert torch.equal(rows[order], torch.ones(8, 8, dtype=torch.bool).tril())


def test_causal_spans_by_hand():
    # s = 16, cp = 2, zigzag: 4 chunks of 4; rank 1 holds chunks 1 and 2 (they touch: still two),
    # its rows 0-3 see keys 0..7, rows 4-7 keys 0..11; contiguous rank 1: chunk 1 of 2, keys 0..15
    spans = [(a, e, bias.seq_len_q, bias.seq_len_kv) for a, e, bias in causal_spans(16, 1, 2, "zigzag")]
    assert spans == [(0, 4, 4, 8), (4, 8, 4, 12)]
    spans = [(a, e, bias.seq_len_q, bias.seq_len_kv) for a, e, bias in causal_spans(16, 1, 2, "contiguous")]
    assert spans == [(0, 8, 8, 16)]


@pytest.mark.parametrize("split", ["zigzag", "contiguous"])
@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_span_attention_matches_the_dense_mask(split, rank):
    """Every rank of cp 4 over 32 tokens, 4 query heads on 2 K/V heads, fp64: the chunked
    lower-right attention (no repeat of K/V) against SDPA with the dense (s/cp × s) boolean mask
    on K/V repeated to the query heads; outputs and the gradients of q, k and v."""
    torch.manual_seed(rank)
    s, cp, b, n, g, d = 32, 4, 2, 4, 2, 8
    pos = shard_positions(s, rank, cp, split)
    q = torch.randn(b, n, s // cp, d, dtype=torch.float64, requires_grad=True)
    k = torch.randn(b, g, s, d, dtype=torch.float64, requires_grad=True)
    v = torch.randn(b, g, s, d, dtype=torch.float64, requires_grad=True)
    out = span_attention(q, k, v, causal_spans(s, rank, cp, split))
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1),
                                         attn_mask=causal_mask(pos, s))
    grad = torch.randn_like(out)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(torch.autograd.grad(out, (q, k, v), grad), torch.autograd.grad(ref, (q, k, v), grad)):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("split", ["zigzag", "contiguous"])
def test_span_attention_counts_the_flop_convention(split):
    """The FLOP counter (flops.py) counts the chunks' rectangles plus what the convention adds:
    forward and backward of the rank's 32 queries against all 64 keys, as the dense mask did:
    3 · 2·b·n·32·64·(16 + 16) = 3 · 2·2·4·32·64·32 = 3,145,728."""
    from executor.worker.flops import FlopCounter

    s, cp, b, n, d = 64, 2, 2, 4, 16
    for rank in range(cp):
        q = torch.randn(b, n, s // cp, d, requires_grad=True)
        k = torch.randn(b, n, s, d, requires_grad=True)
        v = torch.randn(b, n, s, d, requires_grad=True)
        spans = causal_spans(s, rank, cp, split)  # (a CausalBias cannot be made under the mode)
        with FlopCounter() as counter:
            span_attention(q, k, v, spans).sum().backward()
        assert counter.get_total_flops() == 3_145_728


def test_span_attention_keeps_the_gathered_kv_and_no_dense_mask():
    """What one layer's attention saves for backward on CPU (torch 2.13), fp32, b 2, 4 heads of
    16, s 4,096, cp 2, zig-zag rank 1 (chunks 1 and 2 of 1,024 tokens), by hand:
      gathered K and V, the chunks' keys being views of them: 2 · 2·4·4,096·16·4   =  4,194,304
      q (the chunks' rows are views of it):                      2·4·2,048·16·4   =  1,048,576
      each chunk's output and fp32 log-sum-exp: 2 · (2·4·1,024·16·4 + 2·4·1,024·4) =  1,114,112
      torch's CPU fallback materialises each chunk's lower-right mask in fp32:
        1,024 × 2,048 · 4 + 1,024 × 3,072 · 4                                     = 20,971,520
    where the dense mask it replaces was 2,048 × 4,096 · 4 = 33,554,432 bytes alone."""
    s, cp, b, n, d = 4096, 2, 2, 4, 16
    q = torch.randn(b, n, s // cp, d, requires_grad=True)
    k = torch.randn(b, n, s, d, requires_grad=True)
    v = torch.randn(b, n, s, d, requires_grad=True)
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        span_attention(q, k, v, causal_spans(s, 1, cp, "zigzag"))
    assert sorted(storages.values()) == sorted(
        [4096 * 2 * 4 * 16 * 4] * 2 + [2 * 4 * 2048 * 16 * 4] + [2 * 4 * 1024 * 16 * 4, 2 * 4 * 1024 * 4] * 2
        + [1024 * 2048 * 4, 1024 * 3072 * 4])
    assert sum(storages.values()) == 4_194_304 + 1_048_576 + 1_114_112 + 20_971_520


@pytest.mark.parametrize("plan,device,message", [
    ({"cp": 2, "cpComm": "a2a"}, "cpu", "Ulysses all-to-all"),
    ({"cp": 2, "cpComm": "ring"}, "cpu", "runs on CUDA only"),
    ({"cp": 2, "cpSplit": "zigzag"}, "cpu", None),
    ({"cp": 3, "cpSplit": "zigzag"}, "cpu", "6 equal chunks"),  # 32 tokens
    ({"cp": 2, "tp": 2, "sequenceParallel": True}, "cpu", None),
])
def test_cp_refusals(plan, device, message):
    spec = make_spec(plan=with_cp(plan))
    spec["device"] = device
    if message is None:
        assert parse_spec(spec).world == 2 * plan.get("tp", 1)
    else:
        with pytest.raises(ValueError, match=message):
            parse_spec(spec)


def test_cp_with_moe_is_refused():
    moe = {"experts": 4, "topK": 2, "expertFfnHidden": 64}
    with pytest.raises(ValueError, match="mixture-of-experts"):
        parse_spec(make_spec(plan=with_cp({"cp": 2}), model={"moe": moe}))


RING_PROBE = '''
import sys, torch, torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from executor.worker.context import ContextParallel, ring_step
dist.init_process_group("gloo")
mesh = init_device_mesh("cpu", (2,), mesh_dim_names=("cp",))
ctx = ContextParallel(2, dist.get_rank(), "zigzag", "ring", mesh["cp"].get_group(), 16,
                      torch.device("cpu"), mesh["cp"])
q = torch.randn(1, 2, 8, 4)
try:
    with ring_step(ctx):
        ctx.attend(q, q, q)
    print("RING RAN")
except NotImplementedError as e:
    print("RING REFUSED", str(e).split(chr(10))[0])
dist.destroy_process_group()
'''


def test_ring_on_cpu_still_raises_in_torch(tmp_path):
    """Why spec.py refuses ring on CPU, checked against the installed torch: inside ring_step the
    local SDPA reaches torch's context-parallel dispatch, which has no strategy for the CPU op.
    (If a torch release adds one, this fails: lift the refusal then.)"""
    script = tmp_path / "ring_probe.py"
    script.write_text(RING_PROBE)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--rdzv-backend", "c10d",
         "--rdzv-endpoint", f"127.0.0.1:{_free_port()}", str(script)],
        cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("RING REFUSED") == 2, proc.stdout + proc.stderr[-3000:]
    assert "_scaled_dot_product_flash_attention_for_cpu" in proc.stdout
