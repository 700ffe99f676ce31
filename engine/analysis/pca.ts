/**
 * PCA of latent trajectories (docs/analyses.md §PCA trajectories), float64, no dependencies.
 *
 * Points are rows (n points of D dims; for HRM: z_H after every H-update, D = seq·hidden, tens of points). Method:
 *   centre X (mean over points); if n ≤ D eigendecompose the Gram matrix G = X Xᵀ (n×n), else the scatter XᵀX (D×D),
 *   with cyclic Jacobi (symmetricEigen; fine up to a few hundred); for the Gram route v_k = Xᵀu_k / √λ_k,
 *   re-orthonormalised (modified Gram–Schmidt) against the earlier components.
 *   explainedVariance_k = λ_k / (n − 1) (0 when n < 2), explainedVarianceRatio_k = λ_k / Σ‖x_i − mean‖² (0 when the
 *   total is 0) — the conventions of scikit-learn and ml-pca.
 *   projection of x on component k = (x − mean)·v_k.
 * Sign convention: each component's largest-|·| entry is positive (the first such entry on exact ties).
 * Rank deficiency: eigenvalues ≤ 1e-10·λ_max count as zero; components past the rank (or when n < 2) are completed
 * deterministically by orthonormalising the unit vectors e_0, e_1, … against the earlier ones, with variance 0, so the
 * returned components are always orthonormal (the landscape needs unit directions).
 * Memory: the centred points are held in float64 (n·D·8 bytes).
 */
import type { PuzzleTrace } from './trace';

export interface PcaBasis {
  /** Dimension D of the points. */
  dim: number;
  /** Points the basis was fitted on. */
  points: number;
  mean: Float64Array;
  /** Unit-norm, mutually orthogonal components, each of length D. */
  components: Float64Array[];
  explainedVariance: Float64Array;
  explainedVarianceRatio: Float64Array;
  /** Σ‖x_i − mean‖² / (n − 1) (0 when n < 2). */
  totalVariance: number;
  /** Numerical rank of the centred points. */
  rank: number;
}

export interface PcaResult extends PcaBasis {
  /** Row-major [point][component]. */
  projections: Float64Array;
}

export interface PcaOptions {
  /** Components to return (default 2; capped at D). */
  components?: number;
  /** Jacobi sweeps before giving up (default 100). */
  maxSweeps?: number;
}

/**
 * Eigendecomposition of a symmetric n×n matrix (row-major, float64, not modified) by cyclic Jacobi rotations.
 * Returns eigenvalues in descending order and the eigenvectors as columns of a row-major n×n matrix.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: expected ${n}×${n} entries, got ${a.length}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += A[i] * A[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (off === 0 || off <= 1e-30 * frob) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) { // A ← A·J (columns p, q)
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // A ← Jᵀ·A (rows p, q)
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) { // V ← V·J
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j];
    values[j] = A[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + j] = V[k * n + src];
  }
  return { values, vectors };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Remove the projections on `basis` (twice, for stability) and return the remaining norm (v is modified). */
function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): number {
  for (let pass = 0; pass < 2; pass++) {
    for (const b of basis) {
      const d = dot(v, b);
      for (let i = 0; i < v.length; i++) v[i] -= d * b[i];
    }
  }
  return Math.sqrt(dot(v, v));
}

/** Make the largest-|·| entry positive (first one on ties); returns the sign applied. */
function fixSign(v: Float64Array): number {
  let idx = 0;
  let best = -1;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > best) { best = a; idx = i; }
  }
  if (v[idx] < 0) {
    for (let i = 0; i < v.length; i++) v[i] = -v[i];
    return -1;
  }
  return 1;
}

function checkPoints(points: readonly ArrayLike<number>[], where: string): number {
  if (points.length === 0) throw new RangeError(`${where}: no points`);
  const D = points[0].length;
  if (D === 0) throw new RangeError(`${where}: points have no dimensions`);
  for (let i = 1; i < points.length; i++) {
    if (points[i].length !== D) throw new RangeError(`${where}: point ${i} has ${points[i].length} dims, expected ${D}`);
  }
  return D;
}

/** Fit a PCA basis (mean + components) on points. */
export function fitPcaBasis(points: readonly ArrayLike<number>[], opts: PcaOptions = {}): PcaBasis {
  const D = checkPoints(points, 'fitPcaBasis');
  const n = points.length;
  const want = Math.min(opts.components ?? 2, D);
  if (!Number.isInteger(want) || want < 1) throw new RangeError(`fitPcaBasis: components must be an integer >= 1, got ${opts.components}`);
  const mean = new Float64Array(D);
  for (const p of points) for (let i = 0; i < D; i++) mean[i] += p[i];
  for (let i = 0; i < D; i++) mean[i] /= n;
  const X = points.map((p) => {
    const r = new Float64Array(D);
    for (let i = 0; i < D; i++) r[i] = p[i] - mean[i];
    return r;
  });
  let total = 0;
  for (const r of X) total += dot(r, r);

  const components: Float64Array[] = [];
  const lambdas: number[] = [];
  if (n >= 2 && total > 0) {
    const gram = n <= D;
    const m = gram ? n : D;
    const M = new Float64Array(m * m);
    if (gram) {
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const v = dot(X[i], X[j]); M[i * n + j] = v; M[j * n + i] = v; }
    } else {
      for (const r of X) for (let i = 0; i < D; i++) { const ri = r[i]; if (ri !== 0) for (let j = i; j < D; j++) M[i * D + j] += ri * r[j]; }
      for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) M[i * D + j] = M[j * D + i];
    }
    const { values, vectors } = symmetricEigen(M, m, opts.maxSweeps ?? 100);
    const tol = Math.max(values[0], 0) * 1e-10;
    for (let k = 0; k < Math.min(want, m) && values[k] > tol; k++) {
      const v = new Float64Array(D);
      if (gram) {
        for (let j = 0; j < n; j++) { const u = vectors[j * m + k]; if (u !== 0) for (let i = 0; i < D; i++) v[i] += u * X[j][i]; }
      } else {
        for (let i = 0; i < D; i++) v[i] = vectors[i * m + k];
      }
      const norm = orthogonalise(v, components);
      if (!(norm > 0)) break;
      for (let i = 0; i < D; i++) v[i] /= norm;
      components.push(v);
      lambdas.push(values[k]);
    }
  }
  const rank = components.length;
  for (const v of components) fixSign(v);
  for (let e = 0; components.length < want && e < D; e++) {
    const v = new Float64Array(D);
    v[e] = 1;
    const norm = orthogonalise(v, components);
    if (norm < 0.5) continue;
    for (let i = 0; i < D; i++) v[i] /= norm;
    fixSign(v);
    components.push(v);
    lambdas.push(0);
  }
  const denom = n >= 2 ? n - 1 : 1;
  return {
    dim: D,
    points: n,
    mean,
    components,
    explainedVariance: Float64Array.from(lambdas, (l) => (n >= 2 ? l / denom : 0)),
    explainedVarianceRatio: Float64Array.from(lambdas, (l) => (total > 0 ? l / total : 0)),
    totalVariance: n >= 2 ? total / denom : 0,
    rank,
  };
}

/** Project points on a basis: row-major [point][component], (x − mean)·v_k. */
export function projectOnBasis(basis: PcaBasis, points: readonly ArrayLike<number>[]): Float64Array {
  const k = basis.components.length;
  const out = new Float64Array(points.length * k);
  const D = basis.dim;
  const centred = new Float64Array(D);
  points.forEach((p, i) => {
    if (p.length !== D) throw new RangeError(`projectOnBasis: point ${i} has ${p.length} dims, expected ${D}`);
    for (let d = 0; d < D; d++) centred[d] = p[d] - basis.mean[d];
    for (let c = 0; c < k; c++) out[i * k + c] = dot(centred, basis.components[c]);
  });
  return out;
}

/** PCA of one trajectory: fit on its own points and project them (per-puzzle PCA; docs/analyses.md §PCA trajectories). */
export function pcaTrajectory(points: readonly ArrayLike<number>[], opts: PcaOptions = {}): PcaResult {
  const basis = fitPcaBasis(points, opts);
  return { ...basis, projections: projectOnBasis(basis, points) };
}

/**
 * The z_H points of a trace: 'h-updates' (default) = every captured H-update state (hStates of each segment, in
 * order; the paper's 32-point trace), 'segments' = the segment-end carries zH. Missing captures are skipped.
 */
export function zHTrajectory(trace: PuzzleTrace, which: 'h-updates' | 'segments' = 'h-updates'): Float32Array[] {
  const out: Float32Array[] = [];
  for (const s of trace.segments) {
    if (which === 'segments') { if (s.zH) out.push(s.zH); } else if (s.hStates) out.push(...s.hStates);
  }
  return out;
}
