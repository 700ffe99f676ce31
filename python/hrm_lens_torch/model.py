"""The HRM and TRM forward pass as the TypeScript engine computes it (engine/model/segment.ts, block.ts, layers.ts),
one ACT segment at a time, for inference only (no gradient):

    x  = √D · [puzzle prefix | embed_tokens[tokens]]   (learned positions: (x + pos) · √D · √½)
    for h in 1..H_cycles: { for l in 1..L_cycles: zL ← L_net(zL + zH + x);  zH ← H_net(zH + zL) }
    logits = lm_head(zH)[:, prefix:],  (q_halt, q_continue) = q_head(zH[:, 0])

A block is post-norm: h = rms(h + attn(h)); h = rms(h + swiglu(h)), RMSNorm without weight; RoPE rotate-half over all
positions (the prefix included), tables rounded to float32 exactly as engine/model/layers.ts ropeData; attention
softmax(q·kᵀ/√hd)·v without a mask. TRM uses the shared L_level net for both updates. Weights are the engine's names in
PyTorch layout (linear weights [out, in]).

bf16 (optional): weights and activations in bfloat16, RMSNorm and softmax in float32, every output returned in float32.
Mixed-precision training (train.py, --dtype bf16) keeps the weights float32 and runs the model under torch.autocast
with `autocast` set to the device type: the attention scores and softmax and the Q head then leave the autocast region
and stay float32, as they do in bf16 inference; RMSNorm, RoPE and the residual stream are float32 already.
"""
from __future__ import annotations

import contextlib
import math
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .config import ConfigError, ModelConfig


def rope_tables(seq_len: int, head_dim: int, theta: float) -> Tuple[np.ndarray, np.ndarray]:
    """cos / sin [S, hd] with the engine's float32 roundings (inv_freq, angles), cos and sin taken in float64."""
    half = head_dim // 2
    f = np.float32
    inv = [f(1.0 / float(f(theta ** float(f((2 * i) / head_dim))))) for i in range(half)]
    cos = np.empty((seq_len, head_dim), dtype=np.float32)
    sin = np.empty((seq_len, head_dim), dtype=np.float32)
    for p in range(seq_len):
        for i in range(head_dim):
            a = float(f(p * float(inv[i % half])))
            cos[p, i] = math.cos(a)
            sin[p, i] = math.sin(a)
    return cos, sin


class HrmTorch:
    """One model on one device. `segment` runs one ACT segment; `initial_carry` gives H_init / L_init broadcast."""

    def __init__(self, config: ModelConfig, weights: Mapping[str, np.ndarray], device: torch.device, bf16: bool = False):
        self.config = config
        self.device = device
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        shapes = config.weight_shapes()
        missing = [k for k in shapes if k not in weights]
        unknown = [k for k in weights if k not in shapes]
        bad = [f"{k} {list(np.shape(weights[k]))} (expected {shapes[k]})" for k in shapes
               if k in weights and list(np.shape(weights[k])) != shapes[k]]
        if missing or unknown or bad:
            raise ConfigError(f"weights do not fit the config: missing {missing}, unknown {unknown}, shape mismatch {bad}")
        self.w: Dict[str, torch.Tensor] = {}
        for k, v in weights.items():
            t = torch.from_numpy(np.array(v, dtype=np.float32, copy=True)).to(device)
            # The carry's initial state and the heads' bias stay float32; everything else follows the compute dtype.
            self.w[k] = t if k in ("H_init", "L_init") else t.to(self.dtype)
        # The device type of the torch.autocast region the caller runs this model in (None: no autocast).
        self.autocast: Optional[str] = None
        self.rope: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        if config.positions == "rope":
            cos, sin = rope_tables(config.total_len, config.head_dim, config.ropeTheta)
            self.rope = (torch.from_numpy(cos).to(device).view(config.total_len, 1, config.head_dim),
                         torch.from_numpy(sin).to(device).view(config.total_len, 1, config.head_dim))

    # --- pieces ---------------------------------------------------------------------------------------------------
    def float32(self):
        """A context that leaves the caller's autocast region (if any), for the parts computed in float32."""
        return torch.autocast(self.autocast, enabled=False) if self.autocast else contextlib.nullcontext()

    def _rms(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + self.config.rmsEps)).to(self.dtype)

    def _rotate(self, x: torch.Tensor) -> torch.Tensor:
        """RoPE on [B, S, H, hd] (rotate-half), in float32."""
        assert self.rope is not None
        cos, sin = self.rope
        x32 = x.float()
        h = x32.shape[-1] // 2
        rot = torch.cat((-x32[..., h:], x32[..., :h]), dim=-1)
        return x32 * cos + rot * sin

    def _attention(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        c = self.config
        B, S, D = x.shape
        H, hd = c.heads, c.head_dim
        qkv = F.linear(x, self.w[prefix + "self_attn.qkv_proj.weight"]).view(B, S, 3 * H, hd)
        q, k, v = qkv[:, :, :H], qkv[:, :, H:2 * H], qkv[:, :, 2 * H:]
        if self.rope is not None:
            q, k = self._rotate(q), self._rotate(k)
        q = q.transpose(1, 2).float() * (1.0 / math.sqrt(hd))
        k = k.transpose(1, 2).float()
        with self.float32():
            probs = torch.softmax(torch.matmul(q, k.transpose(-2, -1)), dim=-1).to(self.dtype)
        out = torch.matmul(probs, v.transpose(1, 2).to(self.dtype)).transpose(1, 2).reshape(B, S, H * hd)
        return F.linear(out, self.w[prefix + "self_attn.o_proj.weight"])

    def _block(self, h: torch.Tensor, prefix: str) -> torch.Tensor:
        h = self._rms(h + self._attention(h, prefix))
        gate, up = F.linear(h, self.w[prefix + "mlp.gate_up_proj.weight"]).chunk(2, dim=-1)
        return self._rms(h + F.linear(F.silu(gate) * up, self.w[prefix + "mlp.down_proj.weight"]))

    def _module(self, kind: str, z: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        c = self.config
        level, layers = ("L_level", c.L_layers) if kind == "L" or c.variant == "trm" else ("H_level", c.H_layers)
        h = z + injection
        for i in range(layers):
            h = self._block(h, f"{level}.layers.{i}.")
        return h

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """x [B, S_total, D] for int tokens [B, cells]."""
        c = self.config
        B = tokens.shape[0]
        x = F.embedding(tokens.long(), self.w["embed_tokens.embedding_weight"].float())
        if c.puzzleEmbLen > 0:
            pre = torch.zeros(B, c.puzzleEmbLen, c.hidden, device=self.device)
            pre[:, 0] = self.w["puzzle_emb.weights"][0].float()
            x = torch.cat((pre, x), dim=1)
        scale = math.sqrt(c.hidden)
        if c.positions == "learned":
            x = x + self.w["embed_pos.embedding_weight"].float()
            scale *= math.sqrt(0.5)
        return (x * scale).to(self.dtype)

    def initial_carry(self, batch: int) -> Tuple[torch.Tensor, torch.Tensor]:
        S, D = self.config.total_len, self.config.hidden
        return (self.w["H_init"].view(1, 1, D).expand(batch, S, D).to(self.dtype).clone(),
                self.w["L_init"].view(1, 1, D).expand(batch, S, D).to(self.dtype).clone())

    def check_tokens(self, tokens: torch.Tensor) -> None:
        c = self.config
        if tokens.dim() != 2 or tokens.shape[1] != c.cells:
            raise ValueError(f"tokens must be [batch, {c.cells}] for a {c.gridSize}x{c.gridSize} model, got {list(tokens.shape)}")
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= c.vocab):
            raise ValueError(f"tokens must lie in 0..{c.vocab - 1}")

    # --- one segment ----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def segment(self, zH: torch.Tensor, zL: torch.Tensor, x: torch.Tensor, h_states: Optional[List[torch.Tensor]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One segment from the carry (zH, zL); returns (zH, zL, logits [B, cells, V], q [B, 2]) in the compute dtype
        (logits and q in float32). `h_states`, when given, receives z_H after every H-update."""
        c = self.config
        zH, zL = zH.to(self.dtype), zL.to(self.dtype)
        for _ in range(c.H_cycles):
            for _ in range(c.L_cycles):
                zL = self._module("L", zL, zH + x)
            zH = self._module("H", zH, zL)
            if h_states is not None:
                h_states.append(zH)
        logits, q = self.heads(zH)
        return zH, zL, logits, q

    @torch.no_grad()
    def heads(self, zH: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The output heads on z_H [B, S_total, D]: (logits [B, cells, V], q [B, 2]), both float32."""
        zH = zH.to(self.dtype)
        logits = F.linear(zH, self.w["lm_head.weight"]).float()[:, self.config.puzzleEmbLen:]
        with self.float32():
            q = F.linear(zH[:, 0].float(), self.w["q_head.weight"].float(), self.w["q_head.bias"].float())
        return logits, q
