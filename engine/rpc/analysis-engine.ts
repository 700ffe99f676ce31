/**
 * The heavy half of the `probe`, `ensemble` and `landscape` handlers: the same code paths as `hrm-lens probe`,
 * `hrm-lens ensemble` and `hrm-lens landscape` (engine/cli/probe-run.ts, ensemble-run.ts, landscape-run.ts), with
 * progress events and cancellation. The forward passes run on TF.js (the process's backend, engine-backend.ts), or
 * on the PyTorch worker when the request carries `torch` (torch-engine.ts); the analyses are the same either way.
 */
import type { EnsembleParams, EnsembleResult, LandscapeParams, LandscapeResult, ProbeParams, ProbeResult } from '../analysis/analysis-protocol';
import { type Landscape, type LandscapeOptions, computeLandscapeAsync } from '../analysis/landscape';
import { parsePuzzle } from '../sudoku/givens';
import { type ProbeOptions, type ProbePuzzle, type ProbeReport, makeProbePuzzlesAsync, parseMask, probePuzzlesAsync, runProbe } from '../analysis/probe';
import { type EnsemblePuzzle, type PassMatrixOptions, buildPassMatrix, resolveCheckpoints } from '../ensemble/checkpoints';
import { type Perturbation, perturbationSet } from '../ensemble/perturb';
import { DEFAULT_LAST_CHECKPOINTS } from '../ensemble/defaults';
import { type PassMatrix, buildEnsembleReport, ensembleDetail } from '../ensemble/report';
import { formatEnsembleReport } from '../cli/ensemble-run';
import { formatProbeReport } from '../cli/probe-run';
import { loadPuzzleSource, loadSolvedGrids } from '../cli/puzzle-source';
import type { Grid, GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import type { LogLevel } from '../protocol';
import type { TorchParams } from '../torch/torch-protocol';
import { engineBackend } from './engine-backend';

type Progress = (e: { done: number; total: number }) => void;
type Log = (level: LogLevel, message: string) => void;

/** The forward passes of the analyses on one backend: TF.js, or the PyTorch worker. */
export interface AnalysisRunner {
  gridSize(file: string): Promise<GridSize>;
  probe(files: readonly string[], puzzles: readonly ProbePuzzle[], opts: ProbeOptions, onReleased: () => void): Promise<ProbeReport>;
  passMatrix(files: readonly string[], puzzles: readonly EnsemblePuzzle[], perturbations: readonly Perturbation[], opts: PassMatrixOptions): Promise<PassMatrix>;
  /** The landscape of a puzzle (checked for the model's grid size: "puzzle: …" when it does not fit). */
  landscape(file: string, puzzle: string, opts: LandscapeOptions): Promise<Landscape>;
}

const tfjsRunner: AnalysisRunner = {
  async gridSize(file) {
    const { model } = await loadModel(file);
    const n = model.config.gridSize as GridSize;
    model.dispose();
    return n;
  },
  probe: (files, puzzles, opts, onReleased) => runProbe(files.map((f) => ({
    name: f,
    open: async () => (await loadModel(f)).model,
    release: (m) => { m.dispose(); onReleased(); },
  })), puzzles, opts),
  passMatrix: (files, puzzles, perturbations, opts) => buildPassMatrix(files, puzzles, perturbations, opts),
  async landscape(file, puzzle, opts) {
    const { model } = await loadModel(file);
    try {
      return await computeLandscapeAsync(model, puzzleGrid(puzzle, model.config.gridSize), opts);
    } finally {
      model.dispose();
    }
  },
};

/** The puzzle parsed for an n×n model ("puzzle: …" when it does not fit). */
export function puzzleGrid(puzzle: string, n: number): Grid {
  const parsed = parsePuzzle(puzzle, n as GridSize);
  if ('error' in parsed) throw new Error(`puzzle: ${parsed.error}`);
  return parsed.grid;
}

/** The runner a request asks for: `torch` → the PyTorch worker, else TF.js on the process's backend. */
async function runnerFor(torch: TorchParams | undefined, log: Log): Promise<AnalysisRunner> {
  if (torch) return (await import('./torch-engine')).torchAnalysisRunner(torch, log);
  await engineBackend();
  return tfjsRunner;
}

const nullIfNaN = (x: number): number | null => (Number.isFinite(x) ? x : null);
const noLog: Log = () => undefined;

export async function probeRun(p: ProbeParams, signal: AbortSignal, progress: Progress, log: Log = noLog): Promise<ProbeResult> {
  const runner = await runnerFor(p.torch, log);
  const masks = (p.masks?.length ? p.masks : ['cell', 'row', 'box', 'random:5']).map(parseMask);
  const n = await runner.gridSize(p.checkpoints[0]);
  const seed = p.seed ?? 0;
  const count = p.count ?? 100;
  const puzzles = p.data
    ? await makeProbePuzzlesAsync(await loadSolvedGrids(p.data, n, count), n, masks, seed, signal)
    : await probePuzzlesAsync(n, count, masks, seed, signal);
  const total = puzzles.length * p.checkpoints.length;
  let finished = 0;
  const report = await runner.probe(p.checkpoints, puzzles, { segments: p.segments, signal, onProgress: (done) => progress({ done: finished + done, total }) },
    () => { finished += puzzles.length; });
  const rows = report.checkpoints.flatMap((c) => [...c.groups, c.overall].map((g, i) => ({
    checkpoint: c.checkpoint, mask: i === c.groups.length ? 'all' : g.mask, puzzles: g.puzzles, finalAccuracy: g.finalAccuracy,
    stabilityRate: nullIfNaN(g.stabilityRate), corruptionEvents: g.corruptionEvents, exactBySegment: g.exactBySegment,
  })));
  return { rows, segments: report.segments, seconds: report.seconds, text: formatProbeReport(report) };
}

export async function ensembleRun(p: EnsembleParams, signal: AbortSignal, progress: Progress, log: Log = noLog): Promise<EnsembleResult> {
  const runner = await runnerFor(p.torch, log);
  const files = await resolveCheckpoints(p.sources, p.last ?? DEFAULT_LAST_CHECKPOINTS);
  const n = await runner.gridSize(files[0]);
  const kind = p.perturb ?? 'shifts';
  const seed = p.seed ?? 0;
  const perturbations = perturbationSet(kind, n, p.count ?? (kind === 'shifts' ? n : 9), seed);
  const { puzzles, source } = await loadPuzzleSource({
    data: p.data, generate: p.generate === undefined ? undefined : String(p.generate), limit: p.limit === undefined ? undefined : String(p.limit), seed: String(seed),
  }, n, undefined, signal);
  const t0 = performance.now();
  const total = puzzles.length * files.length;
  const matrix = await runner.passMatrix(files, puzzles, perturbations, {
    segments: p.segments, signal, onProgress: (q) => progress({ done: q.checkpoint * q.total + q.done, total }),
  });
  const report = buildEnsembleReport(matrix);
  const seconds = (performance.now() - t0) / 1000;
  return {
    puzzles: report.puzzles, checkpoints: report.checkpoints, perturbations: report.perturbations, summary: report.summary, seconds,
    text: formatEnsembleReport(report, `ensemble on ${source}`, seconds), detail: ensembleDetail(report),
  };
}

export async function landscapeRun(p: LandscapeParams, signal: AbortSignal, progress: Progress, log: Log = noLog): Promise<LandscapeResult> {
  const runner = await runnerFor(p.torch, log);
  const l = await runner.landscape(p.checkpoint, p.puzzle, {
    size: p.size, step: p.step, segments: p.segments, basins: p.basins ?? false, signal,
    onProgress: (e) => { if (e.phase === 'grid') progress({ done: e.done, total: e.total }); },
  });
  return {
    size: l.size, radius: l.radius, step: l.step, segments: l.segments, heights: l.heights, flow: l.flow, trajectory: l.trajectory,
    segmentEnds: l.segmentEnds, explainedVarianceRatio: l.explainedVarianceRatio, centreEnergy: l.centreEnergy, seconds: l.seconds,
    basins: l.basins ? { labels: l.basins.labels, attractors: l.basins.attractors, moving: l.basins.moving } : null,
  };
}
