"""Float8 linear layers through torchao (an optional dependency), for `precision: "fp8"` on CUDA.

torchao.float8.convert_to_float8_training swaps the block linears for Float8Linear (dynamic
tensorwise scaling, the recipe torchtitan uses by default): matmuls in float8 e4m3 with fp32
scales, via torch._scaled_mm on Hopper (compute capability >= 8.9). Nothing here builds fp8
matmuls by hand. The embedding and the output head stay in bf16 (torchtitan keeps the output
head out of float8), and a linear is converted only if both of its dimensions are multiples of 16
(the fp8 GEMM's alignment).

On CPU `fp8` stays fp32 as before (PROTOCOL.md: fp8 is not emulated).
"""
from __future__ import annotations

import torch
import torch.nn as nn

MISSING = ("--precision fp8 needs torchao (pip install torchao; the optional dependency that "
           "provides Float8 linear layers), which is not importable here")


def fp8_unavailable(device: torch.device, tp: int) -> str | None:
    """Why float8 training cannot run here, or None."""
    if device.type != "cuda":
        return None  # not applied on CPU (fp32)
    try:
        import torchao.float8  # noqa: F401
    except ImportError:
        return MISSING
    major, minor = torch.cuda.get_device_capability(device)
    if (major, minor) < (8, 9):
        return f"--precision fp8 needs compute capability >= 8.9 (Hopper/Ada), this GPU has {major}.{minor}"
    if tp > 1:
        return "--precision fp8 with tensor parallel is not wired in the worker (torchao's Float8 TP styles); use tp 1"
    return None


def convertible(module: nn.Module, fqn: str) -> bool:
    """torchao's module_filter_fn: block linears whose dimensions are multiples of 16."""
    if not isinstance(module, nn.Linear) or not fqn.startswith("layers."):
        return False
    return module.in_features % 16 == 0 and module.out_features % 16 == 0


def convert_to_fp8(model: nn.Module) -> int:
    """Swap the block linears of `model` for Float8Linear; returns how many were converted."""
    from torchao.float8 import convert_to_float8_training

    convert_to_float8_training(model, module_filter_fn=convertible)
    return sum(1 for m in model.modules() if type(m).__name__ == "Float8Linear")
