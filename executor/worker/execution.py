"""How this run executes the plan, decided once per rank and reported (PROTOCOL.md `execution`):
compiled or eager (compile.py), Float8 linears (fp8.py), the AdamW kernel, the FSDP2
mixed-precision policy and the attention backend (fastpaths.py).

Order per model part, as torchtitan's parallelize: float8 conversion, tensor parallel,
activation checkpointing, compile, then data parallel (FSDP2 with the policy from here).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn

from . import compile as compiling
from .fastpaths import SdpaRecorder, adamw_implementation, fsdp_mixed_precision, probe_sdpa
from .fp8 import convert_to_fp8, fp8_unavailable


class Execution:
    def __init__(self, spec, device: torch.device):
        self.spec, self.device = spec, device
        e, p = spec.execution, spec.plan
        self.reason = compiling.eager_reason(spec) if e.compile else None
        self.compiled = e.compile and self.reason is None
        self.compiled_blocks = 0
        self.fp8 = spec.training.precision == "fp8" and device.type == "cuda"
        if self.fp8:
            why = fp8_unavailable(device, p.tp)
            if why is not None:
                raise RuntimeError(why)
        self.fp8_linears = 0
        mp = e.fsdp_mixed_precision if e.fsdp_mixed_precision is not None else device.type == "cuda"
        self.fsdp_mp = mp and p.dp > 1 and p.zero >= 2
        self.optimizer = "auto"
        self.sdpa: list[str] = []
        self.sdpa_source = "none"
        self.recorder: Optional[SdpaRecorder] = None

    # ------------------------------------------------------------ building
    def before_tp(self, part: nn.Module) -> None:
        if self.fp8:
            self.fp8_linears += convert_to_fp8(part)

    def compile_part(self, part: nn.Module) -> None:
        """torch.compile each block of `part` (after activation checkpointing, or before it
        where compiles_before_ac)."""
        if self.compiled and part.layers is not None and len(part.layers) > 0:
            self.compiled_blocks += compiling.compile_blocks(part)

    def compiles_before_ac(self) -> bool:
        """Full recompute beside tensor parallel: torch 2.13 cannot compile a checkpointed block
        whose attention (SDPA) runs between DTensor-parallel projections (AOTAutograd's
        save_from_forward: "expected all tensors_saved_with_vc_check to be Tensors", a DeviceMesh
        among them; measured on CPU ranks, the first step of every such run). Checkpointing the
        compiled block instead re-runs its compiled forward in backward: the same full recompute
        (the block's input kept, its forward run twice), so the blocks are compiled first there.
        (Per-op selective recompute cannot move outside a compiled block, whose ops its policy no
        longer sees: that pair is refused, spec.py.)"""
        p = self.spec.plan
        return self.compiled and p.tp > 1 and p.recompute == "full"

    def mp_policy(self):
        return fsdp_mixed_precision(self.fsdp_mp)

    def choose_optimizer(self, params: list) -> str:
        self.optimizer = adamw_implementation(self.spec.execution.optimizer, self.device.type, params)
        return self.optimizer

    # ------------------------------------------------------------ compiled memory window
    def before_step(self, step: int, timed: list[int]) -> None:
        """Compiled on CUDA: the peak is taken over the timed (compiled) steps only, since the
        warm-up (compilation, autotuning) and the instrumented step (eager) are not the steady
        state; their peak is kept apart (`peakMemoryOtherSteps`)."""
        if self.compiled and self.device.type == "cuda" and step == timed[0]:
            self.other_peak = int(torch.cuda.max_memory_allocated(self.device))
            torch.cuda.reset_peak_memory_stats(self.device)

    def after_step(self, step: int, timed: list[int]) -> None:
        if self.compiled and self.device.type == "cuda" and step == timed[-1]:
            torch.cuda.synchronize(self.device)
            self.timed_peak = int(torch.cuda.max_memory_allocated(self.device))

    other_peak: Optional[int] = None
    timed_peak: Optional[int] = None

    # ------------------------------------------------------------ attention backend
    def sdpa_recorder(self) -> SdpaRecorder:
        """Entered around the measured step: records the attention kernels dispatched."""
        self.recorder = SdpaRecorder()
        return self.recorder

    def settle_sdpa(self) -> None:
        """After the measured step: what the step dispatched, else (compiled regions do not go
        through dispatch modes) what the dispatcher picks for the run's attention shape."""
        if self.recorder is not None and self.recorder.seen:
            self.sdpa, self.sdpa_source = list(self.recorder.seen), "measured step"
            return
        m, p, t = self.spec.model, self.spec.plan, self.spec.training
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        shape = (p.micro_batch, m.heads // p.tp, t.seq_len // p.cp, m.head_dim)  # a cp rank's queries
        backend = probe_sdpa(shape, dtype, self.device)
        self.sdpa = [backend] if backend else []
        self.sdpa_source = f"probe {list(shape)} {str(dtype).replace('torch.', '')}"

    # ------------------------------------------------------------ reports
    @property
    def mode(self) -> str:
        return "compiled" if self.compiled else "eager"

    def start_info(self) -> dict:
        return {"mode": self.mode, "compiledBlocks": self.compiled_blocks,
                "compileRequested": self.spec.execution.compile, "eagerReason": self.reason,
                "optimizer": self.optimizer,
                "fsdpMixedPrecision": "param bf16, reduce fp32" if self.fsdp_mp else None,
                "float8Linears": self.fp8_linears if self.fp8 else None}

    def summary(self, step_times: list[float], warmup: list[int], mean_step: Optional[float]) -> dict:
        info = self.start_info()
        info.update(
            compileTime=compiling.warmup_excess(step_times, warmup, mean_step) if self.compiled else 0.0,
            compileTimeSource="warm-up step time beyond the timed mean" if self.compiled else "eager",
            dynamoCompileTime=compiling.dynamo_compile_seconds() if self.compiled else None,
            sdpaBackends=self.sdpa, sdpaSource=self.sdpa_source,
            peakMemoryOtherSteps=self.other_peak,
        )
        return info
