"""Reads the engine's checkpoints (engine/train/checkpoint.ts): a safetensors file whose __metadata__ holds
format "hrm-lens" and the model config as JSON, and whose tensors are the engine's weight names in PyTorch layout
(F32, F16 or BF16; returned as float32)."""
from __future__ import annotations

import json
import math
import struct
from typing import Dict, Tuple

import numpy as np

from .config import ModelConfig

MAX_HEADER_BYTES = 100_000_000
ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2}


class CheckpointError(ValueError):
    """A file that is not an engine checkpoint, naming the file and what is wrong."""


def _to_f32(raw: bytes, dtype: str, count: int) -> np.ndarray:
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2", count=count).astype(np.float32)
    bits = np.frombuffer(raw, dtype="<u2", count=count).astype(np.uint32) << 16
    return bits.view(np.float32)


def load_checkpoint(path: str) -> Tuple[ModelConfig, Dict[str, np.ndarray]]:
    """(config, name -> float32 array in PyTorch layout) of an engine checkpoint."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CheckpointError(f"{path}: shorter than the 8-byte safetensors header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise CheckpointError(f"{path}: safetensors header length {n} does not fit the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"{path}: safetensors header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or meta.get("format") != "hrm-lens":
        raise CheckpointError(f'{path}: not an HRM Lens checkpoint (metadata "format" is {meta.get("format")!r})'
                              if isinstance(meta, dict) else f"{path}: __metadata__ is not an object")
    try:
        config = ModelConfig.from_json(json.loads(meta.get("config", "")))
    except ValueError as e:
        raise CheckpointError(f'{path}: metadata "config": {e}') from None
    base = 8 + n
    tensors: Dict[str, np.ndarray] = {}
    for name, e in header.items():
        if not isinstance(e, dict) or e.get("dtype") not in ITEMSIZE:
            raise CheckpointError(f"{path}: tensor {name!r}: dtype must be F32, F16 or BF16")
        shape = e.get("shape")
        offsets = e.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)):
            raise CheckpointError(f"{path}: tensor {name!r}: bad shape or data_offsets")
        begin, end = offsets
        count = math.prod(shape) if shape else 1
        if begin < 0 or end != begin + count * ITEMSIZE[e["dtype"]] or base + end > len(data):
            raise CheckpointError(f"{path}: tensor {name!r}: data_offsets [{begin}, {end}] do not fit its shape or the file")
        arr = _to_f32(data[base + begin:base + end], e["dtype"], count).reshape(shape)
        if not np.isfinite(arr).all():
            raise CheckpointError(f"{path}: tensor {name!r} holds NaN or infinite values")
        tensors[name] = arr
    return config, tensors
