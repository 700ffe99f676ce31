// PCA by the Gram-matrix method vs ml-pca (up to sign), Jacobi eigendecomposition, rank-deficient inputs, shared bases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PCA } from 'ml-pca';
import { fitPcaBasis, pcaTrajectory, projectOnBasis, symmetricEigen, zHTrajectory } from '../../engine/analysis/pca';
import type { PuzzleTrace } from '../../engine/analysis/trace';
import { Rng } from '../../engine/util/rng';

function randomPoints(rng: Rng, n: number, D: number, structured: boolean): Float32Array[] {
  const dirs = structured ? [10, 6, 3].map((s) => ({ s, w: Float64Array.from({ length: D }, () => rng.normal()) })) : [];
  return Array.from({ length: n }, () => {
    const x = Float32Array.from({ length: D }, () => rng.normal() + 5);
    for (const { s, w } of dirs) { const a = s * rng.normal(); for (let i = 0; i < D; i++) x[i] += a * w[i]; }
    return x;
  });
}

function compareWithMlPca(points: Float32Array[], k: number): void {
  const ours = pcaTrajectory(points, { components: k });
  const ref = new PCA(points.map((p) => Array.from(p)), { center: true, scale: false });
  const vecs = ref.getEigenvectors();
  const pred = ref.predict(points.map((p) => Array.from(p)));
  const eig = ref.getEigenvalues();
  const ratio = ref.getExplainedVariance();
  for (let c = 0; c < k; c++) {
    const v = ours.components[c];
    // sign: align on the dot product with the reference
    let d = 0;
    for (let i = 0; i < v.length; i++) d += v[i] * vecs.get(i, c);
    const sign = d < 0 ? -1 : 1;
    let err = 0;
    for (let i = 0; i < v.length; i++) err = Math.max(err, Math.abs(v[i] - sign * vecs.get(i, c)));
    assert.ok(err < 1e-4, `component ${c}: max diff ${err}`);
    for (let p = 0; p < points.length; p++) {
      const a = ours.projections[p * k + c];
      const b = sign * pred.get(p, c);
      assert.ok(Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b)), `projection ${p},${c}: ${a} vs ${b}`);
    }
    assert.ok(Math.abs(ours.explainedVariance[c] - eig[c]) < 1e-6 * eig[c], `variance ${c}`);
    assert.ok(Math.abs(ours.explainedVarianceRatio[c] - ratio[c]) < 1e-9, `ratio ${c}`);
  }
}

test('pca: agrees with ml-pca up to sign (components, projections, variances), D ≫ n', () => {
  const rng = new Rng(11);
  compareWithMlPca(randomPoints(rng, 24, 3000, false), 3);
  compareWithMlPca(randomPoints(rng, 32, 2000, true), 3);
});

test('pca: agrees with ml-pca when n > D (scatter-matrix route) and n = D', () => {
  const rng = new Rng(12);
  compareWithMlPca(randomPoints(rng, 40, 10, false), 4);
  compareWithMlPca(randomPoints(rng, 12, 12, true), 3);
});

test('pca: Jacobi eigendecomposition of symmetric matrices', () => {
  const two = symmetricEigen([2, 1, 1, 2], 2);
  assert.ok(Math.abs(two.values[0] - 3) < 1e-14 && Math.abs(two.values[1] - 1) < 1e-14);
  const rng = new Rng(3);
  const n = 30;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const v = rng.normal(); A[i * n + j] = v; A[j * n + i] = v; }
  const { values, vectors } = symmetricEigen(A, n);
  for (let k = 1; k < n; k++) assert.ok(values[k] <= values[k - 1]);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += A[i * n + j] * vectors[j * n + k];
      assert.ok(Math.abs(av - values[k] * vectors[i * n + k]) < 1e-10);
    }
    for (let l = 0; l < n; l++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += vectors[i * n + k] * vectors[i * n + l];
      assert.ok(Math.abs(d - (k === l ? 1 : 0)) < 1e-12);
    }
  }
  assert.throws(() => symmetricEigen([1, 2, 3], 2), /expected 2×2/);
});

test('pca: sign convention, orthonormal components, variance of the projections (HRM-sized trace, 32 × 41,984)', () => {
  const rng = new Rng(5);
  const points = randomPoints(rng, 32, 82 * 512, true);
  const r = pcaTrajectory(points);
  assert.equal(r.components.length, 2);
  assert.equal(r.dim, 82 * 512);
  for (const [c, v] of r.components.entries()) {
    let idx = 0;
    for (let i = 0; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[idx])) idx = i;
    assert.ok(v[idx] > 0, `component ${c}: largest entry must be positive`);
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    assert.ok(Math.abs(norm - 1) < 1e-12);
    let varProj = 0;
    for (let p = 0; p < 32; p++) varProj += r.projections[p * 2 + c] ** 2;
    assert.ok(Math.abs(varProj / 31 - r.explainedVariance[c]) < 1e-8 * r.explainedVariance[c]);
  }
  let d = 0;
  for (let i = 0; i < r.dim; i++) d += r.components[0][i] * r.components[1][i];
  assert.ok(Math.abs(d) < 1e-12);
  assert.ok(r.explainedVarianceRatio[0] > r.explainedVarianceRatio[1]);
});

test('pca: rank-deficient and tiny inputs are completed to an orthonormal basis with zero variance', () => {
  // points on a line in 5-D: rank 1
  const w = [1, -2, 0, 2, 0];
  const ts = [-1, 0, 2, 3];
  const line = ts.map((t) => Float32Array.from(w, (x, i) => 7 + i + t * x));
  const r = pcaTrajectory(line);
  assert.equal(r.rank, 1);
  assert.equal(r.explainedVariance[1], 0);
  assert.ok(Math.abs(r.explainedVarianceRatio[0] - 1) < 1e-12);
  const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
  ts.forEach((t, p) => assert.ok(Math.abs(Math.abs(r.projections[p * 2]) - Math.abs((t - mean) * 3)) < 1e-9));
  assert.ok(Math.abs(r.projections[1]) < 1e-9);
  let dot = 0;
  for (let i = 0; i < 5; i++) dot += r.components[0][i] * r.components[1][i];
  assert.ok(Math.abs(dot) < 1e-12);
  // one point, identical points: rank 0, unit vectors, zero projections
  const one = pcaTrajectory([Float32Array.of(1, 2, 3)]);
  assert.equal(one.rank, 0);
  assert.deepEqual(one.components.map((v) => [...v]), [[1, 0, 0], [0, 1, 0]]);
  assert.deepEqual([...one.projections], [0, 0]);
  assert.deepEqual([...one.explainedVariance], [0, 0]);
  const same = pcaTrajectory([Float32Array.of(1, 2), Float32Array.of(1, 2), Float32Array.of(1, 2)], { components: 5 });
  assert.equal(same.components.length, 2); // capped at D
  assert.equal(same.totalVariance, 0);
  assert.throws(() => pcaTrajectory([]), /no points/);
  assert.throws(() => pcaTrajectory([Float32Array.of(1), Float32Array.of(1, 2)]), /point 1 has 2 dims/);
});

test('pca: a basis fitted on several trajectories projects each of them consistently', () => {
  const rng = new Rng(9);
  const a = randomPoints(rng, 10, 200, true);
  const b = randomPoints(rng, 10, 200, true);
  const basis = fitPcaBasis([...a, ...b]);
  const all = projectOnBasis(basis, [...a, ...b]);
  const onlyB = projectOnBasis(basis, b);
  for (let i = 0; i < onlyB.length; i++) assert.ok(Math.abs(onlyB[i] - all[20 + i]) < 1e-9);
  assert.deepEqual([...pcaTrajectory([...a, ...b]).projections], [...all]);
  assert.throws(() => projectOnBasis(basis, [new Float32Array(3)]), /3 dims, expected 200/);
});

test('pca: zHTrajectory collects the H-update states or the segment-end carries', () => {
  const h = (v: number) => Float32Array.of(v, v);
  const t: PuzzleTrace = {
    n: 4, puzzle: new Int8Array(16),
    segments: [
      { logits: new Float32Array(96), qHalt: 0, qContinue: 0, zH: h(2), hStates: [h(1), h(2)] },
      { logits: new Float32Array(96), qHalt: 0, qContinue: 0, zH: h(4), hStates: [h(3), h(4)] },
      { logits: new Float32Array(96), qHalt: 0, qContinue: 0 },
    ],
  };
  assert.deepEqual(zHTrajectory(t).map((z) => z[0]), [1, 2, 3, 4]);
  assert.deepEqual(zHTrajectory(t, 'segments').map((z) => z[0]), [2, 4]);
});
