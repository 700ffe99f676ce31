/**
 * The four reasoning modes over a set of puzzles (docs/analyses.md §Four reasoning modes; modes.ts holds the
 * definition): run every puzzle for S segments (batched, halting off, z_H captured for the drift), compute
 * TraceMetrics, pool τ by Otsu over the set (or take it given) and classify each. Returns the counts, τ, each puzzle's
 * class with its evidence, and for each mode the first puzzle in it (an example for the gallery).
 */
import type { HrmModel } from '../model';
import { type Grid, gridToString } from '../sudoku/geometry';
import { type BatchMetricsOptions, batchTraceMetrics } from './batch-metrics';
import { type ModeClassification, type ModeOptions, type ReasoningMode, REASONING_MODES, classifyModes } from './modes';
import { datasetStability } from './stability';
import type { TraceInput } from './capture-trace';
import type { TraceMetrics } from './segment-metrics';

export interface ClassifyPuzzle {
  puzzle: Grid;
  solution?: Grid;
  id?: string;
}

export interface ClassifyEntry {
  id: string;
  puzzle: string;
  mode: ReasoningMode;
  firstExact: number | null;
  stableFrom: number | null;
  late: number;
  settled: boolean;
  finalE: number;
  finalWrong: number | null;
  corruptions: number[];
}

export interface ClassifyReport {
  puzzles: number;
  segments: number;
  tau: number;
  tauSource: ModeClassification['tauSource'];
  counts: Record<ReasoningMode, number>;
  finalAccuracy: number;
  stabilityRate: number;
  corruptionEvents: number;
  exactBySegment: number[];
  /** First puzzle of each mode (absent when the mode is empty). */
  examples: Partial<Record<ReasoningMode, string>>;
  entries: ClassifyEntry[];
  seconds: number;
}

export function classifyPuzzles(model: HrmModel, puzzles: readonly ClassifyPuzzle[], opts: ModeOptions & BatchMetricsOptions = {}): ClassifyReport {
  const t0 = performance.now();
  const S = opts.segments ?? model.config.haltMaxSteps;
  const metrics = batchTraceMetrics(model, classifyInputs(puzzles), { ...opts, segments: S, latents: true });
  return classifyFromMetrics(puzzles, metrics, S, opts, t0);
}

/** The trace inputs classifyPuzzles records (the id defaults to the puzzle's index). */
export function classifyInputs(puzzles: readonly ClassifyPuzzle[]): TraceInput[] {
  return puzzles.map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id ?? String(i) }));
}

/**
 * The report from per-puzzle metrics recorded by any recorder (S segments, halting off, latents on); `t0` is when the
 * run began (performance.now()), for `seconds`.
 */
export function classifyFromMetrics(
  puzzles: readonly ClassifyPuzzle[], metrics: readonly TraceMetrics[], S: number, opts: ModeOptions, t0: number,
): ClassifyReport {
  const cls = classifyModes(metrics, opts);
  const st = datasetStability(metrics);
  const entries: ClassifyEntry[] = cls.results.map((r, i) => ({
    id: puzzles[i].id ?? String(i), puzzle: gridToString(puzzles[i].puzzle), mode: r.mode,
    firstExact: r.evidence.firstExact, stableFrom: r.evidence.stableFrom, late: r.evidence.late, settled: r.evidence.settled,
    finalE: r.evidence.finalE, finalWrong: r.evidence.finalWrong, corruptions: metrics[i].corruptions,
  }));
  const examples: Partial<Record<ReasoningMode, string>> = {};
  for (const m of REASONING_MODES) {
    const e = entries.find((x) => x.mode === m);
    if (e) examples[m] = e.id;
  }
  return {
    puzzles: puzzles.length, segments: S, tau: cls.tau, tauSource: cls.tauSource, counts: cls.counts,
    finalAccuracy: st.finalAccuracy, stabilityRate: st.stabilityRate, corruptionEvents: st.corruptionEvents,
    exactBySegment: Array.from(st.exactFractionBySegment), examples, entries,
    seconds: (performance.now() - t0) / 1000,
  };
}
