/**
 * Evaluation as the reference does it: every puzzle runs a fixed number of segments from the initial state, with no
 * halting; exact accuracy (all cells right, givens included) and cell accuracy are read at every segment. The Q-head's
 * halt flag at the last segment is reported too (the paper's voting code uses it).
 */
import { tf } from '../tf';
import { type HrmModel, disposeCarry, initialCarry } from '../model';
import { runSegmentParallel } from './data-parallel-segment';
import { gridToTokens, type Grid } from '../sudoku/geometry';
import { runSteps, type Steps } from '../util/steps';

export interface EvalPuzzle {
  puzzle: Grid;
  solution: Grid;
}

export interface SegmentAccuracy {
  /** 1-based segment. */
  segment: number;
  exact: number;
  cell: number;
}

export interface EvalResult {
  puzzles: number;
  segments: number;
  perSegment: SegmentAccuracy[];
  /** Exact accuracy at the last segment (the headline number). */
  exact: number;
  cell: number;
  /** Fraction of puzzles whose Q-head says halt at the last segment. */
  haltedAtLast: number;
  /** Per puzzle: exact at the last segment. */
  solved: Uint8Array;
}

export interface EvalOptions {
  segments: number;
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export function evaluate(model: HrmModel, puzzles: readonly EvalPuzzle[], opts: EvalOptions): EvalResult {
  return runSteps(evaluateSteps(model, puzzles, opts));
}

/**
 * evaluate as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch; closing it
 * early frees the batch's carry and tokens.
 */
export function* evaluateSteps(model: HrmModel, puzzles: readonly EvalPuzzle[], opts: EvalOptions): Steps<EvalResult> {
  const { cells } = model.dims;
  const S = opts.segments;
  const batch = opts.batch ?? 64;
  const exactCount = new Float64Array(S);
  const cellCount = new Float64Array(S);
  const solved = new Uint8Array(puzzles.length);
  let halted = 0;
  for (let start = 0; start < puzzles.length; start += batch) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled');
    const chunk = puzzles.slice(start, start + batch);
    const B = chunk.length;
    const tokens = new Int32Array(B * cells);
    chunk.forEach((p, b) => tokens.set(gridToTokens(p.puzzle), b * cells));
    const tokT = tf.tensor2d(tokens, [B, cells], 'int32');
    let carry = initialCarry(model, B);
    try {
      for (let s = 0; s < S; s++) {
        const out = runSegmentParallel(model, carry, tokT);
        disposeCarry(carry);
        carry = out.carry;
        const predT = tf.argMax(out.logits, 2);
        const pred = predT.dataSync() as Int32Array;
        predT.dispose();
        for (let b = 0; b < B; b++) {
          const sol = chunk[b].solution;
          let right = 0;
          for (let c = 0; c < cells; c++) if (pred[b * cells + c] === sol[c] + 1) right++;
          cellCount[s] += right / cells;
          if (right === cells) {
            exactCount[s]++;
            if (s === S - 1) solved[start + b] = 1;
          }
        }
        if (s === S - 1) {
          const qh = out.qHalt.dataSync();
          const qc = out.qContinue.dataSync();
          for (let b = 0; b < B; b++) if (model.config.variant === 'trm' ? qh[b] > 0 : qh[b] > qc[b]) halted++;
        }
        out.logits.dispose();
        out.qHalt.dispose();
        out.qContinue.dispose();
        yield;
      }
    } finally {
      disposeCarry(carry);
      tokT.dispose();
    }
    opts.onProgress?.(Math.min(puzzles.length, start + batch), puzzles.length);
  }
  const n = Math.max(1, puzzles.length);
  const perSegment = Array.from({ length: S }, (_, s) => ({ segment: s + 1, exact: exactCount[s] / n, cell: cellCount[s] / n }));
  return {
    puzzles: puzzles.length, segments: S, perSegment,
    exact: perSegment[S - 1]?.exact ?? 0, cell: perSegment[S - 1]?.cell ?? 0, haltedAtLast: halted / n, solved,
  };
}
