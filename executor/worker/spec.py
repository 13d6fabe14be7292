"""The launch spec (executor/PROTOCOL.md): JSON in, validated dataclasses out.

Only the fields the worker uses are read; unknown fields are ignored so that the launcher may
add more. Anything inconsistent (tp·pp·dp·cp ≠ world, a global batch that dp · microBatch does not
divide, ...) raises ValueError before any process group work starts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .spec_read import Section, boolean, integer, number, optional_integer, section, text, version


# torch.distributed.pipelining schedules the worker runs (pipeline.py SCHEDULE_CLASSES).
SCHEDULES = ("1f1b", "interleaved", "gpipe", "zb1p", "zbv", "dualpipev")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn_hidden: int
    vocab: int
    seq_len: int
    mlp: str  # "gelu" | "swiglu" | "geglu"
    positional: str  # "learned" | "rope"
    tied: bool
    # Facts that do not change cost (planner/types.ts ModelSpec): defaults as the planner's.
    head_dim_stated: Optional[int] = None  # headDim when it is not hidden/heads (Gemma)
    rope_theta: float = 10000.0
    rope_scaling: Optional[dict] = None  # {"type": "llama3", "factor", "lowFreqFactor", ...}
    norm_eps: float = 1e-5
    sliding_window: Optional[int] = None
    qkv_bias: bool = False  # biases on q/k/v alone in a model without others (Qwen2)
    qk_norm: Optional[str] = None  # "head": RMSNorm over each head's channels (Qwen3); "full": over the projections (OLMoE), tp 1
    # Mixture of experts (planner/types.ts MoeSpec): experts, topK, sharedExperts,
    # expertFfnHidden, sharedFfnHidden, denseLayers, layerFreq, router. None: dense.
    moe: Optional[dict] = None
    mla: Optional[dict] = None  # multi-head latent attention: refused (validate)
    mtp_layers: int = 0  # multi-token-prediction modules: refused (validate)

    @property
    def head_dim(self) -> int:
        return self.head_dim_stated if self.head_dim_stated is not None else self.hidden // self.heads

    @property
    def gated(self) -> bool:
        """SwiGLU and GeGLU: down(act(gate(x)) · up(x)) (Shazeer 2020)."""
        return self.mlp in ("swiglu", "geglu")

    @property
    def gpt_style(self) -> bool:
        """GPT-3 style (learned positions): LayerNorm, biases, GELU; else Llama style: RMSNorm,
        no biases (planner/model.ts layerSmallParams uses the same split)."""
        return self.positional == "learned"


@dataclass(frozen=True)
class PlanSpec:
    tp: int
    pp: int
    dp: int
    vpp: int
    zero: int
    micro_batch: int
    recompute: str  # "none" | "selective" | "full"
    sequence_parallel: bool
    schedule: str  # one of SCHEDULES
    cp: int = 1
    cp_comm: str = "allgather"  # "allgather" | "ring" | "a2a" (context.py)
    cp_split: str = "zigzag"  # "zigzag" | "contiguous"
    ep: int = 1
    etp: int = 1
    stage_layers: Optional[tuple[int, ...]] = None  # layers per stage when uneven
    # full recompute of each chunk's first N layers only (Megatron-Core's block method); None: all
    recompute_layers: Optional[int] = None


@dataclass(frozen=True)
class TrainingSpec:
    global_batch: int
    seq_len: int
    precision: str
    steps: int
    seed: int
    lr: float
    vocab_padded: int


@dataclass(frozen=True)
class FaultSpec:
    """Test-only (PROTOCOL.md, faultInjection): `rank` raises at the start of `step`, or, with
    `hang` (a phase: "started", "joined", "built"), sleeps for good once it has reported it."""
    rank: int
    step: int = 0
    hang: Optional[str] = None


@dataclass(frozen=True)
class ExecutionSpec:
    """How the worker runs the plan (PROTOCOL.md `execution`): compiled or eager, and the fast
    paths it may take (compile.py, fastpaths.py)."""
    compile: bool = False
    optimizer: str = "auto"  # "auto" | "fused" | "foreach" | "forloop"
    fsdp_mixed_precision: Optional[bool] = None  # None: on CUDA (bf16 params, fp32 reduce)


@dataclass(frozen=True)
class LaunchSpec:
    device: str  # "cpu" | "cuda"
    run_dir: Optional[str]
    model: ModelSpec
    plan: PlanSpec
    training: TrainingSpec
    fault: Optional[FaultSpec]
    execution: ExecutionSpec = ExecutionSpec()
    # Seconds a rank waits for its first step before stopping itself (startup_watch.py);
    # None: its default.
    startup_timeout: Optional[float] = None

    @property
    def world(self) -> int:
        return self.plan.tp * self.plan.pp * self.plan.dp * self.plan.cp

    @property
    def micro_batches(self) -> int:
        """m = globalBatch / (dp · microBatch): micro-batches per dp rank per step."""
        return self.training.global_batch // (self.plan.dp * self.plan.micro_batch)


def _default_ffn(hidden: int, mlp: str) -> int:
    # planner/schema/model.ts defaultFfnHidden: 4h for GELU, Llama's 2/3·4h rounded up to 256.
    if mlp == "gelu":
        return 4 * hidden  # gated MLPs (swiglu, geglu) take Llama's width
    return 256 * -(-(8 * hidden) // (3 * 256))


# The training precisions the worker runs (train.py autocast, fp8.py); planner/types.ts Precision
# also has fp16, which the worker would run as bf16: no fp16 loss scaling (README "Running the plan").
PRECISIONS = ("bf16", "fp8")


def parse_spec(raw: Any) -> LaunchSpec:
    """The spec from its JSON object; a ValueError "launch spec: …" naming the field that is
    missing or of the wrong kind (never a bare KeyError or TypeError), or a version other than
    the one this worker reads."""
    if not isinstance(raw, dict):
        raise ValueError(f"launch spec: not a JSON object (a {type(raw).__name__})")
    try:
        return _parse(raw)
    except KeyError as e:  # a nested object read as a plain dict (model.moe, model.mla)
        raise ValueError(f"launch spec: missing {json.dumps(e.args[0]) if e.args else 'a field'}") from e
    except (TypeError, ValueError) as e:
        if str(e).startswith("launch spec:"):
            raise
        # dict(5): a field of the wrong kind
        raise ValueError(f"launch spec: a field has the wrong type ({e})") from e


def _parse(raw: dict[str, Any]) -> LaunchSpec:
    m, p, t = section(raw, "model"), section(raw, "plan"), section(raw, "training")
    version(raw)
    mlp = text(m, "mlp", "gelu")
    hidden = integer(m, "hidden")
    heads = integer(m, "heads")
    model = ModelSpec(
        name=str(m.get("name", "model")),
        layers=integer(m, "layers"),
        hidden=hidden,
        heads=heads,
        kv_heads=integer(m, "kvHeads", heads),
        ffn_hidden=integer(m, "ffnHidden", _default_ffn(hidden, mlp)),
        vocab=integer(m, "vocab"),
        seq_len=integer(m, "seqLen"),
        mlp=mlp,
        positional=text(m, "positional", "learned"),
        tied=boolean(m, "tiedEmbeddings", False),
        head_dim_stated=optional_integer(m, "headDim"),
        rope_theta=number(m, "ropeTheta", 10000.0),
        rope_scaling=m.get("ropeScaling"),
        norm_eps=number(m, "normEps", 1e-5),
        sliding_window=optional_integer(m, "slidingWindow"),
        qkv_bias=boolean(m, "qkvBias", False),
        qk_norm=text(m, "qkNorm", None),
        moe=dict(m["moe"]) if m.get("moe") is not None else None,
        mla=dict(m["mla"]) if m.get("mla") is not None else None,
        mtp_layers=integer(m, "mtpLayers", 0, lo=0),
    )
    stage_layers = p.get("stageLayers")
    if stage_layers is not None and not isinstance(stage_layers, list):
        raise ValueError(f"launch spec: \"plan.stageLayers\" must be a list of layer counts, got {json.dumps(stage_layers)}")
    plan = PlanSpec(
        tp=integer(p, "tp", 1),
        pp=integer(p, "pp", 1),
        dp=integer(p, "dp", 1),
        vpp=integer(p, "vpp", 1),
        zero=integer(p, "zero", 0, lo=0),
        micro_batch=integer(p, "microBatch"),
        recompute=text(p, "recompute", "none"),
        sequence_parallel=boolean(p, "sequenceParallel", False),
        schedule=text(p, "schedule", "1f1b"),
        cp=integer(p, "cp", 1),
        cp_comm=text(p, "cpComm", "allgather"),
        cp_split=text(p, "cpSplit", "zigzag"),
        ep=integer(p, "ep", 1),
        etp=integer(p, "etp", 1),
        stage_layers=(tuple(integer(Section({"stageLayers": x}, "plan"), "stageLayers") for x in stage_layers)
                      if stage_layers is not None else None),
        recompute_layers=optional_integer(p, "recomputeLayers"),
    )
    training = TrainingSpec(
        global_batch=integer(t, "globalBatch"),
        seq_len=integer(t, "seqLen", model.seq_len),
        precision=text(t, "precision", "bf16"),
        steps=integer(t, "steps", 5),
        seed=integer(t, "seed", 1234, lo=0),
        lr=number(t, "lr", 1e-3),
        vocab_padded=integer(t, "vocabPadded", model.vocab),
    )
    f = Section(raw["faultInjection"], "faultInjection") if raw.get("faultInjection") else None
    fault = (FaultSpec(rank=integer(f, "rank", lo=0), step=integer(f, "step", 0, lo=0),
                       hang=text(f, "hang", None)) if f else None)
    top = Section(raw, "")
    device = text(top, "device", "cpu")
    e = Section(raw.get("execution") or {}, "execution")
    execution = ExecutionSpec(
        compile=boolean(e, "compile", device == "cuda"),
        optimizer=text(e, "optimizer", "auto"),
        fsdp_mixed_precision=boolean(e, "fsdpMixedPrecision", None),
    )
    spec = LaunchSpec(
        device=device,
        run_dir=raw.get("runDir"),
        model=model,
        plan=plan,
        training=training,
        fault=fault,
        execution=execution,
        startup_timeout=number(top, "startupTimeout", None),
    )
    validate(spec)
    return spec


def moe_checks(m: ModelSpec, p: PlanSpec) -> list[tuple[bool, str]]:
    """What the worker runs of mixtures of experts (moe.py): every layout of a MoE model with
    tp = etp = 1, and expert parallel with ep | dp at ZeRO 0 (dense gradients averaged over dp,
    expert gradients over their edp replicas: train.py)."""
    moe = m.moe
    checks = [
        (m.mla is None, "the worker does not run multi-head latent attention (mla)"),
        (m.mtp_layers == 0, "the worker does not run multi-token-prediction modules (mtpLayers)"),
        (p.etp == 1, "the worker does not run expert tensor parallel (etp > 1)"),
        (moe is not None or p.ep == 1, "ep > 1 needs a mixture-of-experts model"),
    ]
    if moe is not None:
        experts, k = int(moe.get("experts", 0)), int(moe.get("topK", 0))
        checks += [
            (experts >= 1 and 1 <= k <= experts, "moe: need experts >= 1 and 1 <= topK <= experts"),
            (int(moe.get("expertFfnHidden", 0)) >= 1, "moe: expertFfnHidden must be >= 1"),
            (moe.get("router", "softmax") in ("softmax", "sigmoid"), f"moe: unknown router {moe.get('router')!r}"),
            (p.tp == 1, "the worker runs mixture-of-experts models with tp = 1 only"),
            (experts % p.ep == 0, f"ep = {p.ep} must divide the {experts} experts"),
            (p.dp % p.ep == 0, f"ep = {p.ep} must divide dp = {p.dp} (experts fold over the dp ranks)"),
            (p.ep == 1 or p.zero == 0, "the worker runs expert parallel at ZeRO 0 only"),
        ]
    return checks


def cp_checks(spec: LaunchSpec) -> list[tuple[bool, str]]:
    """What the worker runs of context parallel (context.py): the all-gather variant on any
    device, torch's ring on CUDA; dense models; the sequence cut into equal chunks."""
    m, p, t = spec.model, spec.plan, spec.training
    if p.cp == 1:
        return [(p.cp >= 1, f"cp must be >= 1, got {p.cp}")]
    chunks = 2 * p.cp if p.cp_split == "zigzag" else p.cp
    return [
        (p.cp_comm in ("allgather", "ring", "a2a"), f"unknown cpComm {p.cp_comm!r}"),
        (p.cp_split in ("zigzag", "contiguous"), f"unknown cpSplit {p.cp_split!r}"),
        (p.cp_comm != "a2a",
         "the worker does not run Ulysses all-to-all context parallel (cpComm a2a); use --cp-comm allgather"),
        (p.cp_comm != "ring" or spec.device == "cuda",
         "ring context parallel (cpComm ring) runs on CUDA only: torch 2.13's context_parallel has no "
         "sharding strategy for the CPU attention op (_scaled_dot_product_flash_attention_for_cpu) "
         "and raises NotImplementedError; use --cp-comm allgather"),
        (m.moe is None, "the worker does not run context parallel with mixture-of-experts models"),
        (t.seq_len % chunks == 0,
         f"cpSplit {p.cp_split} cuts the sequence into {chunks} equal chunks: seqLen {t.seq_len} is not a multiple of {chunks}"),
        (not p.sequence_parallel or (t.seq_len // p.cp) % p.tp == 0,
         f"sequence parallel with cp needs tp | seqLen/cp ({t.seq_len}/{p.cp})"),
    ]


def validate(spec: LaunchSpec) -> None:
    m, p, t = spec.model, spec.plan, spec.training
    checks = [
        (spec.device in ("cpu", "cuda"), f'device must be "cpu" or "cuda", got {spec.device!r}'),
        (m.mlp in ("gelu", "swiglu", "geglu"), f"unknown mlp {m.mlp!r}"),
        (m.positional != "alibi", "ALiBi positions (positional \"alibi\", Press et al. 2022) are not implemented by the worker; the planner prices them, the worker runs learned or rotary positions"),
        (m.positional in ("learned", "rope"), f"unknown positional {m.positional!r}"),
        (m.head_dim_stated is not None or m.hidden % m.heads == 0, "hidden must be a multiple of heads (or give headDim)"),
        (m.sliding_window is None, "the worker does not run sliding-window attention"),
        (m.qk_norm in (None, "head", "full"), f"unknown qkNorm {m.qk_norm!r}"),
        # a tensor-parallel rank holds heads/tp of each projection: its norm would see a part
        (m.qk_norm != "full" or p.tp == 1,
         f"qkNorm 'full' normalises each whole projection, which the worker runs at tp 1 only, not tp {p.tp}"),
        (m.rope_scaling is None or m.rope_scaling.get("type") == "llama3", "ropeScaling: only type llama3"),
        (m.heads % m.kv_heads == 0, "kvHeads must divide heads"),
        (m.positional != "rope" or m.head_dim % 2 == 0, "RoPE needs an even head dimension"),
        (m.heads % p.tp == 0 and m.kv_heads % p.tp == 0, "tp must divide heads and kvHeads"),
        (m.ffn_hidden % p.tp == 0, "tp must divide ffnHidden"),
        (t.vocab_padded >= m.vocab and t.vocab_padded % p.tp == 0,
         "vocabPadded must be >= vocab and a multiple of tp"),
        (p.zero in (0, 1, 2, 3), f"zero must be 0..3, got {p.zero}"),
        (p.recompute in ("none", "selective", "full"), f"unknown recompute {p.recompute!r}"),
        (p.recompute_layers is None or p.recompute == "full",
         f"recomputeLayers {p.recompute_layers} with {p.recompute} recompute: it counts the layers of "
         "each stage full recompute re-runs"),
        (p.schedule in SCHEDULES, f"unknown schedule {p.schedule!r}"),
        (p.schedule not in ("zbv", "dualpipev") or p.vpp == 2,
         f"{p.schedule} runs exactly two stages per rank (vpp 2), not vpp {p.vpp}"),
        (p.schedule != "dualpipev" or spec.micro_batches >= 2 * p.pp,
         f"dualpipev needs at least 2·pp = {2 * p.pp} micro-batches, not {spec.micro_batches}"),
        # torch's activation checkpointing does not follow the split backward (pytorch#136766):
        # SAC raises "backward an extra time", full re-runs each block's forward three times.
        (p.pp == 1 or p.schedule not in ("zb1p", "zbv", "dualpipev") or p.recompute == "none",
         f"{p.schedule} splits the backward into input and weight gradients, which activation "
         f"checkpointing does not follow: run {p.recompute} recompute under 1f1b or interleaved, or none"),
        # execution.py compiles_before_ac: torch 2.13's AOTAutograd raises in the first step on a
        # compiled per-op-SAC block with DTensor attention (planner/layout/capabilities.ts)
        (not (spec.execution.compile and spec.device == "cpu" and p.tp > 1 and p.recompute == "selective"),
         "torch 2.13 cannot compile selectively recomputed blocks beside tensor parallel on CPU "
         "(AOTAutograd raises in the first step): set execution.compile false, or recompute full or none"),
        (p.vpp == 1 or p.pp > 1, "vpp > 1 needs pp > 1"),
        (m.layers >= p.pp * p.vpp, "fewer layers than pipeline stages (pp · vpp)"),
        (t.global_batch % (p.dp * p.micro_batch) == 0,
         "globalBatch must be a multiple of dp · microBatch"),
        (not p.sequence_parallel or t.seq_len % p.tp == 0, "sequence parallel needs tp | seqLen"),
        (m.positional != "learned" or t.seq_len <= m.seq_len,
         "training seqLen exceeds the model's learned positions"),
        (t.steps >= 1, "steps must be >= 1"),
        (t.precision in PRECISIONS,
         f"training.precision {t.precision!r}: the worker trains in {' or '.join(PRECISIONS)} "
         "(bf16 autocast on CUDA, fp32 on CPU; no fp16 loss scaling)"),
        # Dimensions the worker does not run yet: refused, never silently run as 1.
        *cp_checks(spec),
        *moe_checks(m, p),
        (p.stage_layers is None or p.vpp == 1,
         "uneven pipeline stages (stageLayers) run with one stage per rank (vpp 1)"),
        (p.stage_layers is None or len(p.stage_layers) == p.pp,
         f"stageLayers needs one entry per pipeline stage (pp = {p.pp}), got {list(p.stage_layers or [])}"),
        (p.stage_layers is None or (sum(p.stage_layers) == m.layers and min(p.stage_layers) >= 1),
         f"stageLayers must be positive and sum to the {m.layers} layers, got {list(p.stage_layers or [])}"),
        (spec.execution.optimizer in ("auto", "fused", "foreach", "forloop"),
         f"unknown execution.optimizer {spec.execution.optimizer!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"launch spec: {message}")
    if p.pp > 1 and spec.micro_batches < p.pp:
        raise ValueError(
            f"launch spec: pipeline schedules need micro-batches m >= pp (m={spec.micro_batches}, pp={p.pp})")


def load_spec(path: str | Path) -> LaunchSpec:
    """The spec file at `path`; a ValueError "launch spec: …" for a file that cannot be read or
    is not JSON (the message of the record wrapper's traceback and of the error event)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ValueError(f"launch spec: cannot read {path} ({e.strerror or e})") from e
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"launch spec: not JSON ({path}: {e.msg} at line {e.lineno} column {e.colno})") from None
    return parse_spec(raw)
