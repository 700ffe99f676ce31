// Otsu's threshold on 1-D samples: bimodal samples, gaps, degenerate inputs, agreement with an exhaustive search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { otsu, otsuThreshold } from '../../engine/analysis/otsu';
import { Rng } from '../../engine/util/rng';

/** Between-class variance of the split "x < t" computed from the raw values. */
function splitVariance(xs: readonly number[], t: number): number {
  const lo = xs.filter((x) => x < t);
  const hi = xs.filter((x) => x >= t);
  if (lo.length === 0 || hi.length === 0) return 0;
  const m = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const d = m(lo) - m(hi);
  return (lo.length * hi.length * d * d) / (xs.length * xs.length);
}

test('otsu: a clearly bimodal sample is split between its modes', () => {
  const rng = new Rng(7);
  const xs: number[] = [];
  for (let i = 0; i < 300; i++) xs.push(-4 + 0.2 * rng.normal());
  for (let i = 0; i < 100; i++) xs.push(-1 + 0.2 * rng.normal());
  const r = otsu(xs);
  assert.ok(r.separable);
  assert.ok(r.threshold > -3.2 && r.threshold < -1.8, `threshold ${r.threshold}`);
  assert.equal(xs.filter((x) => x < r.threshold).length, 300);
  assert.equal(r.count, 400);
  // deterministic
  assert.equal(otsuThreshold(xs), r.threshold);
  // close to the best split over all raw thresholds
  const sorted = [...xs].sort((a, b) => a - b);
  let best = 0;
  for (let i = 1; i < sorted.length; i++) best = Math.max(best, splitVariance(xs, (sorted[i - 1] + sorted[i]) / 2));
  assert.ok(splitVariance(xs, r.threshold) >= 0.999 * best);
});

test('otsu: a gap between the classes puts the threshold in the middle of the gap', () => {
  const r = otsu([0, 0, 0, 1, 1, 1]);
  assert.equal(r.threshold, 0.5);
  assert.equal(otsu([10, 10, 30], { bins: 4 }).threshold, 20);
  const t = otsuThreshold([1, 1.1, 0.9, 5, 5.1, 4.9], 64);
  assert.ok(t > 2.5 && t < 3.5, `threshold ${t}`);
});

test('otsu: non-finite values are ignored; degenerate samples', () => {
  assert.equal(otsu([0, NaN, 0, Infinity, 1, 1, -Infinity]).threshold, 0.5);
  assert.equal(otsu([0, NaN, 0, Infinity, 1, 1, -Infinity]).count, 4);
  const empty = otsu([]);
  assert.ok(Number.isNaN(empty.threshold));
  assert.equal(empty.separable, false);
  const same = otsu([3, 3, 3]);
  assert.equal(same.threshold, 3);
  assert.equal(same.separable, false);
  assert.throws(() => otsu([1, 2], { bins: 1 }), /bins/);
});
