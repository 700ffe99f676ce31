/**
 * The statistics of the reproduction report (engine/paper/report-types.ts states the conventions):
 *   proportion  k of n with the 95% Wilson score interval: p = k/n, z = 1.959964,
 *               centre = (p + z²/2n) / (1 + z²/n), half = z·√(p(1 − p)/n + z²/4n²) / (1 + z²/n), [centre ± half] ∩ [0, 1];
 *   seedSpread  mean, sample sd and the Student-t 95% interval over the runs of an arm (t(0.975, r − 1) from a table
 *               for r − 1 ≤ 30, 1.959964 beyond); clipped to [0, 1] when the values are rates;
 *   quartiles   mean and the type-7 quartiles (linear interpolation at position (n − 1)·p of the sorted values).
 * Pure functions, no imports.
 */
import type { Proportion, Quartiles, SeedSpread } from './report-types';

export const Z95 = 1.959963984540054;

/** t(0.975, df) for df = 1…30. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function t975(df: number): number {
  return df >= 1 && df <= T975.length ? T975[df - 1] : Z95;
}

/** The Wilson score interval of k successes in n trials; null when n = 0. */
export function wilson(k: number, n: number): { lo: number; hi: number } | null {
  if (!(n > 0)) return null;
  const p = k / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / denom;
  // At k = 0 and k = n the bounds are exactly 0 and 1 (centre ∓ half cancels); say so instead of rounding near them.
  return { lo: k <= 0 ? 0 : Math.max(0, centre - half), hi: k >= n ? 1 : Math.min(1, centre + half) };
}

export function proportion(k: number, n: number): Proportion {
  const ci = wilson(k, n);
  return { k, n, value: n > 0 ? k / n : null, lo: ci ? ci.lo : null, hi: ci ? ci.hi : null };
}

/** Spread of per-run values (null entries are runs without a value); `rate` clips the interval to [0, 1]. */
export function seedSpread(values: readonly (number | null)[], rate = true): SeedSpread {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const r = xs.length;
  const mean = r > 0 ? xs.reduce((a, b) => a + b, 0) / r : null;
  const sd = r >= 2 && mean !== null ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (r - 1)) : null;
  let lo: number | null = null;
  let hi: number | null = null;
  if (sd !== null && mean !== null) {
    const half = t975(r - 1) * sd / Math.sqrt(r);
    lo = rate ? Math.max(0, mean - half) : mean - half;
    hi = rate ? Math.min(1, mean + half) : mean + half;
  }
  return {
    values: values.map((v) => (v !== null && Number.isFinite(v) ? v : null)), runs: r, mean, sd,
    min: r > 0 ? Math.min(...xs) : null, max: r > 0 ? Math.max(...xs) : null, lo, hi,
  };
}

/** Type-7 quantile of sorted values (p in [0, 1]). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function quartiles(values: readonly number[]): Quartiles {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, mean: null, q1: null, median: null, q3: null };
  return {
    n: xs.length, mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    q1: quantileSorted(xs, 0.25), median: quantileSorted(xs, 0.5), q3: quantileSorted(xs, 0.75),
  };
}

/** Whether two intervals overlap (null when either is missing). */
export function overlaps(a: { lo: number | null; hi: number | null }, b: { lo: number | null; hi: number | null }): boolean | null {
  if (a.lo === null || a.hi === null || b.lo === null || b.hi === null) return null;
  return a.lo <= b.hi && b.lo <= a.hi;
}

/** A finite number, or null. */
export function finite(x: number | null | undefined): number | null {
  return x !== null && x !== undefined && Number.isFinite(x) ? x : null;
}

/**
 * The two-sided exact sign test of `wins` against `losses` (ties already dropped): 2 · P(X ≤ min(wins, losses)) for
 * X ~ Binomial(wins + losses, 1/2), capped at 1; null when there is no untied pair. Summed in log space, so it is
 * exact enough for any count.
 */
export function signTest(wins: number, losses: number): number | null {
  const m = wins + losses;
  if (!(m > 0)) return null;
  const k = Math.min(wins, losses);
  let logC = 0; // log C(m, 0)
  let sum = 0;
  const logHalf = m * Math.log(0.5);
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((m - i + 1) / i);
    sum += Math.exp(logC + logHalf);
  }
  return Math.min(1, 2 * sum);
}
