/**
 * Compute sweeps (docs/analyses.md §Interventions): the checkpoint's weights run with other H-cycle, L-cycle and
 * segment counts than it was trained with, and for every setting the exact and cell accuracy and the four reasoning
 * modes over the same puzzles.
 *
 * - The settings: every (H, L) of `hCycles` × `lCycles`, every S of `segments`. Defaults: H and L each the trained
 *   count, one less (when ≥ 1), one more and twice it; S the trained segments (haltMaxSteps), a quarter and a half of
 *   it (rounded up) and twice it. H_cycles and L_cycles do not change any weight's shape, so a setting is the same
 *   weights in a model built with the overridden config.
 * - One run per (H, L), at the largest S, halting off (as the evaluation runs); the figures at a smaller S are read
 *   from the same run's first S segments (the same bits as a run of S segments).
 * - The figures per cell are the classify pipeline's (engine/analysis/batch-metrics.ts, modes.ts): TraceMetrics of the
 *   first S segments, the modes by classifyModes with τ pooled by Otsu over the cell's puzzles; exact = the last
 *   segment exact, cell = the fraction of cells (givens included) equal to the solution at the last segment, as
 *   `hrm-lens eval` counts them.
 * - compute = S × H × (L + 1): the module updates a puzzle gets.
 *
 * Written as a step generator (one `yield` per segment of every batch); an aborted signal stops it (AbortError).
 */
import { type HrmModel, CONFIG_RANGES, exportWeights, modelFromWeights } from '../model';
import { type Grid, type GridSize, geometry, givensMatch, isValidSolution, parseGrid } from '../sudoku/geometry';
import { parsePuzzle } from '../sudoku/givens';
import { batchTraceMetricsSteps } from '../analysis/batch-metrics';
import { type ReasoningMode, REASONING_MODES, classifyModes } from '../analysis/modes';
import { computeTraceMetrics, type TraceMetrics } from '../analysis/segment-metrics';
import type { PuzzleTrace } from '../analysis/trace';
import { LIMITS } from '../util/limits';
import { runSteps, runStepsAsync, type Steps, throwIfAborted } from '../util/steps';
import type { SweepCell, SweepResult } from './intervene-protocol';
import { uniqueSolution } from './outcome';

export interface SweepPuzzle {
  puzzle: Grid;
  solution: Grid;
}

export interface SweepOptions {
  hCycles?: readonly number[];
  lCycles?: readonly number[];
  segments?: readonly number[];
  /** Puzzles per forward batch (default: up to 64, fewer when the latents of a batch would pass ~256 MB). */
  batch?: number;
  /** What the report's first line names (e.g. the checkpoint and the puzzles' source). */
  label?: string;
  /** Puzzle-runs done of the total (settings (H, L) × puzzles). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Bytes of recorded latents one batch may hold (the traces of a batch are kept twice while metrics are computed). */
const LATENT_BUDGET = 256e6;

const uniqueSorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** The default counts around a trained count c: c − 1 (when ≥ 1), c, c + 1, 2c, within 1…max. */
export function cycleVariants(c: number, max: number): number[] {
  return uniqueSorted([c - 1, c, c + 1, 2 * c].filter((v) => v >= 1 && v <= max));
}

/** The default segment counts around the trained S: ⌈S/4⌉, ⌈S/2⌉, S, 2S, within 1…max. */
export function segmentVariants(s: number, max: number): number[] {
  return uniqueSorted([Math.ceil(s / 4), Math.ceil(s / 2), s, 2 * s].filter((v) => v >= 1 && v <= max));
}

function checkList(name: string, xs: readonly number[], min: number, max: number): number[] {
  if (!Array.isArray(xs) || xs.length < 1) throw new RangeError(`sweep: ${name} must list at least one count`);
  if (xs.length > LIMITS.sweepValues.max) throw new RangeError(`sweep: ${name} lists ${xs.length} counts, at most ${LIMITS.sweepValues.max}`);
  for (const v of xs) {
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`sweep: ${name} must hold integers in ${min}…${max}, got ${String(v)}`);
  }
  return uniqueSorted(xs);
}

/** The settings of a sweep (defaults filled in, lists checked, sorted, without repeats). */
export function sweepSettings(model: HrmModel, opts: SweepOptions): { hCycles: number[]; lCycles: number[]; segments: number[] } {
  const c = model.config;
  return {
    hCycles: checkList('hCycles', opts.hCycles ?? cycleVariants(c.H_cycles, CONFIG_RANGES.H_cycles.max), 1, CONFIG_RANGES.H_cycles.max),
    lCycles: checkList('lCycles', opts.lCycles ?? cycleVariants(c.L_cycles, CONFIG_RANGES.L_cycles.max), 1, CONFIG_RANGES.L_cycles.max),
    segments: checkList('segments', opts.segments ?? segmentVariants(c.haltMaxSteps, LIMITS.segments.max), LIMITS.segments.min, LIMITS.segments.max),
  };
}

/**
 * Puzzles given as text, "puzzle" or "puzzle,answer" (16/36/81 characters, '.' or '0' blanks), for an n×n model: the
 * answer checked (a full valid grid keeping the givens), or the solver's when there is none (refused unless unique).
 * RangeError naming the puzzle (1-based) otherwise.
 */
export function sweepPuzzles(texts: readonly string[], n: GridSize): SweepPuzzle[] {
  const geo = geometry(n);
  return texts.map((text, i) => {
    const [q, a, ...rest] = text.split(',');
    if (rest.length) throw new RangeError(`puzzle ${i + 1}: expected "puzzle" or "puzzle,answer", got ${rest.length + 2} fields`);
    const p = parsePuzzle(q, n);
    if ('error' in p) throw new RangeError(`puzzle ${i + 1}: ${p.error}`);
    if (a !== undefined && a.trim() !== '') {
      const s = parseGrid(a.replace(/\s+/g, ''), n);
      if ('error' in s) throw new RangeError(`puzzle ${i + 1}: answer: ${s.error}`);
      if (!isValidSolution(s.grid, geo) || !givensMatch(p.grid, s.grid)) throw new RangeError(`puzzle ${i + 1}: the answer is not a valid grid keeping the givens`);
      return { puzzle: p.grid, solution: s.grid };
    }
    const sol = uniqueSolution(p.grid, n);
    if (!sol) throw new RangeError(`puzzle ${i + 1}: it has no unique solution; give its answer after a comma`);
    return { puzzle: p.grid, solution: sol };
  });
}

/** The model with other cycle counts: the same weights (a copy) when (H, L) differ from the trained ones. */
function withCycles(model: HrmModel, h: number, l: number, weights: () => ReturnType<typeof exportWeights>): HrmModel {
  if (h === model.config.H_cycles && l === model.config.L_cycles) return model;
  return modelFromWeights({ ...model.config, H_cycles: h, L_cycles: l }, weights());
}

function truncated(t: PuzzleTrace, s: number): PuzzleTrace {
  return { ...t, segments: t.segments.slice(0, s) };
}

function cellOf(metrics: readonly TraceMetrics[], h: number, l: number, s: number, trained: SweepResult['trained']): SweepCell {
  const cls = classifyModes(metrics);
  let exact = 0;
  let cell = 0;
  for (const m of metrics) {
    if (m.finalExact) exact++;
    const correct = m.correct;
    if (!correct) throw new Error('sweep: a puzzle has no solution');
    let right = 0;
    for (let c = (s - 1) * m.cells; c < s * m.cells; c++) right += correct[c];
    cell += right / m.cells;
  }
  const n = Math.max(1, metrics.length);
  const modes = Object.fromEntries(REASONING_MODES.map((md) => [md, cls.counts[md]])) as Record<ReasoningMode, number>;
  return {
    hCycles: h, lCycles: l, segments: s, compute: s * h * (l + 1), exact: exact / n, cell: cell / n, modes,
    trained: h === trained.hCycles && l === trained.lCycles && s === trained.segments,
  };
}

/** The sweep over `puzzles` (synchronously). */
export function computeSweep(model: HrmModel, puzzles: readonly SweepPuzzle[], opts: SweepOptions = {}): SweepResult {
  return runSteps(sweepSteps(model, puzzles, opts));
}

/** computeSweep with the event loop turning between segments; an aborted signal stops it (AbortError). */
export function computeSweepAsync(model: HrmModel, puzzles: readonly SweepPuzzle[], opts: SweepOptions = {}): Promise<SweepResult> {
  return runStepsAsync(sweepSteps(model, puzzles, opts), opts.signal, 'sweep');
}

/** computeSweep as a step generator. */
export function* sweepSteps(model: HrmModel, puzzles: readonly SweepPuzzle[], opts: SweepOptions = {}): Steps<SweepResult> {
  const t0 = performance.now();
  const { hCycles, lCycles, segments } = sweepSettings(model, opts);
  if (puzzles.length < 1) throw new RangeError('sweep: no puzzles');
  const { cells, totalLen } = model.dims;
  puzzles.forEach((p, i) => {
    if (p.puzzle.length !== cells || p.solution.length !== cells) throw new RangeError(`sweep: puzzle ${i + 1} does not have the model's ${cells} cells`);
  });
  if (opts.batch !== undefined && (!Number.isInteger(opts.batch) || opts.batch < 1)) throw new RangeError(`sweep: batch must be an integer >= 1, got ${opts.batch}`);
  const trained = { hCycles: model.config.H_cycles, lCycles: model.config.L_cycles, segments: model.config.haltMaxSteps };
  const sMax = segments[segments.length - 1];
  const inputs = puzzles.map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, id: String(i) }));
  let weights: ReturnType<typeof exportWeights> | undefined;
  const getWeights = (): ReturnType<typeof exportWeights> => (weights ??= exportWeights(model));
  const total = hCycles.length * lCycles.length * puzzles.length;
  let pair = 0;
  const cellsOut: SweepCell[] = [];
  for (const h of hCycles) {
    for (const l of lCycles) {
      throwIfAborted(opts.signal, 'sweep');
      const bytesPerPuzzle = 2 * sMax * (2 + h) * totalLen * model.config.hidden * 4;
      const batch = opts.batch ?? Math.max(1, Math.min(64, Math.floor(LATENT_BUDGET / bytesPerPuzzle)));
      const m = withCycles(model, h, l, getWeights);
      const shorter = segments.slice(0, -1);
      const bySegments = new Map<number, TraceMetrics[]>(shorter.map((s) => [s, []]));
      const base = pair * puzzles.length;
      let full: TraceMetrics[];
      try {
        full = yield* batchTraceMetricsSteps(m, inputs, {
          segments: sMax, latents: true, batch, signal: opts.signal,
          onTraces: (traces) => {
            for (const t of traces) for (const s of shorter) bySegments.get(s)?.push(computeTraceMetrics(truncated(t, s)));
          },
          onProgress: (done) => opts.onProgress?.(base + done, total),
        });
      } finally {
        if (m !== model) m.dispose();
      }
      for (const s of shorter) cellsOut.push(cellOf(bySegments.get(s) ?? [], h, l, s, trained));
      cellsOut.push(cellOf(full, h, l, sMax, trained));
      pair++;
    }
  }
  const result: SweepResult = { puzzles: puzzles.length, trained, cells: cellsOut, seconds: (performance.now() - t0) / 1000, text: '' };
  result.text = formatSweep(result, opts.label);
  return result;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The report as `hrm-lens sweep` prints it: one row per setting, the trained one marked '*'. */
export function formatSweep(r: SweepResult, label?: string): string {
  const t = r.trained;
  const lines = [
    `${label ? `${label}: ` : ''}compute sweep over ${r.puzzles} puzzles, trained H ${t.hCycles} × L ${t.lCycles} × ${t.segments} segments, ${r.seconds.toFixed(1)} s`,
    'compute = segments × H × (L + 1); modes: trivial / non-trivial success, trivial / non-trivial failure',
    '',
    '   H   L  segs  compute    exact     cell   t-succ  n-succ  t-fail  n-fail',
  ];
  for (const c of r.cells) {
    const m = c.modes;
    lines.push(`${c.trained ? '*' : ' '}${String(c.hCycles).padStart(3)} ${String(c.lCycles).padStart(3)} ${String(c.segments).padStart(5)} ${String(c.compute).padStart(8)}  `
      + `${pct(c.exact).padStart(7)}  ${pct(c.cell).padStart(7)}  ${String(m['trivial-success']).padStart(6)}  ${String(m['non-trivial-success']).padStart(6)}  `
      + `${String(m['trivial-failure']).padStart(6)}  ${String(m['non-trivial-failure']).padStart(6)}`);
  }
  return `${lines.join('\n')}\n`;
}
