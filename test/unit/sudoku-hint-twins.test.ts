import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type GridSize, countBlanks, geometry, givensMatch, parseGrid } from '../../engine/sudoku/geometry';
import { solve } from '../../engine/sudoku/solver';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { hintTwin, hintTwinDetail } from '../../engine/sudoku/hint-twins';
import { Rng } from '../../engine/util/rng';

test('hint twins: same solution, 1..n-1 cells revealed, at least one blank left, deterministic (property)', () => {
  fc.assert(fc.property(fc.integer(), fc.integer(), fc.constantFrom<GridSize>(4, 6, 9), (puzzleSeed, twinSeed, n) => {
    const geo = geometry(n);
    const [p] = generatePuzzles({ n, seed: puzzleSeed }, 1);
    const blanks = countBlanks(p.puzzle);
    const twin = hintTwin(p.puzzle, p.solution, new Rng(twinSeed));
    assert.ok(twin);
    assert.equal(twin.length, geo.cells);
    assert.ok(givensMatch(twin, p.solution));
    assert.ok(givensMatch(p.puzzle, twin)); // every original given is kept
    const left = countBlanks(twin);
    const revealed = blanks - left;
    assert.ok(left >= 1, 'no blank left');
    assert.ok(revealed >= 1 && revealed <= blanks - 1, `revealed ${revealed} of ${blanks}`);
    const r = solve(twin, geo);
    assert.equal(r.solutions, 1);
    assert.deepEqual([...r.solution ?? []], [...p.solution]);
    assert.deepEqual([...hintTwin(p.puzzle, p.solution, new Rng(twinSeed)) ?? []], [...twin]);
    const detail = hintTwinDetail(p.puzzle, p.solution, new Rng(twinSeed));
    assert.ok(detail);
    assert.equal(detail.revealed.length, revealed);
    assert.equal(new Set(detail.revealed).size, revealed);
    for (const c of detail.revealed) assert.ok(p.puzzle[c] === 0 && detail.twin[c] === p.solution[c]);
  }), { numRuns: 120, seed: 77 });
});

test('hint twins: r is uniform over 1..n-1 and every blank can be revealed', () => {
  const p = parseGrid('1.....2....43...');
  const s = parseGrid('1243432121343412');
  assert.ok('grid' in p && 'grid' in s);
  const blanks = countBlanks(p.grid); // 12
  const counts = new Array<number>(blanks).fill(0);
  const cellHits = new Array<number>(16).fill(0);
  const rng = new Rng(5);
  const draws = 2200;
  for (let i = 0; i < draws; i++) {
    const d = hintTwinDetail(p.grid, s.grid, rng);
    assert.ok(d);
    counts[d.revealed.length]++;
    for (const c of d.revealed) cellHits[c]++;
  }
  assert.equal(counts[0], 0);
  const expected = draws / (blanks - 1); // 200 per value of r
  for (let r = 1; r < blanks; r++) assert.ok(Math.abs(counts[r] - expected) < 0.35 * expected, `r=${r}: ${counts[r]}`);
  for (let c = 0; c < 16; c++) assert.equal(cellHits[c] > 0, p.grid[c] === 0, `cell ${c}`);
});

test('hint twins: fewer than 2 blanks gives undefined; bad input throws', () => {
  const s = parseGrid('1243432121343412');
  assert.ok('grid' in s);
  const rng = new Rng(1);
  const state = rng.getState();
  assert.equal(hintTwin(s.grid, s.grid, rng), undefined); // no blank
  const one = Int8Array.from(s.grid);
  one[5] = 0;
  assert.equal(hintTwin(one, s.grid, rng), undefined); // one blank
  assert.deepEqual(rng.getState(), state); // nothing drawn
  const two = Int8Array.from(one);
  two[9] = 0;
  const t = hintTwin(two, s.grid, rng);
  assert.ok(t);
  assert.equal(countBlanks(t), 1); // r = 1 is the only choice
  assert.throws(() => hintTwin(two, s.grid.subarray(1), rng), /cells/);
  assert.throws(() => hintTwin(two, new Int8Array(16), rng), /no digit at blank cell/);
});
