/**
 * Fact (a) of the paper — correct answers are not fixed points — measured with the easy-puzzle probe
 * (engine/analysis/probe.ts: the held-out set's solved grids, each with one cell, one row and one box blanked; halting
 * off, S segments) on the newest checkpoint of every run of both arms. Per run and pooled per arm (all runs' probe
 * puzzles together):
 *   stability rate  = stable / ever exact: of the puzzles exact at some segment, those exact at every segment from
 *                     their first exact one to the last (engine/analysis/stability.ts), with its Wilson interval;
 *   corrupted       = puzzles with at least one corruption (exact at segment k − 1, not at k), of all probe puzzles,
 *                     with its Wilson interval; corruption events = all such k over all puzzles;
 *   final accuracy  = exact at the last segment; exact by segment = the fraction exact at each segment.
 * With several runs per arm (training seeds) each run's rate is one value of the across-seed spread (stats.ts).
 * Per puzzle the raw flags (exact per segment, first exact, stable from, corruptions) go into the report.
 */
import type { HrmModel } from '../model';
import type { GridSize } from '../sudoku/geometry';
import { type ProbePuzzle, makeProbePuzzlesAsync, parseMask } from '../analysis/probe';
import { batchTraceMetricsSteps } from '../analysis/batch-metrics';
import type { TraceMetrics } from '../analysis/segment-metrics';
import { type DatasetStability, datasetStability } from '../analysis/stability';
import { runStepsAsync } from '../util/steps';
import type { FactAArm, FactARun, PaperArm, ProbePuzzleRaw, ProbeStats } from './report-types';
import { proportion, seedSpread } from './stats';
import type { HeldOutPuzzle } from './heldout';

export const FACT_A_DEFINITIONS = [
  'Probe puzzles: each held-out solution with one random cell, one random row and one random box blanked (hrm-lens probe --masks cell,row,box), run for S segments with halting off.',
  'Stability rate = stable / ever exact: of the probe puzzles exact at some segment, those that stay exact at every segment from their first exact one to the last.',
  'Corrupted = probe puzzles with at least one corruption (exact at segment k − 1 and not at k); corruption events count every such k.',
  'Intervals: 95% Wilson score intervals over puzzles; with several runs per arm also the across-seed mean ± t·sd/√r.',
];

/** The probe puzzles of the held-out solutions (seeded; the same for every run). */
export function factAPuzzles(heldOut: readonly HeldOutPuzzle[], n: GridSize, masks: readonly string[], seed: number, signal?: AbortSignal): Promise<ProbePuzzle[]> {
  return makeProbePuzzlesAsync(heldOut.map((p) => p.solution), n, masks.map(parseMask), seed, signal);
}

/** Per-puzzle metrics of the probe puzzles under one model (batched; the event loop turns between segments). */
export function probeRunMetrics(
  model: HrmModel, puzzles: readonly ProbePuzzle[], opts: { segments: number; batch: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<TraceMetrics[]> {
  return runStepsAsync(batchTraceMetricsSteps(model, puzzles.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id })), {
    segments: opts.segments, batch: opts.batch, latents: false, signal: opts.signal, onProgress: opts.onProgress,
  }), opts.signal, 'probe');
}

/** The counts behind ProbeStats (they add up across runs). */
export interface ProbeCounts {
  puzzles: number;
  everExact: number;
  stable: number;
  finalExact: number;
  corruptedPuzzles: number;
  corruptionEvents: number;
  exactBy: number[];
  countBy: number[];
}

function countsOf(st: DatasetStability): ProbeCounts {
  const countBy = Array.from(st.puzzlesBySegment);
  return {
    puzzles: st.puzzles, everExact: st.everExact, stable: st.stable, finalExact: st.finalExact,
    corruptedPuzzles: st.corruptedPuzzles, corruptionEvents: st.corruptionEvents,
    // exactFractionBySegment is a count over countBy: rounding recovers the count.
    exactBy: Array.from(st.exactFractionBySegment, (f, k) => (countBy[k] > 0 ? Math.round(f * countBy[k]) : 0)), countBy,
  };
}

function addProbeCounts(a: ProbeCounts, b: ProbeCounts): ProbeCounts {
  const S = Math.max(a.exactBy.length, b.exactBy.length);
  return {
    puzzles: a.puzzles + b.puzzles, everExact: a.everExact + b.everExact, stable: a.stable + b.stable, finalExact: a.finalExact + b.finalExact,
    corruptedPuzzles: a.corruptedPuzzles + b.corruptedPuzzles, corruptionEvents: a.corruptionEvents + b.corruptionEvents,
    exactBy: Array.from({ length: S }, (_, k) => (a.exactBy[k] ?? 0) + (b.exactBy[k] ?? 0)),
    countBy: Array.from({ length: S }, (_, k) => (a.countBy[k] ?? 0) + (b.countBy[k] ?? 0)),
  };
}

function statsOf(c: ProbeCounts): ProbeStats {
  return {
    puzzles: c.puzzles, everExact: c.everExact, stable: proportion(c.stable, c.everExact), finalExact: proportion(c.finalExact, c.puzzles),
    corrupted: proportion(c.corruptedPuzzles, c.puzzles), corruptionEvents: c.corruptionEvents,
    exactBySegment: c.exactBy.map((k, i) => proportion(k, c.countBy[i])),
  };
}

const EMPTY: ProbeCounts = { puzzles: 0, everExact: 0, stable: 0, finalExact: 0, corruptedPuzzles: 0, corruptionEvents: 0, exactBy: [], countBy: [] };

export interface FactARunResult {
  run: FactARun;
  counts: ProbeCounts;
}

export function factARun(
  arm: PaperArm, run: string, checkpoint: string, puzzles: readonly ProbePuzzle[], metrics: readonly TraceMetrics[], recompute: string,
): FactARunResult {
  const counts = countsOf(datasetStability(metrics));
  const masks = [...new Set(puzzles.map((p) => p.mask))];
  const byMask = masks.map((mask) => ({ mask, ...statsOf(countsOf(datasetStability(metrics.filter((_, i) => puzzles[i].mask === mask)))) }));
  const raw: ProbePuzzleRaw[] = metrics.map((m, i) => ({
    id: puzzles[i].id, mask: puzzles[i].mask, blanks: puzzles[i].blanks, exact: Array.from(m.exact).join(''),
    firstExact: m.firstExact, stableFrom: m.stableFrom, corruptions: [...m.corruptions],
  }));
  return { run: { arm, run, checkpoint, overall: statsOf(counts), byMask, raw, recompute }, counts };
}

export function factAArm(arm: PaperArm, runs: readonly FactARunResult[]): FactAArm {
  const pooled = statsOf(runs.reduce((acc, r) => addProbeCounts(acc, r.counts), EMPTY));
  return {
    arm, runs: runs.length, fewRuns: runs.length < 3, pooled,
    acrossSeeds: runs.length < 2 ? null : {
      stabilityRate: seedSpread(runs.map((r) => r.run.overall.stable.value)),
      corruptedRate: seedSpread(runs.map((r) => r.run.overall.corrupted.value)),
      finalAccuracy: seedSpread(runs.map((r) => r.run.overall.finalExact.value)),
    },
  };
}
