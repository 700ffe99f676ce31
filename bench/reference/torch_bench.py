#!/usr/bin/python3
"""PyTorch reference CLI for HRM Lens: forward dumps for agreement tests, and CPU training/inference benchmarks.

Usage (Debian's Python with python3-torch; a pyenv `python3` on PATH usually has no torch):

  /usr/bin/python3 bench/reference/torch_bench.py init    --out W.safetensors [model flags] [--seed N]
  /usr/bin/python3 bench/reference/torch_bench.py forward --weights W.safetensors (--tokens T.npy | --puzzles FILE)
                                                          --segments S --out OUT.safetensors [--limit K] [--states]
                                                          [--dtype float32|float64]
  /usr/bin/python3 bench/reference/torch_bench.py bench   [--hidden 128 --batch 32 --grid 9 --threads 1 --runs 5 ...]
                                                          [--weights W.safetensors | --save-weights W.safetensors]
  /usr/bin/python3 bench/reference/torch_bench.py serve   [the flags of bench]; stdin lines `train N` / `infer N` /
                                                          `quit`, one JSON line of wall seconds per request

bench and serve check the BLAS torch runs on first (blas_check.py) and refuse the reference (netlib) BLAS, on which
PyTorch is ~20x slower (exit status 3, the message names the Debian package to install); --allow-reference-blas
measures anyway and labels every figure. The JSON records the BLAS, its threading, a GEMM GFLOP/s probe on the threads
as set (--gemm-probe N, 0: none) and the thread configuration beside the figures.

Model flags (init, bench): --grid --hidden --heads --expansion --inter-multiple --h-layers --l-layers --h-cycles
--l-cycles --halt-max-steps --halt-exploration-prob --positions rope|learned --rope-theta --rms-eps
--puzzle-emb-len --variant hrm|trm. With --weights the config comes from the file's __metadata__["config"].

See bench/reference/README.md for what is measured and the agreement protocol.
"""
from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep bench/reference/ free of __pycache__

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import time
from typing import Dict, List, Optional, Tuple

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_check  # noqa: E402
import hrm_reference as ref  # noqa: E402
import safetensors_io as st  # noqa: E402

FORWARD_FORMAT = "hrm-lens-forward-v1"


# ---------------------------------------------------------------------------------------------------------------
# Environment: torch, BLAS, threads
# ---------------------------------------------------------------------------------------------------------------
def _openblas() -> Optional[ctypes.CDLL]:
    """The BLAS library torch calls (Debian torch: BLAS_INFO=generic -> libblas.so.3), if it is OpenBLAS."""
    for name in ("libblas.so.3", ctypes.util.find_library("blas") or ""):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            continue
    return None


def set_threads(threads: int, blas_threads: int = 1) -> None:
    """torch intra-op (OpenMP) threads AND OpenBLAS's own pool. torch 1.13 (Debian, BLAS_INFO=generic) does not pass
    set_num_threads on to OpenBLAS, which otherwise runs nproc threads inside every matmul: "1 thread" would then
    be 2 threads in every matmul, and torch 2 + OpenBLAS 2 oversubscribes 2 cores (measured 1.6x slower than
    torch 2 + OpenBLAS 1). Default: OpenBLAS 1 thread."""
    torch.set_num_threads(threads)
    lib = _openblas()
    if lib is not None:
        lib.openblas_set_num_threads(blas_threads)


def environment() -> Dict[str, object]:
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    blas_info = f"BLAS_INFO={m.group(1) if m else '?'}"
    cap = next((line.strip(" -") for line in cfg.splitlines() if "CPU capability usage" in line), "?")
    env: Dict[str, object] = {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "torch": torch.__version__,
        "torch_package": _debian_version("python3-torch"),
        "torch_config": f"{blas_info}; {cap}",
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
    }
    lib = _openblas()
    if lib is not None:
        env["openblas"] = {
            "config": lib.openblas_get_config().decode(),
            "kernel": lib.openblas_get_corename().decode(),
            "threads": lib.openblas_get_num_threads(),
        }
    else:
        env["openblas"] = None
    return env


def _debian_version(pkg: str) -> Optional[str]:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------------------------------------------------------
# Puzzles
# ---------------------------------------------------------------------------------------------------------------
def box_shape(n: int) -> Tuple[int, int]:
    rows = 3 if n == 9 else 2
    return rows, n // rows


def random_solution(n: int, gen: torch.Generator) -> torch.Tensor:
    """A valid n×n Sudoku solution (digits 1..n): the pattern grid under random band/row/stack/column/digit
    permutations (Sudoku symmetries, so validity is kept). Not uniform over all grids; fine for timing."""
    br, bc = box_shape(n)
    r = torch.arange(n).view(n, 1)
    c = torch.arange(n).view(1, n)
    base = (bc * (r % br) + r // br + c) % n  # 0..n-1

    def perm(k: int) -> torch.Tensor:
        return torch.randperm(k, generator=gen)

    bands, stacks = n // br, n // bc
    rows = torch.cat([b * br + perm(br) for b in perm(bands).tolist()])
    cols = torch.cat([s * bc + perm(bc) for s in perm(stacks).tolist()])
    digits = perm(n) + 1
    return digits[base[rows][:, cols]]


def random_puzzles(count: int, n: int, blank_frac: float, gen: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels) token tensors [count, n*n]: labels = solution digit + 1; inputs blank (1) with prob blank_frac."""
    sol = torch.stack([random_solution(n, gen).reshape(-1) for _ in range(count)])
    labels = sol + 1
    blank = torch.rand(labels.shape, generator=gen) < blank_frac
    inputs = torch.where(blank, torch.full_like(labels, ref.BLANK_TOKEN), labels)
    return inputs.to(torch.int32), labels.to(torch.int32)


def grid_tokens(text: str, n: int, where: str) -> List[int]:
    if len(text) != n * n:
        raise ValueError(f"{where}: expected {n * n} cells for a {n}×{n} grid, got {len(text)}")
    out = []
    for ch in text:
        if ch in ".0":
            out.append(ref.BLANK_TOKEN)
        elif ch.isdigit() and 1 <= int(ch) <= n:
            out.append(int(ch) + 1)
        else:
            raise ValueError(f"{where}: bad cell {ch!r} (want '.', '0' or 1..{n})")
    return out


def read_puzzles(path: str, n: int, limit: Optional[int]) -> torch.Tensor:
    """Token tensor [B, n*n] from a one-puzzle-per-line file (`<puzzle> [<solution>] [// comment]`) or a CSV
    (header with question/puzzle/quizzes column, e.g. Sudoku-Extreme `source,question,answer,rating`; or headerless
    `question[,answer[,rating]]`)."""
    rows: List[List[int]] = []
    qcol: Optional[int] = None
    with open(path, encoding="utf-8-sig") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split("//", 1)[0].split("#", 1)[0].strip()
            if not line:
                continue
            if lineno == 1 and "," in line:
                cols = [c.strip().strip('"').lower() for c in line.split(",")]
                for name in ("question", "puzzle", "quizzes", "quiz"):
                    if name in cols:
                        qcol = cols.index(name)
                        break
                if qcol is not None:
                    continue
            fields = [x.strip().strip('"') for x in (line.split(",") if "," in line else line.split())]
            cell = fields[qcol if qcol is not None else 0]
            rows.append(grid_tokens(cell, n, f"{path}:{lineno}"))
            if limit is not None and len(rows) >= limit:
                break
    if not rows:
        raise ValueError(f"{path}: no puzzles")
    return torch.tensor(rows, dtype=torch.int32)


def read_tokens_npy(path: str, n: int, limit: Optional[int]) -> torch.Tensor:
    import numpy as np  # Debian python3-numpy, a dependency of python3-torch

    a = np.load(path, allow_pickle=False)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != n * n:
        raise ValueError(f"{path}: expected tokens [B, {n * n}], got shape {list(a.shape)}")
    if a.dtype.kind not in "iu":
        raise ValueError(f"{path}: expected an integer dtype, got {a.dtype}")
    t = torch.from_numpy(a.astype("int32"))
    if limit is not None:
        t = t[:limit]
    if int(t.min()) < 0 or int(t.max()) > n + 1:
        raise ValueError(f"{path}: tokens must be in 0..{n + 1} (0 PAD, 1 blank, digit+1)")
    return t


# ---------------------------------------------------------------------------------------------------------------
# Config from CLI flags
# ---------------------------------------------------------------------------------------------------------------
MODEL_FLAGS = [
    # flag, HRMConfig attribute, type, default (the CPU bench model)
    ("--grid", "grid_size", int, 9),
    ("--hidden", "hidden_size", int, 128),
    ("--heads", "num_heads", int, 4),
    ("--expansion", "expansion", float, 4.0),
    ("--inter-multiple", "inter_multiple", int, 256),
    ("--h-layers", "H_layers", int, 2),
    ("--l-layers", "L_layers", int, 2),
    ("--h-cycles", "H_cycles", int, 2),
    ("--l-cycles", "L_cycles", int, 2),
    ("--halt-max-steps", "halt_max_steps", int, 16),
    ("--halt-exploration-prob", "halt_exploration_prob", float, 0.1),
    ("--positions", "pos_encodings", str, "rope"),
    ("--rope-theta", "rope_theta", float, 10000.0),
    ("--rms-eps", "rms_norm_eps", float, 1e-5),
    ("--puzzle-emb-len", "puzzle_emb_len", int, 1),
    ("--variant", "variant", str, "hrm"),
]


def add_model_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (ignored when --weights is given: the file's config wins)")
    for flag, attr, typ, default in MODEL_FLAGS:
        kw = {"choices": ["rope", "learned"]} if attr == "pos_encodings" else {"choices": ["hrm", "trm"]} if attr == "variant" else {}
        g.add_argument(flag, dest=attr, type=typ, default=None, help=f"default {default}", **kw)


def config_from_flags(a: argparse.Namespace) -> ref.HRMConfig:
    return ref.HRMConfig(**{attr: (getattr(a, attr) if getattr(a, attr) is not None else default)
                            for _, attr, _, default in MODEL_FLAGS})


def explicit_model_flags(a: argparse.Namespace) -> List[str]:
    return [flag for flag, attr, _, _ in MODEL_FLAGS if getattr(a, attr, None) is not None]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_or_init(a: argparse.Namespace) -> Tuple[ref.HRMInner, str]:
    if getattr(a, "weights", None):
        inner, meta = ref.load_checkpoint(a.weights)
        flags = explicit_model_flags(a)
        if flags:
            print(f"note: {', '.join(flags)} ignored: the config comes from {a.weights}", file=sys.stderr)
        unknown = getattr(inner.cfg, "unknown_ts_fields", [])
        if unknown:
            print(f"note: config fields not used by the reference: {', '.join(unknown)}", file=sys.stderr)
        return inner, f"file {a.weights} (sha256 {sha256_file(a.weights)[:16]})"
    cfg = config_from_flags(a)
    return ref.HRMInner(cfg, seed=a.seed), f"random, seed {a.seed}"


# ---------------------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------------------
def test_init(inner: ref.HRMInner, seed: int) -> None:
    """NOT the reference init: make the zero-initialised parts non-trivial so that an agreement test exercises them
    (reference: q_head weight 0 and bias -5, puzzle vector 0, which make q constant and hide the prefix)."""
    g = torch.Generator().manual_seed(seed + 1000)
    D = inner.cfg.hidden_size
    with torch.no_grad():
        ref.trunc_normal_(inner.q_head.weight, std=D ** -0.5, gen=g)
        inner.q_head.bias.copy_(torch.randn(2, generator=g))
        if inner.cfg.puzzle_emb_len > 0:
            ref.trunc_normal_(inner.puzzle_emb.weights, std=1.0, gen=g)


def cmd_init(a: argparse.Namespace) -> None:
    cfg = config_from_flags(a)
    inner = ref.HRMInner(cfg, seed=a.seed)
    if a.test_init:
        test_init(inner, a.seed)
    ref.save_checkpoint(a.out, inner, {"seed": a.seed, "init": "test" if a.test_init else "reference"})
    n = sum(p.numel() for p in inner.parameters())
    print(json.dumps({"out": a.out, "config": cfg.to_ts(), "params": n, "seed": a.seed, "test_init": a.test_init}))


def cmd_forward(a: argparse.Namespace) -> None:
    set_threads(a.threads, a.blas_threads)
    inner, _ = ref.load_checkpoint(a.weights)
    cfg = inner.cfg
    if (a.tokens is None) == (a.puzzles is None):
        raise SystemExit("forward: give exactly one of --tokens T.npy and --puzzles FILE")
    if a.segments < 1:
        raise SystemExit("forward: --segments must be >= 1")
    tokens = read_tokens_npy(a.tokens, cfg.grid_size, a.limit) if a.tokens else read_puzzles(a.puzzles, cfg.grid_size, a.limit)
    if a.dtype == "float64":
        inner = inner.double()  # parameters and buffers (H_init, L_init, RoPE tables) in float64
    t0 = time.perf_counter()
    out = ref.run_segments(inner, tokens, a.segments, keep_states=a.states)
    dt = time.perf_counter() - t0
    out["tokens"] = tokens.to(torch.int32)
    meta = {
        "format": FORWARD_FORMAT,
        "config": cfg.to_json(),
        "segments": str(a.segments),
        "weights_sha256": sha256_file(a.weights),
        "layout": json.dumps({
            "tokens": "I32 [B, cells] (0 PAD, 1 blank, digit+1)",
            "logits": "F32 (F64 with --dtype float64) [segments, B, cells, vocab], lm_head(z_H) without the prefix",
            "q_halt": "F32/F64 [segments, B], q_head(z_H[:, 0])[0]",
            "q_continue": "F32/F64 [segments, B], q_head(z_H[:, 0])[1]",
            "z_H": "F32/F64 [segments, B, prefix+cells, hidden] after each segment (with --states)",
            "z_L": "F32/F64 [segments, B, prefix+cells, hidden] after each segment (with --states)",
        }),
        "producer": f"bench/reference/torch_bench.py forward, torch {torch.__version__}",
        "threads": str(torch.get_num_threads()),
        "dtype": a.dtype,
    }
    st.save_file(a.out, {k: v.contiguous() for k, v in out.items()}, meta)
    print(json.dumps({"out": a.out, "puzzles": int(tokens.shape[0]), "segments": a.segments, "seconds": round(dt, 3),
                      "logits": list(out["logits"].shape), "states": a.states}))


def stats(xs: List[float]) -> Dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def rate_stats(times: List[float], per: float) -> Dict[str, float]:
    """Throughput stats (per / time) for a list of times: median rate = per / median time."""
    return {"median": per / statistics.median(times), "min": per / max(times), "max": per / min(times), "n": len(times)}


class BenchSession:
    """The model, optimizers, data and carries of `bench` and `serve`: a training step and an inference segment, each
    timed (wall seconds) by its caller. Training takes the next `batch` puzzles of a generated pool (only halted slots
    take them); inference is free-running no-grad segments on a fixed batch of `infer_batch` puzzles.

    First of all, the BLAS torch runs on (blas_check.py): on the reference BLAS the session refuses (exit status
    blas_check.EXIT_REFERENCE_BLAS, the message names the package to install) unless --allow-reference-blas. `blas`
    holds the check, with the threads as set here and a GEMM GFLOP/s probe on them; `threads` the configuration asked
    for (torch intra-op threads, BLAS threads, the thread variables the process was started with)."""

    def __init__(self, a: argparse.Namespace) -> None:
        set_threads(a.threads, a.blas_threads)
        self.blas = blas_check.enforce(blas_check.check(probe_size=a.gemm_probe), a.allow_reference_blas)
        self.threads = {"torch": a.threads, "blas": a.blas_threads,
                        "env": {k: os.environ.get(k) for k in blas_check.THREAD_ENV if os.environ.get(k) is not None}}
        torch.manual_seed(a.seed)
        self.inner, self.weights_src = load_or_init(a)
        self.cfg = self.inner.cfg
        if a.no_act_continue:
            self.cfg.no_act_continue = True
        if a.save_weights:
            ref.save_checkpoint(a.save_weights, self.inner, {"seed": a.seed, "init": "reference"})
        self.model = ref.HRMACT(self.cfg, inner=self.inner)
        self.gen = torch.Generator().manual_seed(a.seed + 1)
        self.a = a
        self.pool_in, self.pool_lab = random_puzzles(max(a.pool, a.batch), self.cfg.grid_size, a.blank_frac, self.gen)
        self.pool_ids = torch.zeros(self.pool_in.shape[0], dtype=torch.int32)
        self.cursor = 0
        self.opt = ref.AdamATan2(list(self.inner.parameters()), lr=a.lr, betas=(0.9, 0.95), weight_decay=a.wd)
        self.popt = ref.SignSGD(self.inner.puzzle_emb, lr=a.lr, weight_decay=a.wd) if self.cfg.puzzle_emb_len > 0 else None
        self.loss_dtype = torch.float64 if a.loss_dtype == "float64" else torch.float32
        self.batch = self.next_batch(a.batch)
        self.carry = self.model.initial_carry(self.batch)
        self.infer_batch: Optional[Dict[str, torch.Tensor]] = None
        self.infer_carry = None

    def next_batch(self, b: int) -> Dict[str, torch.Tensor]:
        idx = (torch.arange(b) + self.cursor) % self.pool_in.shape[0]
        self.cursor = (self.cursor + b) % self.pool_in.shape[0]
        return {"inputs": self.pool_in[idx], "labels": self.pool_lab[idx], "puzzle_identifiers": self.pool_ids[idx]}

    def train_step(self) -> float:
        """One training step; returns its loss."""
        self.carry, m = ref.train_step(self.model, self.carry, self.batch, self.opt, self.popt, self.a.loss, self.loss_dtype, gen=self.gen)
        self.batch = self.next_batch(self.a.batch)
        return float(m["loss"])

    def infer_segment(self) -> None:
        """One no-grad segment on the inference batch, from the previous segment's carry."""
        if self.infer_batch is None:
            ib = self.a.infer_batch
            inp, _ = random_puzzles(ib, self.cfg.grid_size, self.a.blank_frac, self.gen)
            self.infer_batch = {"inputs": inp, "puzzle_identifiers": torch.zeros(ib, dtype=torch.int32)}
            self.infer_carry = self.inner.initial_carry(ib)
        self.inner.eval()
        with torch.no_grad():
            self.infer_carry, _, _ = self.inner(self.infer_carry, self.infer_batch)
        self.inner.train()


def cmd_bench(a: argparse.Namespace) -> None:
    if a.batch < 1 or a.runs < 0 or a.warmup < 0 or a.infer_batch < 1 or a.infer_runs < 0 or a.threads < 1 or a.blas_threads < 1:
        raise SystemExit("bench: --batch, --infer-batch, --threads, --blas-threads >= 1; --runs, --warmup, --infer-runs >= 0")
    load_start = os.getloadavg()
    b = BenchSession(a)
    inner, cfg = b.inner, b.cfg

    result: Dict[str, object] = {}
    train_wall: List[float] = []
    train_cpu: List[float] = []
    losses: List[float] = []
    if a.runs > 0:
        for i in range(a.warmup + a.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            loss = b.train_step()
            w1, c1 = time.perf_counter(), time.process_time()
            losses.append(loss)
            if i >= a.warmup:
                train_wall.append(w1 - w0)
                train_cpu.append(c1 - c0)
        result["train"] = {
            "step_seconds": stats(train_wall),
            "steps_per_s": rate_stats(train_wall, 1.0),
            "cpu_seconds_per_step": stats(train_cpu),
            "cpu_over_wall": statistics.median(c / w for c, w in zip(train_cpu, train_wall)),
            "warmup": a.warmup,
            "losses": [round(x, 5) for x in losses],
            "continue_forward": not cfg.no_act_continue,
        }
    result["peak_rss_mib_after_train"] = round(peak_rss_mib(), 1)

    infer_wall: List[float] = []
    if a.infer_runs > 0:
        for i in range(a.infer_warmup + a.infer_runs):
            w0 = time.perf_counter()
            b.infer_segment()
            w1 = time.perf_counter()
            if i >= a.infer_warmup:
                infer_wall.append(w1 - w0)
        result["infer"] = {
            "batch": a.infer_batch,
            "segment_seconds": stats(infer_wall),
            "puzzle_segments_per_s": rate_stats(infer_wall, float(a.infer_batch)),
            "warmup": a.infer_warmup,
        }
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)

    n_params = sum(p.numel() for p in inner.parameters())
    report = {
        "what": "HRM reference (PyTorch) CPU bench: one training step = one ACT segment with the one-step gradient "
                "(HRM) / last-cycle gradient (TRM), stablemax|softmax CE + 0.5·(q_halt BCE + q_continue BCE with "
                "the extra no-grad forward for the continue target, HRM), AdamATan2 + puzzle-emb sign-SGD step; "
                "inference = one no-grad segment",
        "config": cfg.to_ts(),
        "no_act_continue": cfg.no_act_continue,
        "inter": cfg.inter_size,
        "params": n_params,
        "weights": b.weights_src,
        "batch": a.batch,
        "loss": a.loss,
        "loss_dtype": a.loss_dtype,
        "lr": a.lr,
        "wd": a.wd,
        **result,
        "blas": b.blas,
        "threads": b.threads,
        "environment": environment(),
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


def cmd_serve(a: argparse.Namespace) -> None:
    """Times training steps and inference segments on request, for bench/paired.ts (which alternates this process with
    the engine so that both are measured in the same minutes of the VM). Reads lines from stdin: `train N`,
    `infer N`, `quit`; answers each with one JSON line on stdout: {"seconds": [wall seconds of each step/segment]}
    (or {"error": ...}). The first line written is {"ready": true, ...} once the model is built."""
    if a.batch < 1 or a.infer_batch < 1 or a.threads < 1 or a.blas_threads < 1:
        raise SystemExit("serve: --batch, --infer-batch, --threads, --blas-threads >= 1")
    b = BenchSession(a)
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "thread_config": b.threads, "blas": b.blas,
                      "params": sum(p.numel() for p in b.inner.parameters())}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        if parts[0] not in ("train", "infer") or len(parts) != 2 or not parts[1].isdigit():
            print(json.dumps({"error": f"stdin: unknown request {line.strip()!r} (train N | infer N | quit)"}), flush=True)
            continue
        run = b.train_step if parts[0] == "train" else b.infer_segment
        secs: List[float] = []
        for _ in range(int(parts[1])):
            w0 = time.perf_counter()
            run()
            secs.append(time.perf_counter() - w0)
        print(json.dumps({"seconds": secs, "loadavg": os.getloadavg()[0]}), flush=True)


def threads_flags(q: argparse.ArgumentParser) -> None:
    q.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    q.add_argument("--blas-threads", type=int, default=1,
                   help="OpenBLAS threads (default 1; torch 1.13 does not set them, OpenBLAS would use nproc)")


def session_flags(pb: argparse.ArgumentParser) -> None:
    """The flags of `bench` and `serve`: model, data, optimizer, threads."""
    add_model_flags(pb)
    pb.add_argument("--weights", help="start from these weights (config from the file)")
    pb.add_argument("--save-weights", help="save the initial weights (engine layout) for the TS side")
    pb.add_argument("--seed", type=int, default=0)
    pb.add_argument("--batch", type=int, default=32)
    pb.add_argument("--runs", type=int, default=5, help="timed training steps (0: skip training)")
    pb.add_argument("--warmup", type=int, default=2, help="untimed training steps first")
    pb.add_argument("--infer-batch", type=int, default=256)
    pb.add_argument("--infer-runs", type=int, default=3, help="timed inference segments (0: skip)")
    pb.add_argument("--infer-warmup", type=int, default=1)
    pb.add_argument("--loss", choices=["stablemax", "softmax"], default="stablemax")
    pb.add_argument("--loss-dtype", choices=["float64", "float32"], default="float64",
                    help="dtype of the stablemax/softmax CE (reference: float64 stablemax)")
    pb.add_argument("--no-act-continue", action="store_true",
                    help="TRM-style halting: no continue loss, no extra forward (default for --variant trm)")
    pb.add_argument("--lr", type=float, default=1e-4)
    pb.add_argument("--wd", type=float, default=0.1)
    pb.add_argument("--blank-frac", type=float, default=0.6, help="fraction of blank cells in generated puzzles")
    pb.add_argument("--pool", type=int, default=256, help="generated puzzles cycled through as training data")
    pb.add_argument("--out", help="also write the JSON here")
    pb.add_argument("--gemm-probe", type=int, default=512,
                    help="n of the n×n float32 GEMM GFLOP/s probe recorded with the BLAS (0: none)")
    pb.add_argument(blas_check.ALLOW_FLAG, dest="allow_reference_blas", action="store_true",
                    help="measure even on the reference (netlib) BLAS; every figure is then labelled (default: refuse)")
    threads_flags(pb)


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="/usr/bin/python3 bench/reference/torch_bench.py",
                                description="PyTorch reference for HRM Lens: init weights, forward dumps, CPU bench.")
    sub = p.add_subparsers(dest="cmd", required=True)

    pi = sub.add_parser("init", help="write random reference weights (engine layout safetensors)")
    add_model_flags(pi)
    pi.add_argument("--seed", type=int, default=0)
    pi.add_argument("--test-init", action="store_true",
                    help="random q_head and puzzle vector (not the reference's 0/-5/0) so agreement tests cover them")
    pi.add_argument("--out", required=True)
    pi.set_defaults(func=cmd_init)

    pf = sub.add_parser("forward", help="S segments from H_init/L_init, no halting; per-segment logits and q")
    pf.add_argument("--weights", required=True, help="engine-layout safetensors with __metadata__.config")
    pf.add_argument("--tokens", help=".npy integer tokens [B, cells] (0 PAD, 1 blank, digit+1)")
    pf.add_argument("--puzzles", help="one-puzzle-per-line file or CSV ('.'/'0' blank)")
    pf.add_argument("--limit", type=int, default=None, help="first K puzzles only")
    pf.add_argument("--segments", type=int, required=True)
    pf.add_argument("--states", action="store_true", help="also store z_H, z_L after each segment")
    pf.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                    help="compute (and store) in this dtype; float64 gives a rounding-free yardstick")
    pf.add_argument("--out", required=True)
    threads_flags(pf)
    pf.set_defaults(func=cmd_forward)

    pb = sub.add_parser("bench", help="training steps/s, inference puzzle-segments/s, peak RSS (JSON)")
    session_flags(pb)
    pb.set_defaults(func=cmd_bench)

    ps = sub.add_parser("serve", help="time training steps / inference segments on request (stdin lines; bench/paired.ts)")
    session_flags(ps)
    ps.set_defaults(func=cmd_serve)

    a = p.parse_args(argv)
    try:
        a.func(a)
    except (ValueError, st.SafetensorsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
