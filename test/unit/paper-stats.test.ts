/**
 * The statistics of the reproduction report: Wilson intervals, across-seed spreads (Student t), type-7 quartiles,
 * interval overlap; checked against values computed by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlaps, proportion, quartiles, seedSpread, wilson } from '../../engine/paper/stats';

const close = (a: number | null, b: number, tol = 5e-4) => assert.ok(a !== null && Math.abs(a - b) < tol, `${a} ≈ ${b}`);

test('Wilson 95% interval: 8 of 10, 0 of 10, 10 of 10, none', () => {
  const w = wilson(8, 10);
  close(w?.lo ?? null, 0.4902);
  close(w?.hi ?? null, 0.9433);
  const zero = wilson(0, 10);
  assert.equal(zero?.lo, 0);
  close(zero?.hi ?? null, 0.2775);
  const all = wilson(10, 10);
  close(all?.lo ?? null, 0.7225);
  assert.equal(all?.hi, 1);
  assert.equal(wilson(0, 0), null);
  assert.deepEqual(proportion(0, 0), { k: 0, n: 0, value: null, lo: null, hi: null });
  assert.equal(proportion(3, 4).value, 0.75);
});

test('across-seed spread: mean, sample sd, t interval clipped to [0, 1]; one run has no spread', () => {
  const s = seedSpread([0.5, 0.7, null, 0.9]);
  assert.equal(s.runs, 3);
  close(s.mean, 0.7);
  close(s.sd, 0.2);
  // t(0.975, 2) = 4.303: 0.7 ± 4.303·0.2/√3 = 0.7 ± 0.4969, clipped.
  close(s.lo, 0.2031);
  assert.equal(s.hi, 1);
  assert.deepEqual(s.values, [0.5, 0.7, null, 0.9]);
  const single = seedSpread([0.4]);
  assert.equal(single.mean, 0.4);
  assert.equal(single.sd, null);
  assert.equal(single.lo, null);
});

test('quartiles by linear interpolation (type 7); empty input gives nulls', () => {
  const q = quartiles([4, 1, 3, 2]);
  assert.deepEqual(q, { n: 4, mean: 2.5, q1: 1.75, median: 2.5, q3: 3.25 });
  assert.deepEqual(quartiles([7]), { n: 1, mean: 7, q1: 7, median: 7, q3: 7 });
  assert.deepEqual(quartiles([]), { n: 0, mean: null, q1: null, median: null, q3: null });
});

test('interval overlap', () => {
  assert.equal(overlaps({ lo: 0.1, hi: 0.3 }, { lo: 0.3, hi: 0.5 }), true);
  assert.equal(overlaps({ lo: 0.1, hi: 0.29 }, { lo: 0.3, hi: 0.5 }), false);
  assert.equal(overlaps({ lo: null, hi: null }, { lo: 0.3, hi: 0.5 }), null);
});
