import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geometry, parseGrid, gridToTokens, tokensToGrid, sizeFromCells } from '../../engine/sudoku/geometry';

test('geometry: units and peers for 4, 6 and 9', () => {
  for (const [n, peers] of [[4, 7], [6, 12], [9, 20]] as const) {
    const g = geometry(n);
    assert.equal(g.units.length, 3 * n);
    for (const u of g.units) assert.equal(new Set(u).size, n);
    for (let c = 0; c < g.cells; c++) assert.equal(g.peers[c].length, peers, `n=${n} cell ${c}`);
    assert.equal(g.vocabSize, n + 2);
  }
  const g6 = geometry(6);
  assert.deepEqual([...g6.units[12]], [0, 1, 2, 6, 7, 8]); // first box: 2 rows × 3 columns
  assert.equal(g6.box(3), 1);
  assert.equal(g6.box(12), 2);
});

test('geometry: parse and tokens round-trip; bad input gives a reason', () => {
  const r = parseGrid('1.3.0...4...2..1');
  assert.ok('grid' in r);
  assert.equal(r.n, 4);
  assert.deepEqual([...gridToTokens(r.grid)].slice(0, 4), [2, 1, 4, 1]);
  assert.deepEqual([...tokensToGrid(gridToTokens(r.grid))], [...r.grid]);
  const bad = parseGrid('1.3.0...5...2..1');
  assert.ok('error' in bad && /position 9/.test(bad.error));
  assert.ok('error' in parseGrid('123'));
  assert.equal(sizeFromCells(81), 9);
  assert.equal(sizeFromCells(25), undefined);
});
