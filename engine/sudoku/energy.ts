/**
 * Label-free conflict energy and cell-level correctness for predicted grids.
 *
 * conflictEnergy is the paper's E generalised to N×N (docs/analyses.md §Conflict energy E):
 *   E = Σ_units Σ_{d=1..N} max(0, count_unit(d) − 1), units = N rows, N columns, N boxes.
 * Only digits 1..N count: blanks (0), PAD (−1) and anything else add nothing. E = 0 for any conflict-free grid,
 * full or partial (so also for the solution); the maximum is 3·N·(N−1) (216 for 9×9, every cell the same digit).
 */
import type { Geometry } from './geometry';

/** Sum over rows, columns and boxes of the surplus copies of each digit 1..N. */
export function conflictEnergy(grid: ArrayLike<number>, geo: Geometry): number {
  if (grid.length !== geo.cells) throw new RangeError(`conflictEnergy: expected ${geo.cells} cells, got ${grid.length}`);
  const n = geo.n;
  const count = new Int32Array(n + 1);
  let e = 0;
  for (const unit of geo.units) {
    count.fill(0);
    for (let k = 0; k < n; k++) {
      const d = grid[unit[k]];
      if (d >= 1 && d <= n && Number.isInteger(d)) count[d]++;
    }
    for (let d = 1; d <= n; d++) if (count[d] > 1) e += count[d] - 1;
  }
  return e;
}

function checkSameLength(name: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`${name}: lengths differ (${a.length} vs ${b.length})`);
}

/** Per cell: 1 where pred equals solution, else 0. */
export function cellCorrectness(pred: ArrayLike<number>, solution: ArrayLike<number>): Uint8Array {
  checkSameLength('cellCorrectness', pred, solution);
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = pred[i] === solution[i] ? 1 : 0;
  return out;
}

/**
 * Cells where pred differs from solution: `total`, split into those that were `givens` in `puzzle` (non-zero) and
 * those that were `blanks` (zero). Without a puzzle every cell counts as a blank (givens = 0, blanks = total).
 */
export function wrongCells(pred: ArrayLike<number>, solution: ArrayLike<number>, puzzle?: ArrayLike<number>): { total: number; givens: number; blanks: number } {
  checkSameLength('wrongCells', pred, solution);
  if (puzzle) checkSameLength('wrongCells', pred, puzzle);
  let total = 0;
  let givens = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] !== solution[i]) {
      total++;
      if (puzzle && puzzle[i] !== 0) givens++;
    }
  }
  return { total, givens, blanks: total - givens };
}
