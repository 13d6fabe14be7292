"""The fast paths PyTorch already has, chosen per run and reported (PROTOCOL.md `execution`).

  AdamW implementation: "fused" (one kernel for all parameters, torch.optim.AdamW(fused=True)) on
      CUDA, "foreach" (multi-tensor) on CPU, "forloop" where the parameters mix DTensor and plain
      tensors (tensor parallel without FSDP: foreach and fused reject the mix).
  SDPA backend: checked, not assumed: a dispatch mode records which fused attention kernel
      the dispatcher actually ran (flash / cuDNN / efficient, or flash-cpu on CPU) in the
      measured step; where it saw none (math backend, compiled regions) the dispatcher's own
      choice for the run's shape is asked (probe_sdpa).
  FSDP2 mixed precision: MixedPrecisionPolicy(param_dtype=bf16, reduce_dtype=fp32) (bf16
      parameters in forward/backward, gradients reduce-scattered in fp32; torchtitan's default).
  Per-op selective activation checkpointing (torch.utils.checkpoint with
      create_selective_checkpoint_contexts): the outputs of matmuls (and of collectives, which
      must not be re-issued) are saved, everything else in the block (norms, element-wise,
      the attention core softmax(QKᵀ)V) is recomputed in backward — Korthikanti et al. 2022
      §5's selective recompute expressed per operator, as torchtitan's op-level SAC does.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

try:
    from torch.distributed.tensor import DTensor
except ImportError:  # pragma: no cover - torch < 2.4
    from torch.distributed._tensor import DTensor

aten = torch.ops.aten

# ---------------------------------------------------------------- AdamW

OPTIMIZER_CHOICES = ("auto", "fused", "foreach", "forloop")


def adamw_implementation(requested: str, device_type: str, params: list) -> str:
    """Which AdamW kernel to use: the request, or (auto) the fastest the device and the
    parameters allow. CPU gets foreach: its fused kernel exists (torch >= 2.4) but foreach is
    the multi-tensor path every torch >= 2.5 has on every backend."""
    kinds = {isinstance(p, DTensor) for p in params}
    mixed = len(kinds) > 1
    if requested != "auto":
        if mixed and requested in ("fused", "foreach"):
            return "forloop"  # the kernels reject "mixed torch.Tensor and DTensor"
        return requested
    if mixed:
        return "forloop"
    return "fused" if device_type == "cuda" else "foreach"


def adamw_kwargs(implementation: str) -> dict:
    if implementation == "fused":
        return {"fused": True}
    if implementation == "foreach":
        return {"foreach": True}
    return {"foreach": False}


# ---------------------------------------------------------------- SDPA backend

def _sdpa_ops() -> dict:
    """aten attention kernel → backend name (those this torch has)."""
    names = {
        "_scaled_dot_product_flash_attention": "flash",
        "_scaled_dot_product_flash_attention_for_cpu": "flash-cpu",
        "_scaled_dot_product_efficient_attention": "efficient",
        # context.py's lower-right causal chunks reach it directly (torch/nn/attention/bias.py)
        "_efficient_attention_forward": "efficient",
        "_scaled_dot_product_cudnn_attention": "cudnn",
        "_scaled_dot_product_attention_math": "math",
        "_scaled_dot_product_fused_attention_overrideable": "overrideable",
    }
    return {getattr(aten, k): v for k, v in names.items() if hasattr(aten, k)}


class SdpaRecorder(TorchDispatchMode):
    """Records the attention kernels dispatched (forward ops only: backward kernels follow)."""

    def __init__(self):
        super().__init__()
        self.ops = _sdpa_ops()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        backend = self.ops.get(func.overloadpacket)
        if backend is not None and backend not in self.seen:
            self.seen.append(backend)
        return func(*args, **(kwargs or {}))


_CHOICES = {0: "math", 1: "flash", 2: "efficient", 3: "cudnn", 4: "overrideable"}


def probe_sdpa(q_shape: tuple, dtype: torch.dtype, device: torch.device) -> Optional[str]:
    """The backend the dispatcher picks for causal attention of this shape (b, heads, s, d) and
    dtype, asked of the dispatcher's own selection (torch._fused_sdp_choice, which honours
    sdpa_kernel and the backends' enable flags). For runs whose measured step dispatched no fused
    kernel: the math backend decomposes into matmuls and softmax before dispatch modes see it,
    and compiled regions bypass them."""
    q = torch.zeros(q_shape, dtype=dtype, device=device)
    choose = getattr(torch, "_fused_sdp_choice", None)
    if choose is not None:
        name = _CHOICES.get(int(choose(q, q, q, None, 0.0, True)))
        if name == "flash" and device.type == "cpu":
            return "flash-cpu"
        return name
    rec = SdpaRecorder()  # pragma: no cover - torch without _fused_sdp_choice
    with torch.no_grad(), rec:
        torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    return rec.seen[0] if rec.seen else "math"


# ---------------------------------------------------------------- FSDP2 mixed precision

def fsdp_mixed_precision(enabled: bool):
    """The FSDP2 policy (bf16 parameters, fp32 gradient reduction), or None."""
    if not enabled:
        return None
    try:
        from torch.distributed.fsdp import MixedPrecisionPolicy
    except ImportError:  # pragma: no cover - torch 2.5
        from torch.distributed._composable.fsdp import MixedPrecisionPolicy
    return MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)


# ---------------------------------------------------------------- per-op SAC

def _saved_ops() -> set:
    """Matmuls (the expensive outputs) and collectives (never re-issued in backward)."""
    ops = {aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default}
    if hasattr(aten, "_scaled_mm"):
        ops.add(aten._scaled_mm.default)  # Float8 linears (torchao)
    c10d = getattr(torch.ops, "_c10d_functional", None)
    for name in ("reduce_scatter_tensor", "all_reduce", "all_gather_into_tensor"):
        packet = getattr(c10d, name, None) if c10d is not None else None
        if packet is not None:
            ops.add(packet.default)
    return ops


def sac_available() -> bool:
    try:
        from torch.utils.checkpoint import CheckpointPolicy, create_selective_checkpoint_contexts  # noqa: F401
    except ImportError:  # pragma: no cover - torch < 2.4
        return False
    return True


def sac_context_fn():
    """context_fn for torch.utils.checkpoint: save matmul and collective outputs, recompute the
    rest."""
    from torch.utils.checkpoint import CheckpointPolicy, create_selective_checkpoint_contexts

    saved = _saved_ops()

    def policy(ctx, op, *args, **kwargs):
        return CheckpointPolicy.MUST_SAVE if op in saved else CheckpointPolicy.PREFER_RECOMPUTE

    return create_selective_checkpoint_contexts(policy)


def apply_selective_ac(model: nn.Module) -> None:
    """Wrap every block of `model.layers` in per-op selective checkpointing."""
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

    for name, block in list(model.layers.named_children()):
        model.layers.register_module(
            name, checkpoint_wrapper(block, context_fn=sac_context_fn, preserve_rng_state=False))
