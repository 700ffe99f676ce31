"""The torch trainer: `python -m torch.distributed.run … -m hrm_lens_torch.train --job JOB` (hrm-lens train --backend
torch builds the command line; engine/torch/train-launch.ts). The engine's training step (engine/train/trainer.ts),
with the batch's slots split over the processes:

  1. every slot that halted at step t-1 takes the next draw (the draw counter runs over the whole batch in slot order,
     so the data is the engine's for any number of processes) and its carry is reset to H_init / L_init;
  2. per micro-batch, the segment's off-tape part, then the last L and H calls (TRM: the last H-cycle) under
     DistributedDataParallel; loss = (token CE + 0.5 (BCE(q_halt, exact) + BCE(q_continue, sigma(next Q)))) / batch,
     the continue target from an extra forward pass without gradient (HRM with actContinue); gradients are summed
     over micro-batches and processes;
  3. AdamATan2 on the trainable weights, sign-SGD on the puzzle embedding (the engine's learning rates, from the
     feed), optional EMA;
  4. halting by the Q rule with the engine's exploration floors (from the feed), then the halted flags of every
     process are gathered: every process knows the whole batch.
With job "dtype" "bf16" (hrm-lens train --dtype bf16) the step is mixed-precision: the forward passes (and so the
backward) run under torch.autocast in bfloat16, the attention softmax and the Q head in float32 (model.py), the losses
in float32 outside the autocast region; weights, gradients, optimizer state, carry and checkpoints stay float32.
Metrics are summed over the processes. Each node's local rank 0 prints one line per event on stdout, "@hrm-lens-train "
+ JSON: hello, step (the metrics.jsonl record and the draw counter), checkpoint, done; everything else goes to stderr.
The process that writes the run folder (job "writesRun", local rank 0) writes the checkpoints (runfolder.py): weights
in PyTorch layout, optimizer state in the engine's layout, so the engine resumes the run and this trainer resumes
the engine's runs. Stops after the current step on SIGINT / SIGTERM, a "stop" file in the feed, or when the engine
process that started it is gone; a checkpoint is written then too.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import time
from datetime import datetime, timezone
from typing import Dict, List, Mapping, Optional, Set, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .checkpoint import load_checkpoint
from .config import ModelConfig
from .feed import Feed
from .model import HrmTorch
from .optim import AdamATan2, Ema, SignSGD, from_memory, to_memory
from .runfolder import load_optimizer_state, metrics_number, optim_file_of, pick_state, round4, save_checkpoint

EVENT_PREFIX = "@hrm-lens-train "


def log(msg: str) -> None:
    sys.stderr.write(f"hrm_lens_torch.train: {msg}\n")
    sys.stderr.flush()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="hrm_lens_torch.train")
    ap.add_argument("--job", required=True, help="the job file written by hrm-lens train --backend torch")
    args = ap.parse_args(argv)
    with open(args.job, "r", encoding="utf-8") as f:
        job = json.load(f)
    trainer: Optional[Trainer] = None
    try:
        trainer = Trainer(job)
        return trainer.run()
    except Exception as e:
        # Every process reports its own failure as an event too: the engine names the first one.
        message = f"{type(e).__name__}: {e}" if not isinstance(e, (ValueError, RuntimeError)) else str(e)
        rank = int(os.environ.get("RANK", "0"))
        try:
            sys.stdout.write(EVENT_PREFIX + json.dumps({"event": "error", "rank": rank, "message": message}) + "\n")
            sys.stdout.flush()
        except OSError:
            pass
        raise
    finally:
        if trainer is not None:
            trainer.close()


def _schedule(variant: str, h_cycles: int, l_cycles: int) -> List[str]:
    steps: List[str] = []
    for _ in range(h_cycles):
        steps.extend(["L"] * l_cycles)
        steps.append("H")
    return steps


class Trainer:
    def __init__(self, job: Mapping[str, object]):
        self.job = job
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.speaker = self.local_rank == 0
        self.writer = bool(job.get("writesRun")) and self.local_rank == 0
        self.stop = False
        self.parent_pid = int(job.get("parentPid", 0) or 0)
        self._install_signals()

        threads = job.get("threads")
        if isinstance(threads, int) and threads > 0:
            torch.set_num_threads(threads)
        self.device, dist_backend = self._pick_device(str(job.get("device", "auto")))
        self.dist_backend = dist_backend
        if self.world > 1 or "MASTER_ADDR" in os.environ:
            dist.init_process_group(backend=dist_backend)
            self.distributed = True
        else:
            self.distributed = False

        train = job["train"]
        assert isinstance(train, dict)
        self.train = train
        self.B = int(train["batch"])
        if self.B % self.world:
            raise ValueError(f"the batch ({self.B} slots) is not a multiple of the {self.world} processes")
        self.Bl = self.B // self.world
        self.lo = self.rank * self.Bl
        self.total_steps = int(job["totalSteps"])
        self.seed = int(job["seed"])
        self.keep_last = train.get("keepLast")
        self.every = int(train["checkpointEvery"])
        self.loss_type = str(train.get("lossType", "stablemax"))
        self.act_continue = train.get("actContinue") is not False
        self.micro = int(train["microBatch"]) if train.get("microBatch") else self.Bl
        self.micro = max(1, min(self.Bl, self.micro))

        # Weights: the checkpoint to start from (a new run's initial weights, or the checkpoint resumed).
        start = str(job["checkpoint"])
        config, weights = load_checkpoint(start)
        self.config: ModelConfig = config
        c = config
        self.cells = c.cells
        self.S = c.total_len
        self.D = c.hidden
        shapes = c.weight_shapes()
        self.shapes = shapes
        self.linear: Set[str] = set(job["linearNames"])  # type: ignore[arg-type]
        self.trainable: List[str] = list(job["trainableNames"])  # type: ignore[arg-type]
        self.puzzle_name = "puzzle_emb.weights" if c.puzzleEmbLen > 0 else None
        self.model = HrmTorch(config, weights, self.device)
        self.dtype = str(job.get("dtype") or "fp32")
        if self.dtype not in ("fp32", "bf16"):
            raise ValueError(f'--dtype must be fp32 or bf16, got "{self.dtype}"')
        if self.dtype == "bf16" and self.device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise RuntimeError(f"--dtype bf16: {torch.cuda.get_device_name(self.device)} has no bfloat16 support")
        self.model.autocast = self.device.type if self.dtype == "bf16" else None
        grad_names = self.trainable + ([self.puzzle_name] if self.puzzle_name else [])
        self.module = _TapedSegment(self.model, grad_names)
        self.ddp = None
        if self.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = DDP(self.module, device_ids=ids, broadcast_buffers=False)
            # Gradients are summed over processes (each process's loss is its slots' sum / the global batch).
            self.ddp.register_comm_hook(None, _sum_hook)

        w = self.model.w
        self.adam = AdamATan2({n: w[n] for n in self.trainable}, weight_decay=float(train["weightDecay"]))
        self.sign = SignSGD({self.puzzle_name: w[self.puzzle_name]}, float(train["puzzleEmbWeightDecay"])) if self.puzzle_name else None
        self.ema = Ema({n: w[n] for n in self.trainable}, float(train["ema"])) if train.get("ema") is not None else None

        # Slots: this process's share of the batch, plus the whole batch's halted flags.
        self.tokens = torch.zeros(self.Bl, self.cells, dtype=torch.long, device=self.device)
        self.labels = torch.zeros(self.Bl, self.cells, dtype=torch.long, device=self.device)
        self.slot_steps = np.zeros(self.Bl, dtype=np.int32)
        self.halted = np.ones(self.B, dtype=np.uint8)
        self.zH, self.zL = self.model.initial_carry(self.Bl)
        self.draw_counter = 0
        self.step = 0
        if job.get("resume"):
            self._restore(start)
        feed = job["feed"]
        assert isinstance(feed, dict)
        self.feed = Feed(str(feed["dir"]), self.cells, self.B, int(feed["drawChunk"]), int(feed["stepChunk"]),
                         float(feed.get("timeoutSeconds", 600)))
        self.run_dir = str(job.get("runDir", ""))
        self.emit({"event": "hello", "torch": torch.__version__, "python": platform.python_version(),
                   "device": str(self.device), "distBackend": dist_backend if self.distributed else None,
                   "worldSize": self.world, "rank": self.rank, "step": self.step})

    # --- set-up ---------------------------------------------------------------------------------------------------
    def _install_signals(self) -> None:
        def handler(signum, _frame):
            if self.stop:
                raise KeyboardInterrupt
            self.stop = True
            log(f"signal {signum}: stopping after this step (with a checkpoint)")
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, handler)

    def _pick_device(self, want: str):
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError("--device cuda: CUDA is not available to this PyTorch")
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank), "nccl"
        if want != "cpu":
            raise RuntimeError(f"--device {want}: training runs on cuda or cpu")
        return torch.device("cpu"), "gloo"

    def _restore(self, checkpoint: str) -> None:
        path = optim_file_of(checkpoint)
        try:
            self._restore_from(path)
        except ValueError as e:
            raise ValueError(f"{path}: {e}" if path not in str(e) else str(e)) from None

    def _restore_from(self, path: str) -> None:
        state, arrays = load_optimizer_state(path, int(self.job["startStep"]))  # type: ignore[arg-type]
        adam = pick_state(state, arrays, "adam")
        if adam is None:
            raise ValueError(f"{path}: the optimizer state has no AdamATan2 part")
        self.adam.load_state(adam[0], adam[1], self.linear)
        ema = pick_state(state, arrays, "ema")
        if self.ema is not None and ema is not None:
            self.ema.load_state(ema[0], ema[1], self.linear)
        raw = pick_state(state, arrays, "raw")
        if raw is not None:
            # The checkpoint holds the EMA average; the raw weights continue the training.
            with torch.no_grad():
                for name, p in self.model.w.items():
                    if name not in raw[1]:
                        raise ValueError(f'{path}: the optimizer state lacks the raw weight "{name}"')
                    p.copy_(torch.from_numpy(from_memory(name, raw[1][name], list(p.shape), self.linear, path).copy()))
        slots = pick_state(state, arrays, "slots")
        if slots is None:
            raise ValueError(f"{path}: the optimizer state has no slot part")
        js, a = slots
        B, cells, S, D = self.B, self.cells, self.S, self.D
        want = {"tokens": (np.int32, B * cells), "labels": (np.int32, B * cells), "steps": (np.int32, B),
                "halted": (np.uint8, B), "zH": (np.float32, B * S * D), "zL": (np.float32, B * S * D)}
        for k, (dt, n) in want.items():
            if k not in a or a[k].dtype != dt or a[k].size != n:
                raise ValueError(f'{path}: slots/{k} must be {np.dtype(dt).name} with {n} elements (batch {B})')
        lo, hi = self.lo, self.lo + self.Bl
        self.tokens = torch.from_numpy(a["tokens"].reshape(B, cells)[lo:hi].astype(np.int64)).to(self.device)
        self.labels = torch.from_numpy(a["labels"].reshape(B, cells)[lo:hi].astype(np.int64)).to(self.device)
        self.slot_steps = a["steps"].reshape(B)[lo:hi].copy()
        self.halted = a["halted"].reshape(B).copy()
        self.zH = torch.from_numpy(a["zH"].reshape(B, S, D)[lo:hi].copy()).to(self.device)
        self.zL = torch.from_numpy(a["zL"].reshape(B, S, D)[lo:hi].copy()).to(self.device)
        self.draw_counter = int(js.get("drawCounter", 0))  # type: ignore[arg-type]
        self.step = int(self.job["startStep"])  # type: ignore[arg-type]

    def _autocast(self):
        """The mixed-precision region of a forward pass (bf16), or nothing (fp32). Each region is entered afresh: the
        autocast cache of cast weights is dropped when it ends, so a cast made without gradient is never reused with one."""
        if self.model.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(self.model.autocast, dtype=torch.bfloat16)

    # --- output ---------------------------------------------------------------------------------------------------
    def emit(self, event: Mapping[str, object]) -> None:
        if not self.speaker:
            return
        try:
            sys.stdout.write(EVENT_PREFIX + json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            self.stop = True

    # --- the loop -------------------------------------------------------------------------------------------------
    def run(self) -> int:
        stopped = False
        while self.step < self.total_steps:
            if self._should_stop():
                stopped = True
                break
            record = self.train_step()
            self.emit({"event": "step", "record": record, "drawCounter": self.draw_counter})
            if self.step % self.every == 0 and self.step != self.total_steps:
                self.checkpoint(final=False)
        final = self.checkpoint(final=True)
        self.emit({"event": "done", "step": self.step, "stopped": stopped, "checkpoint": final})
        if self.speaker and not _alive(self.parent_pid):
            # Nobody is left to remove the feed.
            shutil.rmtree(self.feed.folder, ignore_errors=True)
        return 0

    def _should_stop(self) -> bool:
        """Every process's reasons to stop, combined: all stop at the same step."""
        local = self.stop or self.feed.stop_requested() or not _alive(self.parent_pid)
        if not self.distributed:
            return local
        flag = torch.tensor([1.0 if local else 0.0], dtype=torch.float64, device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item() > 0)

    def train_step(self) -> Dict[str, object]:
        t0 = time.perf_counter()
        c = self.config
        B, Bl, cells = self.B, self.Bl, self.cells
        self.step += 1
        t = self.step
        lr, puzzle_lr, floors = self.feed.step(t)

        # 1. refill: the draw counter runs over the whole batch in slot order.
        reset = np.zeros(Bl, dtype=bool)
        k = self.draw_counter
        new_tok: List[np.ndarray] = []
        new_lab: List[np.ndarray] = []
        for b in range(B):
            if not self.halted[b]:
                continue
            if self.lo <= b < self.lo + Bl:
                x, y = self.feed.draw(k)
                new_tok.append(x)
                new_lab.append(y)
                reset[b - self.lo] = True
            k += 1
        self.draw_counter = k
        if reset.any():
            idx = torch.from_numpy(np.nonzero(reset)[0]).to(self.device)
            self.tokens[idx] = torch.from_numpy(np.stack(new_tok)).to(self.device)
            self.labels[idx] = torch.from_numpy(np.stack(new_lab)).to(self.device)
            self.slot_steps[reset] = 0
            h0, l0 = self.model.initial_carry(int(reset.sum()))
            self.zH[idx] = h0
            self.zL[idx] = l0

        # 2. forward + backward per micro-batch
        for p in self.module.parameters():
            p.grad = None
        is_last_all = (self.slot_steps + 1 >= c.haltMaxSteps)
        q_halt = torch.empty(Bl, device=self.device)
        q_cont = torch.empty(Bl, device=self.device)
        pred = torch.empty(Bl, cells, dtype=torch.long, device=self.device)
        new_h = torch.empty_like(self.zH)
        new_l = torch.empty_like(self.zL)
        sums = np.zeros(4)  # loss, lm, q_halt, q_continue
        steps = _schedule(c.variant, c.H_cycles, c.L_cycles)
        taped = (c.L_cycles + 1) if c.variant == "trm" else 2
        off_steps, on_steps = steps[:len(steps) - taped], steps[len(steps) - taped:]
        self.module.on_steps = on_steps
        starts = list(range(0, Bl, self.micro))
        for n, s in enumerate(starts):
            e = min(Bl, s + self.micro)
            tok, lab = self.tokens[s:e], self.labels[s:e]
            with torch.no_grad(), self._autocast():
                x = self.model.embed(tok)
                mh, ml = _run_steps(self.model, self.zH[s:e], self.zL[s:e], x, off_steps)
            sync = n == len(starts) - 1
            ctx = self.ddp.no_sync() if (self.ddp is not None and not sync) else contextlib.nullcontext()
            with ctx:
                net = self.ddp if self.ddp is not None else self.module
                with self._autocast():
                    zh, zl, logits, q = net(mh, ml, tok)
                with torch.no_grad():
                    p_arg = logits.argmax(-1)
                    exact = (p_arg == lab).all(-1).float()
                    cont_target = None
                    if c.variant == "hrm" and self.act_continue:
                        with self._autocast():
                            _, _, _, qn = self.model.segment(zh.detach(), zl.detach(), self.model.embed(tok))
                        last = torch.from_numpy(is_last_all[s:e]).to(self.device)
                        nh, nc = qn[:, 0].double(), qn[:, 1].double()
                        cont_target = torch.sigmoid(torch.where(last, nh, torch.maximum(nh, nc))).float()
                total, lm, qh, qc = _hrm_loss(logits, lab, q[:, 0], q[:, 1], exact, cont_target, self.loss_type, B)
                total.backward()
            sums += [total.item(), lm.item(), qh.item(), qc.item()]
            q_halt[s:e] = q[:, 0].detach()
            q_cont[s:e] = q[:, 1].detach()
            pred[s:e] = p_arg
            new_h[s:e] = zh.detach()
            new_l[s:e] = zl.detach()
        self.zH, self.zL = new_h, new_l

        # 3. optimizer steps
        self.adam.step(lr)
        if self.sign is not None:
            self.sign.step(puzzle_lr)
        if self.ema is not None:
            self.ema.update()

        # 4. halting (the engine's rule, its exploration floors) and metrics
        self.slot_steps += 1
        qh_np = q_halt.cpu().numpy()
        qc_np = q_cont.cpu().numpy()
        halt_only = c.variant == "trm" or not self.act_continue
        my_floors = floors[self.lo:self.lo + Bl]
        halted_local = np.zeros(Bl, dtype=np.uint8)
        for b in range(Bl):
            is_last = self.slot_steps[b] >= c.haltMaxSteps
            h = is_last or (qh_np[b] > 0 if halt_only else qh_np[b] > qc_np[b])
            if my_floors[b] > 0 and self.slot_steps[b] < my_floors[b] and not is_last:
                h = False
            halted_local[b] = 1 if h else 0
        right = (pred == self.labels).sum(-1).cpu().numpy()
        H = c.haltMaxSteps
        # [loss, lm, qh, qc, halted, exact, cellSum, stepsSum, batchCells, segSlots[H], segExact[H]]
        vec = np.zeros(9 + 2 * H)
        vec[0:4] = sums
        for b in range(Bl):
            frac = right[b] / cells
            vec[8] += frac
            seg = min(H, int(self.slot_steps[b])) - 1
            vec[9 + seg] += 1
            if right[b] == cells:
                vec[9 + H + seg] += 1
            if halted_local[b]:
                vec[4] += 1
                vec[6] += frac
                if right[b] == cells:
                    vec[5] += 1
                vec[7] += self.slot_steps[b]
        if self.distributed:
            tv = torch.from_numpy(vec).to(self.device)
            dist.all_reduce(tv)
            vec = tv.cpu().numpy()
            self.halted = self._all_gather_np(halted_local)
        else:
            self.halted = halted_local.copy()
        n_h = int(round(vec[4]))
        nan = float("nan")
        seg_slots, seg_exact = vec[9:9 + H], vec[9 + H:9 + 2 * H]
        return {
            "step": t, "lr": lr, "loss": metrics_number(vec[0]), "lmLoss": metrics_number(vec[1]),
            "qHaltLoss": metrics_number(vec[2]), "qContinueLoss": metrics_number(vec[3]), "halted": n_h,
            "exactAccuracy": metrics_number(vec[5] / n_h if n_h else nan),
            "cellAccuracy": metrics_number(vec[6] / n_h if n_h else nan),
            "meanSteps": metrics_number(vec[7] / n_h if n_h else nan),
            "batchCellAccuracy": metrics_number(vec[8] / B),
            "segmentExact": [round4(seg_exact[i] / seg_slots[i]) if seg_slots[i] else None for i in range(H)],
            "stepMs": (time.perf_counter() - t0) * 1000,
        }

    def _all_gather_np(self, a: np.ndarray) -> np.ndarray:
        """This process's rows of a slot array -> the whole batch's, in rank order (= slot order)."""
        t = torch.from_numpy(np.ascontiguousarray(a)).to(self.device)
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t)
        return torch.cat(parts).cpu().numpy()

    def _gather_tensor(self, t):
        if not self.distributed:
            return t.detach().cpu().numpy()
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t.contiguous())
        return torch.cat(parts).cpu().numpy()

    # --- checkpoints ----------------------------------------------------------------------------------------------
    def checkpoint(self, final: bool) -> Optional[str]:
        """Gather the slots from every process (a collective), then the writer writes the checkpoint."""
        tokens = self._gather_tensor(self.tokens.to(torch.int32))
        labels = self._gather_tensor(self.labels.to(torch.int32))
        steps = self._gather_tensor(torch.from_numpy(self.slot_steps).to(self.device))
        zH = self._gather_tensor(self.zH.float())
        zL = self._gather_tensor(self.zL.float())
        if not self.writer:
            return None
        job = self.job
        w = {n: p.detach().cpu().numpy().astype(np.float32) for n, p in self.model.w.items()}
        parts: Dict[str, Tuple[Dict[str, object], Dict[str, np.ndarray]]] = {"adam": self.adam.state(self.linear)}
        weights = dict(w)
        if self.ema is not None:
            parts["ema"] = self.ema.state(self.linear)
            parts["raw"] = ({}, {n: to_memory(n, a, self.linear) for n, a in w.items()})
            for n, s in self.ema.shadow.items():
                weights[n] = s.cpu().numpy().astype(np.float32)
        parts["slots"] = ({"drawCounter": self.draw_counter}, {
            "tokens": tokens.astype(np.int32), "labels": labels.astype(np.int32), "steps": steps.astype(np.int32),
            "halted": self.halted.astype(np.uint8), "zH": zH.astype(np.float32), "zL": zL.astype(np.float32),
        })
        state_json: Dict[str, object] = {"step": self.step}
        arrays: Dict[str, np.ndarray] = {}
        for part, (js, arr) in parts.items():
            state_json[part] = js
            for k, a in arr.items():
                arrays[f"{part}/{k}"] = a
        meta = dict(job["metaBase"])  # type: ignore[arg-type]
        meta = {"step": self.step, **meta, "backend": self.backend_json(), "ema": self.ema is not None,
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        path = save_checkpoint(self.run_dir, self.step, weights, str(job["configJson"]), meta, arrays, state_json,
                               int(self.keep_last) if self.keep_last is not None else None)
        self.emit({"event": "checkpoint", "file": path, "step": self.step, "final": final})
        return path

    def backend_json(self) -> Dict[str, object]:
        base = dict(self.job.get("backend") or {})  # type: ignore[arg-type]
        dist_backend = self.dist_backend if self.distributed else None
        base.update({"torch": torch.__version__, "device": self.device.type, "distBackend": dist_backend, "processes": self.world,
                     "dtype": self.dtype, "detail": _detail(torch.__version__, self.world, dist_backend, self.device.type, self.dtype)})
        return base

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


class _TapedSegment(torch.nn.Module):
    """The on-tape part of one segment plus the heads: what DistributedDataParallel wraps. The model's weights named
    in `names` become this module's parameters (the same storage), so the off-tape part reads them too."""

    def __init__(self, model, names: List[str]):
        super().__init__()
        self.on_steps: List[str] = []
        for n in names:
            p = torch.nn.Parameter(model.w[n], requires_grad=True)
            self.register_parameter(n.replace(".", "__"), p)
            model.w[n] = p
        object.__setattr__(self, "hrm", model)  # not a submodule: its weights are registered above

    def forward(self, zh, zl, tokens):
        m = self.hrm
        zh, zl = _run_steps(m, zh, zl, m.embed(tokens), self.on_steps)
        logits, q = _heads(m, zh)
        return zh, zl, logits, q


def _run_steps(m, zh, zl, x, steps: List[str]):
    for kind in steps:
        if kind == "L":
            zl = m._module("L", zl, zh + x)
        else:
            zh = m._module("H", zh, zl)
    return zh, zl


def _heads(m, zh):
    c = m.config
    logits = F.linear(zh, m.w["lm_head.weight"]).float()[:, c.puzzleEmbLen:]
    with m.float32():
        q = F.linear(zh[:, 0].float(), m.w["q_head.weight"].float(), m.w["q_head.bias"].float())
    return logits, q


def _hrm_loss(logits, labels, q_halt, q_cont, halt_target, cont_target, loss_type: str, batch: int):
    """engine/train/losses.ts hrmLoss: (lm + 0.5 (q_halt + q_continue)) / batch, and the parts / batch."""
    V = logits.shape[-1]
    onehot = F.one_hot(labels.clamp(min=0), V).float()
    if loss_type == "softmax":
        tok = -(F.log_softmax(logits, -1) * onehot).sum(-1)
    else:
        s = torch.relu(logits) + torch.reciprocal(1 - torch.clamp(logits, max=0))
        tok = -torch.log((s * onehot).sum(-1) / s.sum(-1))
    valid = (labels >= 0).float()
    lm = ((tok * valid).sum(-1) / torch.clamp(valid.sum(-1), min=1)).sum()

    def bce(x, z):
        return (torch.relu(x) - x * z + torch.log1p(torch.exp(-x.abs()))).sum()

    qh = bce(q_halt, halt_target)
    qc = bce(q_cont, cont_target) if cont_target is not None else torch.zeros((), device=logits.device)
    inv = 1.0 / batch
    total = (lm + (qh + qc) * 0.5) * inv
    return total, lm * inv, qh * inv, qc * inv


def _sum_hook(_state, bucket):
    fut = dist.all_reduce(bucket.buffer(), async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


def _detail(version: str, world: int, dist_backend: Optional[str], device: str, dtype: str) -> str:
    """The backend's one-line description (engine/torch/torch-train.ts backendDetail writes the same)."""
    procs = f"{world} process{'' if world == 1 else 'es'}"
    mixed = ", bf16 mixed precision" if dtype == "bf16" else ""
    return f"PyTorch {version}, {procs}{f' ({dist_backend})' if dist_backend else ''} on {device}{mixed}"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    sys.exit(main())
