"""The engine's optimizers in torch, computed as the engine computes them (engine/train/adam-atan2.ts, sign-sgd.ts,
ema.ts), with their state in the engine's checkpoint layout (moments in memory layout: linear weights [in, out]).

AdamATan2, per parameter with its own step counter t (from 1), m and v starting at 0:
    p <- p * (1 - lr*wd);  m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  p <- p - lr * atan2(m / (1-b1^t), sqrt(v) / sqrt(1-b2^t))
Sign-SGD (the puzzle embedding): w <- w - (w*(lr*wd) + sign(g)*lr), rows with an all-zero gradient untouched.
EMA: shadow <- shadow*d + w*(1-d) after every optimizer step, over the trainable weights.
Each product and sum is a separate float32 operation, in the engine's order.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Set, Tuple

import numpy as np
import torch


def to_memory(name: str, a: np.ndarray, linear: Set[str]) -> np.ndarray:
    """PyTorch layout -> the engine's memory layout ([out, in] -> [in, out] for linear weights)."""
    return np.ascontiguousarray(a.T) if name in linear else np.ascontiguousarray(a)


def from_memory(name: str, a: np.ndarray, shape: List[int], linear: Set[str], what: str) -> np.ndarray:
    """The engine's memory layout -> PyTorch layout, checking the element count against `shape`."""
    expected = list(reversed(shape)) if name in linear else list(shape)
    if a.dtype != np.float32 or a.size != math.prod(shape):
        raise ValueError(f'{what}: "{name}" must be float32 with {math.prod(shape)} elements (shape {shape})')
    a = a.reshape(expected)
    return np.ascontiguousarray(a.T) if name in linear else a


class AdamATan2:
    def __init__(self, params: Mapping[str, torch.Tensor], weight_decay: float, beta1: float = 0.9, beta2: float = 0.95):
        self.params = dict(params)
        self.beta1 = beta1
        self.beta2 = beta2
        self.weight_decay = weight_decay
        self.slots: Dict[str, Tuple[torch.Tensor, torch.Tensor, int]] = {}

    @torch.no_grad()
    def step(self, lr: float) -> None:
        b1, b2, wd = self.beta1, self.beta2, self.weight_decay
        for name, p in self.params.items():
            g = p.grad
            if g is None:
                continue
            m, v, t = self.slots.get(name) or (torch.zeros_like(p), torch.zeros_like(p), 0)
            t += 1
            bc1 = 1 - b1 ** t
            bc2 = math.sqrt(1 - b2 ** t)
            decayed = p * (1 - lr * wd) if wd != 0 else p
            m = m * b1 + g * (1 - b1)
            v = v * b2 + g.square() * (1 - b2)
            update = torch.atan2(m / bc1, v.sqrt() / bc2)
            p.copy_(decayed - update * lr)
            self.slots[name] = (m, v, t)

    def state(self, linear: Set[str]) -> Tuple[Dict[str, object], Dict[str, np.ndarray]]:
        arrays: Dict[str, np.ndarray] = {}
        steps: Dict[str, int] = {}
        for name, (m, v, t) in self.slots.items():
            arrays[f"m.{name}"] = to_memory(name, m.detach().cpu().numpy(), linear)
            arrays[f"v.{name}"] = to_memory(name, v.detach().cpu().numpy(), linear)
            steps[name] = t
        return ({"kind": "adam-atan2", "beta1": self.beta1, "beta2": self.beta2, "weightDecay": self.weight_decay,
                 "steps": steps}, arrays)

    def load_state(self, js: Mapping[str, object], arrays: Mapping[str, np.ndarray], linear: Set[str]) -> None:
        steps = js.get("steps")
        if not isinstance(steps, dict):
            raise ValueError('AdamATan2 state: missing "steps" object')
        fresh: Dict[str, Tuple[torch.Tensor, torch.Tensor, int]] = {}
        for name, t in steps.items():
            p = self.params.get(name)
            if p is None:
                raise ValueError(f'AdamATan2 state for unknown parameter "{name}"')
            if not isinstance(t, int) or isinstance(t, bool) or t < 0:
                raise ValueError(f'AdamATan2 state: bad step count for "{name}"')
            mv = []
            for key in (f"m.{name}", f"v.{name}"):
                if key not in arrays:
                    raise ValueError(f'AdamATan2 state: missing array "{key}"')
                a = from_memory(name, arrays[key], list(p.shape), linear, "AdamATan2 state")
                mv.append(torch.from_numpy(a.copy()).to(p.device))
            fresh[name] = (mv[0], mv[1], t)
        self.slots = fresh


class SignSGD:
    def __init__(self, params: Mapping[str, torch.Tensor], weight_decay: float):
        self.params = dict(params)
        self.weight_decay = weight_decay

    @torch.no_grad()
    def step(self, lr: float) -> None:
        for p in self.params.values():
            g = p.grad
            if g is None:
                continue
            delta = p * (lr * self.weight_decay) + torch.sign(g) * lr
            if p.dim() < 2:
                p.copy_(p - delta)
                continue
            rows = p.shape[0]
            used = (g.abs().reshape(rows, -1).amax(1) > 0).to(p.dtype)
            p.copy_(p - delta * used.reshape([rows] + [1] * (p.dim() - 1)))


class Ema:
    def __init__(self, params: Mapping[str, torch.Tensor], decay: float):
        self.params = dict(params)
        self.decay = decay
        self.shadow: Dict[str, torch.Tensor] = {n: p.detach().clone() for n, p in self.params.items()}

    @torch.no_grad()
    def update(self) -> None:
        d = self.decay
        for name, s in self.shadow.items():
            self.shadow[name] = s * d + self.params[name] * (1 - d)

    def state(self, linear: Set[str]) -> Tuple[Dict[str, object], Dict[str, np.ndarray]]:
        arrays = {f"ema.{n}": to_memory(n, s.cpu().numpy(), linear) for n, s in self.shadow.items()}
        return {"kind": "ema", "decay": self.decay, "swapped": False}, arrays

    def load_state(self, js: Mapping[str, object], arrays: Mapping[str, np.ndarray], linear: Set[str]) -> None:
        if js.get("swapped") is True:
            raise ValueError("EMA state was saved while swapped in")
        fresh = {}
        for name, s in self.shadow.items():
            key = f"ema.{name}"
            if key not in arrays:
                raise ValueError(f'EMA state: missing array "{key}"')
            fresh[name] = torch.from_numpy(from_memory(name, arrays[key], list(s.shape), linear, "EMA state").copy()).to(s.device)
        self.shadow = fresh
