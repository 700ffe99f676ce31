/**
 * Per-segment metrics of one puzzle trace (docs/analyses.md §Segment metrics) and their scalar summaries.
 *
 * Per segment k (arrays indexed k − 1):
 *  - decoded grid, exact, conflict energy E, cells changed since the previous segment (segment 1 is compared with the
 *    puzzle input: the state "before segment 1" is the puzzle itself), per-cell confidence;
 *  - with a solution: wrong cells (total / givens / blanks), per-cell correctness, stablemax loss;
 *  - σ(q_halt), σ(q_continue), halt decision q_halt > q_continue (strict);
 *  - latent residuals r_k = ‖z(k) − z(k−1)‖₂ / ‖z(k−1)‖₂ for z_H and z_L (float64). r_1 is NaN: the carry before
 *    segment 1 (H_init / L_init broadcast) is not part of a trace. A missing carry at k or k − 1 also gives NaN.
 *    ‖z(k−1)‖ = 0 gives 0 when z(k) = z(k−1) and +Infinity otherwise.
 *
 * "exact": with a solution, decoded grid == solution on every cell (`exactBasis: 'solution'`). Without one, the
 * label-free stand-in is "a complete valid grid that keeps every given" (`exactBasis: 'valid-grid'`), which is the
 * solution whenever the puzzle has a unique one.
 *
 * Summaries use 1-based segment numbers and null for "none":
 *  - firstExact: first exact segment; stableFrom: first k such that every segment k..S is exact (null unless the last
 *    segment is exact);
 *  - critical segment: the k ≥ 2 with the largest single-segment fall wrong(k−1) − wrong(k) > 0 (earliest on ties;
 *    null when wrong never falls or there is no solution); likewise for the loss and (label-free) for E;
 *  - corruptions: every k with exact(k−1) and not exact(k).
 */
import { type Grid, type GridSize, geometry, givensMatch, isValidSolution } from '../sudoku/geometry';
import { cellCorrectness, conflictEnergy, wrongCells } from '../sudoku/energy';
import { type ConfidenceKind, decodeSegment, stablemaxLoss } from './decode';
import type { PuzzleTrace } from './trace';

export interface TraceMetricsOptions {
  /** Per-cell confidence kind (default 'softmax'). */
  confidence?: ConfidenceKind;
}

export interface TraceMetrics {
  n: GridSize;
  cells: number;
  /** Number of segments S. */
  segments: number;
  exactBasis: 'solution' | 'valid-grid';
  /** The input grid (the reference for segment 1's `changed`). */
  puzzle: Grid;
  /** Decoded digits, row-major [segment][cell]. */
  grids: Int8Array;
  exact: Uint8Array;
  energy: Int16Array;
  /** Cells whose decoded digit differs from the previous segment (segment 1: from the puzzle input). */
  changed: Int16Array;
  /** Probability of the argmax token, row-major [segment][cell]. */
  confidence: Float32Array;
  confidenceKind: ConfidenceKind;
  qHalt: Float64Array;
  qContinue: Float64Array;
  qHaltProb: Float64Array;
  qContinueProb: Float64Array;
  /** 1 where q_halt > q_continue. */
  halt: Uint8Array;
  /** Relative z_H / z_L step per segment; NaN at segment 1 and wherever a carry is missing. */
  residualH: Float64Array;
  residualL: Float64Array;
  /** Whether every segment carries zH (resp. zL). */
  hasZH: boolean;
  hasZL: boolean;
  /** Label-dependent (present iff the trace has a solution). */
  wrong?: Int16Array;
  wrongGivens?: Int16Array;
  wrongBlanks?: Int16Array;
  /** Stablemax CE per segment (mean over cells). */
  loss?: Float64Array;
  /** 1 where the decoded digit equals the solution, row-major [segment][cell]. */
  correct?: Uint8Array;
  firstExact: number | null;
  stableFrom: number | null;
  finalExact: boolean;
  /** E at the last segment (NaN without segments). */
  finalEnergy: number;
  /** Wrong cells at the last segment (null without a solution or segments). */
  finalWrong: number | null;
  criticalSegment: number | null;
  criticalDrop: number;
  criticalLossSegment: number | null;
  criticalLossDrop: number;
  criticalEnergySegment: number | null;
  criticalEnergyDrop: number;
  /** Segments k (1-based) with exact(k−1) and not exact(k). */
  corruptions: number[];
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** ‖cur − prev‖₂ / ‖prev‖₂ in float64 (0/0 → 0, x/0 → +Infinity). */
export function relativeResidual(cur: ArrayLike<number>, prev: ArrayLike<number>): number {
  if (cur.length !== prev.length) throw new RangeError(`relativeResidual: lengths differ (${cur.length} vs ${prev.length})`);
  let diff = 0;
  let base = 0;
  for (let i = 0; i < cur.length; i++) {
    const d = cur[i] - prev[i];
    diff += d * d;
    base += prev[i] * prev[i];
  }
  if (base === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff) / Math.sqrt(base);
}

/** Residual series r_k for a list of (possibly missing) carries; r_1 = NaN. */
export function residualSeries(states: readonly (ArrayLike<number> | undefined)[]): Float64Array {
  const out = new Float64Array(states.length).fill(NaN);
  for (let k = 1; k < states.length; k++) {
    const cur = states[k];
    const prev = states[k - 1];
    if (cur && prev) out[k] = relativeResidual(cur, prev);
  }
  return out;
}

/** The largest single-step fall series[k−1] − series[k] > 0: 1-based segment k + 1 and the fall; earliest on ties. */
export function largestFall(series: ArrayLike<number>): { segment: number | null; drop: number } {
  let segment: number | null = null;
  let drop = 0;
  for (let k = 1; k < series.length; k++) {
    const f = series[k - 1] - series[k];
    if (f > drop) { drop = f; segment = k + 1; }
  }
  return { segment, drop };
}

/** First exact segment, first segment of the final exact run, and the corruption events (all 1-based). */
export function exactSummary(exact: ArrayLike<number>): { firstExact: number | null; stableFrom: number | null; corruptions: number[] } {
  let firstExact: number | null = null;
  const corruptions: number[] = [];
  for (let k = 0; k < exact.length; k++) {
    if (exact[k] && firstExact === null) firstExact = k + 1;
    if (k > 0 && exact[k - 1] && !exact[k]) corruptions.push(k + 1);
  }
  let stableFrom: number | null = null;
  for (let k = exact.length - 1; k >= 0 && exact[k]; k--) stableFrom = k + 1;
  return { firstExact, stableFrom, corruptions };
}

function gridsEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Per-segment metrics and summaries for one trace. */
export function computeTraceMetrics(trace: PuzzleTrace, opts: TraceMetricsOptions = {}): TraceMetrics {
  const n = trace.n;
  const geo = geometry(n);
  const cells = geo.cells;
  const S = trace.segments.length;
  const kind = opts.confidence ?? 'softmax';
  if (trace.puzzle.length !== cells) throw new RangeError(`computeTraceMetrics: puzzle has ${trace.puzzle.length} cells, expected ${cells}`);
  const sol: Grid | undefined = trace.solution;
  if (sol && sol.length !== cells) throw new RangeError(`computeTraceMetrics: solution has ${sol.length} cells, expected ${cells}`);

  const grids = new Int8Array(S * cells);
  const exact = new Uint8Array(S);
  const energy = new Int16Array(S);
  const changed = new Int16Array(S);
  const confidence = new Float32Array(S * cells);
  const qHalt = new Float64Array(S);
  const qContinue = new Float64Array(S);
  const qHaltProb = new Float64Array(S);
  const qContinueProb = new Float64Array(S);
  const halt = new Uint8Array(S);
  const wrong = sol ? new Int16Array(S) : undefined;
  const wrongGivens = sol ? new Int16Array(S) : undefined;
  const wrongBlanks = sol ? new Int16Array(S) : undefined;
  const loss = sol ? new Float64Array(S) : undefined;
  const correct = sol ? new Uint8Array(S * cells) : undefined;

  let prev: ArrayLike<number> = trace.puzzle;
  for (let k = 0; k < S; k++) {
    const seg = trace.segments[k];
    if (seg.logits.length !== cells * geo.vocabSize) {
      throw new RangeError(`computeTraceMetrics: segment ${k + 1} has ${seg.logits.length} logits, expected ${cells}×${geo.vocabSize}`);
    }
    const dec = decodeSegment(seg.logits, n, { confidence: kind });
    const g = dec.digits;
    grids.set(g, k * cells);
    confidence.set(dec.confidence, k * cells);
    energy[k] = conflictEnergy(g, geo);
    let ch = 0;
    for (let c = 0; c < cells; c++) if (g[c] !== prev[c]) ch++;
    changed[k] = ch;
    prev = g;
    qHalt[k] = seg.qHalt;
    qContinue[k] = seg.qContinue;
    qHaltProb[k] = sigmoid(seg.qHalt);
    qContinueProb[k] = sigmoid(seg.qContinue);
    halt[k] = seg.qHalt > seg.qContinue ? 1 : 0;
    if (sol && wrong && wrongGivens && wrongBlanks && loss && correct) {
      const w = wrongCells(g, sol, trace.puzzle);
      wrong[k] = w.total;
      wrongGivens[k] = w.givens;
      wrongBlanks[k] = w.blanks;
      exact[k] = w.total === 0 ? 1 : 0;
      correct.set(cellCorrectness(g, sol), k * cells);
      loss[k] = stablemaxLoss(seg.logits, n, sol);
    } else {
      exact[k] = isValidSolution(g, geo) && givensMatch(trace.puzzle, g) ? 1 : 0;
    }
  }

  const zH = trace.segments.map((s) => s.zH);
  const zL = trace.segments.map((s) => s.zL);
  const { firstExact, stableFrom, corruptions } = exactSummary(exact);
  const crit = wrong ? largestFall(wrong) : { segment: null, drop: 0 };
  const critLoss = loss ? largestFall(loss) : { segment: null, drop: 0 };
  const critE = largestFall(energy);
  return {
    n, cells, segments: S,
    exactBasis: sol ? 'solution' : 'valid-grid',
    puzzle: trace.puzzle,
    grids, exact, energy, changed, confidence, confidenceKind: kind,
    qHalt, qContinue, qHaltProb, qContinueProb, halt,
    residualH: residualSeries(zH),
    residualL: residualSeries(zL),
    hasZH: S > 0 && zH.every((z) => z !== undefined),
    hasZL: S > 0 && zL.every((z) => z !== undefined),
    wrong, wrongGivens, wrongBlanks, loss, correct,
    firstExact, stableFrom,
    finalExact: S > 0 && exact[S - 1] === 1,
    finalEnergy: S > 0 ? energy[S - 1] : NaN,
    finalWrong: wrong && S > 0 ? wrong[S - 1] : null,
    criticalSegment: crit.segment, criticalDrop: crit.drop,
    criticalLossSegment: critLoss.segment, criticalLossDrop: critLoss.drop,
    criticalEnergySegment: critE.segment, criticalEnergyDrop: critE.drop,
    corruptions,
  };
}

/** Decoded grid of segment k (1-based) as a view into metrics.grids. */
export function gridAt(m: TraceMetrics, segment: number): Grid {
  if (!Number.isInteger(segment) || segment < 1 || segment > m.segments) throw new RangeError(`gridAt: segment must be in 1..${m.segments}, got ${segment}`);
  return m.grids.subarray((segment - 1) * m.cells, segment * m.cells);
}

/** Whether the decoded grids of segments from..to (1-based, inclusive) are all identical. */
export function gridsIdentical(m: TraceMetrics, from: number, to: number): boolean {
  const a = Math.max(1, from);
  if (a > to) return true;
  const first = gridAt(m, a);
  for (let k = a + 1; k <= to; k++) if (!gridsEqual(first, gridAt(m, k))) return false;
  return true;
}
