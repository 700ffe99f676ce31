/**
 * Exact Sudoku solver for N×N grids (4, 6, 9): bitmask constraint propagation plus depth-first search.
 *
 * Candidates: one Uint16 per cell, bit d-1 set when digit d is still possible. Propagation runs to a fixed point:
 *  - naked singles: a cell left with one candidate removes that digit from its peers;
 *  - hidden singles: a digit with exactly one possible cell in a unit (row, column, box) is placed there;
 *  - contradictions: a cell with no candidate, or a unit where some digit has no possible cell.
 * Search: pick the unsolved cell with the fewest candidates (first such cell in row-major order), take its smallest
 * candidate d (or a random one when `randomOrder` is given) and branch in two:
 *   1. GUESS cell = d (a copy of the state one level deeper), propagate, recurse;
 *   2. on return, EXCLUDE d from the cell in the current state, propagate, and pick again (no guess is counted when
 *      the exclusion leaves a single candidate: that placement is forced).
 *
 * Counters (exact definitions):
 *  - `guesses`    = number of GUESS branches entered (step 1), i.e. branch choices made.
 *  - `backtracks` = number of those guesses that were refuted: their subtree (including its own propagation)
 *                   ended without any solution, and the search backed up to exclude that digit.
 *    A guess whose subtree contains a solution is never a backtrack.
 *  Both count over the whole search `solve` performs: until `limit` solutions are found or the tree is exhausted.
 *  `rating(p)` = `solve(p, geo, { limit: 1 }).backtracks`: the refuted guesses before the FIRST solution (for an
 *  unsolvable puzzle: the refuted guesses needed to prove it has none). Puzzles solved by singles alone rate 0.
 *  The search order is deterministic, so ratings are reproducible; they are this solver's own difficulty scale, in
 *  the spirit of (not numerically equal to) the tdoku backtrack rating of Sudoku-Extreme.
 *
 * No allocation in the search: one preallocated state stack per geometry, (cells+1)·cells candidates deep.
 * Not re-entrant (single-threaded JS, synchronous calls: fine).
 */
import type { Geometry, Grid } from './geometry';
import type { Rng } from '../util/rng';

export interface SolveResult {
  /** Solutions found, counted up to `limit` (so 0, 1, ..., limit). */
  solutions: number;
  /** The first solution found (undefined when there is none). */
  solution?: Grid;
  /** Refuted guesses (see the file comment). */
  backtracks: number;
  /** Guesses made (branch choices). */
  guesses: number;
}

export interface SolveOptions {
  /** Stop after this many solutions (default 2: enough to tell unique from multiple). Integer >= 1. */
  limit?: number;
  /** Try the branching cell's candidates in random order (used to build random full grids). Default: ascending. */
  randomOrder?: Rng;
}

/** Precomputed flat tables and scratch buffers for one geometry. */
class Searcher {
  private readonly n: number;
  private readonly cells: number;
  private readonly full: number;
  private readonly peers: Int16Array;
  private readonly peerCount: number;
  private readonly units: Int16Array;
  private readonly unitCount: number;
  private readonly pop: Uint8Array;
  private readonly stack: Uint16Array;
  private readonly queue: Int16Array;
  private qHead = 0;
  private qLen = 0;

  private limit = 2;
  private rng: Rng | undefined;
  solutions = 0;
  backtracks = 0;
  guesses = 0;
  solution: Grid | undefined;

  constructor(geo: Geometry) {
    this.n = geo.n;
    this.cells = geo.cells;
    this.full = (1 << geo.n) - 1;
    this.peerCount = geo.peers[0].length;
    this.peers = new Int16Array(geo.cells * this.peerCount);
    for (let c = 0; c < geo.cells; c++) this.peers.set(geo.peers[c], c * this.peerCount);
    this.unitCount = geo.units.length;
    this.units = new Int16Array(this.unitCount * geo.n);
    for (let u = 0; u < this.unitCount; u++) this.units.set(geo.units[u], u * geo.n);
    this.pop = new Uint8Array(1 << geo.n);
    for (let m = 1; m < this.pop.length; m++) this.pop[m] = this.pop[m >> 1] + (m & 1);
    this.stack = new Uint16Array((geo.cells + 1) * geo.cells);
    this.queue = new Int16Array(geo.cells);
  }

  run(puzzle: ArrayLike<number>, limit: number, rng: Rng | undefined): void {
    this.limit = limit;
    this.rng = rng;
    this.solutions = 0;
    this.backtracks = 0;
    this.guesses = 0;
    this.solution = undefined;
    const cand = this.stack;
    cand.fill(this.full, 0, this.cells);
    this.qHead = 0;
    this.qLen = 0;
    for (let c = 0; c < this.cells; c++) {
      const d = puzzle[c];
      if (d !== 0) {
        cand[c] = 1 << (d - 1);
        this.queue[this.qLen++] = c;
      }
    }
    if (this.propagate(0)) this.search(0);
  }

  /** Run naked + hidden singles to a fixed point on the state at `base`; false on contradiction. */
  private propagate(base: number): boolean {
    const cand = this.stack;
    const queue = this.queue;
    const peers = this.peers;
    const pc = this.peerCount;
    const units = this.units;
    const n = this.n;
    const full = this.full;
    for (;;) {
      while (this.qHead < this.qLen) {
        const cell = queue[this.qHead++];
        const bit = cand[base + cell];
        const p0 = cell * pc;
        for (let k = 0; k < pc; k++) {
          const p = peers[p0 + k];
          const m = cand[base + p];
          if ((m & bit) !== 0) {
            const r = m & ~bit;
            if (r === 0) return false;
            cand[base + p] = r;
            if ((r & (r - 1)) === 0) queue[this.qLen++] = p;
          }
        }
      }
      let placed = false;
      for (let u = 0; u < this.unitCount; u++) {
        const u0 = u * n;
        let once = 0;
        let twice = 0;
        for (let k = 0; k < n; k++) {
          const m = cand[base + units[u0 + k]];
          twice |= once & m;
          once |= m;
        }
        if (once !== full) return false;
        let hidden = once & ~twice;
        for (let k = 0; hidden !== 0 && k < n; k++) {
          const cell = units[u0 + k];
          const m = cand[base + cell];
          const h = m & hidden;
          if (h !== 0) {
            if (m !== h) {
              if ((h & (h - 1)) !== 0) return false; // two digits that each fit only here
              cand[base + cell] = h;
              queue[this.qLen++] = cell;
              placed = true;
            }
            hidden &= ~h;
          }
        }
      }
      if (!placed) return true;
    }
  }

  /** Depth-first search from the propagated state at `depth`; returns whether its subtree held a solution. */
  private search(depth: number): boolean {
    const cells = this.cells;
    const cand = this.stack;
    const pop = this.pop;
    const base = depth * cells;
    let found = false;
    for (;;) {
      let best = -1;
      let bestCount = 99;
      for (let c = 0; c < cells; c++) {
        const m = cand[base + c];
        if ((m & (m - 1)) !== 0) {
          const k = pop[m];
          if (k < bestCount) {
            best = c;
            bestCount = k;
            if (k === 2) break;
          }
        }
      }
      if (best < 0) {
        this.record(base);
        return true;
      }
      const m = cand[base + best];
      const bit = this.rng ? nthBit(m, this.rng.int(bestCount)) : m & -m;
      const next = base + cells;
      cand.copyWithin(next, base, next);
      cand[next + best] = bit;
      this.guesses++;
      this.qHead = 0;
      this.qLen = 1;
      this.queue[0] = best;
      const sub = this.propagate(next) && this.search(depth + 1);
      if (sub) found = true;
      else this.backtracks++;
      if (this.solutions >= this.limit) return found;
      const r = m & ~bit;
      cand[base + best] = r;
      this.qHead = 0;
      this.qLen = 0;
      if ((r & (r - 1)) === 0) this.queue[this.qLen++] = best;
      if (!this.propagate(base)) return found;
    }
  }

  private record(base: number): void {
    this.solutions++;
    if (this.solution) return;
    const g = new Int8Array(this.cells);
    for (let c = 0; c < this.cells; c++) g[c] = 32 - Math.clz32(this.stack[base + c]);
    this.solution = g;
  }
}

function nthBit(m: number, k: number): number {
  for (let i = 0; i < k; i++) m &= m - 1;
  return m & -m;
}

const searchers = new WeakMap<Geometry, Searcher>();

function searcherFor(geo: Geometry): Searcher {
  let s = searchers.get(geo);
  if (!s) {
    s = new Searcher(geo);
    searchers.set(geo, s);
  }
  return s;
}

function checkPuzzle(puzzle: ArrayLike<number>, geo: Geometry): void {
  if (puzzle.length !== geo.cells) {
    throw new RangeError(`solve: expected ${geo.cells} cells for a ${geo.n}×${geo.n} grid, got ${puzzle.length}`);
  }
  for (let i = 0; i < puzzle.length; i++) {
    const d = puzzle[i];
    if (!Number.isInteger(d) || d < 0 || d > geo.n) {
      throw new RangeError(`solve: cell ${i} holds ${d}; allowed 0 (blank) or 1..${geo.n}`);
    }
  }
}

/**
 * Count solutions up to `limit` (default 2) and return the first one. Contradictory givens (a digit twice in a unit,
 * or no way to complete) give `solutions: 0`. Throws RangeError for a wrong length or a digit outside 0..N.
 */
export function solve(puzzle: ArrayLike<number>, geo: Geometry, opts: SolveOptions = {}): SolveResult {
  const limit = opts.limit ?? 2;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`solve: limit must be an integer >= 1, got ${limit}`);
  checkPuzzle(puzzle, geo);
  const s = searcherFor(geo);
  s.run(puzzle, limit, opts.randomOrder);
  const result: SolveResult = { solutions: s.solutions, backtracks: s.backtracks, guesses: s.guesses };
  if (s.solution) result.solution = s.solution;
  s.solution = undefined;
  return result;
}

/** Refuted guesses needed to find the first solution (`solve` with limit 1); 0 = solved by singles alone. */
export function rating(puzzle: ArrayLike<number>, geo: Geometry): number {
  return solve(puzzle, geo, { limit: 1 }).backtracks;
}

/** True when the puzzle has exactly one solution. */
export function hasUniqueSolution(puzzle: ArrayLike<number>, geo: Geometry): boolean {
  return solve(puzzle, geo, { limit: 2 }).solutions === 1;
}
