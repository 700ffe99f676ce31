"""Reads the engine's checkpoints (engine/train/checkpoint.ts): a safetensors file whose __metadata__ holds
format "hrm-lens" and the model config as JSON, and whose tensors are the engine's weight names in PyTorch layout
(F32, F16 or BF16; returned as float32)."""
from __future__ import annotations

import json
from typing import Dict, Tuple

import numpy as np

from .config import ModelConfig
from .runfolder import read_safetensors


class CheckpointError(ValueError):
    """A file that is not an engine checkpoint, naming the file and what is wrong."""


def load_checkpoint(path: str) -> Tuple[ModelConfig, Dict[str, np.ndarray]]:
    """(config, name -> float32 array in PyTorch layout) of an engine checkpoint."""
    meta, tensors = read_safetensors(path, error=CheckpointError, only_floats=True)
    if meta.get("format") != "hrm-lens":
        raise CheckpointError(f'{path}: not an HRM Lens checkpoint (metadata "format" is {meta.get("format")!r})')
    try:
        config = ModelConfig.from_json(json.loads(meta.get("config", "")))
    except ValueError as e:
        raise CheckpointError(f'{path}: metadata "config": {e}') from None
    for name, arr in tensors.items():
        if not np.isfinite(arr).all():
            raise CheckpointError(f"{path}: tensor {name!r} holds NaN or infinite values")
    return config, tensors
