import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { geometry, parseGrid, type Grid } from '../../engine/sudoku/geometry';
import { cellCorrectness, conflictEnergy, wrongCells } from '../../engine/sudoku/energy';

const SOL9 = '483921657967345821251876493548132976729564138136798245372689514814253769695417382';
function g(text: string): Grid {
  const r = parseGrid(text);
  if ('error' in r) throw new Error(r.error);
  return r.grid;
}
function withCells(n: number, cells: Record<number, number>): Int8Array {
  const grid = new Int8Array(n * n);
  for (const [c, d] of Object.entries(cells)) grid[Number(c)] = d;
  return grid;
}

test('energy: solved and blank grids are 0; blanks and PAD add nothing', () => {
  const geo = geometry(9);
  const sol = g(SOL9);
  assert.equal(conflictEnergy(sol, geo), 0);
  assert.equal(conflictEnergy(new Int8Array(81), geo), 0);
  const holes = Int8Array.from(sol);
  for (let c = 0; c < 81; c += 2) holes[c] = 0;
  assert.equal(conflictEnergy(holes, geo), 0);
  const pad = Int8Array.from(sol);
  pad[5] = -1;
  pad[6] = -1;
  assert.equal(conflictEnergy(pad, geo), 0);
});

test('energy: duplicates in a row, column and box count exactly (9×9)', () => {
  const geo = geometry(9);
  // Overwrite (0,0) with the digit at (0,1): one surplus in row 0, in column 0 (the digit sits lower down) and in box 0.
  const one = g(SOL9);
  one[0] = one[1];
  assert.equal(conflictEnergy(one, geo), 3);
  assert.equal(conflictEnergy(withCells(9, { 0: 5, 3: 5, 6: 5 }), geo), 2); // row only: three 5s → 2
  assert.equal(conflictEnergy(withCells(9, { 0: 5, 1: 5, 2: 5 }), geo), 4); // row 2 + box 2
  assert.equal(conflictEnergy(withCells(9, { 0: 7, 27: 7 }), geo), 1); // column only
  assert.equal(conflictEnergy(withCells(9, { 0: 7, 20: 7 }), geo), 1); // box only: (0,0) and (2,2)
  assert.equal(conflictEnergy(withCells(9, { 0: 7, 9: 7 }), geo), 2); // column + box
  assert.equal(conflictEnergy(withCells(9, { 0: 1, 1: 1, 2: 2, 3: 2 }), geo), 3); // row: 1+1, box: 1 (the 1s)
  assert.equal(conflictEnergy(new Int8Array(81).fill(1), geo), 216); // the maximum
});

test('energy: 4×4 and 6×6 examples', () => {
  const g4 = geometry(4);
  assert.equal(conflictEnergy(g('1243432121343412'), g4), 0);
  assert.equal(conflictEnergy(g('11..............'), g4), 2); // row + box
  assert.equal(conflictEnergy(withCells(4, { 0: 2, 5: 2 }), g4), 1); // box only: (0,0), (1,1)
  assert.equal(conflictEnergy(withCells(4, { 0: 3, 2: 3, 8: 3 }), g4), 2); // row (0,0),(0,2) + column (0,0),(2,0)
  assert.equal(conflictEnergy(new Int8Array(16).fill(4), g4), 36);
  const g6 = geometry(6);
  assert.equal(conflictEnergy(g('126543435612514326362154253461641235'), g6), 0);
  assert.equal(conflictEnergy(withCells(6, { 0: 4, 2: 4 }), g6), 2); // same row, same 2×3 box
  assert.equal(conflictEnergy(withCells(6, { 0: 4, 3: 4 }), g6), 1); // same row, next box
  assert.equal(conflictEnergy(withCells(6, { 0: 4, 6: 4 }), g6), 2); // same column, same box
  assert.equal(conflictEnergy(withCells(6, { 0: 4, 12: 4 }), g6), 1); // same column, box below
  assert.equal(conflictEnergy(new Int8Array(36).fill(6), g6), 90);
  assert.throws(() => conflictEnergy(new Int8Array(15), g4), /expected 16 cells/);
});

test('energy: cellCorrectness and wrongCells', () => {
  const sol = g('1243432121343412');
  const puzzle = g('1.....2....43...');
  const pred = Int8Array.from(sol);
  pred[0] = 2; // a given, wrong
  pred[1] = 1; // a blank, wrong
  pred[3] = 0; // a blank left blank: wrong too
  const ok = cellCorrectness(pred, sol);
  assert.equal(ok.length, 16);
  assert.deepEqual([...ok.slice(0, 5)], [0, 0, 1, 0, 1]);
  assert.equal(ok.reduce((a, b) => a + b, 0), 13);
  assert.deepEqual(wrongCells(pred, sol, puzzle), { total: 3, givens: 1, blanks: 2 });
  assert.deepEqual(wrongCells(pred, sol), { total: 3, givens: 0, blanks: 3 });
  assert.deepEqual(wrongCells(sol, sol, puzzle), { total: 0, givens: 0, blanks: 0 });
  assert.throws(() => cellCorrectness(pred, sol.subarray(1)), /lengths differ/);
});

/** The paper's E, verbatim (9×9 only; docs/analyses.md §Conflict energy E). */
function paperEnergy(g: ArrayLike<number>): number {
  let e = 0;
  const unit = (idx: (k: number) => number) => {
    const c = new Int32Array(10);
    for (let k = 0; k < 9; k++) { const d = g[idx(k)]; if (d >= 1 && d <= 9) c[d]++; }
    for (let d = 1; d <= 9; d++) if (c[d] > 1) e += c[d] - 1;
  };
  for (let r = 0; r < 9; r++) unit((k) => r * 9 + k);
  for (let c = 0; c < 9; c++) unit((k) => k * 9 + c);
  for (let b = 0; b < 9; b++) {
    const r0 = 3 * Math.floor(b / 3), c0 = 3 * (b % 3);
    unit((k) => (r0 + Math.floor(k / 3)) * 9 + c0 + (k % 3));
  }
  return e;
}

test('energy: equals the paper\'s reference on random 9×9 boards (digits, blanks, PAD)', () => {
  const geo = geometry(9);
  fc.assert(fc.property(fc.array(fc.integer({ min: -1, max: 9 }), { minLength: 81, maxLength: 81 }), (cells) => {
    assert.equal(conflictEnergy(cells, geo), paperEnergy(cells));
  }), { numRuns: 300, seed: 7 });
});
