/**
 * Input perturbations at test time (docs/analyses.md §Input perturbations), batched: every variant of a puzzle goes
 * through the model in ONE forward batch (S segments, halting off as the reference evaluates), and each answer is
 * mapped back to the original puzzle's frame before it becomes a Pass (votes.ts).
 *
 * Perturbation sets (index 0 is always the identity, so report.ts's default identity index holds):
 *   'shifts'      the paper's cyclic digit shifts d → ((d − 1 + p) mod N) + 1, p = 0..count−1 (count ≤ N; N = 9 for
 *                 9×9 gives the paper's 9 relabelings);
 *   'relabel'     the identity, then count − 1 random digit permutations (seeded);
 *   'symmetries'  the identity, then count − 1 random geometric symmetries (transpose where boxes are square, band /
 *                 stack and within-band / within-stack permutations; digits untouched; seeded);
 *   'mixed'       the identity, then count − 1 random full symmetries (digits and geometry, like training augmentation).
 * Random draws come from Rng(seed): the same seed gives the same perturbations. A draw equal to an earlier member is
 * redrawn (up to 100 times), so members are distinct while the group is large enough (4×4 has 23 non-identity digit
 * permutations; when `count` exceeds the group, repeats remain and just repeat a pass).
 */
import { tf } from '../tf';
import { type HrmModel, disposeCarry, initialCarry } from '../model';
import { runSegmentParallel } from '../train/data-parallel-segment';
import { type Grid, type GridSize, geometry, gridToTokens } from '../sudoku/geometry';
import {
  type SudokuTransform, applyTransform, cyclicShift, identityTransform, randomTransform, relabeling, transformsEqual,
} from '../sudoku/symmetry';
import { Rng } from '../util/rng';
import type { SegmentCapture } from '../analysis/trace';
import { type Pass, makePass } from './votes';
import { abortError, runSteps, runStepsAsync, type Steps, throwIfAborted } from '../util/steps';

export type PerturbationKind = 'shifts' | 'relabel' | 'symmetries' | 'mixed';
export const PERTURBATION_KINDS: readonly PerturbationKind[] = ['shifts', 'relabel', 'symmetries', 'mixed'];

export interface Perturbation {
  name: string;
  transform: SudokuTransform;
}

/** Cyclic digit shifts p = 0..count−1 (default N). */
export function cyclicShifts(n: GridSize, count: number = n): Perturbation[] {
  if (!Number.isInteger(count) || count < 1 || count > n) throw new RangeError(`cyclicShifts: count must be in 1..${n}, got ${count}`);
  return Array.from({ length: count }, (_, p) => ({ name: `shift p=${p}`, transform: cyclicShift(n, p) }));
}

function digitsText(t: SudokuTransform): string {
  return Array.from(t.digitMap.subarray(1)).join('');
}

/** A perturbation set of `count` members, identity first. */
export function perturbationSet(kind: PerturbationKind, n: GridSize, count: number, seed = 0): Perturbation[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`perturbationSet: count must be an integer >= 1, got ${count}`);
  if (kind === 'shifts') return cyclicShifts(n, count);
  const geo = geometry(n);
  const rng = new Rng(seed);
  const out: Perturbation[] = [{ name: 'identity', transform: identityTransform(n) }];
  const draw = (i: number): Perturbation => {
    if (kind === 'relabel') {
      const t = relabeling(n, Array.from(rng.permutation(n), (d) => d + 1));
      return { name: `relabel ${digitsText(t)}`, transform: t };
    }
    if (kind === 'symmetries') return { name: `symmetry #${i}`, transform: randomTransform(geo, rng, { digits: false }) };
    return { name: `symmetry+relabel #${i}`, transform: randomTransform(geo, rng) };
  };
  for (let i = 1; i < count; i++) {
    // Distinct members while the group allows it: redraw a repeat up to 100 times, then keep it.
    let p = draw(i);
    for (let attempt = 0; attempt < 100 && out.some((q) => transformsEqual(q.transform, p.transform)); attempt++) p = draw(i);
    out.push(p);
  }
  return out;
}

/** Last-segment outputs of a batch: logits [B·cells·vocab], raw q logits [B]. */
export interface LastSegment {
  logits: Float32Array;
  qHalt: Float32Array;
  qContinue: Float32Array;
}

/** Runs rows of digits (0 = blank) for S segments from the initial carry, halting off; returns the last segment. */
export function runLastSegment(model: HrmModel, grids: readonly ArrayLike<number>[], segments: number): LastSegment {
  return runSteps(lastSegmentSteps(model, grids, segments));
}

/** runLastSegment as a generator: one `yield` after every segment but the last; `return()` frees what it holds. */
function* lastSegmentSteps(model: HrmModel, grids: readonly ArrayLike<number>[], segments: number): Steps<LastSegment> {
  if (!Number.isInteger(segments) || segments < 1) throw new RangeError(`segments must be an integer >= 1, got ${segments}`);
  const { cells } = model.dims;
  const B = grids.length;
  const data = new Int32Array(B * cells);
  grids.forEach((g, b) => {
    if (g.length !== cells) throw new RangeError(`row ${b} has ${g.length} cells, expected ${cells}`);
    data.set(gridToTokens(g), b * cells);
  });
  const tok = tf.tensor2d(data, [B, cells], 'int32');
  let carry = initialCarry(model, B);
  try {
    for (let k = 1; k < segments; k++) {
      const out = runSegmentParallel(model, carry, tok);
      disposeCarry(carry);
      carry = out.carry;
      out.logits.dispose();
      out.qHalt.dispose();
      out.qContinue.dispose();
      yield;
    }
    const out = runSegmentParallel(model, carry, tok);
    disposeCarry(carry);
    carry = out.carry;
    const res = {
      logits: Float32Array.from(out.logits.dataSync() as Float32Array),
      qHalt: Float32Array.from(out.qHalt.dataSync() as Float32Array),
      qContinue: Float32Array.from(out.qContinue.dataSync() as Float32Array),
    };
    out.logits.dispose();
    out.qHalt.dispose();
    out.qContinue.dispose();
    return res;
  } finally {
    disposeCarry(carry);
    tok.dispose();
  }
}

/** The last segment of row b as a SegmentCapture. */
export function rowCapture(last: LastSegment, b: number, cellsTimesVocab: number): SegmentCapture {
  return { logits: last.logits.slice(b * cellsTimesVocab, (b + 1) * cellsTimesVocab), qHalt: last.qHalt[b], qContinue: last.qContinue[b] };
}

export interface PerturbedRunOptions {
  /** Segments S (default: the model's haltMaxSteps). */
  segments?: number;
  /** Most rows per forward batch (default 256); a batch always holds whole puzzles (all their variants). */
  maxRows?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Checks that `perturbations` are for n×n grids and returns how many puzzles share a forward batch (every variant of a
 * puzzle in the same batch, at most `maxRows` rows, default 256; at least one puzzle).
 */
export function perturbationBatchPuzzles(n: GridSize, perturbations: readonly Perturbation[], maxRows = 256): number {
  if (perturbations.length === 0) throw new RangeError('perturbedPasses: no perturbations');
  for (const p of perturbations) if (p.transform.n !== n) throw new RangeError(`perturbation "${p.name}" is for ${p.transform.n}×${p.transform.n}, the model is ${n}×${n}`);
  return Math.max(1, Math.floor(maxRows / perturbations.length));
}

/**
 * Passes for every puzzle × perturbation: result[puzzle][perturbation], answers mapped back. Every variant of a
 * puzzle is in the same forward batch; several puzzles share a batch while it holds at most maxRows rows.
 */
export function perturbedPasses(
  model: HrmModel, puzzles: readonly Grid[], perturbations: readonly Perturbation[], opts: PerturbedRunOptions = {},
): Pass[][] {
  return runSteps(perturbedPassSteps(model, puzzles, perturbations, opts));
}

/**
 * perturbedPasses with the event loop turning between segments (the engine's `ensemble`), so that ping and cancel
 * are answered while it runs; an aborted `signal` stops it at the next segment (AbortError), every tensor freed.
 */
export function perturbedPassesBatchedAsync(
  model: HrmModel, puzzles: readonly Grid[], perturbations: readonly Perturbation[], opts: PerturbedRunOptions = {},
): Promise<Pass[][]> {
  return runStepsAsync(perturbedPassSteps(model, puzzles, perturbations, opts), opts.signal, 'perturbation run');
}

/** perturbedPasses as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* perturbedPassSteps(
  model: HrmModel, puzzles: readonly Grid[], perturbations: readonly Perturbation[], opts: PerturbedRunOptions,
): Steps<Pass[][]> {
  const S = opts.segments ?? model.config.haltMaxSteps;
  const out: Pass[][] = [];
  for (const batch of perturbationBatches(model, puzzles, perturbations, opts.maxRows)) {
    throwIfAborted(opts.signal, 'perturbation run');
    out.push(...batch.passes(yield* lastSegmentSteps(model, batch.rows, S)));
    opts.onProgress?.(batch.end, puzzles.length);
    yield;
  }
  return out;
}

/** One batch of a perturbed run: every puzzle of a chunk under every perturbation, as rows of one forward batch. */
export interface PerturbationBatch {
  /** The rows to run: chunk puzzle i under perturbation j is row i·P + j. */
  rows: Grid[];
  /** Puzzles done once this batch is (the progress count). */
  end: number;
  /** The batch's passes from its last segment: [chunk puzzle][perturbation], answers mapped back. */
  passes(last: LastSegment): Pass[][];
}

/**
 * The batches of a perturbed run (perturbationBatchPuzzles puzzles each), shared by the TF.js run above and the
 * PyTorch worker's (engine/torch/passes.ts), so both cut, order and map back the rows the same way.
 */
export function* perturbationBatches(
  model: { config: { gridSize: number }; dims: { cells: number; vocab: number } }, puzzles: readonly ArrayLike<number>[],
  perturbations: readonly Perturbation[], maxRows?: number,
): Generator<PerturbationBatch> {
  const n = model.config.gridSize as GridSize;
  const P = perturbations.length;
  const perBatch = perturbationBatchPuzzles(n, perturbations, maxRows);
  const cv = model.dims.cells * model.dims.vocab;
  for (let start = 0; start < puzzles.length; start += perBatch) {
    const chunk = puzzles.slice(start, start + perBatch);
    yield {
      rows: chunk.flatMap((g) => perturbations.map((p) => applyTransform(g as Grid, p.transform))),
      end: Math.min(puzzles.length, start + perBatch),
      passes: (last) => chunk.map((_, i) => perturbations.map((p, j) => makePass(rowCapture(last, i * P + j, cv), n, p.transform))),
    };
  }
}

/**
 * perturbedPasses for one puzzle (all its variants in one batch, the same bits), yielding to the event loop after every
 * segment so that a cancel can arrive (the engine's `inspect.strip`): an aborted `signal` stops it at the next segment
 * with an AbortError, every tensor freed.
 */
export async function perturbedPassesAsync(
  model: HrmModel, puzzle: Grid, perturbations: readonly Perturbation[], opts: { segments?: number; signal?: AbortSignal } = {},
): Promise<Pass[]> {
  const n = model.config.gridSize as GridSize;
  if (perturbations.length === 0) throw new RangeError('perturbedPassesAsync: no perturbations');
  for (const p of perturbations) if (p.transform.n !== n) throw new RangeError(`perturbation "${p.name}" is for ${p.transform.n}×${p.transform.n}, the model is ${n}×${n}`);
  const cv = model.dims.cells * model.dims.vocab;
  const steps = lastSegmentSteps(model, perturbations.map((p) => applyTransform(puzzle, p.transform)), opts.segments ?? model.config.haltMaxSteps);
  try {
    for (;;) {
      if (opts.signal?.aborted) throw abortError('perturbation run');
      const r = steps.next();
      if (r.done) return perturbations.map((p, j) => makePass(rowCapture(r.value, j, cv), n, p.transform));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    steps.return(undefined as never);
  }
}
