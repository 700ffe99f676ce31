import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type GridSize, countBlanks, geometry, givensMatch, gridToString, isValidSolution } from '../../engine/sudoku/geometry';
import { solve, rating } from '../../engine/sudoku/solver';
import { PuzzleGenerator, generatePuzzles, randomSolvedGrid, type GeneratedPuzzle } from '../../engine/sudoku/generator';
import { Rng } from '../../engine/util/rng';

const SIZES: GridSize[] = [4, 6, 9];
const key = (ps: GeneratedPuzzle[]) => ps.map((p) => gridToString(p.puzzle)).join('|');

function checkPuzzle(p: GeneratedPuzzle, n: GridSize): void {
  const geo = geometry(n);
  assert.equal(p.puzzle.length, geo.cells);
  assert.ok(isValidSolution(p.solution, geo));
  assert.ok(givensMatch(p.puzzle, p.solution));
  assert.equal(p.clues, geo.cells - countBlanks(p.puzzle));
  const r = solve(p.puzzle, geo);
  assert.equal(r.solutions, 1, gridToString(p.puzzle));
  assert.deepEqual([...r.solution ?? []], [...p.solution]);
  assert.equal(p.rating, rating(p.puzzle, geo));
}

test('generator: same seed gives the same sequence; different seeds differ', () => {
  for (const n of SIZES) {
    const a = generatePuzzles({ n, seed: 42 }, 5);
    const b = generatePuzzles({ n, seed: 42 }, 5);
    const c = generatePuzzles({ n, seed: 43 }, 5);
    assert.equal(key(a), key(b), `n=${n}`);
    assert.deepEqual(a.map((p) => [...p.solution]), b.map((p) => [...p.solution]));
    assert.notEqual(key(a), key(c), `n=${n}`);
    const gen = new PuzzleGenerator({ n, seed: 42 });
    assert.equal(key([gen.next(), gen.next()]), key(a.slice(0, 2)));
    assert.ok(new Set(a.map((p) => gridToString(p.puzzle))).size > 1, `n=${n}: sequence repeats`);
  }
});

test('generator: every puzzle has a unique, valid solution (n = 4, 6, 9)', () => {
  for (const n of SIZES) for (const p of generatePuzzles({ n, seed: 7 }, n === 9 ? 20 : 40)) checkPuzzle(p, n);
});

test('generator: without bounds, removal runs until the puzzle is minimal', () => {
  for (const n of SIZES) {
    const geo = geometry(n);
    const [p] = generatePuzzles({ n, seed: 3 }, 1);
    for (let c = 0; c < geo.cells; c++) {
      if (p.puzzle[c] === 0) continue;
      const q = Int8Array.from(p.puzzle);
      q[c] = 0;
      assert.equal(solve(q, geo).solutions, 2, `n=${n}: clue ${c} was removable`);
    }
  }
});

test('generator: clue ranges are honoured for n = 4, 6, 9', () => {
  const cases: { n: GridSize; minClues?: number; maxClues?: number }[] = [
    { n: 4, minClues: 8 }, { n: 4, maxClues: 5 }, { n: 4, minClues: 5, maxClues: 6 },
    { n: 6, minClues: 20 }, { n: 6, maxClues: 11 }, { n: 6, minClues: 12, maxClues: 14 },
    { n: 9, minClues: 40 }, { n: 9, maxClues: 25 }, { n: 9, minClues: 30, maxClues: 34 },
  ];
  for (const opts of cases) {
    const ps = generatePuzzles({ ...opts, seed: 11 }, opts.n === 9 ? 6 : 12);
    for (const p of ps) {
      const where = JSON.stringify(opts);
      assert.ok(p.clues >= (opts.minClues ?? 0), `${where}: ${p.clues} clues`);
      assert.ok(p.clues <= (opts.maxClues ?? Infinity), `${where}: ${p.clues} clues`);
      checkPuzzle(p, opts.n);
    }
    // A floor that uniqueness never blocks is met exactly.
    if (opts.minClues !== undefined && opts.maxClues === undefined) for (const p of ps) assert.equal(p.clues, opts.minClues);
  }
});

test('generator: minRating keeps only puzzles at least that hard', () => {
  const ps = generatePuzzles({ n: 9, seed: 5, minRating: 3 }, 4);
  for (const p of ps) {
    assert.ok(p.rating >= 3, `rating ${p.rating}`);
    checkPuzzle(p, 9);
  }
  assert.deepEqual(ps.map((p) => p.rating), generatePuzzles({ n: 9, seed: 5, minRating: 3 }, 4).map((p) => p.rating));
});

test('generator: impossible requests fail with a clear error', () => {
  // 4×4 puzzles never need a refuted guess: bounded attempts, then an Error naming the options.
  assert.throws(() => new PuzzleGenerator({ n: 4, seed: 1, minRating: 50, maxAttempts: 30 }).next(),
    /no 4×4 puzzle .*rating >= 50 after 30 attempts/);
  assert.throws(() => new PuzzleGenerator({ n: 9, seed: 1, maxClues: 16 }), /impossible for 9×9/);
  assert.throws(() => new PuzzleGenerator({ n: 9, seed: 1, minClues: 40, maxClues: 30 }), /minClues \(40\) > maxClues \(30\)/);
  assert.throws(() => new PuzzleGenerator({ n: 5 as GridSize, seed: 1 }), /n must be 4, 6 or 9/);
  assert.throws(() => new PuzzleGenerator({ n: 4, seed: 1.5 }), /seed/);
  assert.throws(() => generatePuzzles({ n: 4, seed: 1 }, -1), /count/);
});

test('generator: random full grids are valid for any seed (property)', () => {
  fc.assert(fc.property(fc.integer(), fc.constantFrom<GridSize>(4, 6, 9), (seed, n) => {
    const geo = geometry(n);
    assert.ok(isValidSolution(randomSolvedGrid(geo, new Rng(seed)), geo));
  }), { numRuns: 100, seed: 99 });
});
