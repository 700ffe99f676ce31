/**
 * Easier "hint twins" for training-time data mixing, exactly as the paper (docs/model.md §Data mixing with hint twins;
 * reference `add_random_hints`): with n = number of blanks, draw r uniformly in [1, n−1] and fill r blanks, chosen
 * uniformly without replacement, with the solution's digits. The twin keeps the same (unique) solution and always has
 * between 1 and n−1 blanks.
 * For n <= 1 the reference would crash (`randint(1, 1)`); here `hintTwin` returns undefined (no twin possible)
 * without drawing from the Rng. All randomness comes from the given seeded Rng.
 */
import type { Grid } from './geometry';
import type { Rng } from '../util/rng';

export interface HintTwinDetail {
  twin: Grid;
  /** Cell indices revealed, in draw order (length r). */
  revealed: Int16Array;
}

/** Twin plus the revealed cells; undefined when the puzzle has fewer than 2 blanks. */
export function hintTwinDetail(puzzle: ArrayLike<number>, solution: ArrayLike<number>, rng: Rng): HintTwinDetail | undefined {
  if (puzzle.length !== solution.length) {
    throw new RangeError(`hintTwin: puzzle has ${puzzle.length} cells, solution ${solution.length}`);
  }
  const blanks: number[] = [];
  for (let i = 0; i < puzzle.length; i++) {
    if (puzzle[i] === 0) {
      if (!(solution[i] >= 1)) throw new RangeError(`hintTwin: solution has no digit at blank cell ${i}`);
      blanks.push(i);
    }
  }
  const n = blanks.length;
  if (n <= 1) return undefined;
  const r = rng.range(1, n - 1);
  const twin = Int8Array.from(puzzle);
  const revealed = new Int16Array(r);
  // Partial Fisher–Yates: the first r slots become a uniform r-subset.
  for (let k = 0; k < r; k++) {
    const j = k + rng.int(n - k);
    const t = blanks[k];
    blanks[k] = blanks[j];
    blanks[j] = t;
    const cell = blanks[k];
    twin[cell] = solution[cell];
    revealed[k] = cell;
  }
  return { twin, revealed };
}

/** The easier twin of a puzzle (same solution, 1..n−1 of its n blanks revealed); undefined when n <= 1. */
export function hintTwin(puzzle: ArrayLike<number>, solution: ArrayLike<number>, rng: Rng): Grid | undefined {
  return hintTwinDetail(puzzle, solution, rng)?.twin;
}
