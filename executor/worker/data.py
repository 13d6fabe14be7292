"""Synthetic next-token data: step k's global batch depends only on (seed, k).

tokens ~ U[0, vocab) of shape (B, s + 1) from a CPU torch.Generator seeded by (seed, k); inputs
are tokens[:, :-1] and targets tokens[:, 1:] (next-token prediction). Data-parallel rank r takes
rows [r·B/dp, (r+1)·B/dp), and within them micro-batch i is rows [i·b, (i+1)·b). The global batch
is therefore the same tensor whatever the layout, which is what makes losses comparable.
"""
from __future__ import annotations

import torch


def global_batch(seed: int, step: int, batch: int, seq_len: int, vocab: int):
    """(inputs, targets), each (B, s) int64 on CPU."""
    g = torch.Generator(device="cpu")
    g.manual_seed((seed * 1_000_003 + step * 7919) % 2**63)
    tokens = torch.randint(0, vocab, (batch, seq_len + 1), generator=g, dtype=torch.long)
    return tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()


def dp_slice(inputs: torch.Tensor, targets: torch.Tensor, dp_rank: int, dp: int):
    """This dp rank's B/dp rows."""
    n = inputs.size(0) // dp
    rows = slice(dp_rank * n, (dp_rank + 1) * n)
    return inputs[rows], targets[rows]


def local_batch(seed: int, step: int, batch: int, seq_len: int, vocab: int, dp_rank: int, dp: int,
                device: torch.device):
    """This dp rank's (inputs, targets), (B/dp, s) each, on `device`."""
    x, y = dp_slice(*global_batch(seed, step, batch, seq_len, vocab), dp_rank, dp)
    return x.to(device), y.to(device)


def micro_batches(x: torch.Tensor, y: torch.Tensor, m: int):
    """Split (B/dp, s) into m micro-batches of b = B/(dp·m) rows, in order."""
    return list(zip(x.chunk(m), y.chunk(m)))
