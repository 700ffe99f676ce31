// Fixed-point stability: the per-puzzle segments × cells matrices and the dataset summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logitsFromGrid } from '../../engine/analysis/decode';
import { type TraceMetrics, computeTraceMetrics } from '../../engine/analysis/segment-metrics';
import { datasetStability, fixedPointMatrix } from '../../engine/analysis/stability';

const SOL4 = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const BLANKS = [0, 1, 4, 5, 10, 15];
const P = Int8Array.from(SOL4, (d, i) => (BLANKS.includes(i) ? 0 : d));
const S = SOL4;
const G2 = Int8Array.from(SOL4, (d, i) => (i === 0 ? 2 : i === 2 ? 4 : d));
const G5 = Int8Array.from(SOL4, (d, i) => (i === 15 ? 4 : d));

function metrics(grids: Int8Array[]): TraceMetrics {
  return computeTraceMetrics({
    n: 4, puzzle: P, solution: SOL4,
    segments: grids.map((g) => ({ logits: logitsFromGrid(g, 4, 5), qHalt: 0, qContinue: 0 })),
  });
}

test('stability: changed / since-last-change / correct matrices, row-major [segment][cell]', () => {
  const m = metrics([P, G2, S, S, G5, S]);
  const fp = fixedPointMatrix(m);
  assert.equal(fp.segments, 6);
  assert.equal(fp.cells, 16);
  const row = (a: ArrayLike<number>, k: number) => Array.from({ length: 16 }, (_, c) => a[k * 16 + c]);
  const changedCells = (k: number) => row(fp.changed, k).flatMap((v, c) => (v ? [c] : []));
  assert.deepEqual(changedCells(0), []);
  assert.deepEqual(changedCells(1), [0, 1, 2, 4, 5, 10, 15]);
  assert.deepEqual(changedCells(2), [0, 2]);
  assert.deepEqual(changedCells(3), []);
  assert.deepEqual(changedCells(4), [15]);
  assert.deepEqual(changedCells(5), [15]);
  const since = (c: number) => Array.from({ length: 6 }, (_, k) => fp.sinceChange[k * 16 + c]);
  assert.deepEqual(since(0), [1, 0, 0, 1, 2, 3]);
  assert.deepEqual(since(15), [1, 0, 1, 2, 0, 0]);
  assert.deepEqual(since(3), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(row(fp.correct ?? [], 1).flatMap((v, c) => (v ? [] : [c])), [0, 2]);
  assert.equal(fp.confidence, m.confidence);
  // changed rows sum to TraceMetrics.changed
  for (let k = 0; k < 6; k++) assert.equal(row(fp.changed, k).reduce((a, b) => a + b, 0), m.changed[k]);
});

test('stability: dataset stability rate, corruptions, final accuracy, per-segment exact fraction', () => {
  const all = [
    metrics([P, G2, S, S, G5, S]), // ever exact (3), corrupted at 5, recovers: not stable
    metrics([P, S, S, S, S, S]), // stable
    metrics([P, P, P, P, P, P]), // never exact
    metrics([S, P, P, P, P, P]), // exact at 1 then corrupted for good
    metrics([P, P, S]), // shorter trace, stable
  ];
  const d = datasetStability(all);
  assert.equal(d.puzzles, 5);
  assert.equal(d.everExact, 4);
  assert.equal(d.stable, 2);
  assert.equal(d.stabilityRate, 0.5);
  assert.equal(d.corruptionEvents, 2);
  assert.equal(d.corruptedPuzzles, 2);
  assert.equal(d.finalExact, 3);
  assert.equal(d.finalAccuracy, 0.6);
  assert.deepEqual([...d.puzzlesBySegment], [5, 5, 5, 4, 4, 4]);
  assert.deepEqual([...d.exactFractionBySegment], [1 / 5, 1 / 5, 3 / 5, 2 / 4, 1 / 4, 2 / 4]);
});

test('stability: empty set and sets never exact give NaN rates, not errors', () => {
  const e = datasetStability([]);
  assert.ok(Number.isNaN(e.stabilityRate));
  assert.ok(Number.isNaN(e.finalAccuracy));
  assert.equal(e.exactFractionBySegment.length, 0);
  const never = datasetStability([metrics([P, P])]);
  assert.ok(Number.isNaN(never.stabilityRate));
  assert.equal(never.finalAccuracy, 0);
});
