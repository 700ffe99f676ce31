/**
 * The numbers behind the dashboard's curves and heatmap, from the raw TrainPoints: smoothing (an exponential moving
 * average with TensorBoard's debiasing, skipping nulls), bucketing many steps into at most `max` points or columns,
 * and the step × segment exact-accuracy matrix. Pure functions: no DOM.
 */
import type { TrainPoint } from './protocol';

/** EMA with weight `w` (0 = raw); nulls stay null and do not reset the average. */
export function smooth(values: readonly (number | null)[], w: number): (number | null)[] {
  if (w <= 0) return values.slice();
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = w * acc + (1 - w) * v;
    n++;
    return acc / (1 - w ** n);
  });
}

/** Group consecutive indices into at most `max` buckets: [start, end) pairs covering 0…n. */
export function buckets(n: number, max: number): [number, number][] {
  const k = Math.max(1, Math.min(n, Math.floor(max)));
  const out: [number, number][] = [];
  for (let b = 0; b < k; b++) {
    const lo = Math.floor((b * n) / k);
    const hi = Math.floor(((b + 1) * n) / k);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

const mean = (xs: readonly (number | null)[], lo: number, hi: number): number | null => {
  let s = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    const x = xs[i];
    if (x !== null && Number.isFinite(x)) { s += x; c++; }
  }
  return c ? s / c : null;
};

/** A series as {x: step, y} points, bucket means of steps and values (at most `max` points). */
export function downsample(steps: readonly number[], values: readonly (number | null)[], max: number): { x: number; y: number | null }[] {
  return buckets(steps.length, max).map(([lo, hi]) => ({ x: Math.round(mean(steps, lo, hi) ?? steps[lo]), y: mean(values, lo, hi) }));
}

export interface SegmentMatrix {
  /** Columns (step buckets) × segments, row-major [column][segment]; null where no slot was at the segment. */
  values: (number | null)[];
  columns: number;
  segments: number;
  /** First and last step of each column. */
  steps: [number, number][];
}

/** Exact accuracy per ACT segment over training, at most `maxColumns` columns (each the mean of its steps). */
export function segmentMatrix(points: readonly TrainPoint[], segments: number, maxColumns: number): SegmentMatrix {
  const cols = buckets(points.length, maxColumns);
  const values: (number | null)[] = [];
  for (const [lo, hi] of cols) {
    for (let s = 0; s < segments; s++) {
      let sum = 0;
      let c = 0;
      for (let i = lo; i < hi; i++) {
        const v = points[i].segmentExact[s];
        if (v !== null && v !== undefined && Number.isFinite(v)) { sum += v; c++; }
      }
      values.push(c ? sum / c : null);
    }
  }
  return { values, columns: cols.length, segments, steps: cols.map(([lo, hi]) => [points[lo].step, points[hi - 1].step]) };
}

/**
 * A history of more than `max` steps as at most `max` points: each the mean of a bucket of consecutive steps (every
 * field, and each segment's exact fraction over the steps that logged it; null where none did). Shorter histories are
 * returned as they are. Runs compared side by side arrive this way: the curves are then smoothed over bucket means.
 */
export function reducePoints(points: readonly TrainPoint[], max: number): TrainPoint[] {
  if (points.length <= max) return points.slice();
  const of = (f: (p: TrainPoint) => number | null | undefined): (number | null)[] => points.map((p) => f(p) ?? null);
  const [steps, loss, cell, exact, act, rate] = [of((p) => p.step), of((p) => p.loss), of((p) => p.cellAccuracy), of((p) => p.exactAccuracy), of((p) => p.meanSteps), of((p) => p.stepsPerSecond)];
  const segments = points.reduce((m, p) => Math.max(m, p.segmentExact.length), 0);
  const perSegment = Array.from({ length: segments }, (_, s) => of((p) => p.segmentExact[s]));
  return buckets(points.length, max).map(([lo, hi]) => ({
    step: Math.round(mean(steps, lo, hi) ?? points[lo].step),
    loss: mean(loss, lo, hi) ?? points[lo].loss,
    cellAccuracy: mean(cell, lo, hi) ?? points[lo].cellAccuracy,
    exactAccuracy: mean(exact, lo, hi),
    meanSteps: mean(act, lo, hi),
    segmentExact: perSegment.map((xs) => mean(xs, lo, hi)),
    stepsPerSecond: mean(rate, lo, hi),
  }));
}
