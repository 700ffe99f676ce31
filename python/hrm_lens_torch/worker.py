"""The PyTorch worker: `python3 -m hrm_lens_torch.worker [--device auto|cuda|mps|cpu] [--dtype fp32|bf16]`.

The engine (engine/torch/worker-client.ts) starts it as a child process and exchanges frames (framing.py) over its
stdin / stdout; stderr is free text for logs. Nothing else is written to stdout (print goes to stderr).

On start the worker sends {"kind": "hello", "protocol": 2, "torch": version, "device": ..., "dtype": ...}, or
{"kind": "hello", "error": "torch-missing" | "device", "message": ...} and exits 3 when it cannot run.
Requests carry an "id" that every reply repeats:
  {"op": "load", "config": {...}} + the weights (engine names, PyTorch layout, f32)  -> {"kind": "loaded", "weights": n}
  {"op": "load_checkpoint", "path": P}                                              -> {"kind": "loaded", "config": {...}}
  {"op": "run", "segments": S, "latents": bool, "hStates": bool} + tokens i32 [B, cells]
      (+ zH, zL f32 [B, S_total, D] to start from)
      -> S frames {"kind": "segment", "k": k} + logits [B, cells, V], q [B, 2]
         (+ zH, zL [B, S_total, D] when latents, and, unless "hStates" is false, hStates [B, H_cycles - 1, S_total, D]:
         z_H after each H-update but the last, which is zH itself and is not sent twice; none when H_cycles is 1),
         then {"kind": "done"}
  {"op": "heads"} + zH f32 [B, S_total, D]  -> {"kind": "heads"} + logits [B, cells, V], q [B, 2] (no segment run)
  {"op": "shutdown"}                                                                -> {"kind": "bye"}, exit 0
A failed request answers {"kind": "error", "message": ...}; a frame that cannot be read ends the worker (exit 2).

Frames go out on a sender thread, in the order they are sent: while one segment's outputs travel to the engine (and
the engine reads them), the next segment is already being computed. Arrays go to the stream as views of the
segment's own outputs (framing.frame_parts), which nothing changes afterwards.
"""
from __future__ import annotations

import argparse
import queue
import sys
import threading
from typing import BinaryIO, Dict, List, Optional

import numpy as np

from .framing import FrameError, encode_frame, frame_parts, read_frame

PROTOCOL = 2
MAX_SEGMENTS = 4096
# Frames encoded but not yet written: two segments' outputs at most wait while the next one is computed.
SEND_DEPTH = 2
# The stdout pipe's capacity asked for (Linux; where refused the system's default stays): a segment's outputs then
# pass in fewer, larger writes.
PIPE_BYTES = 1 << 20


class Sender:
    """Writes frames to `out` on a thread of its own, in the order they were queued. A write that fails (the engine
    has gone) is kept and raised by the next `put`; `close` writes what is queued and stops the thread."""

    def __init__(self, out: BinaryIO, depth: int = SEND_DEPTH):
        self.out = out
        self.queue: "queue.Queue[Optional[List[object]]]" = queue.Queue(maxsize=depth)
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._loop, name="hrm-lens-frame-sender", daemon=True)
        self.thread.start()

    def put(self, parts: List[object]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(parts)

    def _loop(self) -> None:
        while True:
            parts = self.queue.get()
            if parts is None:
                return
            if self.error is not None:
                continue
            try:
                for part in parts:
                    self.out.write(part)  # type: ignore[arg-type]
                self.out.flush()
            except BaseException as e:  # noqa: BLE001 (raised again on the main thread)
                self.error = e

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


def widen_pipe(stream: BinaryIO, size: int = PIPE_BYTES) -> None:
    """Asks for a larger pipe buffer on `stream` (Linux F_SETPIPE_SZ); anything else is left as it is."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)  # 1031: Linux's value, Python < 3.10
    except (ImportError, OSError, ValueError, AttributeError):
        pass


class Worker:
    def __init__(self, out: BinaryIO, device, bf16: bool):
        self.sender = Sender(out)
        self.device = device
        self.bf16 = bf16
        self.model = None

    def send(self, message: Dict[str, object], tensors: Optional[Dict[str, np.ndarray]] = None) -> None:
        # Encoded here, so a frame that cannot be written fails the request that sends it.
        self.sender.put(frame_parts(message, tensors))

    def close(self) -> None:
        """Writes every queued frame; the worker sends nothing after this."""
        self.sender.close()

    def handle(self, header: dict, tensors: Dict[str, np.ndarray]) -> bool:
        """Answers one request; False when the worker should stop."""
        rid = header.get("id")
        op = header.get("op")
        try:
            if op == "load":
                self.load(header, tensors)
                self.send({"id": rid, "kind": "loaded", "weights": len(tensors)})
            elif op == "load_checkpoint":
                from .checkpoint import load_checkpoint
                config, weights = load_checkpoint(str(header.get("path")))
                self.model = self._build(config, weights)
                self.send({"id": rid, "kind": "loaded", "config": {k: getattr(config, k) for k in config.__dataclass_fields__}})
            elif op == "run":
                self.run(rid, header, tensors)
                self.send({"id": rid, "kind": "done"})
            elif op == "heads":
                self.send({"id": rid, "kind": "heads"}, self.heads(tensors))
            elif op == "shutdown":
                self.send({"id": rid, "kind": "bye"})
                return False
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as e:  # reported to the engine; the worker goes on with the next request
            self.send({"id": rid, "kind": "error", "error": type(e).__name__, "message": str(e)[:2000]})
        return True

    def _build(self, config, weights):
        from .model import HrmTorch
        return HrmTorch(config, weights, self.device, self.bf16)

    def load(self, header: dict, tensors: Dict[str, np.ndarray]) -> None:
        from .config import ModelConfig
        self.model = None
        self.model = self._build(ModelConfig.from_json(header.get("config")), tensors)  # type: ignore[arg-type]

    def heads(self, tensors: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        import torch
        m = self.model
        if m is None:
            raise ValueError("no model loaded")
        z = tensors.get("zH")
        c = m.config
        if z is None or z.dtype != np.float32 or z.ndim != 3 or list(z.shape[1:]) != [c.total_len, c.hidden]:
            raise ValueError(f"heads needs an f32 tensor zH [B, {c.total_len}, {c.hidden}]")
        logits, q = m.heads(torch.from_numpy(np.array(z, copy=True)).to(self.device))
        return {"logits": _host(logits), "q": _host(q)}

    def run(self, rid: object, header: dict, tensors: Dict[str, np.ndarray]) -> None:
        import torch
        m = self.model
        if m is None:
            raise ValueError("no model loaded")
        segments = header.get("segments")
        if not isinstance(segments, int) or isinstance(segments, bool) or not 1 <= segments <= MAX_SEGMENTS:
            raise ValueError(f"segments must be an integer in 1..{MAX_SEGMENTS}, got {segments!r}")
        latents = bool(header.get("latents", False))
        with_h = latents and header.get("hStates", True) is not False
        if "tokens" not in tensors or tensors["tokens"].dtype != np.int32:
            raise ValueError("run needs an i32 tensor named tokens")
        tokens = torch.from_numpy(np.array(tensors["tokens"], copy=True)).to(self.device)
        m.check_tokens(tokens)
        B = tokens.shape[0]
        c = m.config
        if ("zH" in tensors) != ("zL" in tensors):
            raise ValueError("a start carry needs both zH and zL")
        if "zH" in tensors:
            want = [B, c.total_len, c.hidden]
            for k in ("zH", "zL"):
                if list(tensors[k].shape) != want or tensors[k].dtype != np.float32:
                    raise ValueError(f"{k} must be f32 {want}, got {tensors[k].dtype} {list(tensors[k].shape)}")
            zH = torch.from_numpy(np.array(tensors["zH"], copy=True)).to(self.device)
            zL = torch.from_numpy(np.array(tensors["zL"], copy=True)).to(self.device)
        else:
            zH, zL = m.initial_carry(B)
        x = m.embed(tokens)
        host = _host
        for k in range(1, segments + 1):
            h_states = [] if with_h else None
            zH, zL, logits, q = m.segment(zH, zL, x, h_states)
            out = {"logits": host(logits), "q": host(q)}
            if latents:
                out["zH"] = host(zH)
                out["zL"] = host(zL)
            if h_states is not None and len(h_states) > 1:
                out["hStates"] = host(torch.stack(h_states[:-1], dim=1))
            self.send({"id": rid, "kind": "segment", "k": k}, out)


def _host(t) -> np.ndarray:
    """A tensor as a float32 C-order numpy array on the host."""
    return np.ascontiguousarray(t.detach().float().cpu().numpy(), dtype=np.float32)


def choose_device(torch, wanted: str):
    """cuda > mps > cpu for "auto"; a named device must be available."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    elif wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but torch.cuda.is_available() is false")
    elif wanted == "mps" and not has_mps:
        raise RuntimeError("device mps was asked for, but torch.backends.mps.is_available() is false")
    return torch.device(wanted)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hrm_lens_torch.worker")
    parser.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries frames only
    inp = sys.stdin.buffer
    hello = {"kind": "hello", "protocol": PROTOCOL, "python": sys.version.split()[0]}
    try:
        import torch
    except ImportError as e:
        out.write(encode_frame({**hello, "error": "torch-missing", "message": f"import torch failed: {e}"}))
        out.flush()
        return 3
    try:
        device = choose_device(torch, args.device)
    except RuntimeError as e:
        out.write(encode_frame({**hello, "error": "device", "message": str(e)}))
        out.flush()
        return 3
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":  # float32 means float32: no TF32 in matmuls
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    widen_pipe(out)
    worker = Worker(out, device, args.dtype == "bf16")
    try:
        worker.send({**hello, "torch": torch.__version__, "device": str(device), "dtype": args.dtype})
        while True:
            try:
                frame = read_frame(inp)
            except FrameError as e:
                worker.send({"id": None, "kind": "error", "error": "FrameError", "message": str(e)})
                return 2
            if frame is None:
                return 0
            if not worker.handle(*frame):
                return 0
    finally:
        worker.close()


if __name__ == "__main__":
    sys.exit(main())
