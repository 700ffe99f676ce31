/**
 * The four reasoning modes (an operational definition, docs/analyses.md §Four reasoning modes; every threshold is a
 * parameter).
 *
 * For a trace with S segments, window W = the last L segments (L = `lastSegments`, default 4; segments S−L+1..S):
 *   first    = stableFrom: the first k with exact at every segment k..S (null when the last segment is not exact)
 *   drift_k  = ‖z_H(k) − z_H(k−1)‖ / ‖z_H(k−1)‖ (segment-end carries; TraceMetrics.residualH; k ≥ 2)
 *   late     = mean drift_k over W (segment 1 has no drift and is left out of the mean if W reaches it)
 *   settled  = late < τ AND the decoded grid is identical over W
 *   success  = the last segment is exact:  trivial if first ≤ K (K = `trivialWithin`, default 3), else non-trivial
 *   failure  = non-trivial if settled and E_S > 0 (stuck on a spurious fixed point), else trivial (wandering)
 * τ: given (`tau`), or Otsu's threshold on log10(late) pooled over the evaluated set (classifyModes; values ≤ 0 or
 * non-finite are left out of the pool; τ = 10^threshold).
 *
 * Fallbacks (reported in the evidence):
 *  - z_H not captured at every segment of W (lateBasis 'grid'): late = NaN, settled = grid identical over W only;
 *  - no τ (none given and the pool has fewer than two distinct values; tauSource 'none'): same grid-only rule.
 */
import { otsu } from './otsu';
import { type TraceMetrics, gridsIdentical } from './segment-metrics';

import type { ReasoningMode } from './mode-types';

export type { ReasoningMode } from './mode-types';

export const REASONING_MODES: readonly ReasoningMode[] = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'];

export interface ModeOptions {
  /** K: success within the first K segments is trivial (default 3). */
  trivialWithin?: number;
  /** L: the late window is the last L segments (default 4). */
  lastSegments?: number;
  /** τ for "settled"; when absent, classifyModes pools Otsu over the set (classifyMode then uses the grid-only rule). */
  tau?: number;
  /** Histogram bins for Otsu (default 256). */
  otsuBins?: number;
}

export type TauSource = 'given' | 'otsu' | 'none';

export interface ModeEvidence {
  firstExact: number | null;
  stableFrom: number | null;
  /** Mean relative z_H drift over the window (NaN when z_H is missing there). */
  late: number;
  lateBasis: 'zH' | 'grid';
  tau: number;
  tauSource: TauSource;
  /** Decoded grid identical over the window. */
  gridStable: boolean;
  settled: boolean;
  finalE: number;
  finalWrong: number | null;
  /** The window, 1-based inclusive. */
  window: { from: number; to: number };
}

export interface ModeResult {
  mode: ReasoningMode;
  success: boolean;
  evidence: ModeEvidence;
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`modes: ${name} must be an integer >= 1, got ${v}`);
}

/** Mean z_H drift over the last L segments (NaN when S < 2 or a drift in the window is missing). */
export function lateDrift(m: TraceMetrics, lastSegments = 4): number {
  checkPositiveInt('lastSegments', lastSegments);
  const S = m.segments;
  const from = Math.max(2, S - lastSegments + 1);
  if (from > S) return NaN;
  let sum = 0;
  for (let k = from; k <= S; k++) {
    const r = m.residualH[k - 1];
    if (Number.isNaN(r)) return NaN;
    sum += r;
  }
  return sum / (S - from + 1);
}

/** τ pooled over a set: 10^(Otsu threshold of log10(late)) over the finite positive lates. */
export function poolTau(all: readonly TraceMetrics[], opts: ModeOptions = {}): { tau: number; source: TauSource } {
  if (opts.tau !== undefined) return { tau: opts.tau, source: 'given' };
  const logs: number[] = [];
  for (const m of all) {
    const late = lateDrift(m, opts.lastSegments ?? 4);
    if (late > 0 && Number.isFinite(late)) logs.push(Math.log10(late));
  }
  const r = otsu(logs, { bins: opts.otsuBins ?? 256 });
  return r.separable ? { tau: 10 ** r.threshold, source: 'otsu' } : { tau: NaN, source: 'none' };
}

/** Classify one trace; τ from opts.tau (given) or `pooled` (from poolTau), else the grid-only rule. */
export function classifyMode(m: TraceMetrics, opts: ModeOptions = {}, pooled?: { tau: number; source: TauSource }): ModeResult {
  const K = opts.trivialWithin ?? 3;
  const L = opts.lastSegments ?? 4;
  checkPositiveInt('trivialWithin', K);
  checkPositiveInt('lastSegments', L);
  const S = m.segments;
  const window = { from: Math.max(1, S - L + 1), to: S };
  const { tau, source } = opts.tau !== undefined ? { tau: opts.tau, source: 'given' as const } : (pooled ?? { tau: NaN, source: 'none' as const });
  const late = lateDrift(m, L);
  const lateBasis = Number.isNaN(late) ? 'grid' : 'zH';
  const gridStable = S > 0 && gridsIdentical(m, window.from, window.to);
  const useDrift = lateBasis === 'zH' && !Number.isNaN(tau);
  const settled = useDrift ? late < tau && gridStable : gridStable;
  const success = m.finalExact;
  let mode: ReasoningMode;
  if (success) mode = m.stableFrom !== null && m.stableFrom <= K ? 'trivial-success' : 'non-trivial-success';
  else mode = settled && m.finalEnergy > 0 ? 'non-trivial-failure' : 'trivial-failure';
  return {
    mode, success,
    evidence: {
      firstExact: m.firstExact, stableFrom: m.stableFrom,
      late, lateBasis, tau, tauSource: source,
      gridStable, settled,
      finalE: m.finalEnergy, finalWrong: m.finalWrong,
      window,
    },
  };
}

export interface ModeClassification {
  tau: number;
  tauSource: TauSource;
  results: ModeResult[];
  /** How many traces fall in each mode. */
  counts: Record<ReasoningMode, number>;
}

/** Classify a set: τ given, or pooled Otsu over the set's lates (docs/analyses.md §Otsu threshold). */
export function classifyModes(all: readonly TraceMetrics[], opts: ModeOptions = {}): ModeClassification {
  const pooled = poolTau(all, opts);
  const results = all.map((m) => classifyMode(m, opts, pooled));
  const counts: Record<ReasoningMode, number> = { 'trivial-success': 0, 'non-trivial-success': 0, 'trivial-failure': 0, 'non-trivial-failure': 0 };
  for (const r of results) counts[r.mode]++;
  return { tau: pooled.tau, tauSource: pooled.source, results, counts };
}
