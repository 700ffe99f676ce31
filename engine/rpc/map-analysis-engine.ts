/**
 * The heavy half of the `intervene.spectrum`, `intervene.sweep` and `intervene.lens` handlers and the actions of
 * `hrm-lens spectrum | sweep | lens` (engine/cli/spectrum-run.ts, sweep-run.ts, lens-run.ts): one code path, with
 * progress events and cancellation, on the TF.js backend the caller chose (the engine process's: engine-backend.ts;
 * the command line's: --backend).
 */
import type { LensParams, LensResult, SpectrumParams, SpectrumResult, SweepParams, SweepResult } from '../intervene/intervene-protocol';
import { computeSpectrumAsync } from '../intervene/spectrum';
import { computeSweepAsync, sweepPuzzles, type SweepPuzzle } from '../intervene/sweep';
import { computeLensAsync } from '../intervene/lens';
import { openMap } from '../intervene/trajectory';
import type { HrmModel } from '../model';
import { type Grid, type GridSize } from '../sudoku/geometry';
import { parsePuzzle } from '../sudoku/givens';
import { loadEvalPuzzles } from '../train/eval-data';
import { loadModel } from '../train/load-model';

type Progress = (e: { done: number; total: number }) => void;

/** Puzzles a sweep takes from a dataset file by default. */
export const SWEEP_DEFAULT_COUNT = 100;

/** The puzzle parsed for an n×n model ("puzzle: …" when it does not fit). */
function puzzleFor(puzzle: string, n: number): Grid {
  const parsed = parsePuzzle(puzzle, n as GridSize);
  if ('error' in parsed) throw new Error(`puzzle: ${parsed.error}`);
  return parsed.grid;
}

export async function spectrumRun(p: SpectrumParams, signal: AbortSignal, progress: Progress): Promise<SpectrumResult> {
  const opened = await openMap(p.checkpoint);
  try {
    return await computeSpectrumAsync(opened.map, puzzleFor(p.puzzle, opened.map.n), {
      atSegment: p.atSegment, count: p.count, tolerance: p.tolerance, maxIterations: p.maxIterations, part: p.part, seed: p.seed,
      label: opened.file, signal, onProgress: (done, total) => progress({ done, total }),
    });
  } finally {
    opened.dispose();
  }
}

/** The sweep's puzzles: the first `count` (default 100) of a dataset file, or the ones given ("puzzle[,answer]"). */
export async function sweepSource(model: HrmModel, data: string | undefined, puzzles: readonly string[] | undefined, count?: number): Promise<{ puzzles: SweepPuzzle[]; source: string }> {
  const n = model.config.gridSize as GridSize;
  if (data !== undefined) {
    const set = await loadEvalPuzzles(data, { limit: count ?? SWEEP_DEFAULT_COUNT, size: n });
    return { puzzles: set.puzzles.map((q) => ({ puzzle: q.puzzle, solution: q.solution })), source: data };
  }
  const list = sweepPuzzles(puzzles ?? [], n);
  return { puzzles: list, source: `${list.length} puzzle${list.length === 1 ? '' : 's'}` };
}

export async function sweepRun(p: SweepParams, signal: AbortSignal, progress: Progress): Promise<SweepResult> {
  const { model, checkpoint } = await loadModel(p.checkpoint);
  try {
    const { puzzles, source } = await sweepSource(model, p.data, p.puzzles, p.count);
    return await computeSweepAsync(model, puzzles, {
      hCycles: p.hCycles, lCycles: p.lCycles, segments: p.segments, label: `${checkpoint.file} on ${source}`,
      signal, onProgress: (done, total) => progress({ done, total }),
    });
  } finally {
    model.dispose();
  }
}

export async function lensRun(p: LensParams, signal: AbortSignal, progress: Progress): Promise<LensResult> {
  const { model, checkpoint } = await loadModel(p.checkpoint);
  try {
    return await computeLensAsync(model, puzzleFor(p.puzzle, model.config.gridSize), {
      segments: p.segments, label: checkpoint.file, signal, onProgress: (done, total) => progress({ done, total }),
    });
  } finally {
    model.dispose();
  }
}
