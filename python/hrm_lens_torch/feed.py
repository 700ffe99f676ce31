"""The training feed the engine writes ahead for the torch trainer (engine/torch/train-feed.ts): the engine's own
training draws and per-step numbers, in a folder of chunk files each written atomically (a file that exists is whole).

    draws-<i>.bin   draws i*C .. (i+1)*C - 1 of TrainDataSource.draw(k): uint8 [C, 2, cells] (input tokens, label tokens)
    steps-<i>.bin   steps i*T + 1 .. (i+1)*T, one record each: float64 lr, float64 puzzle-embedding lr, int32 [batch]
                    exploration floors (the minimum halt step drawn for the slot this step, 0 = none)
    stop            present when the engine asks the training to stop after the current step

A chunk that is not there yet is waited for (the engine writes ahead as the training reports progress); after
`timeout` seconds without it the feed is taken to have stopped.
"""
from __future__ import annotations

import os
import time
from typing import Dict, Tuple

import numpy as np


class FeedError(RuntimeError):
    """The feed stopped delivering (the engine process that writes it is gone or stuck)."""


class Feed:
    def __init__(self, folder: str, cells: int, batch: int, draw_chunk: int, step_chunk: int, timeout: float = 600.0):
        self.folder = folder
        self.cells = cells
        self.batch = batch
        self.draw_chunk = draw_chunk
        self.step_chunk = step_chunk
        self.timeout = timeout
        self._draws: Dict[int, np.ndarray] = {}
        self._steps: Dict[int, np.ndarray] = {}
        self.record = np.dtype([("lr", "<f8"), ("plr", "<f8"), ("floors", "<i4", (batch,))])

    def _wait(self, name: str) -> str:
        path = os.path.join(self.folder, name)
        start = time.monotonic()
        pause = 0.002
        while not os.path.exists(path):
            if time.monotonic() - start > self.timeout:
                raise FeedError(f"the training feed {self.folder} has not delivered {name} in {self.timeout:.0f} s "
                                "(has the hrm-lens process that feeds it stopped?)")
            time.sleep(pause)
            pause = min(0.1, pause * 2)
        return path

    def draw(self, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """(input tokens, label tokens) of draw k, int64 [cells] each."""
        i, j = divmod(k, self.draw_chunk)
        chunk = self._draws.get(i)
        if chunk is None:
            raw = np.fromfile(self._wait(f"draws-{i:06d}.bin"), dtype=np.uint8)
            if raw.size != self.draw_chunk * 2 * self.cells:
                raise FeedError(f"{self.folder}/draws-{i:06d}.bin: {raw.size} bytes, expected {self.draw_chunk * 2 * self.cells}")
            chunk = raw.reshape(self.draw_chunk, 2, self.cells)
            self._draws = {n: c for n, c in self._draws.items() if n >= i - 1}
            self._draws[i] = chunk
        return chunk[j, 0].astype(np.int64), chunk[j, 1].astype(np.int64)

    def step(self, t: int) -> Tuple[float, float, np.ndarray]:
        """(lr, puzzle-embedding lr, exploration floors int32 [batch]) of step t (1-based)."""
        i, j = divmod(t - 1, self.step_chunk)
        chunk = self._steps.get(i)
        if chunk is None:
            path = self._wait(f"steps-{i:06d}.bin")
            raw = np.fromfile(path, dtype=self.record)
            if raw.size != self.step_chunk:
                raise FeedError(f"{path}: {raw.size} step records, expected {self.step_chunk}")
            chunk = raw
            self._steps = {i: chunk}
        rec = chunk[j]
        return float(rec["lr"]), float(rec["plr"]), np.array(rec["floors"], dtype=np.int32)

    def stop_requested(self) -> bool:
        return os.path.exists(os.path.join(self.folder, "stop"))
