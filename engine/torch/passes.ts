/**
 * Last-segment passes on the PyTorch worker: the same rows, batches and mapping back as engine/ensemble/perturb.ts
 * (S segments from the initial carry, halting off), so the ensemble report and the inspector's perturbation strip
 * read them unchanged. One worker run per batch; only the last segment is kept.
 */
import { gridToTokens } from '../sudoku/geometry';
import { type LastSegment, type Perturbation, type PerturbedRunOptions, perturbationBatches } from '../ensemble/perturb';
import type { Pass } from '../ensemble/votes';
import { throwIfAborted } from '../util/steps';
import type { TorchModel } from './torch-model';

/** Runs rows of digits (0 = blank) for S segments from the initial carry; returns the last segment. */
export async function lastSegmentTorch(model: TorchModel, grids: readonly ArrayLike<number>[], segments: number): Promise<LastSegment> {
  if (!Number.isInteger(segments) || segments < 1) throw new RangeError(`segments must be an integer >= 1, got ${segments}`);
  const { cells } = model.dims;
  grids.forEach((g, b) => { if (g.length !== cells) throw new RangeError(`row ${b} has ${g.length} cells, expected ${cells}`); });
  let last: { logits: Float32Array; q: Float32Array } | undefined;
  await model.run(grids.map((g) => gridToTokens(g)), { segments }, (s) => { last = { logits: s.logits, q: s.q }; });
  if (!last) throw new Error('torch run: no segment came back');
  const q = last.q;
  return {
    logits: last.logits,
    qHalt: Float32Array.from({ length: grids.length }, (_, b) => q[2 * b]),
    qContinue: Float32Array.from({ length: grids.length }, (_, b) => q[2 * b + 1]),
  };
}

/** engine/ensemble/perturb.ts perturbedPasses on the worker: result[puzzle][perturbation], answers mapped back. */
export async function perturbedPassesTorch(
  model: TorchModel, puzzles: readonly ArrayLike<number>[], perturbations: readonly Perturbation[], opts: PerturbedRunOptions = {},
): Promise<Pass[][]> {
  const S = opts.segments ?? model.config.haltMaxSteps;
  const out: Pass[][] = [];
  for (const batch of perturbationBatches(model, puzzles, perturbations, opts.maxRows)) {
    throwIfAborted(opts.signal, 'perturbation run');
    out.push(...batch.passes(await lastSegmentTorch(model, batch.rows, S)));
    opts.onProgress?.(batch.end, puzzles.length);
  }
  return out;
}
