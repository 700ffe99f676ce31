#!/usr/bin/env python3
"""PyTorch side of bench/gpu-check.sh: the reference HRM (hrm_reference.py, same architecture and config as the TS
bench model) on any torch device, e.g. CUDA. Prints one JSON object:
  train      steps/s of a one-segment training step (the reference's one-step-gradient forward, cross-entropy on the
             logits, AdamW) at batch 32; NOT the full ACT step of torch_bench.py (no Q-head targets): close in cost
  infer      puzzle-segments/s, one no-grad segment at batch 256
  capture27m seconds for 16 no-grad segments of one 9×9 puzzle at the 27M configuration (hidden 512, 8 heads, 4+4)
Usage: python3 bench/reference/torch_device_bench.py [--device cuda] [--runs 5] [--allow-reference-blas]
Runs on CPU too (--device cpu), which is how it was checked: no GPU machine was available to this project. The JSON
records the BLAS torch's CPU side runs on (blas_check.py); with --device cpu on the reference BLAS it refuses (exit
status 3, the message names the Debian package to install) unless --allow-reference-blas."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import blas_check  # noqa: E402
import hrm_reference as ref  # noqa: E402
import torch_bench as tb  # noqa: E402


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(dev: torch.device, fn) -> float:
    sync(dev)
    t = time.perf_counter()
    fn()
    sync(dev)
    return time.perf_counter() - t


def median(xs):
    s = sorted(xs)
    return s[(len(s) - 1) // 2]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument(blas_check.ALLOW_FLAG, dest="allow_reference_blas", action="store_true",
                   help="with --device cpu: measure even on the reference (netlib) BLAS, labelled (default: refuse)")
    a = p.parse_args()
    dev = torch.device(a.device)
    gen = torch.Generator().manual_seed(1)
    # The CPU's BLAS matters only when the figures are the CPU's; on a GPU it is recorded, not enforced.
    blas = blas_check.check(probe_size=512 if dev.type == "cpu" else 0)
    if dev.type == "cpu":
        blas = blas_check.enforce(blas, a.allow_reference_blas)
    out = {"device": str(dev), "torch": torch.__version__, "blas": blas,
           "threads": {"torch": torch.get_num_threads(), "env": {k: v for k, v in ((k, os.environ.get(k)) for k in blas_check.THREAD_ENV) if v is not None}}}
    if dev.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(dev)

    cfg = ref.HRMConfig(grid_size=9, hidden_size=128, num_heads=4, H_layers=2, L_layers=2)
    inner = ref.HRMInner(cfg, seed=0).to(dev)
    inp, lab = tb.random_puzzles(32, 9, 0.6, gen)
    batch = {"inputs": inp.to(dev), "puzzle_identifiers": torch.zeros(32, dtype=torch.int32, device=dev)}
    labels = lab.to(dev).long()
    opt = torch.optim.AdamW(inner.parameters(), lr=1e-4)

    def step():
        carry = inner.initial_carry(32)
        _, logits, _ = inner(carry, batch)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad()

    inner.train()
    for _ in range(2):
        step()
    t = [timed(dev, step) for _ in range(a.runs)]
    out["train"] = {"steps_per_s": [1 / x for x in t], "median": 1 / median(t)}

    inner.eval()
    inp2, _ = tb.random_puzzles(256, 9, 0.6, gen)
    b2 = {"inputs": inp2.to(dev), "puzzle_identifiers": torch.zeros(256, dtype=torch.int32, device=dev)}
    with torch.no_grad():
        c = inner.initial_carry(256)
        inner(c, b2)
        t = [timed(dev, lambda: inner(inner.initial_carry(256), b2)) for _ in range(a.runs)]
    out["infer"] = {"puzzle_segments_per_s": [256 / x for x in t], "median": 256 / median(t)}

    big = ref.HRMInner(ref.HRMConfig(grid_size=9, hidden_size=512, num_heads=8, H_layers=4, L_layers=4), seed=0).to(dev).eval()
    b1 = {"inputs": inp2[:1].to(dev), "puzzle_identifiers": torch.zeros(1, dtype=torch.int32, device=dev)}

    def capture():
        c1 = big.initial_carry(1)
        for _ in range(16):
            c1, _, _ = big(c1, b1)

    with torch.no_grad():
        capture()
        t = [timed(dev, capture) for _ in range(max(1, a.runs // 2))]
    out["capture27m"] = {"seconds": t, "median": median(t)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
