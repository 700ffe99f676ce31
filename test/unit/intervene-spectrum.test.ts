// The one-segment map's Jacobian spectrum: the Hessenberg QR and Arnoldi against matrices with known eigenvalues, the
// spectrum of hand-built linear maps (eigenvalues in closed form, complex pair included) for every part, the
// vector–Jacobian product of the shipped models against finite differences of the map, reproducible spectra at a
// solved and at a failing state, progress, cancellation and no leaked tensors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { arnoldiSteps, byModulus, hessenbergEigenvalues, hessenbergEigenvector } from '../../engine/intervene/arnoldi';
import { mapJacobian } from '../../engine/intervene/jacobian';
import { computeSpectrum, computeSpectrumAsync } from '../../engine/intervene/spectrum';
import { type OpenedMap, openMap, runTrajectories, stateAt } from '../../engine/intervene/trajectory';
import { gridToTokens } from '../../engine/sudoku/geometry';
import { runSteps } from '../../engine/util/steps';
import { Rng } from '../../engine/util/rng';
import { linearMap, type LinearMapSpec } from './helpers/linear-maps';
import { grid } from './helpers/grids';

const models = path.resolve(__dirname, '..', '..', 'models');
let tiny: OpenedMap;
let hard: OpenedMap;

before(async () => {
  await selectBackend({ backend: 'wasm' });
  tiny = await openMap(path.join(models, 'tiny-4x4.safetensors'));
  hard = await openMap(path.join(models, 'hard-6x6.safetensors'));
});
after(() => {
  tiny.dispose();
  hard.dispose();
});

const SOLUTION = grid('3124421314322341', 4);
const CONTRACTION: Omit<LinearMapSpec, 'solution'> = { r: 0.9, theta: 0.5, real: [0.7, 0.5, -0.4, 0.2], c: 0.3 };
const EXPANSION: Omit<LinearMapSpec, 'solution'> = { r: 0.9, theta: 0.5, real: [1.5, 0.5, -0.4, 0.2], c: 0.3 };

function assertEigenvalues(got: { re: number; im: number }[], want: { re: number; im: number }[], tol: number, what: string): void {
  assert.ok(got.length >= want.length, `${what}: ${got.length} eigenvalues, want ${want.length}`);
  want.forEach((w, i) => {
    const g = got[i];
    assert.ok(Math.hypot(g.re - w.re, g.im - w.im) < tol, `${what}: eigenvalue ${i + 1} is ${g.re} + ${g.im}i, want ${w.re} + ${w.im}i`);
  });
}

test('hessenberg QR: the roots of a companion matrix, conjugate pairs, and eigenvectors with tiny residuals', () => {
  // Roots 3, −2, 0.5 ± 0.75i, 1 ± 2i, 0.25: the companion matrix (first row −coefficients, ones below) is Hessenberg.
  const roots = [{ re: 3, im: 0 }, { re: -2, im: 0 }, { re: 0.5, im: 0.75 }, { re: 0.5, im: -0.75 }, { re: 1, im: 2 }, { re: 1, im: -2 }, { re: 0.25, im: 0 }];
  let coef: { re: number; im: number }[] = [{ re: 1, im: 0 }];
  for (const r of roots) {
    const next = coef.map(() => ({ re: 0, im: 0 })).concat([{ re: 0, im: 0 }]);
    coef.forEach((c, i) => {
      next[i].re += c.re;
      next[i].im += c.im;
      next[i + 1].re -= c.re * r.re - c.im * r.im;
      next[i + 1].im -= c.re * r.im + c.im * r.re;
    });
    coef = next;
  }
  const m = roots.length;
  const h = new Float64Array(m * m);
  for (let j = 0; j < m; j++) h[j] = -coef[j + 1].re;
  for (let i = 1; i < m; i++) h[i * m + i - 1] = 1;
  const eig = hessenbergEigenvalues(h, m).sort(byModulus);
  assertEigenvalues(eig, [...roots].sort(byModulus), 1e-8, 'companion');

  // A random Hessenberg matrix: trace = Σλ, and each (λ, y) satisfies H y = λ y.
  const rng = new Rng(5);
  const n = 30;
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = Math.max(0, i - 1); j < n; j++) r[i * n + j] = rng.normal();
  const ev = hessenbergEigenvalues(r, n);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += r[i * n + i];
  assert.ok(Math.abs(ev.reduce((s, e) => s + e.re, 0) - trace) < 1e-9);
  assert.ok(Math.abs(ev.reduce((s, e) => s + e.im, 0)) < 1e-9, 'complex eigenvalues come in conjugate pairs');
  for (const e of ev) {
    const y = hessenbergEigenvector(r, n, e);
    let res = 0;
    for (let i = 0; i < n; i++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        sr += r[i * n + j] * y.re[j];
        si += r[i * n + j] * y.im[j];
      }
      sr -= e.re * y.re[i] - e.im * y.im[i];
      si -= e.re * y.im[i] + e.im * y.re[i];
      res += sr * sr + si * si;
    }
    assert.ok(Math.sqrt(res) < 1e-8, `eigenvector residual ${Math.sqrt(res)} for ${e.re} + ${e.im}i`);
  }
});

test('arnoldi: the leading eigenvalues of a dense operator, seeded and reproducible; a small Krylov cap does not converge', () => {
  // A = Q diag(…) Qᵀ with a known spectrum, applied as a product only.
  const n = 80;
  const rng = new Rng(11);
  const q: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const u of q) {
      let d = 0;
      for (let i = 0; i < n; i++) d += u[i] * v[i];
      for (let i = 0; i < n; i++) v[i] -= d * u[i];
    }
    const nv = Math.hypot(...v);
    q.push(v.map((x) => x / nv));
  }
  const lambda = Array.from({ length: n }, (_, i) => (i === 0 ? 2 : i === 1 ? -1.5 : 0.9 * 0.8 ** (i - 2)));
  const apply = (v: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    q.forEach((u, k) => {
      let d = 0;
      for (let i = 0; i < n; i++) d += u[i] * v[i];
      for (let i = 0; i < n; i++) out[i] += lambda[k] * d * u[i];
    });
    return out;
  };
  const a = runSteps(arnoldiSteps(apply, n, { count: 3, tolerance: 1e-8, maxIterations: 80, seed: 3 }));
  assert.ok(a.converged);
  assertEigenvalues(a.pairs, [{ re: 2, im: 0 }, { re: -1.5, im: 0 }, { re: 0.9, im: 0 }], 1e-7, 'dense');
  const b = runSteps(arnoldiSteps(apply, n, { count: 3, tolerance: 1e-8, maxIterations: 80, seed: 3 }));
  assert.deepEqual(b.pairs.map((p) => [p.re, p.im]), a.pairs.map((p) => [p.re, p.im]));
  const short = runSteps(arnoldiSteps(apply, n, { count: 3, tolerance: 1e-12, maxIterations: 4, seed: 3 }));
  assert.equal(short.iterations, 4);
  assert.equal(short.converged, false);
});

test('spectrum of a contracting linear map: radius r, the complex pair and the real eigenvalues to 1e-3; parts zH and zL', () => {
  const lm = linearMap({ ...CONTRACTION, solution: SOLUTION });
  try {
    const before = tf.memory().numTensors;
    const r = computeSpectrum(lm.map, SOLUTION, { atSegment: 3 });
    assert.equal(r.dimension, 2 * 16 * 6);
    assert.ok(r.converged);
    assert.ok(Math.abs(r.spectralRadius - 0.9) < 1e-3, `radius ${r.spectralRadius}`);
    assertEigenvalues(r.eigenvalues, lm.eigenvalues.slice(0, 6), 1e-3, 'both');
    for (const e of r.eigenvalues) assert.ok(e.residual < 1e-4, `residual ${e.residual}`);
    // The fixed point is T; after 3 segments the state is still T + A³(z₀ − T): not a fixed point.
    assert.ok(r.fixedPointResidual > 1e-3);
    assert.equal(r.outcome.exact, true);
    assert.match(r.text, /spectral radius 0\.9000/);

    const zH = computeSpectrum(lm.map, SOLUTION, { atSegment: 3, part: 'zH' });
    assert.equal(zH.dimension, 96);
    assertEigenvalues(zH.eigenvalues, lm.eigenvalues.filter((e) => e.re !== 0.3), 1e-3, 'zH');
    const zL = computeSpectrum(lm.map, SOLUTION, { atSegment: 3, part: 'zL' });
    assert.equal(zL.eigenvalues.length, 1, 'z_L ↦ c·z_L has one eigenvalue (the Krylov space is invariant at once)');
    assert.ok(Math.abs(zL.spectralRadius - 0.3) < 1e-3);
    assert.ok(zL.converged);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    lm.dispose();
  }
});

test('spectrum of an expanding linear map: the real eigenvalue 1.5 leads, then the complex pair', () => {
  const lm = linearMap({ ...EXPANSION, solution: SOLUTION });
  try {
    const r = computeSpectrum(lm.map, SOLUTION, { atSegment: 2, count: 7 });
    assert.ok(Math.abs(r.spectralRadius - 1.5) < 1e-3);
    assertEigenvalues(r.eigenvalues, lm.eigenvalues, 1e-3, 'expansion');
    assert.match(r.text, /not contracting/);
  } finally {
    lm.dispose();
  }
});

/** The VJP uᵀJ v against the central difference uᵀ(F(z + εv) − F(z − εv)) / 2ε, relative to ‖uᵀJ‖ ‖v‖. */
function vjpAgainstDifferences(om: OpenedMap, puzzle: string, at: number): void {
  const { map } = om;
  const p = grid(puzzle, map.n as 4 | 6);
  const st = stateAt(runTrajectories(map, [p], { segments: at, keep: [at] }), 0, at);
  const P = map.positions;
  const D = map.hidden;
  const x = tf.tidy(() => map.embed(tf.tensor2d(gridToTokens(p), [1, map.n * map.n], 'int32')));
  const carry = { zH: tf.tensor3d(st.zH, [1, P, D]), zL: tf.tensor3d(st.zL, [1, P, D]) };
  const before = tf.memory().numTensors;
  const rng = new Rng(3);
  try {
    for (const part of ['both', 'zH', 'zL'] as const) {
      const jac = mapJacobian(map, carry, x, part);
      const z = jac.state();
      const zNorm = Math.hypot(...z);
      const f = (dz: Float64Array): Float64Array => {
        const zh = Float32Array.from(st.zH);
        const zl = Float32Array.from(st.zL);
        for (let i = 0; i < P * D; i++) {
          if (part !== 'zL') zh[i] += dz[i];
          if (part === 'zL') zl[i] += dz[i];
          if (part === 'both') zl[i] += dz[P * D + i];
        }
        const out = tf.tidy(() => {
          const o = map.step({ zH: tf.tensor3d(zh, [1, P, D]), zL: tf.tensor3d(zl, [1, P, D]) }, x);
          const h = tf.reshape(o.zH, [-1]);
          const l = tf.reshape(o.zL, [-1]);
          return part === 'zH' ? h : part === 'zL' ? l : tf.concat([h, l]);
        });
        const d = Float64Array.from(out.dataSync());
        out.dispose();
        return d;
      };
      for (let trial = 0; trial < 3; trial++) {
        const u = Float64Array.from({ length: jac.dimension }, () => rng.normal());
        const v = Float64Array.from({ length: jac.dimension }, () => rng.normal());
        const vNorm = Math.hypot(...v);
        const g = jac.vjp(u);
        const exact = g.reduce((s, gi, i) => s + gi * v[i], 0);
        const eps = (1e-2 * zNorm) / vNorm;
        const plus = f(v.map((vi) => eps * vi));
        const minus = f(v.map((vi) => -eps * vi));
        let fd = 0;
        for (let i = 0; i < u.length; i++) fd += (u[i] * (plus[i] - minus[i])) / (2 * eps);
        const rel = Math.abs(fd - exact) / (Math.hypot(...g) * vNorm);
        assert.ok(rel < 1e-3, `${part}, trial ${trial}: uᵀJv ${exact} vs finite differences ${fd} (relative ${rel})`);
      }
      jac.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    tf.dispose([x, carry.zH, carry.zL]);
  }
}

test('jacobian: the VJP of tiny-4x4 agrees with finite differences of the map, for every part', () => {
  vjpAgainstDifferences(tiny, '.1.....3..32....', 4);
});

test('jacobian: the VJP of hard-6x6 agrees with finite differences of the map, for every part', { timeout: 300_000 }, () => {
  vjpAgainstDifferences(hard, '1...56...1..643.........5..41.......', 16);
});

test('spectrum on hard-6x6 at a solved and at a failing last state: finite, and the same with the same seed', { timeout: 600_000 }, () => {
  const opts = { count: 2, maxIterations: 8, seed: 4 };
  const solved = '1...56...1..643.........5..41.......';
  const failing = '..1...64.........3....62.2....5..4..';
  for (const [puzzle, exact] of [[solved, true], [failing, false]] as const) {
    const a = computeSpectrum(hard.map, grid(puzzle, 6), opts);
    assert.equal(a.outcome.exact, exact, puzzle);
    assert.equal(a.atSegment, 16);
    assert.equal(a.iterations, 8);
    assert.equal(a.dimension, 2 * hard.map.positions * hard.map.hidden);
    assert.ok(Number.isFinite(a.spectralRadius) && a.spectralRadius > 0, `radius ${a.spectralRadius}`);
    assert.ok(Number.isFinite(a.fixedPointResidual));
    for (const e of a.eigenvalues) assert.ok(Number.isFinite(e.re) && Number.isFinite(e.im) && Number.isFinite(e.residual));
    const b = computeSpectrum(hard.map, grid(puzzle, 6), opts);
    assert.deepEqual(b.eigenvalues, a.eigenvalues);
    assert.equal(b.spectralRadius, a.spectralRadius);
  }
});

test('spectrum: progress to the total, cancellation, option checks, and no tensors left over 100 calls', async () => {
  const p = grid('.1.....3..32....', 4);
  const seen: [number, number][] = [];
  computeSpectrum(tiny.map, p, { atSegment: 2, count: 1, maxIterations: 3, onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen.slice(0, 2).map(([d]) => d), [1, 2], 'the run to the state: one event per segment');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0]);
  assert.deepEqual(seen[seen.length - 1], [5, 5]);
  assert.ok(seen.every(([, t]) => t === 5));
  const before = tf.memory().numTensors;
  const ctl = new AbortController();
  assert.throws(() => computeSpectrum(tiny.map, p, {
    count: 1, tolerance: 1e-12, maxIterations: 10, signal: ctl.signal, onProgress: (d) => { if (d >= 6) ctl.abort(); },
  }), (e: Error) => e.name === 'AbortError');
  const ctl2 = new AbortController();
  const pending = computeSpectrumAsync(tiny.map, p, { count: 1, tolerance: 1e-12, maxIterations: 10, signal: ctl2.signal, onProgress: (d) => { if (d >= 2) ctl2.abort(); } });
  await assert.rejects(pending, (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => computeSpectrum(tiny.map, p, { tolerance: 0 }), /tolerance/);
  assert.throws(() => computeSpectrum(tiny.map, p, { atSegment: 0 }), /atSegment/);
  assert.throws(() => computeSpectrum(tiny.map, p, { part: 'z' as 'zH' }), /part/);
  assert.throws(() => computeSpectrum(tiny.map, grid('1...56...1..643.........5..41.......', 6)), /cells/);
  // 100 calls: every 10th on the model, the others on a linear map (its own tensors are made before and freed after).
  const lm = linearMap({ ...CONTRACTION, solution: SOLUTION });
  const withMap = tf.memory().numTensors;
  try {
    for (let i = 0; i < 100; i++) {
      if (i % 10 === 0) computeSpectrum(tiny.map, p, { atSegment: 1, count: 1, maxIterations: 2, part: i % 20 ? 'zH' : 'both' });
      else computeSpectrum(lm.map, SOLUTION, { atSegment: 1 + (i % 3), part: (['both', 'zH', 'zL'] as const)[i % 3] });
    }
    assert.ok(tf.memory().numTensors <= withMap, `${tf.memory().numTensors - withMap} tensors left after 100 calls`);
  } finally {
    lm.dispose();
  }
});
