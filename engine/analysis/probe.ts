/**
 * The easy-puzzle probe (fact (a) of the paper; construction and metrics are an operational definition,
 * docs/analyses.md §Easy-puzzle fixed-point probe).
 *
 * Puzzles: from solved grids (generated, or a dataset's: engine/cli/puzzle-source.ts), blank k cells, seeded —
 *   'cell'      one random cell (k = 1);
 *   'row'       one random row (k = n);
 *   'box'       one random box (k = n);
 *   'random:k'  k random cells; redrawn (up to 100 times) until the puzzle has a unique solution, so that "exact"
 *               means "equals the grid we started from"; a puzzle that stays ambiguous is kept and flagged.
 * A row or a box blanked alone always leaves a unique solution (each blank is fixed by its column and box, or by its
 * row and column). The draw for solution i and mask m uses Rng(deriveSeed(seed, i, m)): adding masks or solutions
 * does not change the puzzles already drawn.
 *
 * Run: S segments, halting off (as the reference evaluates), batched (captureTraces), the latents captured only to
 * read the z_H residual. Per mask and checkpoint: final accuracy, stability rate (exact at every segment after the
 * first exact one, over the puzzles ever exact), corruption events and puzzles, exact fraction per segment, mean
 * first-exact segment, mean z_H residual over the last segment, and one corrupted example when there is one.
 * Several checkpoints run on the SAME puzzles, so one report compares them (e.g. trained without and with mixing).
 */
import type { HrmModel } from '../model';
import { type Grid, type GridSize, geometry, gridToString } from '../sudoku/geometry';
import { hasUniqueSolution } from '../sudoku/solver';
import { randomSolvedGrid } from '../sudoku/generator';
import { Rng } from '../util/rng';
import { deriveSeed } from '../util/hash-seed';
import { batchTraceMetricsSteps } from './batch-metrics';
import { runSteps, runStepsAsync, type Steps } from '../util/steps';
import type { TraceMetrics } from './segment-metrics';
import { datasetStability } from './stability';

export type ProbeMaskKind = 'cell' | 'row' | 'box' | 'random';

export interface ProbeMask {
  kind: ProbeMaskKind;
  /** Cells to blank for 'random' (ignored otherwise). */
  k?: number;
}

export interface ProbePuzzle {
  /** `<solution index>/<mask name>`. */
  id: string;
  mask: string;
  puzzle: Grid;
  solution: Grid;
  blanks: number;
  unique: boolean;
}

/** 'cell' | 'row' | 'box' | 'random:k' */
export function maskName(m: ProbeMask): string {
  return m.kind === 'random' ? `random:${m.k ?? 1}` : m.kind;
}

/** Parses 'cell', 'row', 'box', 'random:k' (or 'k' alone for random:k). */
export function parseMask(text: string): ProbeMask {
  const t = text.trim();
  if (t === 'cell' || t === 'row' || t === 'box') return { kind: t };
  const m = /^(?:random:)?(\d+)$/.exec(t);
  if (m && Number(m[1]) >= 1) return { kind: 'random', k: Number(m[1]) };
  throw new RangeError(`probe mask "${text}": expected cell, row, box or random:k (k >= 1)`);
}

function blankCells(n: GridSize, m: ProbeMask, rng: Rng): number[] {
  const geo = geometry(n);
  switch (m.kind) {
    case 'cell': return [rng.int(geo.cells)];
    case 'row': return [...geo.units[rng.int(n)]];
    case 'box': return [...geo.units[2 * n + rng.int(n)]];
    case 'random': {
      const k = m.k ?? 1;
      if (!Number.isInteger(k) || k < 1 || k > geo.cells) throw new RangeError(`probe: random:k needs 1 <= k <= ${geo.cells}, got ${k}`);
      return [...rng.permutation(geo.cells).subarray(0, k)];
    }
  }
}

/** Probe puzzles: every solution × every mask, in that order (solution-major). */
export function makeProbePuzzles(solutions: readonly Grid[], n: GridSize, masks: readonly ProbeMask[], seed: number): ProbePuzzle[] {
  return runSteps(probePuzzleSteps(solutions, n, masks, seed));
}

/**
 * probeSolutions(n, count, seed) masked by makeProbePuzzles, with the event loop turning between puzzles
 * (engine/util/steps.ts), for the engine's `probe`; an aborted `signal` stops it.
 */
export function probePuzzlesAsync(n: GridSize, count: number, masks: readonly ProbeMask[], seed: number, signal?: AbortSignal): Promise<ProbePuzzle[]> {
  return runStepsAsync((function* () {
    const solutions = yield* probeSolutionSteps(n, count, seed);
    return yield* probePuzzleSteps(solutions, n, masks, seed);
  })(), signal, 'probe');
}

/** makeProbePuzzles with the event loop turning between puzzles, for given solutions (e.g. a dataset's). */
export function makeProbePuzzlesAsync(solutions: readonly Grid[], n: GridSize, masks: readonly ProbeMask[], seed: number, signal?: AbortSignal): Promise<ProbePuzzle[]> {
  return runStepsAsync(probePuzzleSteps(solutions, n, masks, seed), signal, 'probe');
}

function* probePuzzleSteps(solutions: readonly Grid[], n: GridSize, masks: readonly ProbeMask[], seed: number): Steps<ProbePuzzle[]> {
  const geo = geometry(n);
  const out: ProbePuzzle[] = [];
  for (const [i, solution] of solutions.entries()) {
    if (solution.length !== geo.cells) throw new RangeError(`probe: solution ${i} has ${solution.length} cells, expected ${geo.cells}`);
    for (const [j, m] of masks.entries()) {
      const rng = new Rng(deriveSeed(seed, i, j));
      let puzzle: Grid = Int8Array.from(solution);
      let unique = false;
      for (let attempt = 0; attempt < 100 && !unique; attempt++) {
        puzzle = Int8Array.from(solution);
        for (const c of blankCells(n, m, rng)) puzzle[c] = 0;
        unique = m.kind !== 'random' || hasUniqueSolution(puzzle, geo);
      }
      let blanks = 0;
      for (let c = 0; c < puzzle.length; c++) if (puzzle[c] === 0) blanks++;
      out.push({ id: `${i}/${maskName(m)}`, mask: maskName(m), puzzle, solution: Int8Array.from(solution), blanks, unique });
      yield;
    }
  }
  return out;
}

/** `count` random solved grids from Rng(seed) (the probe's default source of solutions). */
export function probeSolutions(n: GridSize, count: number, seed: number): Grid[] {
  return runSteps(probeSolutionSteps(n, count, seed));
}

function* probeSolutionSteps(n: GridSize, count: number, seed: number): Steps<Grid[]> {
  const rng = new Rng(seed);
  const geo = geometry(n);
  const out: Grid[] = [];
  for (let i = 0; i < count; i++) {
    out.push(randomSolvedGrid(geo, rng));
    yield;
  }
  return out;
}

export interface ProbeOptions {
  /** Segments S (default: the model's haltMaxSteps). */
  segments?: number;
  /** Puzzles per forward batch (default 64). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ProbeExample {
  id: string;
  puzzle: string;
  solution: string;
  /** Decoded grid per segment. */
  grids: string[];
  corruptions: number[];
}

export interface ProbeGroup {
  mask: string;
  puzzles: number;
  /** Puzzles whose mask kept a unique solution (always all for cell/row/box). */
  unique: number;
  finalAccuracy: number;
  everExact: number;
  stable: number;
  /** stable / everExact (NaN when none was ever exact). */
  stabilityRate: number;
  corruptionEvents: number;
  corruptedPuzzles: number;
  exactBySegment: number[];
  /** Mean first-exact segment over the puzzles ever exact (NaN when none). */
  meanFirstExact: number;
  /** Mean ‖z_H(S) − z_H(S−1)‖ / ‖z_H(S−1)‖ (NaN with one segment). */
  meanLastResidual: number;
  /** The first puzzle with a corruption, if any. */
  corruptedExample?: ProbeExample;
}

export interface ProbeCheckpointReport {
  checkpoint: string;
  groups: ProbeGroup[];
  /** All masks together. */
  overall: ProbeGroup;
}

export interface ProbeReport {
  n: GridSize;
  segments: number;
  masks: string[];
  puzzles: number;
  checkpoints: ProbeCheckpointReport[];
  seconds: number;
}

/** Metrics of every probe puzzle under one model (batched, halting off; traces are dropped batch by batch). */
export function probeMetrics(model: HrmModel, puzzles: readonly ProbePuzzle[], opts: ProbeOptions = {}): TraceMetrics[] {
  return runSteps(probeMetricsSteps(model, puzzles, opts));
}

function probeMetricsSteps(model: HrmModel, puzzles: readonly ProbePuzzle[], opts: ProbeOptions): Steps<TraceMetrics[]> {
  const S = opts.segments ?? model.config.haltMaxSteps;
  return batchTraceMetricsSteps(model, puzzles.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id })), { ...opts, segments: S, latents: S > 1 });
}

function mean(xs: readonly number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

/** Summary of one group of probe puzzles (their metrics in the same order). */
export function summarizeProbeGroup(mask: string, puzzles: readonly ProbePuzzle[], metrics: readonly TraceMetrics[]): ProbeGroup {
  const st = datasetStability(metrics);
  const firsts = metrics.map((m) => m.firstExact ?? NaN);
  const last = metrics.map((m) => (m.segments >= 2 ? m.residualH[m.segments - 1] : NaN));
  const bad = metrics.findIndex((m) => m.corruptions.length > 0);
  let corruptedExample: ProbeExample | undefined;
  if (bad >= 0) {
    const m = metrics[bad];
    corruptedExample = {
      id: puzzles[bad].id, puzzle: gridToString(puzzles[bad].puzzle), solution: gridToString(puzzles[bad].solution),
      grids: Array.from({ length: m.segments }, (_, k) => gridToString(m.grids.subarray(k * m.cells, (k + 1) * m.cells))),
      corruptions: m.corruptions,
    };
  }
  return {
    mask, puzzles: puzzles.length, unique: puzzles.filter((p) => p.unique).length,
    finalAccuracy: st.finalAccuracy, everExact: st.everExact, stable: st.stable, stabilityRate: st.stabilityRate,
    corruptionEvents: st.corruptionEvents, corruptedPuzzles: st.corruptedPuzzles,
    exactBySegment: Array.from(st.exactFractionBySegment),
    meanFirstExact: mean(firsts), meanLastResidual: mean(last), corruptedExample,
  };
}

/** One checkpoint's probe report, grouped by mask (in first-appearance order). */
export function probeCheckpoint(model: HrmModel, name: string, puzzles: readonly ProbePuzzle[], opts: ProbeOptions = {}): ProbeCheckpointReport {
  return runSteps(probeCheckpointSteps(model, name, puzzles, opts));
}

/** probeCheckpoint as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
function* probeCheckpointSteps(model: HrmModel, name: string, puzzles: readonly ProbePuzzle[], opts: ProbeOptions): Steps<ProbeCheckpointReport> {
  return probeCheckpointFromMetrics(name, puzzles, yield* probeMetricsSteps(model, puzzles, opts));
}

/** One checkpoint's report from the metrics of its puzzles (in the same order), grouped by mask. */
export function probeCheckpointFromMetrics(name: string, puzzles: readonly ProbePuzzle[], metrics: readonly TraceMetrics[]): ProbeCheckpointReport {
  const masks = [...new Set(puzzles.map((p) => p.mask))];
  const groups = masks.map((mask) => {
    const idx = puzzles.map((p, i) => (p.mask === mask ? i : -1)).filter((i) => i >= 0);
    return summarizeProbeGroup(mask, idx.map((i) => puzzles[i]), idx.map((i) => metrics[i]));
  });
  return { checkpoint: name, groups, overall: summarizeProbeGroup('all', puzzles, metrics) };
}

/** A checkpoint of the probe, opened when its turn comes and released after. */
export interface ProbeModelEntry<M> {
  name: string;
  open: () => Promise<M> | M;
  release?: (m: M) => void;
}

/**
 * The probe over several checkpoints on the same puzzles. `models` may be created lazily (one at a time, disposed by
 * the caller's `release`), so two large checkpoints need not be in memory together.
 */
export function runProbe(models: readonly ProbeModelEntry<HrmModel>[], puzzles: readonly ProbePuzzle[], opts: ProbeOptions = {}): Promise<ProbeReport> {
  // The event loop turns between segments: the engine answers ping and cancel while a probe runs.
  return runProbeWith(models, puzzles, opts, (model, o) => runStepsAsync(probeMetricsSteps(model, puzzles, o), opts.signal, 'probe'));
}

/**
 * runProbe with another recorder: `metricsOf(model, opts)` gives the metrics of every puzzle (segments set, halting
 * off, latents when S > 1), e.g. recorded by the PyTorch worker.
 */
export async function runProbeWith<M extends { config: { gridSize: number; haltMaxSteps: number } }>(
  models: readonly ProbeModelEntry<M>[], puzzles: readonly ProbePuzzle[], opts: ProbeOptions,
  metricsOf: (model: M, opts: ProbeOptions & { segments: number }) => Promise<TraceMetrics[]>,
): Promise<ProbeReport> {
  const t0 = performance.now();
  const reports: ProbeCheckpointReport[] = [];
  let n: GridSize | undefined;
  let S = opts.segments;
  for (const entry of models) {
    const model = await entry.open();
    try {
      n = model.config.gridSize as GridSize;
      S = S ?? model.config.haltMaxSteps;
      reports.push(probeCheckpointFromMetrics(entry.name, puzzles, await metricsOf(model, { ...opts, segments: S })));
    } finally {
      entry.release?.(model);
    }
  }
  return {
    n: n ?? (Math.round(Math.sqrt(puzzles[0]?.puzzle.length ?? 16)) as GridSize),
    segments: S ?? 0,
    masks: [...new Set(puzzles.map((p) => p.mask))],
    puzzles: puzzles.length,
    checkpoints: reports,
    seconds: (performance.now() - t0) / 1000,
  };
}
