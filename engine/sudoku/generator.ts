/**
 * Seeded Sudoku puzzle generator for N×N grids (4, 6, 9).
 *
 * One attempt:
 *  1. a random full grid (`randomSolvedGrid`: the solver on an empty grid, candidates tried in random order);
 *  2. visit the cells in a random order and blank each one unless that would make the solution non-unique
 *     (checked with `solve(..., { limit: 2 })`); stop as soon as the clue count reaches `minClues`.
 *     So a puzzle either has exactly `minClues` clues or is minimal (removing any one clue makes it non-unique:
 *     a clue kept once stays needed, since blanking more cells only adds solutions);
 *  3. reject the attempt when clues > `maxClues` (uniqueness stopped the removal too early);
 *  4. reject the attempt when `rating(puzzle) < minRating` (rating: see solver.ts).
 * Rejected attempts start again from a new full grid; after `maxAttempts` (default 1000) rejected attempts in a row
 * `next()` throws an Error naming the options. Everything is drawn from one `Rng(seed)`: the same options give the
 * same sequence of puzzles. Typical clue counts when removal runs to the end (minClues 0): 9×9 ≈ 22–27,
 * 6×6 ≈ 9–13, 4×4 ≈ 4–7; very low `maxClues` (below these) mostly rejects and is slow or throws.
 */
import { type Geometry, type Grid, type GridSize, geometry, isGridSize } from './geometry';
import { Rng } from '../util/rng';
import { runSteps, runStepsAsync, type Steps } from '../util/steps';
import { rating, solve } from './solver';

export interface GeneratorOptions {
  n: GridSize;
  seed: number;
  /** Never go below this many clues (default 0: remove while the solution stays unique). */
  minClues?: number;
  /** Reject puzzles with more clues than this (default n*n). */
  maxClues?: number;
  /** Reject puzzles whose solver rating is below this (default 0). */
  minRating?: number;
  /** Rejected attempts allowed per puzzle before `next()` throws (default 1000). */
  maxAttempts?: number;
}

export interface GeneratedPuzzle {
  puzzle: Grid;
  solution: Grid;
  rating: number;
  clues: number;
}

/** Fewest clues any uniquely solvable puzzle can have (4×4: 4, 6×6 with 2×3 boxes: 8, 9×9: 17). */
export const MIN_POSSIBLE_CLUES: Readonly<Record<GridSize, number>> = { 4: 4, 6: 8, 9: 17 };

/** A random valid full grid, reproducible from the Rng state (varied, but not uniformly distributed over all grids). */
export function randomSolvedGrid(geo: Geometry, rng: Rng): Grid {
  const r = solve(new Int8Array(geo.cells), geo, { limit: 1, randomOrder: rng });
  if (!r.solution) throw new Error(`randomSolvedGrid: no full ${geo.n}×${geo.n} grid found (solver bug)`);
  return r.solution;
}

/**
 * Blank cells of `solution` in a random order while the solution stays unique, never below `minClues` clues.
 * Returns the puzzle and its clue count.
 */
export function carvePuzzle(solution: ArrayLike<number>, geo: Geometry, rng: Rng, minClues = 0): { puzzle: Grid; clues: number } {
  const puzzle = Int8Array.from(solution);
  let clues = geo.cells;
  const order = rng.permutation(geo.cells);
  for (let k = 0; k < order.length && clues > minClues; k++) {
    const c = order[k];
    const d = puzzle[c];
    puzzle[c] = 0;
    if (solve(puzzle, geo, { limit: 2 }).solutions === 1) clues--;
    else puzzle[c] = d;
  }
  return { puzzle, clues };
}

interface ResolvedOptions { n: GridSize; seed: number; minClues: number; maxClues: number; minRating: number; maxAttempts: number }

function resolveOptions(opts: GeneratorOptions): ResolvedOptions {
  if (!isGridSize(opts.n)) throw new RangeError(`PuzzleGenerator: n must be 4, 6 or 9, got ${String(opts.n)}`);
  const cells = opts.n * opts.n;
  const r: ResolvedOptions = {
    n: opts.n,
    seed: opts.seed,
    minClues: opts.minClues ?? 0,
    maxClues: opts.maxClues ?? cells,
    minRating: opts.minRating ?? 0,
    maxAttempts: opts.maxAttempts ?? 1000,
  };
  if (!Number.isInteger(r.seed)) throw new RangeError(`PuzzleGenerator: seed must be an integer, got ${r.seed}`);
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`PuzzleGenerator: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  int('minClues', r.minClues, 0, cells);
  int('maxClues', r.maxClues, 0, cells);
  int('minRating', r.minRating, 0, Number.MAX_SAFE_INTEGER);
  int('maxAttempts', r.maxAttempts, 1, Number.MAX_SAFE_INTEGER);
  if (r.minClues > r.maxClues) throw new RangeError(`PuzzleGenerator: minClues (${r.minClues}) > maxClues (${r.maxClues})`);
  const floor = MIN_POSSIBLE_CLUES[r.n];
  if (r.maxClues < floor) {
    throw new RangeError(`PuzzleGenerator: maxClues ${r.maxClues} is impossible for ${r.n}×${r.n} (a unique puzzle needs at least ${floor} clues)`);
  }
  return r;
}

/** A deterministic stream of unique-solution puzzles. */
export class PuzzleGenerator {
  readonly geo: Geometry;
  private readonly opts: ResolvedOptions;
  private readonly rng: Rng;

  constructor(opts: GeneratorOptions) {
    this.opts = resolveOptions(opts);
    this.geo = geometry(this.opts.n);
    this.rng = new Rng(this.opts.seed);
  }

  next(): GeneratedPuzzle {
    const { minClues, maxClues, minRating, maxAttempts } = this.opts;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const solution = randomSolvedGrid(this.geo, this.rng);
      const { puzzle, clues } = carvePuzzle(solution, this.geo, this.rng, minClues);
      if (clues > maxClues) continue;
      const r = rating(puzzle, this.geo);
      if (r < minRating) continue;
      return { puzzle, solution, rating: r, clues };
    }
    const o = this.opts;
    throw new Error(`PuzzleGenerator: no ${o.n}×${o.n} puzzle with clues in [${o.minClues}, ${o.maxClues}] and rating >= ${o.minRating} `
      + `after ${maxAttempts} attempts (seed ${o.seed}); relax minRating/maxClues or raise maxAttempts`);
  }
}

/** The first `count` puzzles of `new PuzzleGenerator(opts)`. */
export function generatePuzzles(opts: GeneratorOptions, count: number): GeneratedPuzzle[] {
  return runSteps(generateSteps(opts, count));
}

/**
 * generatePuzzles with the event loop turning between puzzles (engine/util/steps.ts), for the engine's requests;
 * an aborted `signal` stops it.
 */
export function generatePuzzlesAsync(opts: GeneratorOptions, count: number, signal?: AbortSignal): Promise<GeneratedPuzzle[]> {
  return runStepsAsync(generateSteps(opts, count), signal, 'puzzle generation');
}

function* generateSteps(opts: GeneratorOptions, count: number): Steps<GeneratedPuzzle[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`generatePuzzles: count must be an integer >= 0, got ${count}`);
  const gen = new PuzzleGenerator(opts);
  const out: GeneratedPuzzle[] = [];
  for (let i = 0; i < count; i++) {
    out.push(gen.next());
    yield;
  }
  return out;
}
