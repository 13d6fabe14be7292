"""Hardware FLOPs of one step, counted by torch.utils.flop_counter.FlopCounterMode.

Two adjustments to the stock counter:

1. The CPU attention kernel (aten._scaled_dot_product_flash_attention_for_cpu and its backward)
   has no registered formula, so attention would count 0 on CPU. We register the planner's
   convention (planner/cost/flops.ts, Narayanan et al. 2021 §5.1), which is also what torch's
   GPU formulas count: forward = Q·Kᵀ + P·V = 2·(2·b·n·s_q·s_k·d) over the full s×s square
   (no causal halving); backward = 2 × forward.
2. A TorchDispatchMode runs before tensor subclasses, so the stock counter would count a DTensor
   matmul at its *global* shape on every tensor-parallel rank (t× too many). Like CommDebugMode,
   our mode returns NotImplemented for DTensor ops: DTensor desugars them into local ops, which
   come back to the mode and are counted at their local (per-rank) shapes. Ops on meta/fake
   tensors (DTensor's shape propagation, pipeline shape inference) are not counted.

3. Context parallel's chunked attention (context.py span_attention) calls SDPA on each chunk's
   rectangle (its c queries against the keys up to its end), where the convention counts the
   rank's queries against all s keys; span_attention reports the difference
   (add_convention_flops, under "attention beyond the causal chunks": forward once per forward
   run, recomputed ones included, and 2 × in its backward), so cp runs count what runs without
   cp count.

Module attribution is switched off (only the total is reported; see _GlobalOnly).
Summing the per-rank counts over all ranks then gives the FLOPs the whole job executed for one
global batch, including recomputation (checkpointed forwards re-run inside backward).
"""
from __future__ import annotations

import torch
from torch._subclasses.fake_tensor import FakeTensor
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

try:  # torch >= 2.4 public path
    from torch.distributed.tensor import DTensor
except ImportError:  # pragma: no cover - older torch
    from torch.distributed._tensor import DTensor

try:
    from torch.utils._python_dispatch import TorchDispatchMode
except ImportError:  # pragma: no cover
    TorchDispatchMode = object  # type: ignore[assignment,misc]

aten = torch.ops.aten


def sdpa_forward_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """q (b, n, s_q, d), k (b, n, s_k, d), v (b, n, s_k, d_v): 2·b·n·s_q·s_k·(d + d_v)."""
    b, n, s_q, d = query_shape
    s_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * b * n * s_q * s_k * d + 2 * b * n * s_q * s_k * d_v


def sdpa_backward_flops(grad_out_shape, query_shape, key_shape, value_shape, *args,
                        out_shape=None, **kwargs) -> int:
    """dQ, dK, dV and dP: four matmuls of the forward's size, i.e. 2 × forward."""
    return 2 * sdpa_forward_flops(query_shape, key_shape, value_shape)


def _cpu_sdpa_mapping() -> dict:
    mapping = {}
    fwd = getattr(aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    bwd = getattr(aten, "_scaled_dot_product_flash_attention_for_cpu_backward", None)
    if fwd is not None:
        mapping[fwd] = sdpa_forward_flops
    if bwd is not None:
        mapping[bwd] = sdpa_backward_flops
    return mapping


def _has_dtensor(types) -> bool:
    return any(isinstance(t, type) and issubclass(t, DTensor) for t in types)


def _is_shape_only(args, kwargs) -> bool:
    """Ops on meta or fake tensors: DTensor's sharding propagation runs ops on them to infer
    output shapes; they are not executed FLOPs."""
    for a in tree_flatten((args, kwargs))[0]:
        if isinstance(a, torch.Tensor) and (a.device.type == "meta" or isinstance(a, FakeTensor)):
            return True
    return False


class _LocalOnly:
    """Mixin for a dispatch mode: let DTensor desugar to local ops first; skip shape-only ops."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if _has_dtensor(types):
            return NotImplemented
        if _is_shape_only(args, kwargs or {}):
            return func(*args, **(kwargs or {}))
        return super().__torch_dispatch__(func, types, args, kwargs)


_local_classes: dict[type, type] = {}


class _GlobalOnly:
    """Stands in for FlopCounterMode's ModuleTracker: everything is counted under "Global".
    The tracker's hooks (multi-grad hooks on module inputs) break the autograd.grad() call of
    the pipeline stages' first-step shape inference, and per-module totals are not reported."""

    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None


_ACTIVE: list = []  # the FlopCounter counting now, innermost last


def add_convention_flops(n: int) -> None:
    """Count n FLOPs the convention includes and no kernel call shows (adjustment 3 above)."""
    if _ACTIVE and n > 0:
        _ACTIVE[-1].flop_counts["Global"]["attention beyond the causal chunks"] += n


class FlopCounter(FlopCounterMode):
    """FlopCounterMode with the CPU attention formula and per-rank (local) DTensor counting."""

    def __init__(self):
        super().__init__(display=False, custom_mapping=_cpu_sdpa_mapping())
        self.mod_tracker = _GlobalOnly()

    def __enter__(self):
        out = super().__enter__()
        _ACTIVE.append(self)
        # torch >= 2.5 keeps the dispatch mode in self.mode (a _FlopCounterMode); older versions
        # are the mode themselves (handled by __torch_dispatch__ below).
        inner = getattr(self, "mode", None)
        if isinstance(inner, TorchDispatchMode) and not isinstance(inner, _LocalOnly):
            cls = type(inner)
            if cls not in _local_classes:
                _local_classes[cls] = type("Local" + cls.__name__, (_LocalOnly, cls), {})
            inner.__class__ = _local_classes[cls]
        return out

    def __exit__(self, *args):
        if _ACTIVE and _ACTIVE[-1] is self:
            _ACTIVE.pop()
        return super().__exit__(*args)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # pragma: no cover - old torch
        if _has_dtensor(types):
            return NotImplemented
        if _is_shape_only(args, kwargs or {}):
            return func(*args, **(kwargs or {}))
        return super().__torch_dispatch__(func, types, args, kwargs)  # type: ignore[misc]
