/**
 * Fixed-point stability (docs/analyses.md §Fixed-point stability): per puzzle, a segments × cells view of which cells
 * change, are correct and how confident the model is; over a dataset, the stability rate and corruption counts.
 *
 * Per puzzle (row-major [segment][cell], 0-based rows = segment − 1):
 *  - changed: 1 where the decoded digit differs from the previous segment (segment 1: from the puzzle input);
 *  - sinceChange: segments since the cell last changed, as of that segment: 0 if it changed at this segment, else the
 *    previous value + 1 (a cell unchanged at segment 1 reads 1: it has kept the input's value for one segment);
 *  - correct (with a solution) and confidence: copied from the TraceMetrics.
 *
 * Over a dataset:
 *  - stabilityRate = stable / everExact, where everExact = puzzles exact at some segment and stable = those exact at
 *    every segment from their first exact one to the last (firstExact === stableFrom); NaN when no puzzle was ever
 *    exact;
 *  - corruptionEvents = Σ corruption events; corruptedPuzzles = puzzles with at least one;
 *  - finalAccuracy = fraction exact at their last segment;
 *  - exactFractionBySegment[k] = fraction of the puzzles having a segment k + 1 that are exact there.
 */
import type { TraceMetrics } from './segment-metrics';

export interface FixedPointMatrix {
  segments: number;
  cells: number;
  changed: Uint8Array;
  sinceChange: Int16Array;
  confidence: Float32Array;
  correct?: Uint8Array;
}

export function fixedPointMatrix(m: TraceMetrics): FixedPointMatrix {
  const { segments: S, cells } = m;
  const changed = new Uint8Array(S * cells);
  const sinceChange = new Int16Array(S * cells);
  for (let k = 0; k < S; k++) {
    for (let c = 0; c < cells; c++) {
      const i = k * cells + c;
      const before = k === 0 ? m.puzzle[c] : m.grids[i - cells];
      const ch = m.grids[i] !== before;
      changed[i] = ch ? 1 : 0;
      sinceChange[i] = ch ? 0 : (k === 0 ? 1 : sinceChange[i - cells] + 1);
    }
  }
  return { segments: S, cells, changed, sinceChange, confidence: m.confidence, correct: m.correct };
}

export interface DatasetStability {
  puzzles: number;
  everExact: number;
  stable: number;
  /** stable / everExact (NaN when everExact = 0). */
  stabilityRate: number;
  corruptionEvents: number;
  corruptedPuzzles: number;
  finalExact: number;
  /** finalExact / puzzles (NaN for an empty set). */
  finalAccuracy: number;
  /** Per segment index: exact fraction among the puzzles that have that segment. */
  exactFractionBySegment: Float64Array;
  /** Per segment index: how many puzzles have that segment. */
  puzzlesBySegment: Int32Array;
}

export function datasetStability(all: readonly TraceMetrics[]): DatasetStability {
  let everExact = 0;
  let stable = 0;
  let corruptionEvents = 0;
  let corruptedPuzzles = 0;
  let finalExact = 0;
  const maxS = all.reduce((a, m) => Math.max(a, m.segments), 0);
  const exactBy = new Float64Array(maxS);
  const countBy = new Int32Array(maxS);
  for (const m of all) {
    if (m.firstExact !== null) {
      everExact++;
      if (m.stableFrom === m.firstExact) stable++;
    }
    corruptionEvents += m.corruptions.length;
    if (m.corruptions.length > 0) corruptedPuzzles++;
    if (m.finalExact) finalExact++;
    for (let k = 0; k < m.segments; k++) { countBy[k]++; exactBy[k] += m.exact[k]; }
  }
  for (let k = 0; k < maxS; k++) exactBy[k] = countBy[k] > 0 ? exactBy[k] / countBy[k] : NaN;
  return {
    puzzles: all.length,
    everExact, stable,
    stabilityRate: everExact > 0 ? stable / everExact : NaN,
    corruptionEvents, corruptedPuzzles,
    finalExact,
    finalAccuracy: all.length > 0 ? finalExact / all.length : NaN,
    exactFractionBySegment: exactBy,
    puzzlesBySegment: countBy,
  };
}
