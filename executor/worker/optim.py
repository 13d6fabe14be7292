"""AdamW, with ZeRO-1 (ZeroRedundancyOptimizer) where the plan asks for it.

  zero 0, 2, 3: torch.optim.AdamW over the parameters the rank holds (with FSDP2 these are the
                dp shards, so stages 2 and 3 shard the optimizer states for free);
  zero 1:       ZeroRedundancyOptimizer(AdamW) over the dp group: each dp rank keeps the Adam
                states of 1/dp of the parameters, steps them and broadcasts them to the others.

Tensor parallel without FSDP mixes DTensor and plain parameters, which the default (foreach)
AdamW rejects ("mixed torch.Tensor and DTensor"): foreach=False there. ZeroRedundancyOptimizer
cannot broadcast DTensors, so with tp > 1 it runs over aliases of the local shards (plain tensors
sharing their storage); their .grad is pointed at the local gradient shard before each step.
AdamW is element-wise, so stepping shards is the same update as stepping whole tensors.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .fastpaths import adamw_kwargs
from .parallel import DTensor, local

BETAS = (0.9, 0.95)
WEIGHT_DECAY = 0.1


class Optimizer:
    def __init__(self, params: list[nn.Parameter], lr: float, zero: int, dp: int, tp: int,
                 dp_group, implementation: str | None = None):
        self.params = params
        self.aliases: list[tuple[nn.Parameter, torch.Tensor]] = []
        kw = dict(lr=lr, betas=BETAS, weight_decay=WEIGHT_DECAY)
        if implementation is not None:  # fastpaths.adamw_implementation: fused / foreach / forloop
            kw.update(adamw_kwargs(implementation))
        elif tp > 1:
            kw["foreach"] = False
        if zero == 1 and dp > 1:
            targets: list[torch.Tensor] = list(params)
            if any(isinstance(p, DTensor) for p in params):
                targets = []
                for p in params:
                    alias = local(p).detach().requires_grad_(True)  # shares the shard's storage
                    self.aliases.append((p, alias))
                    targets.append(alias)
            # imported here: torch.distributed.optim costs ~1 s of start-up on a small CPU
            from torch.distributed.optim import ZeroRedundancyOptimizer
            self.inner = ZeroRedundancyOptimizer(
                targets, optimizer_class=torch.optim.AdamW, process_group=dp_group, **kw)
        else:
            self.inner = torch.optim.AdamW(params, **kw)

    @property
    def states_holder(self) -> torch.optim.Optimizer:
        """The optimizer whose .state holds this rank's Adam moments (for memory tracking)."""
        return getattr(self.inner, "optim", self.inner)

    def step(self) -> None:
        for p, alias in self.aliases:
            alias.grad = local(p.grad) if p.grad is not None else None
        self.inner.step()

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None
        for _, alias in self.aliases:
            alias.grad = None
