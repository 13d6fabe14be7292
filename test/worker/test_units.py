"""In-process checks of the pieces that need no process group."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import LLAMA, make_spec
from executor.worker import data
from executor.worker.flops import FlopCounter
from executor.worker.model import build_meta_model, cross_entropy, materialize
from executor.worker.spec import parse_spec


def test_spec_round_trip_and_micro_batches():
    spec = parse_spec(make_spec(plan={"dp": 2}))
    assert spec.world == 2 and spec.micro_batches == 2
    assert spec.model.ffn_hidden == 256 and spec.model.kv_heads == 4 and spec.model.tied


@pytest.mark.parametrize("plan,message", [
    ({"dp": 3}, "multiple of dp"),
    ({"tp": 3}, "tp must divide heads"),
    ({"pp": 2, "microBatch": 8}, "m >= pp"),
    ({"zero": 4}, "zero"),
    # dimensions the worker does not run are refused, never run as 1
    ({"cp": 2, "cpComm": "a2a"}, "Ulysses all-to-all context parallel"),
    ({"ep": 2}, "mixture-of-experts"),
    ({"pp": 2, "stageLayers": [1, 1]}, "sum to the 4 layers"),
])
def test_spec_rejects_inconsistent_plans(plan, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(make_spec(plan=plan))


def test_data_depends_only_on_seed_and_step():
    x1, y1 = data.global_batch(7, 3, 8, 32, 256)
    x2, y2 = data.global_batch(7, 3, 8, 32, 256)
    assert torch.equal(x1, x2) and torch.equal(x1[:, 1:], y1[:, :-1])
    assert not torch.equal(x1, data.global_batch(7, 4, 8, 32, 256)[0])
    parts = [data.dp_slice(x1, y1, r, 4)[0] for r in range(4)]
    assert torch.equal(torch.cat(parts), x1)
    mbs = data.micro_batches(*data.dp_slice(x1, y1, 1, 2), 2)
    assert [tuple(a.shape) for a, _ in mbs] == [(2, 32), (2, 32)]


def _model(**model):
    spec = parse_spec(make_spec(model=model))
    return spec, materialize(build_meta_model(spec.model, 256, 32), torch.device("cpu"), 1)


def test_gpt_and_llama_shapes():
    spec, gpt = _model()
    assert gpt.output.weight is gpt.embed.tok.weight  # tied
    assert isinstance(gpt.norm, torch.nn.LayerNorm) and gpt.layers["0"].attention.wq.bias is not None
    spec, llama = _model(**LLAMA)
    assert llama.embed.pos is None and llama.output.weight is not llama.embed.tok.weight
    assert llama.layers["0"].attention.wk.weight.shape == (2 * 16, 64)  # GQA: kvHeads · d
    assert llama.layers["0"].feed_forward.w3 is not None
    x = torch.randint(0, 256, (2, 32))
    assert llama(x).shape == (2, 32, 256)


def test_initialisation_depends_on_names_only():
    _, a = _model()
    _, b = _model()
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and torch.equal(pa, pb)


def test_cpu_attention_flops_are_counted():
    q = torch.randn(2, 4, 32, 16, requires_grad=True)
    with FlopCounter() as fc:
        torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
    forward = 2 * (2 * 2 * 4 * 32 * 32 * 16)  # Q·Kᵀ and P·V, full square
    assert fc.get_total_flops() == 3 * forward


def test_loss_is_mean_next_token_cross_entropy():
    logits = torch.zeros(2, 3, 256)
    targets = torch.randint(0, 256, (2, 3))
    assert abs(float(cross_entropy(logits, targets)) - torch.log(torch.tensor(256.0)).item()) < 1e-5


def test_trace_names_collectives_from_gloo_ranges_and_nccl_kernels():
    from executor.worker.trace import collective_kind, merge

    assert collective_kind("gloo:all_reduce") == "all_reduce"
    assert collective_kind("gloo:recv") == "p2p" and collective_kind("gloo:send") == "p2p"
    assert collective_kind("ncclDevKernel_AllReduce_Sum_bf16_RING_LL") == "all_reduce"
    assert collective_kind("ncclDevKernel_AllGather_RING_LL") == "all_gather"
    assert collective_kind("ncclDevKernel_ReduceScatter_Sum_f32_RING_LL") == "reduce_scatter"
    assert collective_kind("ncclDevKernel_SendRecv") == "p2p"
    assert collective_kind("ncclKernel_Broadcast_RING_LL_Sum_int8_t") == "broadcast"
    assert collective_kind("ampere_bf16_s16816gemm_bf16_128x128") is None
    assert collective_kind("aten::all_reduce_helper") is None  # neither gloo nor NCCL
    assert merge([(3e-6, 5e-6), (0.0, 1e-6), (2e-6, 2.5e-6), (1.0, 2.0)]) == [[0.0, 5e-6], [1.0, 2.0]]


class _Kineto:
    """A kineto event as torch.profiler hands it over (the methods trace.py reads)."""

    def __init__(self, name, activity, start_us, dur_us, device="DeviceType.CUDA"):
        self._n, self._a, self._s, self._d, self._dev = name, activity, start_us, dur_us, device

    def name(self):
        return self._n

    def activity_type(self):
        return self._a

    def device_type(self):
        return self._dev

    def start_ns(self):
        return int(self._s * 1000)

    def duration_ns(self):
        return int(self._d * 1000)


def test_trace_reads_a_cuda_profile():
    """The CUDA branch on a hand-made profile: GPU projections of the spans replace their host
    ranges, NCCL kernels become collectives labelled in issue order, other kernels `busy`, and
    the barrier's all-reduce before the anchor is dropped."""
    from executor.worker.trace import StepTrace

    cpu = "DeviceType.CPU"
    t = StepTrace(torch.device("cuda", 0), stage=0, streams={})
    t.issued["all_reduce"].extend(["tp comm", "dp comm"])  # as log_collective records them
    t._collect([
        _Kineto("ncclDevKernel_AllReduce_Sum_f32_RING_LL", "kernel", 990, 5),  # the barrier
        _Kineto("paraplan:anchor", "user_annotation", 1000, 1, cpu),
        _Kineto("paraplan:forward:0:0", "user_annotation", 1001, 50, cpu),
        _Kineto("paraplan:forward:0:0", "gpu_user_annotation", 1010, 100),
        _Kineto("sm90_xmma_gemm_bf16", "kernel", 1010, 40),
        _Kineto("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", "kernel", 1050, 10),
        _Kineto("elementwise_kernel", "kernel", 1060, 50),
        _Kineto("paraplan:backward:0:0", "gpu_user_annotation", 1110, 200),
        _Kineto("sm90_xmma_gemm_bf16", "kernel", 1110, 200),
        _Kineto("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", "kernel", 1200, 150),
        _Kineto("Memcpy DtoD", "gpu_memcpy", 1300, 5),
    ])
    assert t.error is None
    us = lambda x: round(x * 1e6, 3)  # noqa: E731
    got = [(e["stream"], e["category"], us(e["start"]), us(e["duration"])) for e in t.events]
    assert got == [
        ("compute", "forward", 10, 100),
        ("tp comm", "all_reduce", 50, 10),
        ("compute", "backward", 110, 200),
        ("dp comm", "all_reduce", 200, 150),
    ]
    assert [[us(a), us(b)] for a, b in t.busy] == [[10, 50], [60, 310]]


def test_trace_puts_the_stages_of_one_host_on_its_clock():
    from executor.worker.trace import align

    ev = lambda start: {"stream": "compute", "start": start, "duration": 1.0}  # noqa: E731
    stages = align([
        {"stage": 0, "host": "a", "anchorNs": 5_000_000, "events": [ev(0.0)], "busy": [[0.0, 1.0]]},
        {"stage": 1, "host": "a", "anchorNs": 2_000_000, "events": [ev(0.5)]},  # first through
        {"stage": 2, "host": "b", "anchorNs": 9_000_000_000, "events": [ev(0.25)]},  # other clock
    ])
    assert [s["events"][0]["start"] for s in stages] == [0.003, 0.5, 0.25]
    assert stages[0]["busy"] == [[0.003, 1.003]] and all("anchorNs" not in s for s in stages)


def test_pipeline_step_drops_last_stage_outputs_where_torch_can():
    """The worker passes step(return_outputs=False) where the schedule takes it (torch >= 2.10,
    pytorch#165822), so its last stage does not keep every micro-batch's logits
    (profiles/engines/paraplan.json activations.keptOutputBytes 0); older torch keeps them."""
    import inspect

    from torch.distributed.pipelining import Schedule1F1B

    from executor.worker.train import _takes_return_outputs

    has = "return_outputs" in inspect.signature(Schedule1F1B.step).parameters

    class Stub:
        def __init__(self, step):
            self.step = step

    assert _takes_return_outputs(Stub(Schedule1F1B.step)) is has
    assert _takes_return_outputs(Stub(lambda *a, target=None, losses=None: None)) is False
    assert _takes_return_outputs(Stub(lambda *a, return_outputs=True, **k: None)) is True
    assert _takes_return_outputs(object()) is False


def test_error_event_names_a_lost_peer_as_such(capsys):
    """A collective broken by another rank's death is "peer-lost", not the cause (PROTOCOL.md)."""
    from executor.worker.metrics import emit_error

    def kind_of(exc):
        emit_error(0, exc)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        return json.loads(line.split(" ", 1)[1])["kind"]

    assert kind_of(RuntimeError("[gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:2748: Connection reset by peer")) == "peer-lost"
    assert kind_of(RuntimeError("NCCL communicator was aborted on rank 1")) == "peer-lost"
    assert kind_of(RuntimeError("shape mismatch")) == "exception"
    assert kind_of(ValueError("Connection reset by peer")) == "exception"
    # A CPU rank out of host memory was "an exception": said now as CUDA's, beside the prediction
    # (torch.empty(2**62, dtype=torch.uint8) on CPU raises exactly this RuntimeError)
    assert kind_of(RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
                                "memory: you tried to allocate 4611686018427387904 bytes. Error code 12 "
                                "(Cannot allocate memory)")) == "oom"
    try:
        torch.empty(2 ** 62, dtype=torch.uint8)
    except RuntimeError as e:
        assert kind_of(e) == "oom"
