"""The PyTorch worker: `python3 -m hrm_lens_torch.worker [--device auto|cuda|mps|cpu] [--dtype fp32|bf16]`.

The engine (engine/torch/worker-client.ts) starts it as a child process and exchanges frames (framing.py) over its
stdin / stdout; stderr is free text for logs. Nothing else is written to stdout (print goes to stderr).

On start the worker sends {"kind": "hello", "protocol": 1, "torch": version, "device": ..., "dtype": ...}, or
{"kind": "hello", "error": "torch-missing" | "device", "message": ...} and exits 3 when it cannot run.
Requests carry an "id" that every reply repeats:
  {"op": "load", "config": {...}} + the weights (engine names, PyTorch layout, f32)  -> {"kind": "loaded", "weights": n}
  {"op": "load_checkpoint", "path": P}                                              -> {"kind": "loaded", "config": {...}}
  {"op": "run", "segments": S, "latents": bool, "hStates": bool} + tokens i32 [B, cells]
      (+ zH, zL f32 [B, S_total, D] to start from)
      -> S frames {"kind": "segment", "k": k} + logits [B, cells, V], q [B, 2]
         (+ zH, zL [B, S_total, D] when latents, and hStates [B, H_cycles, S_total, D] unless "hStates" is false),
         then {"kind": "done"}
  {"op": "heads"} + zH f32 [B, S_total, D]  -> {"kind": "heads"} + logits [B, cells, V], q [B, 2] (no segment run)
  {"op": "shutdown"}                                                                -> {"kind": "bye"}, exit 0
A failed request answers {"kind": "error", "message": ...}; a frame that cannot be read ends the worker (exit 2).
"""
from __future__ import annotations

import argparse
import sys
from typing import BinaryIO, Dict, Optional

import numpy as np

from .framing import FrameError, encode_frame, read_frame

PROTOCOL = 1
MAX_SEGMENTS = 4096


class Worker:
    def __init__(self, out: BinaryIO, device, bf16: bool):
        self.out = out
        self.device = device
        self.bf16 = bf16
        self.model = None

    def send(self, message: Dict[str, object], tensors: Optional[Dict[str, np.ndarray]] = None) -> None:
        self.out.write(encode_frame(message, tensors))
        self.out.flush()

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
            if h_states is not None:
                out["hStates"] = host(torch.stack(h_states, dim=1))
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
    worker = Worker(out, device, args.dtype == "bf16")
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


if __name__ == "__main__":
    sys.exit(main())
