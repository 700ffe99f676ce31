// The four reasoning modes (docs/analyses.md §Four reasoning modes), from fixtures written from the definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logitsFromGrid } from '../../engine/analysis/decode';
import { classifyMode, classifyModes, lateDrift, poolTau } from '../../engine/analysis/modes';
import { type TraceMetrics, computeTraceMetrics } from '../../engine/analysis/segment-metrics';

const SOL4 = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const BLANKS = [0, 1, 4, 5, 10, 15];
const P = Int8Array.from(SOL4, (d, i) => (BLANKS.includes(i) ? 0 : d)); // E = 0, not exact
const S = SOL4;
const G2 = Int8Array.from(SOL4, (d, i) => (i === 0 ? 2 : i === 2 ? 4 : d)); // E = 6, 2 wrong
const G5 = Int8Array.from(SOL4, (d, i) => (i === 15 ? 4 : d)); // E = 3, 1 wrong
const SEG = 16;

/** z_H chain with ‖z_k − z_{k−1}‖ / ‖z_{k−1}‖ = drift[k] (drift[0] unused). */
function chain(drift: readonly number[]): Float32Array[] {
  const D = 8;
  const out: Float64Array[] = [];
  let z = new Float64Array(D);
  z[0] = 10;
  out.push(z);
  for (let k = 1; k < drift.length; k++) {
    const norm = Math.hypot(...z);
    z = Float64Array.from(z);
    z[1 + (k % (D - 1))] += drift[k] * norm;
    out.push(z);
  }
  return out.map((v) => Float32Array.from(v));
}

function trace(grids: readonly Int8Array[], drift?: readonly number[]): TraceMetrics {
  const zH = drift ? chain(drift) : undefined;
  return computeTraceMetrics({
    n: 4, puzzle: P, solution: SOL4,
    segments: grids.map((g, k) => ({ logits: logitsFromGrid(g, 4, 5), qHalt: 1, qContinue: 0, zH: zH?.[k] })),
  });
}

const seq = (f: (k: number) => Int8Array) => Array.from({ length: SEG }, (_, i) => f(i + 1));
const drifts = (f: (k: number) => number) => Array.from({ length: SEG }, (_, i) => f(i + 1));
const SMALL = 1e-4;

// trivial success: exact from segment 2, latent settles
const trivialSuccess = trace(seq((k) => (k === 1 ? P : S)), drifts((k) => (k <= 3 ? 0.5 : SMALL)));
// non-trivial success: lingers on a wrong grid (E = 6) for 8 segments, leaps at 9, exact after
const nonTrivialSuccess = trace(seq((k) => (k <= 8 ? G2 : S)), drifts((k) => (k === 9 ? 0.8 : SMALL)));
// trivial failure: oscillates between two wrong grids, latent keeps moving
const trivialFailure = trace(seq((k) => (k % 2 ? G2 : G5)), drifts(() => 0.3));
// non-trivial failure: settles on a wrong grid with conflicts (E = 3)
const nonTrivialFailure = trace(seq((k) => (k <= 3 ? G2 : G5)), drifts((k) => (k <= 4 ? 0.4 : SMALL)));
// settled on the blank-predicting grid: E = 0 at the end, so by the definition a TRIVIAL failure
const settledNoConflict = trace(seq(() => P), drifts(() => SMALL));

const ALL = [trivialSuccess, nonTrivialSuccess, trivialFailure, nonTrivialFailure, settledNoConflict];

test('modes: lateDrift is the mean z_H drift over the last L segments', () => {
  const m = trace(seq(() => G5), drifts((k) => (k >= 13 ? (k - 12) / 10 : 0.9)));
  assert.ok(Math.abs(lateDrift(m) - 0.25) < 1e-5, `${lateDrift(m)}`);
  assert.ok(Math.abs(lateDrift(m, 2) - 0.35) < 1e-5);
  const short = trace([G5, G5, G5], [0, 0.2, 0.4]);
  assert.ok(Math.abs(lateDrift(short) - 0.3) < 1e-5); // window 2..3: segment 1 has no drift
  assert.ok(Number.isNaN(lateDrift(trace([G5]), 4)));
  assert.ok(Number.isNaN(lateDrift(trace(seq(() => G5)))));
  assert.throws(() => lateDrift(m, 0), /lastSegments/);
});

test('modes: the four modes with τ pooled by Otsu over log10(late)', () => {
  const c = classifyModes(ALL);
  assert.equal(c.tauSource, 'otsu');
  assert.ok(c.tau > 2 * SMALL && c.tau < 0.1, `tau ${c.tau}`);
  assert.deepEqual(c.results.map((r) => r.mode), [
    'trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure', 'trivial-failure',
  ]);
  assert.deepEqual(c.counts, { 'trivial-success': 1, 'non-trivial-success': 1, 'trivial-failure': 2, 'non-trivial-failure': 1 });
  const [ts, nts, tf, ntf, snc] = c.results;
  assert.equal(ts.success, true);
  assert.deepEqual({ ...ts.evidence, late: 0, tau: 0 }, {
    firstExact: 2, stableFrom: 2, late: 0, lateBasis: 'zH', tau: 0, tauSource: 'otsu',
    gridStable: true, settled: true, finalE: 0, finalWrong: 0, window: { from: 13, to: 16 },
  });
  assert.ok(Math.abs(ts.evidence.late - SMALL) < 1e-6);
  assert.equal(nts.evidence.firstExact, 9);
  assert.equal(nts.evidence.stableFrom, 9);
  assert.equal(tf.evidence.settled, false);
  assert.equal(tf.evidence.gridStable, false);
  assert.ok(Math.abs(tf.evidence.late - 0.3) < 1e-5);
  assert.equal(tf.evidence.finalE, 3); // segment 16 decodes G5
  assert.equal(tf.evidence.finalWrong, 1);
  assert.equal(ntf.evidence.settled, true);
  assert.equal(ntf.evidence.finalE, 3);
  assert.equal(ntf.evidence.finalWrong, 1);
  assert.equal(ntf.success, false);
  assert.equal(snc.evidence.settled, true);
  assert.equal(snc.evidence.finalE, 0);
});

test('modes: K decides trivial vs non-trivial success; "first" is the start of the final exact run', () => {
  assert.equal(classifyMode(nonTrivialSuccess, { trivialWithin: 9 }).mode, 'trivial-success');
  assert.equal(classifyMode(nonTrivialSuccess, { trivialWithin: 8 }).mode, 'non-trivial-success');
  // exact at 1–2, corrupted at 3, exact from 4: first = 4 > K = 3
  const flicker = trace(seq((k) => (k === 3 ? G5 : S)), drifts(() => SMALL));
  const r = classifyMode(flicker);
  assert.equal(r.mode, 'non-trivial-success');
  assert.equal(r.evidence.firstExact, 1);
  assert.equal(r.evidence.stableFrom, 4);
  assert.equal(classifyMode(flicker, { trivialWithin: 4 }).mode, 'trivial-success');
});

test('modes: a given τ overrides Otsu; the grid must also be identical over the window', () => {
  const strict = classifyModes(ALL, { tau: 1e-6 });
  assert.equal(strict.tauSource, 'given');
  assert.equal(strict.tau, 1e-6);
  assert.equal(strict.results[3].mode, 'trivial-failure'); // late 1e-4 is not < 1e-6
  assert.equal(strict.results[3].evidence.settled, false);
  // latent quiet but the decoded grid still flips inside the window: not settled
  const flips = trace(seq((k) => (k === 15 ? G2 : G5)), drifts(() => SMALL));
  const r = classifyMode(flips, { tau: 1e-2 });
  assert.equal(r.evidence.gridStable, false);
  assert.equal(r.mode, 'trivial-failure');
  // a shorter window can exclude the flip
  assert.equal(classifyMode(flips, { tau: 1e-2, lastSegments: 1 }).mode, 'non-trivial-failure');
});

test('modes: without z_H (or without τ) "settled" falls back on the decoded grid alone', () => {
  const ntfNoZ = trace(seq((k) => (k <= 3 ? G2 : G5)));
  const tfNoZ = trace(seq((k) => (k % 2 ? G2 : G5)));
  const wandering = trace(seq(() => G5), drifts(() => 0.3)); // grid fixed, latent still moving
  const c = classifyModes([ntfNoZ, tfNoZ]);
  assert.equal(c.tauSource, 'none');
  assert.ok(Number.isNaN(c.tau));
  assert.equal(c.results[0].evidence.lateBasis, 'grid');
  assert.ok(Number.isNaN(c.results[0].evidence.late));
  assert.equal(c.results[0].mode, 'non-trivial-failure');
  assert.equal(c.results[1].mode, 'trivial-failure');
  // with z_H and a τ, the moving latent keeps it a trivial failure; without τ only the grid counts
  assert.equal(classifyMode(wandering, { tau: 0.01 }).mode, 'trivial-failure');
  assert.equal(classifyMode(wandering).mode, 'non-trivial-failure');
  assert.equal(classifyMode(wandering).evidence.tauSource, 'none');
  // a lone trace cannot pool a threshold
  assert.equal(poolTau([nonTrivialFailure]).source, 'none');
  assert.equal(poolTau([nonTrivialFailure], { tau: 0.5 }).tau, 0.5);
});
