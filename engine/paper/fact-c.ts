/**
 * Fact (c) of the paper — several fixed points, and the model "guesses" one: over the held-out puzzles (newest
 * checkpoint of the first run of each arm, S segments, halting off), with K = the stuck window (default 4):
 *   failure    = not exact at the last segment;
 *   stuck      = a failure whose decoded grid is identical over the last K segments (the modes' grid-stable test over
 *                their late window, engine/analysis/modes.ts, with lastSegments = K): it sits at a wrong fixed point;
 *   settled    = a stuck failure whose late z_H drift is also below τ (the modes' own "settled"; τ by Otsu over the set);
 *   moving     = failures − stuck: still changing its answer at the end;
 *   modes      = the four reasoning modes' counts (classifyModes over the set; trivial success within the first 3
 *                segments).
 * Spurious fixed points: for a seeded sample of the failing puzzles (Rng(sample seed) permutation of the failing ones,
 * the first `landscapeSample`, in held-out order) the error landscape on the puzzle's PC1/PC2 plane with basin labels
 * (engine/analysis/landscape.ts; a coarse size × size grid, the default unit, 16 segments at most, patience 3): the
 * number of distinct spurious attractors (labels ≥ 1) per puzzle.
 */
import type { HrmModel } from '../model';
import type { TraceMetrics } from '../analysis/segment-metrics';
import { classifyModes } from '../analysis/modes';
import { computeLandscapeAsync } from '../analysis/landscape';
import { gridToString } from '../sudoku/geometry';
import { Rng } from '../util/rng';
import { throwIfAborted } from '../util/steps';
import type { FactCArm, FactCLandscape, FactCLandscapePuzzle, FactCPuzzleRaw, PaperArm, PaperReasoningMode } from './report-types';
import { finite, proportion, quartiles } from './stats';
import type { HeldOutPuzzle } from './heldout';

export const FACT_C_DEFINITIONS = [
  'Failure: not exact at the last segment. Stuck: a failure whose decoded grid is identical over the last K segments (a wrong fixed point); moving: the other failures.',
  'Settled: a stuck failure whose mean relative z_H step over the last K segments is also below τ (Otsu\'s threshold over the set): the reasoning modes\' "settled".',
  'Modes: trivial success (exact from segment ≤ 3 on), non-trivial success (exact later), non-trivial failure (settled with E > 0), trivial failure (the rest).',
  'Spurious fixed points: basin labels of the error landscape on the PC1/PC2 plane of a seeded sample of failing puzzles; each distinct wrong grid the grid points settle on is one spurious attractor.',
];

export const LANDSCAPE_MAX_SEGMENTS = 16;
export const LANDSCAPE_PATIENCE = 3;

export interface FactCModes {
  failures: number[];
  raw: FactCPuzzleRaw[];
  counts: Record<PaperReasoningMode, number>;
  tau: number | null;
  tauSource: 'given' | 'otsu' | 'none';
}

export function factCModes(heldOut: readonly HeldOutPuzzle[], metrics: readonly TraceMetrics[], window: number, trivialWithin: number): FactCModes {
  const cls = classifyModes(metrics, { lastSegments: window, trivialWithin });
  const raw: FactCPuzzleRaw[] = cls.results.map((r, i) => ({
    id: heldOut[i].id, finalExact: metrics[i].finalExact, mode: r.mode, gridStable: r.evidence.gridStable, settled: r.evidence.settled,
    late: finite(r.evidence.late), finalEnergy: r.evidence.finalE, finalWrong: r.evidence.finalWrong,
  }));
  const failures = raw.map((r, i) => (r.finalExact ? -1 : i)).filter((i) => i >= 0);
  return { failures, raw, counts: { ...cls.counts }, tau: finite(cls.tau), tauSource: cls.tauSource };
}

/** The sampled failing puzzles (indices into the held-out set, ascending). */
export function landscapeSample(failures: readonly number[], count: number, seed: number): number[] {
  const order = new Rng(seed).permutation(failures.length);
  return Array.from(order.subarray(0, Math.min(count, failures.length)), (j) => failures[j]).sort((a, b) => a - b);
}

export async function factCLandscape(
  model: HrmModel, heldOut: readonly HeldOutPuzzle[], failures: readonly number[],
  opts: { count: number; seed: number; size: number; segments: number; recompute: (puzzle: string) => string; signal?: AbortSignal; onPuzzle?: (done: number, total: number) => void },
): Promise<FactCLandscape> {
  const chosen = landscapeSample(failures, opts.count, opts.seed);
  const puzzles: FactCLandscapePuzzle[] = [];
  // The landscape's default unit √(seq·hidden)/8 (reported also when no puzzle was sampled).
  let step = Math.sqrt(model.dims.totalLen * model.config.hidden) / 8;
  for (const [j, i] of chosen.entries()) {
    throwIfAborted(opts.signal, 'reproduce');
    const p = heldOut[i];
    const l = await computeLandscapeAsync(model, p.puzzle, {
      segments: opts.segments, size: opts.size, basins: { maxSegments: LANDSCAPE_MAX_SEGMENTS, patience: LANDSCAPE_PATIENCE }, solution: p.solution, signal: opts.signal,
    });
    step = l.step;
    const b = l.basins;
    if (!b) throw new Error('landscape: basins were not computed');
    const text = gridToString(p.puzzle);
    puzzles.push({
      id: p.id, puzzle: text, labels: Array.from(b.labels),
      attractors: b.attractors.map((a) => ({ label: a.label, kind: a.kind, grid: a.grid, energy: a.energy, points: a.points })),
      spurious: b.attractors.filter((a) => a.kind === 'spurious').length,
      solutionPoints: b.attractors.find((a) => a.kind === 'solution')?.points ?? 0,
      movingPoints: b.moving,
      recompute: opts.recompute(text),
    });
    opts.onPuzzle?.(j + 1, chosen.length);
  }
  return {
    size: opts.size, step, maxSegments: LANDSCAPE_MAX_SEGMENTS, patience: LANDSCAPE_PATIENCE,
    failing: failures.length, sampled: chosen.length, puzzles, spurious: quartiles(puzzles.map((p) => p.spurious)),
  };
}

export function factCArm(
  arm: PaperArm, run: string, checkpoint: string, modes: FactCModes, landscape: FactCLandscape, recompute: string[],
): FactCArm {
  const fails = modes.failures.map((i) => modes.raw[i]);
  const stuck = fails.filter((r) => r.gridStable).length;
  return {
    arm, run, checkpoint, puzzles: modes.raw.length, failures: fails.length, stuck: proportion(stuck, fails.length),
    settled: fails.filter((r) => r.settled).length, moving: fails.length - stuck, tau: modes.tau, tauSource: modes.tauSource,
    modes: modes.counts, landscape, raw: modes.raw, recompute,
  };
}
