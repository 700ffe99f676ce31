/**
 * Otsu's threshold on a 1-D sample, deterministic, with a fixed number of equal-width histogram bins.
 *
 * - Only finite values are used; the histogram spans [min, max] of them in `bins` bins (default 256); bin i holds
 *   min + i·w ≤ x < min + (i+1)·w (the maximum goes into the last bin). Class means use the exact per-bin sums.
 * - For each split "bins 0..t | bins t+1..", the between-class variance σ_b² = w0·w1·(μ0 − μ1)² / N² is computed;
 *   the first maximum wins. Empty bins next to it give the same σ_b² (a gap between the modes); the threshold is then
 *   put in the middle of that gap: the midpoint of the upper edges of the first and last split of the run of equal
 *   maxima (relative tolerance 1e-12). Without a gap it is the upper edge of bin t.
 * - Class 0 (low) = values < threshold.
 * - No finite value: threshold NaN. All finite values equal: threshold = that value, `separable` false.
 */

export interface OtsuResult {
  threshold: number;
  /** σ_b² at the threshold (0 when not separable). */
  betweenClassVariance: number;
  /** Finite values used. */
  count: number;
  min: number;
  max: number;
  bins: number;
  /** False when fewer than two distinct finite values exist. */
  separable: boolean;
}

export function otsu(values: ArrayLike<number>, opts: { bins?: number } = {}): OtsuResult {
  const bins = opts.bins ?? 256;
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`otsu: bins must be an integer >= 2, got ${bins}`);
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    count++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (count === 0) return { threshold: NaN, betweenClassVariance: 0, count, min: NaN, max: NaN, bins, separable: false };
  if (min === max) return { threshold: min, betweenClassVariance: 0, count, min, max, bins, separable: false };
  const width = (max - min) / bins;
  const hist = new Float64Array(bins);
  const sums = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    const b = Math.min(bins - 1, Math.floor((x - min) / width));
    hist[b]++;
    sums[b] += x;
  }
  let total = 0;
  for (let b = 0; b < bins; b++) total += sums[b];
  const sigma = new Float64Array(bins - 1);
  let w0 = 0;
  let s0 = 0;
  let best = -1;
  let bestSigma = -Infinity;
  for (let t = 0; t < bins - 1; t++) {
    w0 += hist[t];
    s0 += sums[t];
    const w1 = count - w0;
    if (w0 === 0 || w1 === 0) { sigma[t] = NaN; continue; }
    const d = s0 / w0 - (total - s0) / w1;
    sigma[t] = (w0 * w1 * d * d) / (count * count);
    if (sigma[t] > bestSigma) { bestSigma = sigma[t]; best = t; }
  }
  let last = best;
  while (last + 1 < bins - 1 && hist[last + 1] === 0 && Math.abs(sigma[last + 1] - bestSigma) <= 1e-12 * bestSigma) last++;
  const edge = (t: number) => min + (t + 1) * width;
  return { threshold: (edge(best) + edge(last)) / 2, betweenClassVariance: bestSigma, count, min, max, bins, separable: true };
}

/** Otsu threshold only (NaN when no finite value). */
export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  return otsu(values, { bins }).threshold;
}
