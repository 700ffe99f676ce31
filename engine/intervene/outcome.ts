/**
 * What a run ends at, as the interventions report it (InterventionOutcome, engine/intervene/intervene-protocol.ts):
 * the decoded grid at the last segment, exact / wrong cells against the solution, conflict energy E, the reasoning
 * mode of the whole run, the segment from which it stays exact, and exact / wrong cells per segment.
 *
 * The per-segment figures and the mode come from the trace metrics and mode classifier the inspector uses
 * (engine/analysis/segment-metrics.ts, modes.ts): the decoded grids are given to computeTraceMetrics as logits that
 * decode to exactly those grids (logitsFromGrid), so exactness, E and the stable-from segment are computed by the
 * same code; the mode is classifyMode's single-trace rule (no pooled τ: "settled" = the decoded grid unchanged over
 * the last 4 segments), as `hrm-lens inspect` classifies one puzzle.
 *
 * The solution: the one given, else the solver's when the puzzle has exactly one; without one `exact`,
 * `wrongCells` and the per-segment entries are null (the mode still judges success by "a valid full grid keeping
 * the givens").
 */
import { computeTraceMetrics } from '../analysis/segment-metrics';
import { classifyMode } from '../analysis/modes';
import { logitsFromGrid } from '../analysis/decode';
import { type Grid, type GridSize, geometry, gridToString } from '../sudoku/geometry';
import { solve } from '../sudoku/solver';
import type { PuzzleTrace } from '../analysis/trace';
import type { InterventionOutcome } from './intervene-protocol';

/** The puzzle's solution when the solver finds exactly one, else undefined. */
export function uniqueSolution(puzzle: Grid, n: GridSize): Grid | undefined {
  const r = solve(puzzle, geometry(n), { limit: 2 });
  return r.solutions === 1 ? r.solution : undefined;
}

/**
 * The outcome of one run of `puzzle`: `grids` holds its decoded digits per segment, row-major [segment][cell]
 * (at least one segment).
 */
export function interventionOutcome(n: GridSize, puzzle: Grid, solution: Grid | undefined, grids: Grid): InterventionOutcome {
  const cells = n * n;
  const S = grids.length / cells;
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`outcome: ${grids.length} decoded digits is not a whole number (≥ 1) of ${cells}-cell grids`);
  const trace: PuzzleTrace = {
    n, puzzle, solution,
    segments: Array.from({ length: S }, (_, k) => ({
      logits: logitsFromGrid(grids.subarray(k * cells, (k + 1) * cells), n), qHalt: 0, qContinue: 0,
    })),
  };
  const m = computeTraceMetrics(trace);
  const mode = classifyMode(m).mode;
  const known = solution !== undefined && m.wrong !== undefined;
  return {
    grid: gridToString(grids.subarray((S - 1) * cells)),
    exact: known ? m.finalExact : null,
    wrongCells: known ? m.finalWrong : null,
    energy: m.finalEnergy,
    mode,
    segmentsToExact: known ? m.stableFrom : null,
    exactBySegment: Array.from({ length: S }, (_, k) => (known ? m.exact[k] === 1 : null)),
    wrongBySegment: Array.from({ length: S }, (_, k) => (known && m.wrong ? m.wrong[k] : null)),
  };
}

/** Whether two decoded grids are the same on every cell. */
export function sameGrid(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A one-line summary of an outcome: "exact, E 0, trivial-success (exact from segment 2)". */
export function outcomeLine(o: InterventionOutcome): string {
  const verdict = o.exact === null ? 'no unique solution' : o.exact ? 'exact' : `${o.wrongCells} wrong`;
  const from = o.segmentsToExact !== null ? ` (exact from segment ${o.segmentsToExact})` : '';
  return `${verdict}, E ${o.energy}, ${o.mode}${from}`;
}
