"""Length-prefixed binary frames between the HRM Lens engine and this worker (the engine's twin: engine/torch/framing.ts).

One frame:

    [4 bytes]  magic b"HRMF"
    [4 bytes]  H = header length, unsigned 32-bit little-endian (1 .. MAX_HEADER_BYTES)
    [4 bytes]  P = payload length, unsigned 32-bit little-endian (0 .. MAX_PAYLOAD_BYTES)
    [H bytes]  UTF-8 JSON object: the message; its "tensors" entry (optional) lists the payload's tensors in order,
               each {"name": str, "dtype": "f32" | "i32", "shape": [d0, d1, ...]}
    [P bytes]  the tensors back to back, little-endian, C (row-major) order; their sizes must add up to exactly P

Everything is checked before anything is allocated: a bad magic, an oversized or unparsable header, a tensor list
that does not cover the payload exactly, or a stream that ends inside a frame is a FrameError.
Standard library plus numpy only.
"""
from __future__ import annotations

import json
import struct
import sys
from typing import BinaryIO, Dict, List, Mapping, Optional, Tuple

import numpy as np

MAGIC = b"HRMF"
PREFIX = struct.Struct("<4sII")
# A header is a small JSON message (ids, shapes, a config): 1 MiB is far more than any needs.
MAX_HEADER_BYTES = 1 << 20
# The largest payload one frame may carry (one segment of a large batch with latents stays far below).
MAX_PAYLOAD_BYTES = (1 << 32) - 1
MAX_RANK = 8

DTYPES: Dict[str, np.dtype] = {"f32": np.dtype("<f4"), "i32": np.dtype("<i4")}


class FrameError(ValueError):
    """A frame that cannot be read or written."""


def _check_host() -> None:
    if sys.byteorder != "little":
        raise FrameError("frames are little-endian; this host is big-endian")


def _payload_view(name: str, array: np.ndarray) -> Tuple[dict, memoryview]:
    """The header entry of one array (f32 or i32) and its bytes as a view (a copy only when it is not C-contiguous)."""
    if array.dtype == np.float32:
        dt = "f32"
    elif array.dtype == np.int32:
        dt = "i32"
    else:
        raise FrameError(f"tensor {name!r}: dtype {array.dtype} cannot be framed (f32 or i32 only)")
    view = memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    return {"name": name, "dtype": dt, "shape": [int(d) for d in array.shape]}, view


def tensor_entry(name: str, array: np.ndarray) -> Tuple[dict, bytes]:
    """The header entry and the payload bytes of one array (f32 or i32)."""
    entry, view = _payload_view(name, array)
    return entry, view.tobytes()


def frame_parts(message: Mapping[str, object], tensors: Optional[Mapping[str, np.ndarray]] = None) -> List[object]:
    """One frame for `message` (a JSON object without a "tensors" key) and named arrays, as the buffers to write one
    after the other: prefix and header, then each array's bytes as a view of the array itself (no copy), so a large
    segment output goes to the stream as it lies in memory. The arrays must not change until the parts are written."""
    _check_host()
    if "tensors" in message:
        raise FrameError('"tensors" is reserved in a frame header')
    entries: List[dict] = []
    views: List[memoryview] = []
    for name, array in (tensors or {}).items():
        entry, view = _payload_view(name, array)
        entries.append(entry)
        views.append(view)
    header = dict(message)
    if entries:
        header["tensors"] = entries
    hbytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    payload = sum(v.nbytes for v in views)
    if len(hbytes) > MAX_HEADER_BYTES:
        raise FrameError(f"frame header of {len(hbytes)} bytes exceeds the limit of {MAX_HEADER_BYTES}")
    if payload > MAX_PAYLOAD_BYTES:
        raise FrameError(f"frame payload of {payload} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}")
    return [PREFIX.pack(MAGIC, len(hbytes), payload) + hbytes, *(v for v in views if v.nbytes)]


def encode_frame(message: Mapping[str, object], tensors: Optional[Mapping[str, np.ndarray]] = None) -> bytes:
    """One frame for `message` (a JSON object without a "tensors" key) and named arrays, as one bytes object."""
    return b"".join(frame_parts(message, tensors))  # type: ignore[arg-type]


def _read_exact(stream: BinaryIO, n: int, what: str) -> bytes:
    chunks: List[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise FrameError(f"truncated frame: the stream ended after {got} of {n} bytes of the {what}")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def parse_header(hbytes: bytes, payload_len: int) -> Tuple[dict, List[Tuple[str, np.dtype, List[int], int]]]:
    """The message and its tensor list (name, dtype, shape, byte size), checked against the payload length."""
    try:
        header = json.loads(hbytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FrameError(f"frame header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise FrameError("frame header is not a JSON object")
    raw = header.pop("tensors", [])
    if not isinstance(raw, list):
        raise FrameError('frame header field "tensors" must be a list')
    specs = []
    total = 0
    for i, e in enumerate(raw):
        where = f"frame header tensors[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise FrameError(f"{where}: needs a string name")
        dt = DTYPES.get(e.get("dtype"))  # type: ignore[arg-type]
        if dt is None:
            raise FrameError(f"{where} ({e['name']}): dtype must be f32 or i32, got {e.get('dtype')!r}")
        shape = e.get("shape")
        if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_PAYLOAD_BYTES for d in shape):
            raise FrameError(f"{where} ({e['name']}): shape must be a list of at most {MAX_RANK} non-negative integers")
        size = dt.itemsize
        for d in shape:
            size *= d
            if size > payload_len:
                raise FrameError(f"{where} ({e['name']}): shape {shape} needs more than the {payload_len}-byte payload")
        total += size
        if total > payload_len:
            raise FrameError(f"{where} ({e['name']}): the tensors need more than the {payload_len}-byte payload")
        specs.append((e["name"], dt, shape, size))
    if total != payload_len:
        raise FrameError(f"the tensors cover {total} bytes of a {payload_len}-byte payload")
    return header, specs


def read_frame(stream: BinaryIO) -> Optional[Tuple[dict, Dict[str, np.ndarray]]]:
    """The next frame (message, name -> array), or None at a clean end of stream (before a frame starts)."""
    _check_host()
    first = stream.read(PREFIX.size)
    if not first:
        return None
    prefix = first if len(first) == PREFIX.size else first + _read_exact(stream, PREFIX.size - len(first), "frame prefix")
    magic, hlen, plen = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise FrameError(f"not a frame: magic {magic!r}, expected {MAGIC!r}")
    if hlen < 2 or hlen > MAX_HEADER_BYTES:
        raise FrameError(f"frame header length {hlen} is outside 2..{MAX_HEADER_BYTES}")
    if plen > MAX_PAYLOAD_BYTES:
        raise FrameError(f"frame payload length {plen} exceeds the limit of {MAX_PAYLOAD_BYTES}")
    header, specs = parse_header(_read_exact(stream, hlen, "frame header"), plen)
    payload = bytearray(_read_exact(stream, plen, "frame payload")) if plen else bytearray()
    tensors: Dict[str, np.ndarray] = {}
    offset = 0
    for name, dt, shape, size in specs:
        if size == 0:
            tensors[name] = np.zeros(shape, dtype=dt)
            continue
        tensors[name] = np.frombuffer(payload, dtype=dt, count=size // dt.itemsize, offset=offset).reshape(shape)
        offset += size
    return header, tensors
