"""The engine's run folder as the torch trainer writes it (engine/train/checkpoint.ts, metrics-log.ts):

    step-000500.safetensors        weights in PyTorch layout, __metadata__ {format "hrm-lens", format_version "1",
                                   step, config (JSON), meta (JSON)}
    step-000500.optim.safetensors  optimizer state, __metadata__ {format "hrm-lens-optim", format_version "1", step,
                                   state (JSON)}; arrays "<part>/<name>" (adam/m.<w>, adam/v.<w>, ema/ema.<w>, raw/<w>,
                                   slots/tokens|labels|steps|halted|zH|zL), moments and weights in the engine's memory
                                   layout (linear weights [in, out])

Every file is written atomically (a dot-file beside it, fsync, rename); the optimizer file before the weights file, so
that a visible checkpoint always has its optimizer state; then a stale .eval.json of the same name is removed and
checkpoints beyond the newest keepLast are pruned with their optimizer and eval files. Tensors are sorted by name and
the header is padded with spaces to a multiple of 8 bytes, as the engine's encoder does.
"""
from __future__ import annotations

import json
import math
import os
import re
import struct
from typing import Dict, List, Mapping, Optional, Tuple, Type

import numpy as np

MAX_HEADER_BYTES = 100_000_000
CHECKPOINT_RE = re.compile(r"^step-(\d+)\.safetensors$")
DTYPES = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4"), "U8": np.dtype("u1"), "F16": np.dtype("<f2"),
          "I64": np.dtype("<i8"), "I8": np.dtype("i1")}
NP_TO_SAFE = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("uint8"): "U8"}


class RunFolderError(ValueError):
    """A file of a run folder that cannot be used, naming the file and what is wrong."""


def checkpoint_file_name(step: int) -> str:
    return f"step-{step:06d}.safetensors"


def stem(path: str) -> str:
    return path[:-len(".safetensors")] if path.endswith(".safetensors") else path


def optim_file_of(path: str) -> str:
    return stem(path) + ".optim.safetensors"


def eval_file_of(path: str) -> str:
    return stem(path) + ".eval.json"


def encode_safetensors(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    bodies: List[bytes] = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        safe = NP_TO_SAFE.get(arr.dtype)
        if safe is None:
            raise TypeError(f"safetensors: tensor {name!r} has dtype {arr.dtype}; float32, int32 or uint8 expected")
        body = arr.astype(DTYPES[safe], copy=False).tobytes()
        header[name] = {"dtype": safe, "shape": list(arr.shape), "data_offsets": [offset, offset + len(body)]}
        bodies.append(body)
        offset += len(body)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    padded = raw + b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(padded)) + padded + b"".join(bodies)


def read_safetensors(path: str, error: Type[ValueError] = RunFolderError,
                     only_floats: bool = False) -> Tuple[Dict[str, str], Dict[str, np.ndarray]]:
    """(metadata, name -> array) of a safetensors file; F32/F16/BF16 come back float32, I32 int32, U8 uint8.
    Every problem is raised as `error` (the caller's own type), naming the file and what is wrong; `only_floats`
    refuses any dtype but F32, F16 and BF16 (a model checkpoint)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise error(f"{path}: shorter than the 8-byte safetensors header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise error(f"{path}: safetensors header length {n} does not fit the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise error(f"{path}: safetensors header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise error(f"{path}: safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise error(f"{path}: __metadata__ is not an object")
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    for name, e in header.items():
        dtype = e.get("dtype") if isinstance(e, dict) else None
        shape = e.get("shape") if isinstance(e, dict) else None
        offsets = e.get("data_offsets") if isinstance(e, dict) else None
        if only_floats and dtype not in ("F32", "F16", "BF16"):
            raise error(f"{path}: tensor {name!r}: dtype must be F32, F16 or BF16")
        if dtype not in DTYPES and dtype != "BF16":
            raise error(f"{path}: tensor {name!r}: dtype {dtype!r} is not supported")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)):
            raise error(f"{path}: tensor {name!r}: bad shape or data_offsets")
        count = math.prod(shape) if shape else 1
        size = 2 if dtype == "BF16" else DTYPES[dtype].itemsize
        begin, end = offsets
        if begin < 0 or end != begin + count * size or base + end > len(data):
            raise error(f"{path}: tensor {name!r}: data_offsets [{begin}, {end}] do not fit its shape or the file")
        raw = data[base + begin:base + end]
        if dtype == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2", count=count).astype(np.uint32) << 16).view(np.float32)
        elif dtype in ("F32", "F16"):
            arr = np.frombuffer(raw, dtype=DTYPES[dtype], count=count).astype(np.float32)
        elif dtype == "I32":
            arr = np.frombuffer(raw, dtype="<i4", count=count).astype(np.int32)
        elif dtype == "U8":
            arr = np.frombuffer(raw, dtype="u1", count=count).copy()
        else:
            raise error(f"{path}: tensor {name!r}: {dtype} is not used by HRM Lens run folders")
        out[name] = arr.reshape(shape)
    return {str(k): str(v) for k, v in meta.items()}, out


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` through a dot-file beside it, fsync, rename: readers never see half a file."""
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def list_checkpoints(folder: str) -> List[Tuple[int, str]]:
    """(step, path) of every step-N.safetensors in `folder`, oldest step first."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    out = [(int(m.group(1)), os.path.join(folder, name)) for name in names for m in [CHECKPOINT_RE.match(name)] if m]
    return sorted(out)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def save_checkpoint(folder: str, step: int, weights: Mapping[str, np.ndarray], config_json: str, meta: Mapping[str, object],
                    optim_arrays: Mapping[str, np.ndarray], optim_json: Mapping[str, object], keep_last: Optional[int]) -> str:
    """Write step-N.safetensors and its optimizer file into `folder`, then prune; returns the weights file."""
    path = os.path.join(folder, checkpoint_file_name(step))
    weight_bytes = encode_safetensors(weights, {
        "format": "hrm-lens", "format_version": "1", "step": str(step), "config": config_json,
        "meta": json.dumps(meta, separators=(",", ":")),
    })
    optim_bytes = encode_safetensors(optim_arrays, {
        "format": "hrm-lens-optim", "format_version": "1", "step": str(step),
        "state": json.dumps(optim_json, separators=(",", ":")),
    })
    write_atomic(optim_file_of(path), optim_bytes)
    write_atomic(path, weight_bytes)
    _remove(eval_file_of(path))
    if keep_last is not None:
        all_ = list_checkpoints(folder)
        keep = {p for _, p in all_[-keep_last:]} | {path}
        for _, p in all_:
            if p not in keep:
                for f in (p, optim_file_of(p), eval_file_of(p)):
                    _remove(f)
    return path


def load_optimizer_state(path: str, expect_step: int) -> Tuple[Dict[str, object], Dict[str, np.ndarray]]:
    """(state JSON, arrays) of an optimizer file, checked to belong to the weights of `expect_step`."""
    meta, arrays = read_safetensors(path)
    if meta.get("format") != "hrm-lens-optim":
        raise RunFolderError(f'{path}: not an HRM Lens optimizer file (metadata "format" is {meta.get("format")!r})')
    if meta.get("step") != str(expect_step):
        raise RunFolderError(f"{path}: optimizer state is for step {meta.get('step')}, the weights beside it are for step {expect_step}")
    try:
        state = json.loads(meta.get("state", ""))
    except ValueError as e:
        raise RunFolderError(f'{path}: metadata "state" is not valid JSON: {e}') from None
    if not isinstance(state, dict):
        raise RunFolderError(f'{path}: metadata "state" must be a JSON object')
    return state, arrays


def pick_state(state: Mapping[str, object], arrays: Mapping[str, np.ndarray], part: str
               ) -> Optional[Tuple[Dict[str, object], Dict[str, np.ndarray]]]:
    """One component's (json, arrays) of a combined state (engine/train/checkpoint.ts pickState), or None."""
    js = state.get(part)
    if not isinstance(js, dict):
        return None
    prefix = part + "/"
    return js, {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def metrics_number(x: float) -> Optional[float]:
    """A metrics.jsonl number: non-finite values are written as null."""
    return x if math.isfinite(x) else None


def round4(x: Optional[float]) -> Optional[float]:
    """The per-segment fractions as metrics.jsonl rounds them (JavaScript Math.round(x * 1e4) / 1e4)."""
    return None if x is None else math.floor(x * 1e4 + 0.5) / 1e4
