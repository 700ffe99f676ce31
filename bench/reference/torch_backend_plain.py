#!/usr/bin/env python3
"""Plain PyTorch, the other side of bench/torch-backend.ts: the same model (an engine checkpoint, read by
hrm_reference.py), the same batch, segments, device and threads as the torch backend is measured at, without the
engine, the worker's frames or torchrun. Prints one JSON object.

  infer     --weights W --batch B --segments S --runs R [--latents]: per run, S segments from the initial carry on B
            puzzles, no grad, every segment's logits and Q (with --latents also z_H, z_L) copied to host memory, as the
            worker sends them; puzzle-segments/s per run
  ensemble  --weights W1,W2,… --puzzles P --relabelings K --segments S --rows R: per checkpoint, loaded from its file,
            P·K rows in batches of R // K puzzles × K, S segments each, the last segment's logits and Q copied to host
            memory (the ensemble's passes); seconds, puzzle-segments/s
  train     --weights W --batch B --steps N --runs R [--loss softmax|stablemax] [--no-act-continue]: the reference
            training step (one ACT segment, one-step gradient, AdamATan2 + sign-SGD) on generated puzzles; steps/s

Common: --device cpu|cuda (CUDA: TF32 off, as the worker runs), --threads T (torch and OpenBLAS threads), --warmup N
(untimed runs first), --seed. On the CPU the BLAS is checked first (blas_check.py): the reference BLAS is refused
(exit status 3) unless --allow-reference-blas.
"""
from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep bench/reference/ free of __pycache__

import argparse
import json
import os
import statistics
import time
from typing import Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import blas_check  # noqa: E402
import hrm_reference as ref  # noqa: E402
import torch_bench as tb  # noqa: E402


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(dev: torch.device, fn: Callable[[], None]) -> float:
    sync(dev)
    t = time.perf_counter()
    fn()
    sync(dev)
    return time.perf_counter() - t


def rates(times: List[float], per: float) -> Dict[str, object]:
    r = [per / t for t in times]
    return {"per_run": r, "median": statistics.median(r), "min": min(r), "max": max(r), "seconds": times}


def load(path: str, dev: torch.device) -> ref.HRMInner:
    inner, _ = ref.load_checkpoint(path)
    return inner.to(dev).eval()


def tokens(inner: ref.HRMInner, count: int, seed: int, dev: torch.device) -> Dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    inp, _ = tb.random_puzzles(count, inner.cfg.grid_size, 0.6, gen)
    return {"inputs": inp.to(dev), "puzzle_identifiers": torch.zeros(count, dtype=torch.int32, device=dev)}


def segments_to_host(inner: ref.HRMInner, batch: Dict[str, torch.Tensor], segments: int, latents: bool, every: bool) -> None:
    """S segments from the initial carry; each segment's outputs (or the last one's) copied to host memory."""
    carry = inner.initial_carry(batch["inputs"].shape[0])
    for k in range(segments):
        carry, logits, (qh, qc) = inner(carry, batch)
        if every or k == segments - 1:
            logits.float().cpu()
            torch.stack((qh, qc), -1).float().cpu()
            if latents:
                carry.z_H.float().cpu()
                carry.z_L.float().cpu()


def cmd_infer(a: argparse.Namespace, dev: torch.device) -> Dict[str, object]:
    inner = load(a.weights, dev)
    batch = tokens(inner, a.batch, a.seed, dev)
    with torch.no_grad():
        run = lambda: segments_to_host(inner, batch, a.segments, a.latents, True)  # noqa: E731
        for _ in range(a.warmup):
            run()
        times = [timed(dev, run) for _ in range(a.runs)]
    return {"batch": a.batch, "segments": a.segments, "latents": a.latents, "puzzle_segments_per_s": rates(times, a.batch * a.segments)}


def cmd_ensemble(a: argparse.Namespace, dev: torch.device) -> Dict[str, object]:
    files = [f for f in a.weights.split(",") if f]
    per = max(1, a.rows // a.relabelings)
    gen = torch.Generator().manual_seed(a.seed)
    n = ref.HRMConfig.from_json(ref._safetensors().load_file(files[0])[1]["config"]).grid_size
    inp, _ = tb.random_puzzles(a.puzzles, n, 0.6, gen)

    def run() -> None:
        for f in files:
            inner = load(f, dev)
            with torch.no_grad():
                for s in range(0, a.puzzles, per):
                    chunk = inp[s:s + per]
                    # K relabelings of each puzzle, side by side in one batch (a digit permutation per copy).
                    rows = []
                    for k in range(a.relabelings):
                        perm = torch.cat((torch.tensor([0, 1]), 2 + torch.randperm(inner.cfg.grid_size, generator=gen)))
                        rows.append(perm[chunk.long()])
                    x = torch.stack(rows, 1).reshape(-1, chunk.shape[1]).to(torch.int32).to(dev)
                    b = {"inputs": x, "puzzle_identifiers": torch.zeros(x.shape[0], dtype=torch.int32, device=dev)}
                    segments_to_host(inner, b, a.segments, False, False)
            del inner

    for _ in range(a.warmup):
        run()
    times = [timed(dev, run) for _ in range(a.runs)]
    work = len(files) * a.puzzles * a.relabelings * a.segments
    return {"checkpoints": len(files), "puzzles": a.puzzles, "relabelings": a.relabelings, "segments": a.segments, "rows": per * a.relabelings,
            "puzzle_segments_per_s": rates(times, work)}


def cmd_train(a: argparse.Namespace, dev: torch.device) -> Dict[str, object]:
    inner, _ = ref.load_checkpoint(a.weights)
    inner = inner.to(dev)
    cfg = inner.cfg
    if a.no_act_continue:
        cfg.no_act_continue = True
    model = ref.HRMACT(cfg, inner=inner)
    gen = torch.Generator().manual_seed(a.seed)
    pool_in, pool_lab = tb.random_puzzles(max(256, a.batch), cfg.grid_size, 0.6, gen)
    cursor = [0]

    def next_batch() -> Dict[str, torch.Tensor]:
        idx = (torch.arange(a.batch) + cursor[0]) % pool_in.shape[0]
        cursor[0] = (cursor[0] + a.batch) % pool_in.shape[0]
        return {"inputs": pool_in[idx].to(dev), "labels": pool_lab[idx].to(dev), "puzzle_identifiers": torch.zeros(a.batch, dtype=torch.int32, device=dev)}

    opt = ref.AdamATan2(list(inner.parameters()), lr=a.lr, betas=(0.9, 0.95), weight_decay=a.wd)
    popt = ref.SignSGD(inner.puzzle_emb, lr=a.lr, weight_decay=a.wd) if cfg.puzzle_emb_len > 0 else None
    batch = next_batch()
    carry = model.initial_carry(batch)
    state = {"carry": carry, "batch": batch}

    def step() -> None:
        state["carry"], _ = ref.train_step(model, state["carry"], state["batch"], opt, popt, a.loss, torch.float32, gen=gen)
        state["batch"] = next_batch()

    times = []
    for _ in range(a.runs):
        for _ in range(a.warmup):
            step()
        times.append(timed(dev, lambda: [step() for _ in range(a.steps)]))
    return {"batch": a.batch, "steps": a.steps, "loss": a.loss, "continue_forward": not cfg.no_act_continue, "steps_per_s": rates(times, a.steps)}


def main(argv: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="torch_backend_plain.py", description="plain PyTorch figures for bench/torch-backend.ts")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("infer", "ensemble", "train"):
        q = sub.add_parser(name)
        q.add_argument("--weights", required=True)
        q.add_argument("--device", default="cpu")
        q.add_argument("--threads", type=int, default=1)
        q.add_argument("--runs", type=int, default=3)
        q.add_argument("--warmup", type=int, default=1)
        q.add_argument("--seed", type=int, default=0)
        q.add_argument(blas_check.ALLOW_FLAG, dest="allow_reference_blas", action="store_true")
        if name == "infer":
            q.add_argument("--batch", type=int, required=True)
            q.add_argument("--segments", type=int, required=True)
            q.add_argument("--latents", action="store_true")
        elif name == "ensemble":
            q.add_argument("--puzzles", type=int, required=True)
            q.add_argument("--relabelings", type=int, required=True)
            q.add_argument("--segments", type=int, required=True)
            q.add_argument("--rows", type=int, default=256)
        else:
            q.add_argument("--batch", type=int, required=True)
            q.add_argument("--steps", type=int, required=True)
            q.add_argument("--loss", choices=["stablemax", "softmax"], default="stablemax")
            q.add_argument("--no-act-continue", action="store_true")
            q.add_argument("--lr", type=float, default=1e-4)
            q.add_argument("--wd", type=float, default=0.1)
    a = p.parse_args(argv)
    dev = torch.device(a.device)
    tb.set_threads(a.threads, a.threads)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    blas = blas_check.check(probe_size=0)
    if dev.type == "cpu":
        blas = blas_check.enforce(blas, a.allow_reference_blas)
    out = {"cmd": a.cmd, "device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas.get("label")}
    if dev.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(dev)
    out.update({"infer": cmd_infer, "ensemble": cmd_ensemble, "train": cmd_train}[a.cmd](a, dev))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
