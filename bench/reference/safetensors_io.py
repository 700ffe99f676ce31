"""Hand-written safetensors reader/writer for the PyTorch reference (no `safetensors` package needed).

Format (https://huggingface.co/docs/safetensors, restated here):

    [8 bytes]  N = header length in bytes, unsigned 64-bit little-endian
    [N bytes]  UTF-8 JSON object:
                 {"<name>": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
                  "__metadata__": {"<key>": "<string value>", ...}}          (optional; values must be strings)
               padded with spaces (0x20) so that the byte buffer starts 8-byte aligned
    [rest]     the byte buffer: each tensor's elements little-endian, C (row-major) order, at
               [8 + N + begin, 8 + N + end); offsets are relative to the start of the byte buffer.

Tensors are laid out back to back, without holes, in the order of their names (sorted), which the Rust
`safetensors` crate also accepts (it requires the buffer to be covered exactly). Supported dtypes: F32, F16, BF16
(the ones the engine reads and writes) plus F64, I64, I32, I16, I8, U8 and BOOL for auxiliary tensors (tokens,
masks). Reading uses torch.frombuffer on one bytearray holding the file; every returned tensor is a clone, so it
owns its memory and is writable.

Python: Debian's /usr/bin/python3 with python3-torch (see README.md). No numpy needed here.
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
from typing import Dict, Mapping, Optional, Tuple

import torch

# safetensors dtype name <-> torch dtype, and the element size in bytes.
DTYPES: Dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
TORCH_TO_NAME: Dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}
ITEMSIZE: Dict[str, int] = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

# The header may not be larger than this (the Rust crate's limit is 100 MB; we refuse absurd lengths early).
MAX_HEADER_BYTES = 100_000_000


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or a tensor we cannot store."""


def _check_host() -> None:
    if sys.byteorder != "little":  # torch.frombuffer and tensor.numpy() bytes are host order
        raise SafetensorsError("this reader/writer assumes a little-endian host")


def save_file(path: str, tensors: Mapping[str, torch.Tensor], metadata: Optional[Mapping[str, str]] = None) -> None:
    """Write `tensors` (name -> tensor) and optional string metadata to `path` (atomically: temp file + rename)."""
    _check_host()
    data = serialize(tensors, metadata)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def serialize(tensors: Mapping[str, torch.Tensor], metadata: Optional[Mapping[str, str]] = None) -> bytes:
    """The safetensors bytes for `tensors` and `metadata`."""
    _check_host()
    header: Dict[str, object] = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError(f"__metadata__ must map strings to strings; got {k!r}: {type(v).__name__}")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved and cannot name a tensor")
        t = tensors[name]
        if not isinstance(t, torch.Tensor):
            raise SafetensorsError(f"{name}: not a tensor ({type(t).__name__})")
        if t.dtype not in TORCH_TO_NAME:
            raise SafetensorsError(f"{name}: dtype {t.dtype} is not supported (supported: {', '.join(DTYPES)})")
        dt = TORCH_TO_NAME[t.dtype]
        t = t.detach().to("cpu").contiguous()
        nbytes = t.numel() * ITEMSIZE[dt]
        if nbytes:
            # View as bytes without numpy (numpy has no bfloat16): reinterpret through uint8.
            raw = t.view(-1).view(torch.uint8) if t.dtype != torch.bool else t.view(-1).to(torch.uint8)
            blobs.append(bytes(raw.numpy().tobytes()))
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    pad = (-len(hjson)) % 8
    hjson += b" " * pad
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def load_file(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Read `path`; returns (name -> tensor, metadata). Tensors are fresh CPU tensors in the stored dtype."""
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    try:
        return deserialize(buf)
    except SafetensorsError as e:
        raise SafetensorsError(f"{path}: {e}") from None


def read_header(path: str) -> Tuple[Dict[str, dict], Dict[str, str]]:
    """Only the header: (name -> {dtype, shape, data_offsets}, metadata), without reading the tensor data."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorsError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES:
            raise SafetensorsError(f"{path}: header length {n} is implausible")
        hbytes = f.read(n)
    entries, meta = _parse_header(hbytes, n)
    return entries, meta


def _parse_header(hbytes: bytes, n: int) -> Tuple[Dict[str, dict], Dict[str, str]]:
    if len(hbytes) != n:
        raise SafetensorsError(f"header truncated: {len(hbytes)} of {n} bytes")
    try:
        header = json.loads(hbytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise SafetensorsError("__metadata__ must be an object of strings")
    for name, e in header.items():
        if not isinstance(e, dict) or "dtype" not in e or "shape" not in e or "data_offsets" not in e:
            raise SafetensorsError(f"{name}: entry needs dtype, shape and data_offsets")
        if e["dtype"] not in DTYPES:
            raise SafetensorsError(f"{name}: dtype {e['dtype']!r} not supported (supported: {', '.join(DTYPES)})")
    return header, meta


def deserialize(buf: bytearray) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Parse safetensors bytes held in a (writable) bytearray."""
    _check_host()
    if len(buf) < 8:
        raise SafetensorsError("shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > MAX_HEADER_BYTES or 8 + n > len(buf):
        raise SafetensorsError(f"header length {n} does not fit the file ({len(buf)} bytes)")
    entries, meta = _parse_header(bytes(buf[8 : 8 + n]), n)
    base = 8 + n
    data_len = len(buf) - base
    out: Dict[str, torch.Tensor] = {}
    spans = []
    for name, e in entries.items():
        dt = e["dtype"]
        shape = [int(d) for d in e["shape"]]
        begin, end = (int(x) for x in e["data_offsets"])
        numel = math.prod(shape) if shape else 1
        if any(d < 0 for d in shape) or begin < 0 or end < begin or end > data_len:
            raise SafetensorsError(f"{name}: bad shape {shape} or data_offsets [{begin}, {end}] (buffer {data_len} bytes)")
        if end - begin != numel * ITEMSIZE[dt]:
            raise SafetensorsError(f"{name}: {end - begin} bytes for {dt}{shape} (expected {numel * ITEMSIZE[dt]})")
        spans.append((begin, end, name))
        if numel == 0:
            out[name] = torch.empty(shape, dtype=DTYPES[dt])
            continue
        if dt == "BOOL":
            t = torch.frombuffer(buf, dtype=torch.uint8, count=numel, offset=base + begin).to(torch.bool)
        else:
            t = torch.frombuffer(buf, dtype=DTYPES[dt], count=numel, offset=base + begin).clone()
        out[name] = t.reshape(shape)
    # The buffer must be covered exactly, without overlaps or holes (as the Rust crate checks).
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise SafetensorsError(f"{name}: data starts at {begin}, expected {pos} (overlap or hole)")
        pos = end
    if pos != data_len:
        raise SafetensorsError(f"byte buffer has {data_len - pos} trailing bytes not covered by any tensor")
    return out, meta
