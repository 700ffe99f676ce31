// The paper-style landscape's numbers (webview/landscape-paper.ts, imported as the webview imports it, without a
// DOM): E clipped at 40 for the colour scale, a seeded 5% sample of the arrows (rounded half up, at least one), and
// full-length arrows, checked on a real landscape of the shipped tiny-4x4 model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { loadModel } from '../../engine/train/load-model';
import { parseGrid } from '../../engine/sudoku/geometry';
import { computeLandscape } from '../../engine/analysis/landscape';
import {
  PAPER_ARROW_PERCENT, PAPER_ARROW_SEED, PAPER_E_CLIP, arrowHead, arrowSampleSize, clipEnergy, fullLengthArrow, legendTicks, paperColour,
  sampleArrows,
} from '../../webview/landscape-paper';

test('paper style: E is clipped at 40 exactly, for the colour and the legend', () => {
  assert.equal(PAPER_E_CLIP, 40);
  assert.equal(clipEnergy(40), 40);
  assert.equal(clipEnergy(39.5), 39.5);
  assert.equal(clipEnergy(40.001), 40);
  assert.equal(clipEnergy(41), 40);
  assert.equal(clipEnergy(1e6), 40);
  assert.equal(clipEnergy(Number.POSITIVE_INFINITY), 40);
  assert.equal(clipEnergy(Number.NaN), 40);
  assert.equal(clipEnergy(0), 0);
  assert.equal(clipEnergy(-3), 0);
  // Everything at or above the clip has the clip's colour; just below it does not.
  assert.equal(paperColour(41), paperColour(40));
  assert.equal(paperColour(500), paperColour(40));
  assert.notEqual(paperColour(39), paperColour(40));
  assert.notEqual(paperColour(0), paperColour(1));
  const ticks = legendTicks();
  assert.deepEqual(ticks.map((t) => t.label), ['0', '10', '20', '30', '≥ 40']);
  assert.equal(ticks[ticks.length - 1].value, 40);
});

test('paper style: the sample holds 5% of N arrows, rounded half up, at least one', () => {
  assert.equal(PAPER_ARROW_PERCENT, 5);
  const expected: [number, number][] = [[0, 0], [1, 1], [9, 1], [10, 1], [29, 1], [30, 2], [49, 2], [50, 3], [441, 22], [1681, 84], [10_000, 500]];
  for (const [n, k] of expected) {
    assert.equal(arrowSampleSize(n), k, `${n} arrows`);
    const s = sampleArrows(n);
    assert.equal(s.length, k, `sample of ${n}`);
    assert.equal(new Set(s).size, k, `distinct points in the sample of ${n}`);
    assert.ok(s.every((p, q) => Number.isInteger(p) && p >= 0 && p < n && (q === 0 || p > s[q - 1])), `in range and increasing (${n})`);
  }
  for (let n = 10; n <= 5000; n++) {
    const k = arrowSampleSize(n);
    assert.ok(Math.abs(k - n * 0.05) <= 0.5, `${n}: ${k} is not 5% ± 0.5`);
    if ((n * 5) % 100 === 50) assert.equal(k, Math.ceil(n * 0.05), `${n}: a half rounds up`);
  }
  assert.throws(() => arrowSampleSize(-1), RangeError);
  assert.throws(() => arrowSampleSize(2.5), RangeError);
});

test('paper style: the same seed gives the same sample, different seeds different samples', () => {
  for (const n of [441, 1681]) {
    const a = sampleArrows(n, PAPER_ARROW_SEED);
    assert.deepEqual(sampleArrows(n, PAPER_ARROW_SEED), a, `redraw of ${n}`);
    assert.deepEqual(sampleArrows(n), a, 'the default seed is PAPER_ARROW_SEED');
    const samples = [PAPER_ARROW_SEED, 1, 2, 3, 42, 0xffffffff].map((seed) => sampleArrows(n, seed).join(','));
    assert.equal(new Set(samples).size, samples.length, `six seeds, six samples of ${n}`);
    // Spread over the plane, not the first points.
    assert.ok(a[a.length - 1] > n / 2 && a[0] < n / 2, `sample of ${n}: ${a.join(',')}`);
  }
});

test('paper style: each arrow of a real landscape is at full length: end = start + the segment\'s displacement', async () => {
  await selectBackend({ backend: 'wasm' });
  const { model } = await loadModel(path.resolve(__dirname, '..', '..', 'models', 'tiny-4x4.safetensors'));
  try {
    const p = parseGrid('.1.....3..32....', 4);
    if ('error' in p) throw new Error(p.error);
    const l = computeLandscape(model, p.grid, { size: 21 });
    const sample = sampleArrows(l.size * l.size);
    assert.equal(sample.length, 22);
    let longest = 0;
    for (const q of sample) {
      const a = fullLengthArrow(l.flow, l.size, l.radius, q);
      // The grid point's own plane coordinates (the engine's layout: row-major [j + r][i + r]).
      assert.deepEqual(a.start, { i: (q % 21) - 10, j: Math.floor(q / 21) - 10 });
      // Where one segment takes it, in grid units, as the engine computed: the displacement is that minus the start.
      assert.equal(a.displacement.di, l.flow[2 * q] - a.start.i);
      assert.equal(a.displacement.dj, l.flow[2 * q + 1] - a.start.j);
      assert.equal(a.end.i, a.start.i + a.displacement.di);
      assert.equal(a.end.j, a.start.j + a.displacement.dj);
      assert.ok(Math.abs(a.end.i - l.flow[2 * q]) < 1e-9 && Math.abs(a.end.j - l.flow[2 * q + 1]) < 1e-9, `point ${q} ends at its destination`);
      longest = Math.max(longest, Math.hypot(a.displacement.di, a.displacement.dj));
    }
    // Not normalized: the normalized view shortens every arrow to at most 0.8 × its lattice spacing (2 units at 21×21).
    assert.ok(longest > 1.6, `the longest sampled arrow is ${longest.toFixed(2)} units`);
  } finally {
    model.dispose();
  }
});

test('paper style: the arrow head sits at the end, its barbs `length` back, none for an arrow of zero length', () => {
  const head = arrowHead(0, 0, 10, 0, 4, 0.5);
  assert.ok(head);
  for (const [x, y] of head) {
    assert.ok(Math.abs(Math.hypot(x - 10, y) - 4) < 1e-9);
    assert.ok(x < 10);
  }
  assert.ok(Math.abs(head[0][1] + head[1][1]) < 1e-9, 'symmetric about the shaft');
  assert.equal(arrowHead(3, 3, 3, 3, 4), null);
});
