/**
 * Fact (b) of the paper — "grokking" along the segments: the answer does not improve evenly, one critical segment
 * does most of the work. Over the held-out puzzles, newest checkpoint of the first run of each arm, S segments,
 * halting off; per puzzle, with wrong(k) = wrong cells at segment k and loss(k) = stablemax cross-entropy over the
 * cells (engine/analysis/segment-metrics.ts):
 *   critical segment c  = the k ≥ 2 with the largest single-segment fall d = wrong(k − 1) − wrong(k) > 0 (earliest on
 *                         ties; segment-metrics' criticalSegment and criticalDrop);
 *   best segment b      = the first segment where wrong(k) is smallest;
 *   total fall F        = wrong(1) − wrong(b) ≥ 0;
 *   suddenness          = min(1, d / F) when F > 0: the share of the whole improvement done by one segment (1 = all at
 *                         once, about 1/(b − 1) for an even descent). A puzzle whose wrong cells never fall below
 *                         segment 1's count (F = 0) is excluded and counted ("no fall"); a puzzle that first rose and
 *                         then fell more than F has d > F, its suddenness is clipped to 1 and counted ("clipped").
 * Distributions over the included puzzles: the histogram of c over segments 2…S; the histogram of suddenness in ten
 * bins [0, 0.1), …, [0.9, 1] (bin index min(9, ⌊10·s⌋)); its quartiles. Curves aligned at c: for offsets o = −w…+w
 * (w = min(alignWindow, S − 1)) the values wrong(c + o) and loss(c + o) of the included puzzles that have segment
 * c + o, summarised by mean and quartiles (stats.ts). Per puzzle the raw series go into the report.
 */
import type { TraceMetrics } from '../analysis/segment-metrics';
import { gridToString } from '../sudoku/geometry';
import type { AlignedPoint, FactBArm, FactBPuzzleRaw, PaperArm } from './report-types';
import { quartiles } from './stats';
import type { HeldOutPuzzle } from './heldout';

export const FACT_B_DEFINITIONS = [
  'wrong(k): wrong cells of the decoded grid at segment k; loss(k): stablemax cross-entropy over the cells at segment k.',
  'Critical segment c: the k ≥ 2 with the largest single-segment fall d = wrong(k − 1) − wrong(k) > 0 (earliest on ties).',
  'Best segment b: the first segment with the fewest wrong cells; total fall F = wrong(1) − wrong(b).',
  'Suddenness = min(1, d / F): the share of the whole improvement made by the critical segment. Puzzles with F = 0 (no fall) are excluded and counted; puzzles with d > F (they rose before falling) are clipped to 1 and counted.',
  'Aligned curves: wrong and loss at segment c + o for offsets o = −w…+w, over the included puzzles that have that segment; mean and quartiles (linear interpolation).',
];

export const SUDDENNESS_BINS = 10;

/** Per-puzzle fact (b) quantities from one puzzle's metrics (with a solution). */
export function factBPuzzle(id: string, puzzle: string, m: TraceMetrics): FactBPuzzleRaw {
  if (!m.wrong || !m.loss) throw new Error('fact (b) needs traces with solutions');
  const wrong = Array.from(m.wrong);
  const loss = Array.from(m.loss);
  let best = 0;
  for (let k = 1; k < wrong.length; k++) if (wrong[k] < wrong[best]) best = k;
  const totalFall = wrong.length > 0 ? wrong[0] - wrong[best] : 0;
  const suddenness = totalFall > 0 ? Math.min(1, m.criticalDrop / totalFall) : null;
  return { id, puzzle, wrong, loss, criticalSegment: m.criticalSegment, criticalDrop: m.criticalDrop, bestSegment: best + 1, totalFall, suddenness };
}

export function factBArm(
  arm: PaperArm, run: string, checkpoint: string, heldOut: readonly HeldOutPuzzle[], metrics: readonly TraceMetrics[], alignWindow: number, recompute: string[],
): FactBArm {
  const raw = metrics.map((m, i) => factBPuzzle(heldOut[i].id, gridToString(heldOut[i].puzzle), m));
  const S = metrics.reduce((a, m) => Math.max(a, m.segments), 0);
  const included = raw.filter((r) => r.suddenness !== null && r.criticalSegment !== null);
  const criticalHistogram = Array.from({ length: Math.max(0, S - 1) }, (_, i) => ({ segment: i + 2, count: included.filter((r) => r.criticalSegment === i + 2).length }));
  const suddennessHistogram = Array.from({ length: SUDDENNESS_BINS }, (_, i) => ({
    lo: i / SUDDENNESS_BINS, hi: (i + 1) / SUDDENNESS_BINS,
    count: included.filter((r) => Math.min(SUDDENNESS_BINS - 1, Math.floor((r.suddenness as number) * SUDDENNESS_BINS)) === i).length,
  }));
  const w = Math.max(0, Math.min(alignWindow, S - 1));
  const aligned: AlignedPoint[] = [];
  for (let o = -w; o <= w; o++) {
    const wrong: number[] = [];
    const loss: number[] = [];
    for (const r of included) {
      const k = (r.criticalSegment as number) + o;
      if (k >= 1 && k <= r.wrong.length) { wrong.push(r.wrong[k - 1]); loss.push(r.loss[k - 1]); }
    }
    aligned.push({ offset: o, wrong: quartiles(wrong), loss: quartiles(loss) });
  }
  return {
    arm, run, checkpoint, puzzles: raw.length, included: included.length,
    excludedNoFall: raw.filter((r) => r.suddenness === null).length,
    clipped: included.filter((r) => r.criticalDrop > r.totalFall).length,
    criticalHistogram, suddennessHistogram, suddenness: quartiles(included.map((r) => r.suddenness as number)), aligned, raw, recompute,
  };
}
