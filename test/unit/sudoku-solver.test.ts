import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { type Geometry, type Grid, geometry, givensMatch, gridToString, isValidSolution, parseGrid } from '../../engine/sudoku/geometry';
import { hasUniqueSolution, rating, solve } from '../../engine/sudoku/solver';
import { randomSolvedGrid } from '../../engine/sudoku/generator';
import { Rng } from '../../engine/util/rng';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'puzzles');

function readPuzzles(file: string): { line: number; grid: Grid }[] {
  const out: { line: number; grid: Grid }[] = [];
  readFileSync(path.join(fixtures, file), 'utf8').split(/\r?\n/).forEach((text, i) => {
    const t = text.trim();
    if (t === '') return;
    const r = parseGrid(t.slice(0, 81), 9);
    if ('error' in r) throw new Error(`${file}:${i + 1}: ${r.error}`);
    out.push({ line: i + 1, grid: r.grid });
  });
  return out;
}

function g(text: string): Grid {
  const r = parseGrid(text);
  if ('error' in r) throw new Error(r.error);
  return r.grid;
}

/** Naive reference: count completions (up to cap) by plain backtracking over cells in order. */
function bruteCount(puzzle: ArrayLike<number>, geo: Geometry, cap: number): number {
  const grid = Int8Array.from(puzzle);
  for (const u of geo.units) {
    const seen = new Set<number>();
    for (const c of u) if (grid[c] !== 0) { if (seen.has(grid[c])) return 0; seen.add(grid[c]); }
  }
  let count = 0;
  const rec = (cell: number): void => {
    if (count >= cap) return;
    while (cell < geo.cells && grid[cell] !== 0) cell++;
    if (cell === geo.cells) { count++; return; }
    for (let d = 1; d <= geo.n; d++) {
      let ok = true;
      for (const p of geo.peers[cell]) if (grid[p] === d) { ok = false; break; }
      if (!ok) continue;
      grid[cell] = d;
      rec(cell + 1);
      grid[cell] = 0;
    }
  };
  rec(0);
  return count;
}

test('solver: every fixture puzzle has one valid solution matching its givens', () => {
  const geo = geometry(9);
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.txt')).sort();
  assert.ok(files.length >= 3);
  let total = 0;
  for (const file of files) {
    for (const { line, grid } of readPuzzles(file)) {
      const r = solve(grid, geo);
      const where = `${file}:${line}`;
      assert.equal(r.solutions, 1, where);
      assert.ok(r.solution, where);
      assert.ok(isValidSolution(r.solution, geo), where);
      assert.ok(givensMatch(grid, r.solution), where);
      assert.ok(r.backtracks <= r.guesses, where);
      const first = solve(grid, geo, { limit: 1 });
      assert.deepEqual([...first.solution ?? []], [...r.solution], where);
      assert.equal(rating(grid, geo), first.backtracks, where);
      total++;
    }
  }
  assert.ok(total >= 150, `only ${total} puzzles read`);
});

// Its speed is measured by bench/sudoku-bench.ts (solve top95); here only printed.
test('solver: top95 hard set is genuinely hard', (t) => {
  const geo = geometry(9);
  const puzzles = readPuzzles('top95.txt');
  const t0 = performance.now();
  const ratings = puzzles.map(({ grid }) => rating(grid, geo));
  const ms = performance.now() - t0;
  const backtracks = ratings.reduce((a, b) => a + b, 0);
  t.diagnostic(`top95: ${puzzles.length} puzzles rated in ${ms.toFixed(0)} ms, ${backtracks} backtracks`);
  assert.equal(puzzles.length, 95);
  // Hard: all but a few need guessing (singles alone do not solve them), with many guesses on average.
  const guessed = ratings.filter((r) => r > 0).length;
  assert.ok(guessed >= 90, `${guessed} of 95 need a guess`);
  assert.ok(backtracks / puzzles.length >= 10, `mean rating ${(backtracks / puzzles.length).toFixed(1)}`);
});

test('solver: known 9×9 answer; a solved grid needs no guesses', () => {
  const geo = geometry(9);
  const p = g('003020600900305001001806400008102900700000008006708200002609500800203009005010300');
  const r = solve(p, geo);
  assert.equal(gridToString(r.solution ?? []), '483921657967345821251876493548132976729564138136798245372689514814253769695417382');
  const full = solve(r.solution ?? [], geo);
  assert.deepEqual(full, { solutions: 1, solution: r.solution, backtracks: 0, guesses: 0 });
  assert.equal(rating(p, geo), 0); // solved by singles
});

test('solver: multiple solutions are counted up to the limit', () => {
  const geo = geometry(9);
  const empty = new Int8Array(81);
  assert.equal(solve(empty, geo).solutions, 2);
  assert.equal(solve(empty, geo, { limit: 5 }).solutions, 5);
  assert.ok(isValidSolution(solve(empty, geo, { limit: 1 }).solution ?? [], geo));
  // A deadly rectangle: blank four cells of a solved grid forming a swappable 2×2 pattern → exactly 2 solutions.
  const sol = g('483921657967345821251876493548132976729564138136798245372689514814253769695417382');
  let found = false;
  for (let r1 = 0; r1 < 9 && !found; r1++) for (let r2 = r1 + 1; r2 < 9 && !found; r2++) {
    for (let c1 = 0; c1 < 9 && !found; c1++) for (let c2 = c1 + 1; c2 < 9 && !found; c2++) {
      const a = sol[r1 * 9 + c1], b = sol[r1 * 9 + c2];
      if (sol[r2 * 9 + c1] !== b || sol[r2 * 9 + c2] !== a) continue;
      if (Math.floor(r1 / 3) !== Math.floor(r2 / 3) && Math.floor(c1 / 3) !== Math.floor(c2 / 3)) continue; // needs 2 boxes
      const p = Int8Array.from(sol);
      for (const c of [r1 * 9 + c1, r1 * 9 + c2, r2 * 9 + c1, r2 * 9 + c2]) p[c] = 0;
      assert.equal(solve(p, geo, { limit: 10 }).solutions, 2);
      assert.equal(hasUniqueSolution(p, geo), false);
      found = true;
    }
  }
  assert.ok(found, 'no deadly rectangle in the test grid');
});

test('solver: contradictory puzzles have no solution', () => {
  const geo = geometry(9);
  const dupRow = new Int8Array(81);
  dupRow[0] = 5;
  dupRow[8] = 5;
  assert.deepEqual(solve(dupRow, geo), { solutions: 0, backtracks: 0, guesses: 0 });
  const dupBox = new Int8Array(81);
  dupBox[0] = 3;
  dupBox[10] = 3;
  assert.equal(solve(dupBox, geo).solutions, 0);
  // No duplicate givens, but cell (0,8) must be 9 while column 8 already has a 9.
  const blocked = g(`12345678.${'........9'}${'.'.repeat(63)}`);
  assert.equal(solve(blocked, geo).solutions, 0);
  // Needs search to refute: a valid-looking fixture puzzle with one given changed to a consistent but wrong digit.
  const hard = readPuzzles('top95.txt')[0].grid;
  const sol = solve(hard, geo).solution ?? new Int8Array(81);
  let refuted = 0;
  let refutedBySearch = 0;
  for (let c = 0; c < 81 && refutedBySearch < 2; c++) {
    if (hard[c] !== 0) continue;
    for (let d = 1; d <= 9; d++) {
      if (d === sol[c] || geo.peers[c].some((p) => hard[p] === d)) continue;
      const p = Int8Array.from(hard);
      p[c] = d;
      const r = solve(p, geo);
      if (r.solutions === 0) {
        refuted++;
        if (r.guesses > 0) refutedBySearch++;
        assert.equal(r.solution, undefined);
        assert.equal(r.backtracks, r.guesses); // no solution: every guess was refuted
      }
      else assert.ok(r.solution && givensMatch(p, r.solution) && isValidSolution(r.solution, geo));
      break;
    }
  }
  assert.ok(refuted >= 2 && refutedBySearch >= 2);
});

test('solver: 4×4 and 6×6 puzzles', () => {
  const g4 = geometry(4);
  const r4 = solve(g('1.....2....43...'), g4);
  assert.equal(r4.solutions, 1);
  assert.equal(gridToString(r4.solution ?? []), '1243432121343412');
  assert.equal(solve(new Int8Array(16), g4, { limit: 1000 }).solutions, 288); // all 4×4 Sudoku grids
  assert.equal(solve(g('11..............'), g4).solutions, 0);
  const g6 = geometry(6);
  const r6 = solve(g('12......56.....3........2....1.4...5'), g6);
  assert.equal(r6.solutions, 1);
  assert.equal(gridToString(r6.solution ?? []), '126543435612514326362154253461641235');
  const r6b = solve(g('..35....6...6..4...1.....3..51......'), g6);
  assert.equal(gridToString(r6b.solution ?? []), '143526256134625413314265432651561342');
  assert.ok(isValidSolution(r6b.solution ?? [], g6));
  assert.equal(solve(g('1.....1.............................'), g6).solutions, 0); // same box
});

test('solver: solution counts match a naive backtracker on random partial grids (4, 6, 9)', () => {
  fc.assert(fc.property(fc.integer(), fc.constantFrom(4, 6, 9), fc.double({ min: 0, max: 1, noNaN: true }), (seed, n, keepFrac) => {
    const geo = geometry(n as 4 | 6 | 9);
    const rng = new Rng(seed);
    const full = randomSolvedGrid(geo, rng);
    // 9×9: keep many clues so the naive count stays cheap; 4×4/6×6: anything.
    const keep = n === 9 ? 0.6 + 0.4 * keepFrac : keepFrac;
    const p = Int8Array.from(full);
    for (let c = 0; c < geo.cells; c++) if (rng.float() >= keep) p[c] = 0;
    if (rng.float() < 0.3) { // sometimes plant a (maybe conflicting) wrong digit
      const c = rng.int(geo.cells);
      p[c] = 1 + rng.int(n);
    }
    const cap = 50;
    const r = solve(p, geo, { limit: cap });
    assert.equal(r.solutions, bruteCount(p, geo, cap), gridToString(p));
    if (r.solutions > 0) {
      assert.ok(r.solution && isValidSolution(r.solution, geo) && givensMatch(p, r.solution));
    }
    assert.ok(r.backtracks <= r.guesses);
  }), { numRuns: 150, seed: 20240611 });
});

test('solver: rejects bad input clearly', () => {
  const geo = geometry(4);
  assert.throws(() => solve(new Int8Array(15), geo), /expected 16 cells/);
  assert.throws(() => solve(Int8Array.of(5, ...new Array<number>(15).fill(0)), geo), /cell 0 holds 5/);
  assert.throws(() => solve(new Int8Array(16), geo, { limit: 0 }), /limit/);
});

test('solver: randomOrder gives varied valid full grids, deterministic per seed', () => {
  const geo = geometry(9);
  const a = randomSolvedGrid(geo, new Rng(1));
  const b = randomSolvedGrid(geo, new Rng(1));
  const c = randomSolvedGrid(geo, new Rng(2));
  assert.ok(isValidSolution(a, geo) && isValidSolution(c, geo));
  assert.deepEqual([...a], [...b]);
  assert.notDeepEqual([...a], [...c]);
});
