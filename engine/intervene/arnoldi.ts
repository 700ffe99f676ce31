/**
 * Leading eigenvalues of a linear operator given only as products v ↦ A v (docs/analyses.md §Interventions): the
 * Arnoldi process in float64, then the eigenvalues of the small Hessenberg matrix by the shifted QR algorithm.
 *
 * - Start: a seeded random unit vector (the same seed gives the same Krylov space, so the same figures).
 * - Orthogonalisation: modified Gram–Schmidt, done twice per step ("twice is enough"), so the basis stays orthonormal
 *   to working precision even when the products carry float32 noise.
 * - Breakdown: when the new direction is below BREAKDOWN × ‖A v‖ the Krylov space is invariant (to the precision of
 *   the products) and its Ritz values are eigenvalues: the process stops there, converged.
 * - Ritz pairs: the eigenvalues θ of H_m (Francis double-shift QR on the real Hessenberg matrix, complex pairs
 *   included; hessenbergEigenvalues) and their vectors y (inverse iteration, complex, on H_m − θ I). The residual of the
 *   Ritz pair (θ, V_m y) is ‖A V_m y − θ V_m y‖ = |h_{m+1,m}| · |y_m| (‖y‖ = 1), checked against `tolerance` · |θ|.
 * - Stop: when the `count` leading Ritz values (by modulus) all have relative residual below `tolerance`, at a
 *   breakdown, or after `maxIterations` products.
 *
 * Written as a step generator (engine/util/steps.ts): one `yield` after every product.
 */
import { Rng } from '../util/rng';
import { type Steps, throwIfAborted } from '../util/steps';

/** A new direction below this fraction of ‖A v‖ means the Krylov space is invariant (float32 products: ~10 ε₃₂). */
export const BREAKDOWN = 1e-6;

export interface Complex {
  re: number;
  im: number;
}

export interface RitzPair extends Complex {
  /** Residual estimate |h_{m+1,m}| · |y_m| / |θ| (relative to the eigenvalue's modulus). */
  residual: number;
  /** The Ritz vector V_m y, real and imaginary parts (unit norm together). */
  vector: { re: Float64Array; im: Float64Array };
}

export interface ArnoldiOptions {
  /** Leading eigenvalues wanted. */
  count: number;
  /** Relative residual every wanted Ritz pair must reach. */
  tolerance: number;
  /** Products (Krylov dimension) at most. */
  maxIterations: number;
  seed: number;
  /** After every product: products done, products at most. */
  onIteration?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ArnoldiResult {
  /** Up to `count` leading Ritz pairs, by modulus descending (a conjugate pair: positive imaginary part first). */
  pairs: RitzPair[];
  /** Products A v done (the Krylov dimension). */
  iterations: number;
  converged: boolean;
  /** The Krylov space became invariant (see BREAKDOWN). */
  breakdown: boolean;
}

const modulus = (c: Complex): number => Math.hypot(c.re, c.im);

/** Descending modulus; on equal modulus the larger imaginary part first (so a conjugate pair is (+, −)). */
export function byModulus(a: Complex, b: Complex): number {
  return modulus(b) - modulus(a) || b.im - a.im;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Eigenvalues of the real upper Hessenberg matrix h (row-major m×m; entries below the subdiagonal are ignored) by the
 * Francis double-shift QR algorithm with exceptional shifts (the EISPACK hqr scheme). Complex eigenvalues come in
 * conjugate pairs. `h` is not modified.
 */
export function hessenbergEigenvalues(h: Float64Array, m: number): Complex[] {
  if (m === 0) return [];
  // 1-based working copy a[i][j], i, j ∈ 1..m.
  const a: Float64Array[] = Array.from({ length: m + 1 }, () => new Float64Array(m + 1));
  for (let i = 1; i <= m; i++) for (let j = Math.max(1, i - 1); j <= m; j++) a[i][j] = h[(i - 1) * m + (j - 1)];
  const wr = new Float64Array(m + 1);
  const wi = new Float64Array(m + 1);
  let anorm = 0;
  for (let i = 1; i <= m; i++) for (let j = Math.max(i - 1, 1); j <= m; j++) anorm += Math.abs(a[i][j]);
  const sign = (x: number, y: number): number => (y >= 0 ? Math.abs(x) : -Math.abs(x));
  let nn = m;
  let t = 0;
  let p = 0; let q = 0; let r = 0; let s = 0; let w = 0; let x = 0; let y = 0; let z = 0;
  while (nn >= 1) {
    let its = 0;
    let l: number;
    do {
      // Look for a single small subdiagonal element.
      for (l = nn; l >= 2; l--) {
        s = Math.abs(a[l - 1][l - 1]) + Math.abs(a[l][l]);
        if (s === 0) s = anorm;
        if (Math.abs(a[l][l - 1]) + s === s) {
          a[l][l - 1] = 0;
          break;
        }
      }
      x = a[nn][nn];
      if (l === nn) {
        // One root found.
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = a[nn - 1][nn - 1];
        w = a[nn][nn - 1] * a[nn - 1][nn];
        if (l === nn - 1) {
          // Two roots found.
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -z;
            wi[nn] = z;
          }
          nn -= 2;
        } else {
          if (its === 60) throw new Error(`hessenbergEigenvalues: no convergence after 60 iterations (m = ${m})`);
          if (its === 10 || its === 20 || its === 40) {
            // Exceptional shift.
            t += x;
            for (let i = 1; i <= nn; i++) a[i][i] -= x;
            s = Math.abs(a[nn][nn - 1]) + Math.abs(a[nn - 1][nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let mm: number;
          // Form the shift and look for two consecutive small subdiagonal elements.
          for (mm = nn - 2; mm >= l; mm--) {
            z = a[mm][mm];
            r = x - z;
            s = y - z;
            p = (r * s - w) / a[mm + 1][mm] + a[mm][mm + 1];
            q = a[mm + 1][mm + 1] - z - r - s;
            r = a[mm + 2][mm + 1];
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (mm === l) break;
            const u = Math.abs(a[mm][mm - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[mm - 1][mm - 1]) + Math.abs(z) + Math.abs(a[mm + 1][mm + 1]));
            if (u + v === v) break;
          }
          for (let i = mm + 2; i <= nn; i++) {
            a[i][i - 2] = 0;
            if (i !== mm + 2) a[i][i - 3] = 0;
          }
          // Double QR step on rows l..nn and columns mm..nn.
          for (let k = mm; k <= nn - 1; k++) {
            if (k !== mm) {
              p = a[k][k - 1];
              q = a[k + 1][k - 1];
              r = 0;
              if (k !== nn - 1) r = a[k + 2][k - 1];
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = sign(Math.sqrt(p * p + q * q + r * r), p);
            if (s !== 0) {
              if (k === mm) {
                if (l !== mm) a[k][k - 1] = -a[k][k - 1];
              } else {
                a[k][k - 1] = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[k][j] + q * a[k + 1][j];
                if (k !== nn - 1) {
                  p += r * a[k + 2][j];
                  a[k + 2][j] -= p * z;
                }
                a[k + 1][j] -= p * y;
                a[k][j] -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * a[i][k] + y * a[i][k + 1];
                if (k !== nn - 1) {
                  p += z * a[i][k + 2];
                  a[i][k + 2] -= p * r;
                }
                a[i][k + 1] -= p * q;
                a[i][k] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  const out: Complex[] = [];
  for (let i = 1; i <= m; i++) out.push({ re: wr[i], im: wi[i] });
  return out;
}

/**
 * A unit eigenvector y of the upper Hessenberg matrix h (row-major m×m) for its eigenvalue θ, by inverse iteration:
 * (h − θ I) y_{k+1} = y_k solved by LU with partial pivoting in complex arithmetic (O(m²): one subdiagonal per
 * column); a zero pivot is replaced by ε‖h‖, which is what makes the solve blow up along the eigenvector.
 */
export function hessenbergEigenvector(h: Float64Array, m: number, theta: Complex): { re: Float64Array; im: Float64Array } {
  const ar = new Float64Array(m * m);
  const ai = new Float64Array(m * m);
  let norm = 0;
  for (let i = 0; i < m; i++) {
    for (let j = Math.max(0, i - 1); j < m; j++) {
      ar[i * m + j] = h[i * m + j];
      norm = Math.max(norm, Math.abs(h[i * m + j]));
    }
    ar[i * m + i] -= theta.re;
    ai[i * m + i] -= theta.im;
  }
  const tiny = Math.max(norm, 1e-300) * 1e-14;
  // LU: row k and k + 1 swapped when the subdiagonal is the larger; multipliers stored in lr / li.
  const swap = new Uint8Array(m);
  const lr = new Float64Array(m);
  const li = new Float64Array(m);
  for (let k = 0; k < m - 1; k++) {
    const d = k * m + k;
    const b = (k + 1) * m + k;
    if (Math.hypot(ar[b], ai[b]) > Math.hypot(ar[d], ai[d])) {
      swap[k] = 1;
      for (let j = k; j < m; j++) {
        const t1 = ar[k * m + j]; ar[k * m + j] = ar[(k + 1) * m + j]; ar[(k + 1) * m + j] = t1;
        const t2 = ai[k * m + j]; ai[k * m + j] = ai[(k + 1) * m + j]; ai[(k + 1) * m + j] = t2;
      }
    }
    if (Math.hypot(ar[d], ai[d]) < tiny) { ar[d] = tiny; ai[d] = 0; }
    // l = a[k+1][k] / a[k][k]
    const den = ar[d] * ar[d] + ai[d] * ai[d];
    const pr = (ar[b] * ar[d] + ai[b] * ai[d]) / den;
    const pi = (ai[b] * ar[d] - ar[b] * ai[d]) / den;
    lr[k] = pr;
    li[k] = pi;
    for (let j = k; j < m; j++) {
      const ur = ar[k * m + j];
      const ui = ai[k * m + j];
      ar[(k + 1) * m + j] -= pr * ur - pi * ui;
      ai[(k + 1) * m + j] -= pr * ui + pi * ur;
    }
  }
  const last = (m - 1) * m + (m - 1);
  if (Math.hypot(ar[last], ai[last]) < tiny) { ar[last] = tiny; ai[last] = 0; }
  let yr = new Float64Array(m).fill(1 / Math.sqrt(m));
  let yi = new Float64Array(m);
  for (let it = 0; it < 3; it++) {
    const br = Float64Array.from(yr);
    const bi = Float64Array.from(yi);
    for (let k = 0; k < m - 1; k++) {
      if (swap[k]) {
        let t = br[k]; br[k] = br[k + 1]; br[k + 1] = t;
        t = bi[k]; bi[k] = bi[k + 1]; bi[k + 1] = t;
      }
      br[k + 1] -= lr[k] * br[k] - li[k] * bi[k];
      bi[k + 1] -= lr[k] * bi[k] + li[k] * br[k];
    }
    for (let i = m - 1; i >= 0; i--) {
      let sr = br[i];
      let si = bi[i];
      for (let j = i + 1; j < m; j++) {
        sr -= ar[i * m + j] * br[j] - ai[i * m + j] * bi[j];
        si -= ar[i * m + j] * bi[j] + ai[i * m + j] * br[j];
      }
      const dr = ar[i * m + i];
      const di = ai[i * m + i];
      const den = dr * dr + di * di;
      br[i] = (sr * dr + si * di) / den;
      bi[i] = (si * dr - sr * di) / den;
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += br[i] * br[i] + bi[i] * bi[i];
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0) || !Number.isFinite(nrm)) break;
    yr = br.map((v) => v / nrm);
    yi = bi.map((v) => v / nrm);
  }
  return { re: yr, im: yi };
}

/**
 * The leading eigenvalues of the operator `apply` (v ↦ A v on vectors of length `dimension`; it must not keep or
 * change v) by Arnoldi, as a step generator.
 */
export function* arnoldiSteps(apply: (v: Float64Array) => Float64Array, dimension: number, opts: ArnoldiOptions): Steps<ArnoldiResult> {
  const { count, tolerance, seed } = opts;
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`arnoldi: dimension must be an integer >= 1, got ${dimension}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`arnoldi: count must be an integer >= 1, got ${count}`);
  if (!(tolerance > 0)) throw new RangeError(`arnoldi: tolerance must be > 0, got ${tolerance}`);
  if (!Number.isInteger(opts.maxIterations) || opts.maxIterations < 1) throw new RangeError(`arnoldi: maxIterations must be an integer >= 1, got ${opts.maxIterations}`);
  const maxIt = Math.min(opts.maxIterations, dimension);
  const want = Math.min(count, dimension);
  const rng = new Rng(seed);
  const v0 = Float64Array.from({ length: dimension }, () => rng.normal());
  const n0 = Math.sqrt(dot(v0, v0));
  for (let i = 0; i < dimension; i++) v0[i] /= n0;
  const V: Float64Array[] = [v0];
  // H stored (maxIt + 1) × maxIt, row-major with stride maxIt.
  const H = new Float64Array((maxIt + 1) * maxIt);
  let m = 0;
  let breakdown = false;
  let pairs: RitzPair[] = [];
  let converged = false;
  let beta = 0;

  const ritz = (mDim: number, b: number): RitzPair[] => {
    const hm = new Float64Array(mDim * mDim);
    for (let i = 0; i < mDim; i++) for (let j = 0; j < mDim; j++) hm[i * mDim + j] = H[i * maxIt + j];
    const thetas = hessenbergEigenvalues(hm, mDim).sort(byModulus).slice(0, want);
    return thetas.map((th) => {
      const y = hessenbergEigenvector(hm, mDim, th);
      const mod = modulus(th);
      const abs = b * Math.hypot(y.re[mDim - 1], y.im[mDim - 1]);
      const vr = new Float64Array(dimension);
      const vi = new Float64Array(dimension);
      for (let k = 0; k < mDim; k++) {
        const vk = V[k];
        const cr = y.re[k];
        const ci = y.im[k];
        for (let i = 0; i < dimension; i++) {
          vr[i] += cr * vk[i];
          vi[i] += ci * vk[i];
        }
      }
      return { re: th.re, im: th.im, residual: mod > 0 ? abs / mod : abs, vector: { re: vr, im: vi } };
    });
  };
  // Cheap check first (no Ritz vectors), the vectors only for the answer.
  const estimates = (mDim: number, b: number): number[] => {
    const hm = new Float64Array(mDim * mDim);
    for (let i = 0; i < mDim; i++) for (let j = 0; j < mDim; j++) hm[i * mDim + j] = H[i * maxIt + j];
    const thetas = hessenbergEigenvalues(hm, mDim).sort(byModulus).slice(0, want);
    return thetas.map((th) => {
      const y = hessenbergEigenvector(hm, mDim, th);
      const abs = b * Math.hypot(y.re[mDim - 1], y.im[mDim - 1]);
      const mod = modulus(th);
      return mod > 0 ? abs / mod : abs;
    });
  };

  for (let j = 0; j < maxIt; j++) {
    throwIfAborted(opts.signal, 'spectrum');
    const w = Float64Array.from(apply(V[j]));
    if (w.length !== dimension) throw new RangeError(`arnoldi: the operator returned ${w.length} values for dimension ${dimension}`);
    const wNorm = Math.sqrt(dot(w, w));
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= j; i++) {
        const c = dot(V[i], w);
        H[i * maxIt + j] += c;
        const vi = V[i];
        for (let k = 0; k < dimension; k++) w[k] -= c * vi[k];
      }
    }
    beta = Math.sqrt(dot(w, w));
    m = j + 1;
    opts.onIteration?.(m, maxIt);
    if (!Number.isFinite(beta)) throw new Error('arnoldi: the operator returned a non-finite vector');
    if (beta <= BREAKDOWN * wNorm || m === dimension) {
      breakdown = true;
      beta = 0;
      converged = true;
      yield;
      break;
    }
    if (j + 1 < maxIt) H[(j + 1) * maxIt + j] = beta;
    const next = new Float64Array(dimension);
    for (let k = 0; k < dimension; k++) next[k] = w[k] / beta;
    V.push(next);
    // The Hessenberg QR is O(m³): check every step while m is small, then every 10th step.
    if (m >= want && (m <= 100 || m % 10 === 0 || m === maxIt)) {
      if (estimates(m, beta).every((r) => r < tolerance)) {
        converged = true;
        yield;
        break;
      }
    }
    yield;
  }
  pairs = ritz(m, beta);
  return { pairs, iterations: m, converged, breakdown };
}
