// Per-segment metrics from hand-built decoded-grid sequences (logits built to decode to chosen grids).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logitsFromGrid } from '../../engine/analysis/decode';
import {
  computeTraceMetrics, exactSummary, gridAt, gridsIdentical, largestFall, relativeResidual, residualSeries, sigmoid,
} from '../../engine/analysis/segment-metrics';
import type { PuzzleTrace, SegmentCapture } from '../../engine/analysis/trace';

const SOL4 = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const BLANKS = [0, 1, 4, 5, 10, 15];
const PUZZLE = Int8Array.from(SOL4, (d, i) => (BLANKS.includes(i) ? 0 : d));
const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

function edit(base: Int8Array, changes: Record<number, number>): Int8Array {
  const g = Int8Array.from(base);
  for (const [i, d] of Object.entries(changes)) g[Number(i)] = d;
  return g;
}

function seg(grid: Int8Array, qHalt: number, qContinue: number, zH?: number[]): SegmentCapture {
  return { logits: logitsFromGrid(grid, 4, 5), qHalt, qContinue, zH: zH ? Float32Array.from(zH) : undefined };
}

// G1 = the puzzle (blanks predicted blank), G2 = two wrong cells (blank 0, given 2), G3/G4 exact,
// G5 = blank cell 15 wrong (corruption), G6 exact again.
const G = [
  PUZZLE,
  edit(SOL4, { 0: 2, 2: 4 }),
  SOL4,
  SOL4,
  edit(SOL4, { 15: 4 }),
  SOL4,
];
const Q_HALT = [-5, -2, 1, 3, 0, 2];
const Z_H = [[3, 4, 0, 0], [3, 4, 0, 0], [6, 8, 0, 0], [6, 8, 0, 0], [6, 8, 5, 0], [0, 0, 0, 0]];

function fixture(withSolution = true): PuzzleTrace {
  return {
    n: 4, puzzle: PUZZLE, solution: withSolution ? SOL4 : undefined,
    segments: G.map((g, k) => seg(g, Q_HALT[k], 0, Z_H[k])),
  };
}

test('segment metrics: exact, wrong (givens/blanks), E, changed on a hand-built sequence', () => {
  const m = computeTraceMetrics(fixture());
  assert.equal(m.segments, 6);
  assert.equal(m.exactBasis, 'solution');
  assert.deepEqual([...m.exact], [0, 0, 1, 1, 0, 1]);
  assert.deepEqual([...(m.wrong ?? [])], [6, 2, 0, 0, 1, 0]);
  assert.deepEqual([...(m.wrongGivens ?? [])], [0, 1, 0, 0, 0, 0]);
  assert.deepEqual([...(m.wrongBlanks ?? [])], [6, 1, 0, 0, 1, 0]);
  // G2: row 0 = 2,2,4,4 (2) + col 0 (1) + col 2 (1) + box 0 (1) + box 1 (1) = 6; G5: row 3, col 3, box 3 = 3
  assert.deepEqual([...m.energy], [0, 6, 0, 0, 3, 0]);
  // segment 1 compared with the puzzle input; segment 2 fills the 6 blanks and overwrites given cell 2
  assert.deepEqual([...m.changed], [0, 7, 2, 0, 1, 1]);
  assert.deepEqual([...gridAt(m, 2)], [...G[1]]);
  assert.deepEqual([...m.grids.subarray(16 * 4, 16 * 5)], [...G[4]]);
  assert.equal(m.correct?.[16 + 0], 0);
  assert.equal(m.correct?.[16 + 1], 1);
  close(m.confidence[0], Math.exp(5) / (Math.exp(5) + 5), 1e-6);
});

test('segment metrics: summaries — first exact, stable-from, critical segments, corruptions', () => {
  const m = computeTraceMetrics(fixture());
  assert.equal(m.firstExact, 3);
  assert.equal(m.stableFrom, 6);
  assert.deepEqual(m.corruptions, [5]);
  assert.equal(m.finalExact, true);
  assert.equal(m.finalEnergy, 0);
  assert.equal(m.finalWrong, 0);
  assert.equal(m.criticalSegment, 2);
  assert.equal(m.criticalDrop, 4);
  assert.equal(m.criticalEnergySegment, 3);
  assert.equal(m.criticalEnergyDrop, 6);
  // loss_k = (wrong·log 11 + (16 − wrong)·log(11/6)) / 16 with margin-5 logits
  const loss = (w: number) => (w * Math.log(11) + (16 - w) * Math.log(11 / 6)) / 16;
  [6, 2, 0, 0, 1, 0].forEach((w, k) => close(m.loss?.[k] ?? NaN, loss(w)));
  assert.equal(m.criticalLossSegment, 2);
  close(m.criticalLossDrop, loss(6) - loss(2));
});

test('segment metrics: Q-head probabilities and the strict halt decision', () => {
  const m = computeTraceMetrics(fixture());
  assert.deepEqual([...m.halt], [0, 0, 1, 1, 0, 1]); // segment 5: q_halt = q_continue = 0 → no halt
  close(m.qHaltProb[4], 0.5);
  close(m.qHaltProb[0], 1 / (1 + Math.exp(5)));
  close(m.qContinueProb[2], 0.5);
  close(sigmoid(-800), 0);
  close(sigmoid(800), 1);
  assert.deepEqual([...m.qHalt], Q_HALT);
});

test('segment metrics: latent residuals ‖z(k) − z(k−1)‖ / ‖z(k−1)‖; NaN at segment 1 and where missing', () => {
  const m = computeTraceMetrics(fixture());
  assert.ok(Number.isNaN(m.residualH[0]));
  close(m.residualH[1], 0);
  close(m.residualH[2], 1); // [3,4] → [6,8]: ‖(3,4)‖ / 5
  close(m.residualH[3], 0);
  close(m.residualH[4], 0.5); // adds 5 to a norm-10 vector
  close(m.residualH[5], 1); // to zero
  assert.equal(m.hasZH, true);
  assert.equal(m.hasZL, false);
  assert.equal(m.residualL.length, 6);
  assert.ok([...m.residualL].every(Number.isNaN), 'no z_L: every residualL is NaN');
  assert.equal(relativeResidual([1, 1], [0, 0]), Infinity);
  assert.equal(relativeResidual([0, 0], [0, 0]), 0);
  close(relativeResidual([1, 2, 2], [0, 0, 1]), Math.sqrt(1 + 4 + 1));
  assert.throws(() => relativeResidual([1], [1, 2]), /lengths differ/);
  const r = residualSeries([[1, 0], undefined, [1, 0], [0, 1]]);
  assert.ok(Number.isNaN(r[0]) && Number.isNaN(r[1]) && Number.isNaN(r[2]));
  close(r[3], Math.SQRT2);
});

test('segment metrics: without a solution, exact = valid full grid keeping the givens; label metrics absent', () => {
  const m = computeTraceMetrics(fixture(false));
  assert.equal(m.exactBasis, 'valid-grid');
  assert.deepEqual([...m.exact], [0, 0, 1, 1, 0, 1]);
  assert.equal(m.wrong, undefined);
  assert.equal(m.loss, undefined);
  assert.equal(m.correct, undefined);
  assert.equal(m.finalWrong, null);
  assert.equal(m.criticalSegment, null);
  assert.equal(m.criticalLossSegment, null);
  assert.equal(m.criticalEnergySegment, 3);
  assert.deepEqual(m.corruptions, [5]);
  // a valid grid that contradicts a given is not "exact"
  const other = Int8Array.from([2, 1, 4, 3, 4, 3, 2, 1, 1, 2, 3, 4, 3, 4, 1, 2]);
  const t: PuzzleTrace = { n: 4, puzzle: PUZZLE, segments: [seg(other, 0, 0)] };
  assert.deepEqual([...computeTraceMetrics(t).exact], [0]);
});

test('segment metrics: never exact, exact only at the end, one segment, no segments', () => {
  const never = computeTraceMetrics({ n: 4, puzzle: PUZZLE, solution: SOL4, segments: [seg(PUZZLE, 0, 1), seg(PUZZLE, 0, 1)] });
  assert.equal(never.firstExact, null);
  assert.equal(never.stableFrom, null);
  assert.equal(never.criticalSegment, null);
  assert.equal(never.criticalDrop, 0);
  assert.deepEqual(never.corruptions, []);
  assert.equal(never.finalWrong, 6);
  const one = computeTraceMetrics({ n: 4, puzzle: PUZZLE, solution: SOL4, segments: [seg(SOL4, 1, 0)] });
  assert.equal(one.firstExact, 1);
  assert.equal(one.stableFrom, 1);
  assert.equal(one.changed[0], 6);
  const none = computeTraceMetrics({ n: 4, puzzle: PUZZLE, solution: SOL4, segments: [] });
  assert.equal(none.segments, 0);
  assert.equal(none.finalExact, false);
  assert.ok(Number.isNaN(none.finalEnergy));
  assert.equal(none.hasZH, false);
  assert.throws(() => computeTraceMetrics({ n: 4, puzzle: new Int8Array(9), segments: [] }), /puzzle has 9 cells/);
});

test('segment metrics helpers: exactSummary, largestFall (earliest on ties), gridsIdentical', () => {
  assert.deepEqual(exactSummary([1, 0, 1, 1, 0, 0]), { firstExact: 1, stableFrom: null, corruptions: [2, 5] });
  assert.deepEqual(exactSummary([0, 0, 1, 1]), { firstExact: 3, stableFrom: 3, corruptions: [] });
  assert.deepEqual(largestFall([5, 3, 3, 1, 4]), { segment: 2, drop: 2 });
  assert.deepEqual(largestFall([1, 2, 3]), { segment: null, drop: 0 });
  const m = computeTraceMetrics(fixture());
  assert.equal(gridsIdentical(m, 3, 4), true);
  assert.equal(gridsIdentical(m, 3, 5), false);
  assert.equal(gridsIdentical(m, 6, 6), true);
  assert.throws(() => gridAt(m, 0), /segment must be in 1..6/);
});

test('segment metrics: a segment with the wrong number of logits is named', () => {
  const t = fixture();
  t.segments[2] = { ...t.segments[2], logits: new Float32Array(10) };
  assert.throws(() => computeTraceMetrics(t), /segment 3 has 10 logits, expected 16×6/);
});
