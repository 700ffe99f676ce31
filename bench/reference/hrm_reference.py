"""PyTorch reference of HRM-ACT-v1 (sapientinc/HRM) and its TRM variant (SamsungSAILMontreal/TinyRecursiveModels).

The ONE PyTorch implementation in this repository: used by bench/reference/torch_bench.py and by test-fixture
generators. Benchmarks and verification only; never a runtime dependency of the extension.

Faithful to the reference code (HRM hrm_act_v1.py / layers.py / losses.py / sparse_embedding.py, TRM trm.py),
re-written here, with these deliberate differences:
  - fp32 everywhere (the reference forward runs in bfloat16; RMSNorm and RoPE are fp32 there as here);
  - plain softmax attention (matmul, softmax, matmul) instead of FlashAttention: same maths;
  - no torch.compile, no distributed all-gather in the puzzle-embedding optimizer;
  - the stablemax loss runs in float64 by default (as the reference on CUDA/CPU); `loss_dtype` can make it float32;
  - TRM: attention blocks only (`mlp_t=False`, the TRM-Att variant); the token-mixing MLP variant is not built.
Architecture (docs/model.md §Forward pass of one segment): sequence = puzzle_emb_len prefix positions + cells;
x = (concat(puzzle vector at position 0, zero-padded to puzzle_emb_len; embed_tokens[tokens]) [+ learned pos] ·
1/√2 if learned) · √D; post-norm blocks h = rms(h + attn(h)); h = rms(h + swiglu(h)); RMSNorm without weight;
RoPE rotate-half over all positions incl. the prefix; L update z_L = L_blocks(z_L + z_H + x); H update
z_H = H_blocks(z_H + z_L); logits = lm_head(z_H)[:, prefix:]; q = q_head(z_H[:, 0]) -> (halt, continue).

State-dict keys are the reference's minus the `model.inner.` prefix (the TypeScript engine's checkpoint layout):
  embed_tokens.embedding_weight [V, D]      embed_pos.embedding_weight [S_total, D] (learned positions only)
  puzzle_emb.weights [1, D] (if puzzle_emb_len > 0)      lm_head.weight [V, D]   q_head.weight [2, D]   q_head.bias [2]
  {H,L}_level.layers.{i}.self_attn.qkv_proj.weight [3·heads·hd, D]   (rows: all Q heads | all K heads | all V heads)
  {H,L}_level.layers.{i}.self_attn.o_proj.weight [D, D]
  {H,L}_level.layers.{i}.mlp.gate_up_proj.weight [2·inter, D]        (rows: gate | up)
  {H,L}_level.layers.{i}.mlp.down_proj.weight [D, inter]
  H_init [D], L_init [D]
TRM has only L_level (one shared net for both updates).

Python: Debian's /usr/bin/python3 with python3-torch 1.13 (see README.md).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, asdict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------------------------------------------------------
# Config field names: the TypeScript engine's names (safetensors __metadata__["config"], a JSON string) -> the
# attribute of HRMConfig (reference-style names). Keep this the only place that knows the TS spelling.
# ---------------------------------------------------------------------------------------------------------------
CONFIG_FIELDS: Dict[str, str] = {
    "gridSize": "grid_size",
    "hidden": "hidden_size",
    "heads": "num_heads",
    "expansion": "expansion",
    "interMultiple": "inter_multiple",
    "H_layers": "H_layers",
    "L_layers": "L_layers",
    "H_cycles": "H_cycles",
    "L_cycles": "L_cycles",
    "haltMaxSteps": "halt_max_steps",
    "haltExplorationProb": "halt_exploration_prob",
    "positions": "pos_encodings",  # 'rope' | 'learned'
    "ropeTheta": "rope_theta",
    "rmsEps": "rms_norm_eps",
    "puzzleEmbLen": "puzzle_emb_len",
    "variant": "variant",  # 'hrm' | 'trm'
}
# Older spellings accepted on read. Writing uses CONFIG_FIELDS' names, which are engine/model/config.ts's HrmConfig.
CONFIG_ALIASES: Dict[str, str] = {"hLayers": "H_layers", "lLayers": "L_layers", "hCycles": "H_cycles", "lCycles": "L_cycles"}
# Derived fields: written for convenience, checked (not trusted) on read.
DERIVED_FIELDS: Dict[str, str] = {"seqLen": "seq_len", "vocab": "vocab_size"}
# Prefixes stripped from reference checkpoints' state-dict keys (torch.compile's, then the ACT wrapper's).
REFERENCE_KEY_PREFIXES = ("_orig_mod.", "model.inner.")

PAD_TOKEN = 0
BLANK_TOKEN = 1  # digit d -> token d + 1
IGNORE_LABEL_ID = -100


@dataclass
class HRMConfig:
    grid_size: int = 9
    hidden_size: int = 128
    num_heads: int = 4
    expansion: float = 4.0
    inter_multiple: int = 256
    H_layers: int = 2
    L_layers: int = 2
    H_cycles: int = 2
    L_cycles: int = 2
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    pos_encodings: str = "rope"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    puzzle_emb_len: int = 1
    variant: str = "hrm"
    # Not part of the TS config: reference knobs with their reference defaults.
    num_puzzle_identifiers: int = 1
    no_act_continue: Optional[bool] = None  # None: HRM False (continue loss + extra forward), TRM True

    def __post_init__(self) -> None:
        if self.variant not in ("hrm", "trm"):
            raise ValueError(f"variant must be 'hrm' or 'trm', got {self.variant!r}")
        if self.pos_encodings not in ("rope", "learned"):
            raise ValueError(f"positions must be 'rope' or 'learned', got {self.pos_encodings!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden {self.hidden_size} is not a multiple of heads {self.num_heads}")
        if self.pos_encodings == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head dim, got {self.head_dim}")
        if self.grid_size not in (4, 6, 9):
            raise ValueError(f"gridSize must be 4, 6 or 9, got {self.grid_size}")
        if self.puzzle_emb_len < 0 or self.H_cycles < 1 or self.L_cycles < 1 or self.L_layers < 1:
            raise ValueError("puzzleEmbLen >= 0, hCycles >= 1, lCycles >= 1 and lLayers >= 1 are required")
        if self.variant == "hrm" and self.H_layers < 1:
            raise ValueError("HRM needs hLayers >= 1")
        if self.no_act_continue is None:
            self.no_act_continue = self.variant == "trm"

    @property
    def seq_len(self) -> int:
        return self.grid_size * self.grid_size

    @property
    def vocab_size(self) -> int:
        return self.grid_size + 2

    @property
    def total_len(self) -> int:
        return self.seq_len + self.puzzle_emb_len

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def inter_size(self) -> int:
        return find_multiple(round(self.expansion * self.hidden_size * 2 / 3), self.inter_multiple)

    # --- TS config JSON <-> HRMConfig ------------------------------------------------------------------------
    def to_ts(self) -> Dict[str, object]:
        d = asdict(self)
        # Exactly the engine's HrmConfig fields (its configFromJson rejects unknown ones); derived sizes are not written.
        return {ts: d[py] for ts, py in CONFIG_FIELDS.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_ts(), separators=(",", ":"))

    @classmethod
    def from_ts(cls, d: Mapping[str, object]) -> "HRMConfig":
        d = {CONFIG_ALIASES.get(k, k): v for k, v in d.items()}
        unknown = [k for k in d if k not in CONFIG_FIELDS and k not in DERIVED_FIELDS]
        kwargs = {CONFIG_FIELDS[k]: v for k, v in d.items() if k in CONFIG_FIELDS}
        for k in ("grid_size", "hidden_size", "num_heads", "inter_multiple", "H_layers", "L_layers", "H_cycles",
                  "L_cycles", "halt_max_steps", "puzzle_emb_len"):
            if k in kwargs:
                kwargs[k] = int(kwargs[k])  # type: ignore[arg-type]
        cfg = cls(**kwargs)  # type: ignore[arg-type]
        for ts, py in DERIVED_FIELDS.items():
            if ts in d and int(d[ts]) != getattr(cfg, py):  # type: ignore[arg-type]
                raise ValueError(f"config {ts}={d[ts]} disagrees with gridSize {cfg.grid_size} ({py}={getattr(cfg, py)})")
        cfg.unknown_ts_fields = unknown  # type: ignore[attr-defined]  # reported by callers, not fatal
        return cfg

    @classmethod
    def from_json(cls, s: str) -> "HRMConfig":
        return cls.from_ts(json.loads(s))


def find_multiple(a: int, b: int) -> int:
    return (-(a // -b)) * b


# ---------------------------------------------------------------------------------------------------------------
# Initialisation: JAX/Flax-style truncated normal (as the reference common.trunc_normal_init_): a standard normal
# truncated to [-2, 2], rescaled so that the *truncated* distribution has the requested std.
# ---------------------------------------------------------------------------------------------------------------
def trunc_normal_(t: torch.Tensor, std: float, gen: Optional[torch.Generator] = None, lower: float = -2.0,
                  upper: float = 2.0) -> torch.Tensor:
    with torch.no_grad():
        if std == 0:
            return t.zero_()
        r2 = math.sqrt(2.0)
        a, b = math.erf(lower / r2), math.erf(upper / r2)
        z = (b - a) / 2
        c = (2 * math.pi) ** -0.5
        pdf_l, pdf_u = c * math.exp(-0.5 * lower * lower), c * math.exp(-0.5 * upper * upper)
        comp_std = std / math.sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) ** 2)
        u = torch.empty(t.shape, dtype=torch.float64).uniform_(a, b, generator=gen)
        u.erfinv_().mul_(r2 * comp_std).clamp_(lower * comp_std, upper * comp_std)
        return t.copy_(u.to(t.dtype))


# ---------------------------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------------------------
def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_tables(head_dim: int, length: int, theta: float) -> Tuple[torch.Tensor, torch.Tensor]:
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)  # [S, hd]
    return emb.cos(), emb.sin()


class Linear(nn.Module):
    """The reference CastedLinear (fp32 here): weight [out, in] with LeCun truncated-normal init, optional zero bias."""

    def __init__(self, in_f: int, out_f: int, bias: bool, gen: Optional[torch.Generator]):
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_(torch.empty(out_f, in_f), std=in_f ** -0.5, gen=gen))
        self.bias = nn.Parameter(torch.zeros(out_f)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class Embedding(nn.Module):
    """The reference CastedEmbedding: parameter `embedding_weight` [num, dim]."""

    def __init__(self, num: int, dim: int, std: float, gen: Optional[torch.Generator]):
        super().__init__()
        self.embedding_weight = nn.Parameter(trunc_normal_(torch.empty(num, dim), std=std, gen=gen))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_weight)


class PuzzleEmbedding(nn.Module):
    """The reference CastedSparseEmbedding: a non-trainable buffer `weights` [num_ids, dim], zero-initialised.

    In training with grad enabled, the batch's rows are copied into a leaf tensor `local_weights` that collects the
    gradient; `SignSGD.step` then updates `weights` (reference CastedSparseSignSGD_Distributed, one process).
    """

    def __init__(self, num: int, dim: int):
        super().__init__()
        self.register_buffer("weights", torch.zeros(num, dim), persistent=True)
        self.local_weights: Optional[torch.Tensor] = None
        self.local_ids: Optional[torch.Tensor] = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch.is_grad_enabled()):
            return self.weights[ids]
        lw = self.weights[ids].detach().clone().requires_grad_(True)
        self.local_weights, self.local_ids = lw, ids
        return lw


class Attention(nn.Module):
    def __init__(self, cfg: HRMConfig, gen: Optional[torch.Generator]):
        super().__init__()
        self.heads, self.hd = cfg.num_heads, cfg.head_dim
        self.qkv_proj = Linear(cfg.hidden_size, 3 * cfg.num_heads * cfg.head_dim, bias=False, gen=gen)
        self.o_proj = Linear(cfg.num_heads * cfg.head_dim, cfg.hidden_size, bias=False, gen=gen)

    def forward(self, x: torch.Tensor, cos_sin: Optional[Tuple[torch.Tensor, torch.Tensor]],
                record: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        B, S, _ = x.shape
        qkv = self.qkv_proj(x).view(B, S, 3 * self.heads, self.hd)
        q, k, v = qkv[:, :, : self.heads], qkv[:, :, self.heads : 2 * self.heads], qkv[:, :, 2 * self.heads :]
        if cos_sin is not None:
            cos, sin = cos_sin[0].unsqueeze(-2), cos_sin[1].unsqueeze(-2)  # [S, 1, hd]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, S, hd]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (self.hd ** -0.5), dim=-1)
        if record is not None:
            record.append(attn.detach())
        out = torch.matmul(attn, v).transpose(1, 2).reshape(B, S, self.heads * self.hd)
        return self.o_proj(out)


class SwiGLU(nn.Module):
    def __init__(self, cfg: HRMConfig, gen: Optional[torch.Generator]):
        super().__init__()
        inter = cfg.inter_size
        self.gate_up_proj = Linear(cfg.hidden_size, 2 * inter, bias=False, gen=gen)
        self.down_proj = Linear(inter, cfg.hidden_size, bias=False, gen=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: HRMConfig, gen: Optional[torch.Generator]):
        super().__init__()
        self.self_attn = Attention(cfg, gen)
        self.mlp = SwiGLU(cfg, gen)
        self.eps = cfg.rms_norm_eps

    def forward(self, h: torch.Tensor, cos_sin, record=None) -> torch.Tensor:
        h = rms_norm(h + self.self_attn(h, cos_sin, record), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningModule(nn.Module):
    """blocks(z + injection)."""

    def __init__(self, cfg: HRMConfig, n_layers: int, gen: Optional[torch.Generator]):
        super().__init__()
        self.layers = nn.ModuleList([Block(cfg, gen) for _ in range(n_layers)])

    def forward(self, z: torch.Tensor, injection: torch.Tensor, cos_sin, record=None) -> torch.Tensor:
        h = z + injection
        for layer in self.layers:
            h = layer(h, cos_sin, record)
        return h


# ---------------------------------------------------------------------------------------------------------------
# Inner model (one segment) and ACT wrapper
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class InnerCarry:
    z_H: torch.Tensor
    z_L: torch.Tensor


@dataclass
class ACTCarry:
    inner: InnerCarry
    steps: torch.Tensor  # int32 [B]
    halted: torch.Tensor  # bool [B]
    data: Dict[str, torch.Tensor] = field(default_factory=dict)


class HRMInner(nn.Module):
    """HierarchicalReasoningModel_ACTV1_Inner (variant 'hrm') / TinyRecursiveReasoningModel_ACTV1_Inner ('trm').

    Parameters are created in a fixed order from one torch.Generator seeded with `seed`, so the same seed and
    config give the same weights on any machine (CPU generator).
    """

    def __init__(self, cfg: HRMConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        gen = torch.Generator().manual_seed(seed)
        D = cfg.hidden_size
        self.embed_scale = math.sqrt(D)
        self.embed_tokens = Embedding(cfg.vocab_size, D, std=1.0 / self.embed_scale, gen=gen)
        self.lm_head = Linear(D, cfg.vocab_size, bias=False, gen=gen)
        self.q_head = Linear(D, 2, bias=True, gen=gen)
        if cfg.puzzle_emb_len > 0:
            self.puzzle_emb = PuzzleEmbedding(cfg.num_puzzle_identifiers, D)
        if cfg.pos_encodings == "rope":
            cos, sin = rope_tables(cfg.head_dim, cfg.total_len, cfg.rope_theta)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.embed_pos = Embedding(cfg.total_len, D, std=1.0 / self.embed_scale, gen=gen)
        if cfg.variant == "hrm":
            self.H_level = ReasoningModule(cfg, cfg.H_layers, gen)
        self.L_level = ReasoningModule(cfg, cfg.L_layers, gen)
        self.register_buffer("H_init", trunc_normal_(torch.empty(D), std=1.0, gen=gen), persistent=True)
        self.register_buffer("L_init", trunc_normal_(torch.empty(D), std=1.0, gen=gen), persistent=True)
        with torch.no_grad():  # Q head "deep start": never halt at first
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    # --- pieces ---------------------------------------------------------------------------------------------
    def cos_sin(self):
        return (self.rope_cos, self.rope_sin) if self.cfg.pos_encodings == "rope" else None

    def input_embeddings(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        emb = self.embed_tokens(tokens.long())
        if cfg.puzzle_emb_len > 0:
            pe = self.puzzle_emb(puzzle_ids.long())  # [B, D]
            pe = F.pad(pe, (0, (cfg.puzzle_emb_len - 1) * cfg.hidden_size))  # zero-pad to puzzle_emb_len positions
            emb = torch.cat((pe.view(-1, cfg.puzzle_emb_len, cfg.hidden_size), emb), dim=-2)
        if cfg.pos_encodings == "learned":
            emb = 0.707106781 * (emb + self.embed_pos.embedding_weight)
        return self.embed_scale * emb

    def initial_carry(self, batch_size: int) -> InnerCarry:
        S, D = self.cfg.total_len, self.cfg.hidden_size
        return InnerCarry(self.H_init.expand(batch_size, S, D).clone(), self.L_init.expand(batch_size, S, D).clone())

    def reset_carry(self, reset: torch.Tensor, carry: InnerCarry) -> InnerCarry:
        m = reset.view(-1, 1, 1)
        return InnerCarry(torch.where(m, self.H_init, carry.z_H), torch.where(m, self.L_init, carry.z_L))

    def H_net(self) -> ReasoningModule:
        return self.H_level if self.cfg.variant == "hrm" else self.L_level

    def heads(self, z_H: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        logits = self.lm_head(z_H)[:, self.cfg.puzzle_emb_len :]
        q = self.q_head(z_H[:, 0]).float()
        return logits, (q[..., 0], q[..., 1])

    # --- one segment ----------------------------------------------------------------------------------------
    def forward(self, carry: InnerCarry, batch: Mapping[str, torch.Tensor], trace: Optional[list] = None):
        """One segment from `carry`; returns (detached new carry, logits [B, cells, V], (q_halt, q_continue)).

        HRM: H_cycles·L_cycles L-updates and H_cycles H-updates; all but the last L and the last H without grad.
        TRM: H_cycles-1 full cycles (L_cycles L-updates + one H-update, same net) without grad, then one full cycle
        with grad. `trace`, if given, receives ('L'|'H', z after the call) for every call, in order.
        """
        cfg = self.cfg
        cs = self.cos_sin()
        x = self.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
        z_H, z_L = carry.z_H, carry.z_L
        Ln, Hn = self.L_level, self.H_net()

        def L(zl, zh):
            out = Ln(zl, zh + x, cs)
            if trace is not None:
                trace.append(("L", out.detach()))
            return out

        def H(zh, zl):
            out = Hn(zh, zl, cs)
            if trace is not None:
                trace.append(("H", out.detach()))
            return out

        if cfg.variant == "hrm":
            with torch.no_grad():
                for h in range(cfg.H_cycles):
                    for l in range(cfg.L_cycles):
                        if not (h == cfg.H_cycles - 1 and l == cfg.L_cycles - 1):
                            z_L = L(z_L, z_H)
                    if h != cfg.H_cycles - 1:
                        z_H = H(z_H, z_L)
            assert not z_H.requires_grad and not z_L.requires_grad
            z_L = L(z_L, z_H)  # one-step gradient
            z_H = H(z_H, z_L)
        else:
            with torch.no_grad():
                for _ in range(cfg.H_cycles - 1):
                    for _ in range(cfg.L_cycles):
                        z_L = L(z_L, z_H)
                    z_H = H(z_H, z_L)
            for _ in range(cfg.L_cycles):  # the whole last cycle with grad
                z_L = L(z_L, z_H)
            z_H = H(z_H, z_L)
        logits, q = self.heads(z_H)
        return InnerCarry(z_H.detach(), z_L.detach()), logits, q


class HRMACT(nn.Module):
    """The reference ACT wrapper (persistent carry with slot replacement; training-time halting and Q targets).

    `model.inner` holds the weights; `state_dict()` keys carry an `inner.` prefix, use `inner.state_dict()` or
    `engine_state_dict(...)` for the engine layout.
    """

    def __init__(self, cfg: HRMConfig, seed: int = 0, inner: Optional[HRMInner] = None):
        super().__init__()
        self.cfg = cfg
        self.inner = inner if inner is not None else HRMInner(cfg, seed)

    def initial_carry(self, batch: Mapping[str, torch.Tensor]) -> ACTCarry:
        B = batch["inputs"].shape[0]
        return ACTCarry(self.inner.initial_carry(B), torch.zeros(B, dtype=torch.int32), torch.ones(B, dtype=torch.bool),
                        {k: torch.empty_like(v) for k, v in batch.items()})

    def forward(self, carry: ACTCarry, batch: Mapping[str, torch.Tensor], gen: Optional[torch.Generator] = None):
        cfg = self.cfg
        inner_carry = self.inner.reset_carry(carry.halted, carry.inner)
        steps = torch.where(carry.halted, torch.zeros_like(carry.steps), carry.steps)
        data = {k: torch.where(carry.halted.view((-1,) + (1,) * (batch[k].ndim - 1)), batch[k], v)
                for k, v in carry.data.items()}
        inner_carry, logits, (q_halt, q_cont) = self.inner(inner_carry, data)
        outputs = {"logits": logits, "q_halt_logits": q_halt, "q_continue_logits": q_cont}
        with torch.no_grad():
            steps = steps + 1
            is_last = steps >= cfg.halt_max_steps
            halted = is_last
            if self.training and cfg.halt_max_steps > 1:
                halted = halted | ((q_halt > 0) if cfg.no_act_continue else (q_halt > q_cont))
                explore = torch.rand(q_halt.shape, generator=gen) < cfg.halt_exploration_prob
                min_halt = explore * torch.randint(2, cfg.halt_max_steps + 1, steps.shape, generator=gen, dtype=steps.dtype)
                halted = halted & (steps >= min_halt)
                if not cfg.no_act_continue:
                    # Continue target: an extra no-grad forward from the NEW carry (no replay buffer, no target net).
                    _, _, (nq_halt, nq_cont) = self.inner(inner_carry, data)
                    outputs["target_q_continue"] = torch.sigmoid(torch.where(is_last, nq_halt, torch.maximum(nq_halt, nq_cont)))
        return ACTCarry(inner_carry, steps, halted, data), outputs


# ---------------------------------------------------------------------------------------------------------------
# Losses (reference losses.py ACTLossHead)
# ---------------------------------------------------------------------------------------------------------------
def _stablemax_s(x: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    return torch.where(x < 0, 1 / (1 - x + eps), x + 1)


def log_stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    s = _stablemax_s(x)
    return torch.log(s / torch.sum(s, dim=dim, keepdim=True))


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    logp = log_stablemax(logits.to(dtype), dim=-1)
    valid = labels != IGNORE_LABEL_ID
    lab = torch.where(valid, labels, torch.zeros_like(labels)).long()
    picked = torch.gather(logp, -1, lab.unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, torch.zeros_like(picked))


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return F.cross_entropy(logits.to(dtype).reshape(-1, logits.shape[-1]), labels.long().reshape(-1),
                           ignore_index=IGNORE_LABEL_ID, reduction="none").view(labels.shape)


def act_loss(outputs: Mapping[str, torch.Tensor], labels: torch.Tensor, halted: torch.Tensor, steps: torch.Tensor,
             loss_type: str = "stablemax", loss_dtype: torch.dtype = torch.float64):
    """Total loss (NOT yet divided by the global batch size) and detached metrics, as ACTLossHead."""
    with torch.no_grad():
        mask = labels != IGNORE_LABEL_ID
        counts = mask.sum(-1)
        divisor = counts.clamp_min(1).unsqueeze(-1)
        is_correct = mask & (torch.argmax(outputs["logits"], dim=-1) == labels)
        seq_correct = is_correct.sum(-1) == counts
        valid = halted & (counts > 0)
        metrics = {
            "count": valid.sum().item(),
            "accuracy": torch.where(valid, (is_correct.float() / divisor).sum(-1), torch.zeros(())).sum().item(),
            "exact_accuracy": (valid & seq_correct).sum().item(),
            "q_halt_accuracy": (valid & ((outputs["q_halt_logits"] >= 0) == seq_correct)).sum().item(),
            "steps": torch.where(valid, steps, torch.zeros_like(steps)).sum().item(),
        }
    ce = stablemax_cross_entropy if loss_type == "stablemax" else softmax_cross_entropy
    lm_loss = (ce(outputs["logits"], labels, loss_dtype) / divisor).sum()
    q_halt_loss = F.binary_cross_entropy_with_logits(outputs["q_halt_logits"], seq_correct.to(outputs["q_halt_logits"].dtype), reduction="sum")
    metrics["lm_loss"] = lm_loss.item()
    metrics["q_halt_loss"] = q_halt_loss.item()
    q_cont_loss = 0
    if "target_q_continue" in outputs:
        q_cont_loss = F.binary_cross_entropy_with_logits(outputs["q_continue_logits"], outputs["target_q_continue"], reduction="sum")
        metrics["q_continue_loss"] = q_cont_loss.item()
    return lm_loss + 0.5 * (q_halt_loss + q_cont_loss), metrics


# ---------------------------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------------------------
class AdamATan2:
    """AdamATan2 exactly as the `adam-atan2` package (imoneoi) used by the reference pretrain.py.

    Per step t (m, v start at 0; no epsilon; no extra scale factor):
        p <- p · (1 - lr·wd)                                   (decoupled weight decay, on the parameter, first)
        m <- lerp(m, g, 1-β1)          v <- β2·v + (1-β2)·g²
        p <- p - lr · atan2(m / (1-β1^t), sqrt(v) / sqrt(1-β2^t))
    """

    def __init__(self, params, lr: float = 1e-4, betas: Tuple[float, float] = (0.9, 0.95), weight_decay: float = 0.1):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.wd = lr, betas, weight_decay
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr: Optional[float] = None) -> None:
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        self.t += 1
        bc1_recip = 1 / (1 - b1 ** self.t)
        bc2_sqrt = math.sqrt(1 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            p.mul_(1 - lr * self.wd)
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.add_(torch.atan2(bc1_recip * m, v.sqrt() / bc2_sqrt), alpha=-lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


class SignSGD:
    """The reference puzzle-embedding optimizer (CastedSparseSignSGD_Distributed, one process): for the ids in the
    batch, sum their rows' gradients, then w <- w·(1 - lr·wd) - lr·sign(grad) on those rows only."""

    def __init__(self, emb: PuzzleEmbedding, lr: float = 1e-4, weight_decay: float = 0.1):
        self.emb, self.lr, self.wd = emb, lr, weight_decay

    @torch.no_grad()
    def step(self, lr: Optional[float] = None) -> None:
        lr = self.lr if lr is None else lr
        lw, ids = self.emb.local_weights, self.emb.local_ids
        if lw is None or lw.grad is None:
            return
        uids, inv = ids.unique(return_inverse=True)
        g = torch.zeros(uids.shape[0], lw.shape[-1], dtype=lw.grad.dtype).index_add_(0, inv, lw.grad)
        w = self.emb.weights
        w[uids] = w[uids] * (1 - lr * self.wd) - lr * torch.sign(g)
        self.emb.local_weights = None
        self.emb.local_ids = None


def train_step(model: HRMACT, carry: ACTCarry, batch: Mapping[str, torch.Tensor], opt: AdamATan2,
               puzzle_opt: Optional[SignSGD], loss_type: str = "stablemax", loss_dtype: torch.dtype = torch.float64,
               gen: Optional[torch.Generator] = None, lr: Optional[float] = None, puzzle_lr: Optional[float] = None):
    """One reference training step: ACT segment (+ continue forward for HRM), loss / global batch, backward, both
    optimizers. Returns (new carry, metrics)."""
    model.train()
    carry, outputs = model(carry, batch, gen=gen)
    loss, metrics = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps, loss_type, loss_dtype)
    B = batch["inputs"].shape[0]
    ((1 / B) * loss).backward()
    opt.step(lr)
    if puzzle_opt is not None:
        puzzle_opt.step(puzzle_lr if puzzle_lr is not None else lr)
    opt.zero_grad()
    metrics["loss"] = loss.item() / B
    return carry, metrics


@torch.no_grad()
def run_segments(inner: HRMInner, tokens: torch.Tensor, segments: int, puzzle_ids: Optional[torch.Tensor] = None,
                 keep_states: bool = False) -> Dict[str, torch.Tensor]:
    """Evaluation forward: `segments` segments from H_init/L_init, no halting, no grad. Returns stacked
    logits [S, B, cells, V], q_halt / q_continue [S, B] and, if keep_states, z_H / z_L [S, B, S_total, D]."""
    inner.eval()
    B = tokens.shape[0]
    if puzzle_ids is None:
        puzzle_ids = torch.zeros(B, dtype=torch.int32)
    batch = {"inputs": tokens, "puzzle_identifiers": puzzle_ids}
    carry = inner.initial_carry(B)
    logits, qh, qc, zh, zl = [], [], [], [], []
    for _ in range(segments):
        carry, lg, (a, b) = inner(carry, batch)
        logits.append(lg)
        qh.append(a)
        qc.append(b)
        if keep_states:
            zh.append(carry.z_H)
            zl.append(carry.z_L)
    out = {"logits": torch.stack(logits), "q_halt": torch.stack(qh), "q_continue": torch.stack(qc)}
    if keep_states:
        out["z_H"], out["z_L"] = torch.stack(zh), torch.stack(zl)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints in the engine layout (safetensors, reference keys minus `model.inner.`)
# ---------------------------------------------------------------------------------------------------------------
def engine_state_dict(inner: HRMInner) -> Dict[str, torch.Tensor]:
    """Persistent tensors with engine key names (rope tables excluded: not persistent)."""
    return {k: v.detach().clone().float() for k, v in inner.state_dict().items()}


def strip_reference_prefix(key: str) -> str:
    for p in REFERENCE_KEY_PREFIXES:
        if key.startswith(p):
            key = key[len(p):]
    return key


def load_engine_state_dict(inner: HRMInner, sd: Mapping[str, torch.Tensor]) -> None:
    """Load engine-layout (or reference-prefixed) tensors into `inner`, strictly: shapes must match, no key may be
    missing or unexpected. Any float dtype (F32/F16/BF16) is accepted and converted to fp32."""
    sd = {strip_reference_prefix(k): v for k, v in sd.items()}
    own = inner.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    if missing or unexpected:
        raise ValueError(f"checkpoint keys do not match the config: missing {missing}, unexpected {unexpected}")
    for k, v in sd.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise ValueError(f"{k}: checkpoint shape {list(v.shape)} != model shape {list(own[k].shape)}")
    inner.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)


def _safetensors():
    """safetensors_io from this folder, whether imported as a script sibling or as a package module."""
    try:
        from . import safetensors_io  # type: ignore[no-redef]
    except ImportError:
        import safetensors_io  # type: ignore[no-redef]
    return safetensors_io


# The engine's checkpoint metadata (engine/train/checkpoint.ts): format, format_version, step, config, meta.
CHECKPOINT_FORMAT = "hrm-lens"
CHECKPOINT_FORMAT_VERSION = "1"


def save_checkpoint(path: str, inner: HRMInner, meta: Optional[Mapping[str, object]] = None, step: int = 0) -> None:
    """Write `inner` in the engine layout: __metadata__ = {format: "hrm-lens", format_version: "1", step, config
    (TS config JSON), meta (JSON object: producer plus `meta`)}."""
    save_file = _safetensors().save_file
    m = {"producer": "bench/reference/hrm_reference.py", **(dict(meta) if meta else {})}
    md = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION, "step": str(step),
          "config": inner.cfg.to_json(), "meta": json.dumps(m, separators=(",", ":"))}
    save_file(path, engine_state_dict(inner), md)


def load_checkpoint(path: str, seed: int = 0) -> Tuple[HRMInner, Dict[str, str]]:
    """Build an HRMInner from a safetensors checkpoint whose __metadata__["config"] is the TS config JSON."""
    tensors, meta = _safetensors().load_file(path)
    if "config" not in meta:
        raise ValueError(f"{path}: no 'config' in __metadata__ (keys: {sorted(meta)})")
    cfg = HRMConfig.from_json(meta["config"])
    inner = HRMInner(cfg, seed)
    load_engine_state_dict(inner, tensors)
    return inner, meta
