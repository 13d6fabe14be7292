"""Mixture-of-experts feed-forward with expert parallelism (the planner's MoeSpec, planner/types.ts).

A MoE layer replaces the block's MLP (Shazeer et al. 2017; Fedus et al. 2021 "Switch
Transformers"; Mixtral: Jiang et al. 2024 §2.1; DeepSeek-V3 report §2.1.2):

  scores = router(x)                     (T, E)   T = b·s tokens, E routed experts
  p      = softmax(scores) | sigmoid(scores)
  w, e   = top-k of p, renormalised to sum 1 per token (Mixtral; DeepSeek-V3's norm_topk_prob)
  y      = Σ_j w_j · expert_{e_j}(x)  +  shared(x)

Every token goes to exactly k experts: no capacity factor, nothing dropped, so every layout
computes the same function as one process (the router's top-k is deterministic).

Expert parallel (ep > 1): rank r of an ep group holds experts [r·E/ep, (r+1)·E/ep). A token's k
copies are sorted by expert, sent to the experts' ranks with an autograd-aware all_to_all_single
(dispatch), run through the local experts, and sent back the same way (combine); the backward
runs the two all-to-alls in reverse (torch.distributed.nn.functional.all_to_all_single).
The ep group folds over the data-parallel ranks (Megatron-Core MoE parallel folding, ep inner-
most of dp: dp rank d is ep rank d % ep of expert-data-parallel group d // ep).

Gradients (train.py): the router and every dense parameter are averaged over dp as before;
an expert's gradient already sums the tokens of its whole ep group (the combine's backward
brings them), so it is summed over its edp replicas and divided by dp — the gradient of the
global mean loss.

Shapes: h hidden, f expert FFN width, E experts, El = E/ep local experts, k top-k.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

try:  # autograd-aware collectives (gloo and nccl); the functional API warns it is deprecated
    from torch.distributed.nn.functional import all_to_all_single as a2a_autograd
except ImportError:  # pragma: no cover - very old torch
    a2a_autograd = None

EXPERT_PARAM = "experts."  # name fragment of every expert parameter (train.py, model.init_weights)


def is_moe_layer(moe: dict, i: int) -> bool:
    """planner/types.ts MoeSpec: layer i (0-based) is MoE when i >= denseLayers and
    (i + 1) % layerFreq == 0."""
    return i >= int(moe.get("denseLayers", 0)) and (i + 1) % int(moe.get("layerFreq", 1)) == 0


def activation(mlp: str, gate: torch.Tensor, up: Optional[torch.Tensor]) -> torch.Tensor:
    """The block's MLP non-linearity (model.FeedForward): SwiGLU, GeGLU or GELU."""
    if mlp == "swiglu":
        return F.silu(gate) * up
    if mlp == "geglu":
        return F.gelu(gate, approximate="tanh") * up
    return F.gelu(gate)


class GroupedExperts(nn.Module):
    """El experts' weights as three batched tensors: w1 (El, f, h) gate, w3 (El, f, h) up (gated
    MLPs only), w2 (El, h, f) down — each expert an MLP h → f → h."""

    def __init__(self, local: int, hidden: int, ffn: int, gated: bool, mlp: str, offset: int, total: int):
        super().__init__()
        self.mlp, self.offset, self.total = mlp, offset, total
        self.w1 = nn.Parameter(torch.empty(local, ffn, hidden))
        self.w2 = nn.Parameter(torch.empty(local, hidden, ffn))
        self.w3 = nn.Parameter(torch.empty(local, ffn, hidden)) if gated else None

    def run(self, x: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
        """x (N, h) rows for local experts `expert` (N,), 0-based local ids → (N, h)."""
        out = torch.zeros_like(x)
        for e in range(self.w1.size(0)):
            rows = (expert == e).nonzero(as_tuple=True)[0]
            if rows.numel() == 0:
                continue
            xe = x.index_select(0, rows)  # (n_e, h)
            up = xe @ self.w3[e].t() if self.w3 is not None else None
            y = activation(self.mlp, xe @ self.w1[e].t(), up) @ self.w2[e].t()  # (n_e, h)
            out = out.index_copy(0, rows, y)
        return out


class MoEFeedForward(nn.Module):
    """The MoE MLP of one block; `ep_group` None runs all E experts locally."""

    def __init__(self, spec, moe: dict, ep: int = 1, ep_rank: int = 0):
        super().__init__()
        h = spec.hidden
        self.experts_total = int(moe["experts"])
        self.top_k = int(moe["topK"])
        self.router_kind = moe.get("router", "softmax")
        self.ep, self.ep_rank = ep, ep_rank
        self.ep_group = None  # set by attach_ep_groups
        local = self.experts_total // ep
        f = int(moe["expertFfnHidden"])
        self.router = nn.Linear(h, self.experts_total, bias=False)  # h → E
        self.experts = GroupedExperts(local, h, f, spec.gated, spec.mlp, ep_rank * local, self.experts_total)
        shared = int(moe.get("sharedExperts", 0))
        if shared > 0:
            # n shared experts act as one MLP of width n·f_shared (DeepSeek-V2 §2.2 fuses them so)
            fs = shared * int(moe.get("sharedFfnHidden", f))
            self.shared_w1 = nn.Linear(h, fs, bias=False)
            self.shared_w2 = nn.Linear(fs, h, bias=False)
            self.shared_w3 = nn.Linear(h, fs, bias=False) if spec.gated else None
        else:
            self.shared_w1 = self.shared_w2 = self.shared_w3 = None
        self.mlp = spec.mlp

    def route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (T, h) → (weights (T, k), experts (T, k)); the scores in fp32."""
        scores = self.router(x).float()
        p = scores.softmax(-1) if self.router_kind == "softmax" else scores.sigmoid()
        w, e = p.topk(self.top_k, dim=-1)
        return (w / w.sum(-1, keepdim=True)).type_as(x), e

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, h = x.shape
        xt = x.reshape(b * s, h)  # (T, h)
        w, e = self.route(xt)
        k = self.top_k
        token = torch.arange(b * s, device=x.device).repeat_interleave(k)  # (T·k,)
        expert, weight = e.reshape(-1), w.reshape(-1)
        order = torch.argsort(expert, stable=True)  # copies grouped by expert (so by rank)
        token, expert, weight = token[order], expert[order], weight[order]
        xs = xt.index_select(0, token)  # (T·k, h)
        if self.ep == 1:
            ys = self.experts.run(xs, expert)
        else:
            ys = self._dispatch_run_combine(xs, expert)
        out = torch.zeros_like(xt).index_add(0, token, ys * weight[:, None])
        if self.shared_w1 is not None:
            up = self.shared_w3(xt) if self.shared_w3 is not None else None
            out = out + self.shared_w2(activation(self.mlp, self.shared_w1(xt), up))
        return out.view(b, s, h)

    def _dispatch_run_combine(self, xs: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
        """All-to-all the expert-sorted copies to the experts' ranks, run them, send them back."""
        local = self.experts_total // self.ep
        dest = expert // local
        send = torch.bincount(dest, minlength=self.ep)  # copies for each ep rank (in rank order)
        recv = torch.empty_like(send)
        dist.all_to_all_single(recv, send, group=self.ep_group)  # how many each rank sends us
        send_n, recv_n = send.tolist(), recv.tolist()
        got_expert = torch.empty(sum(recv_n), dtype=expert.dtype, device=expert.device)
        dist.all_to_all_single(got_expert, expert, recv_n, send_n, group=self.ep_group)
        got = a2a_autograd(torch.empty(sum(recv_n), xs.size(1), dtype=xs.dtype, device=xs.device),
                           xs, recv_n, send_n, group=self.ep_group)  # dispatch
        y = self.experts.run(got, got_expert - self.experts.offset)
        # combine: the reverse all-to-all brings each copy back to its token's rank
        return a2a_autograd(torch.empty_like(xs), y, send_n, recv_n, group=self.ep_group)


def moe_layers(model: nn.Module) -> list[MoEFeedForward]:
    return [m for m in model.modules() if isinstance(m, MoEFeedForward)]


def ep_groups(pp: int, dp: int, tp: int, ep: int):
    """(ep group, edp group) of this rank, with ep innermost of dp on the ("pp", "dp", "cp", "tp")
    mesh with cp = 1 (spec.py refuses cp with MoE): rank = (pp_i·dp + dp_i)·tp + tp_i. Every rank
    creates every group, in the same order, as torch.distributed.new_group requires."""
    me = dist.get_rank()
    mine_ep = mine_edp = None
    for pi in range(pp):
        for ti in range(tp):
            ranks = [(pi * dp + d) * tp + ti for d in range(dp)]
            for g in range(dp // ep):
                members = ranks[g * ep:(g + 1) * ep]
                grp = dist.new_group(members)
                if me in members:
                    mine_ep = grp
            for r in range(ep):
                members = ranks[r::ep]
                grp = dist.new_group(members)
                if me in members:
                    mine_edp = grp
    return mine_ep, mine_edp


def expert_params(model: nn.Module) -> list[nn.Parameter]:
    return [p for n, p in model.named_parameters() if EXPERT_PARAM in n]
