/**
 * The heavy half of the `probe` and `ensemble` handlers (loads TF.js): the same code paths as `hrm-lens probe` and
 * `hrm-lens ensemble` (engine/cli/probe-run.ts, ensemble-run.ts), with progress events and cancellation.
 */
import type { EnsembleParams, EnsembleResult, LandscapeParams, LandscapeResult, ProbeParams, ProbeResult } from '../analysis/analysis-protocol';
import { computeLandscapeAsync } from '../analysis/landscape';
import { parsePuzzle } from '../sudoku/givens';
import { makeProbePuzzlesAsync, parseMask, probePuzzlesAsync, runProbe } from '../analysis/probe';
import { buildPassMatrix, resolveCheckpoints } from '../ensemble/checkpoints';
import { perturbationSet } from '../ensemble/perturb';
import { DEFAULT_LAST_CHECKPOINTS } from '../ensemble/defaults';
import { buildEnsembleReport, ensembleDetail } from '../ensemble/report';
import { formatEnsembleReport } from '../cli/ensemble-run';
import { formatProbeReport } from '../cli/probe-run';
import { loadPuzzleSource, loadSolvedGrids } from '../cli/puzzle-source';
import type { GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { engineBackend } from './engine-backend';

type Progress = (e: { done: number; total: number }) => void;

const nullIfNaN = (x: number): number | null => (Number.isFinite(x) ? x : null);

export async function probeRun(p: ProbeParams, signal: AbortSignal, progress: Progress): Promise<ProbeResult> {
  await engineBackend();
  const masks = (p.masks?.length ? p.masks : ['cell', 'row', 'box', 'random:5']).map(parseMask);
  const first = await loadModel(p.checkpoints[0]);
  const n = first.model.config.gridSize as GridSize;
  first.model.dispose();
  const seed = p.seed ?? 0;
  const count = p.count ?? 100;
  const puzzles = p.data
    ? await makeProbePuzzlesAsync(await loadSolvedGrids(p.data, n, count), n, masks, seed, signal)
    : await probePuzzlesAsync(n, count, masks, seed, signal);
  const total = puzzles.length * p.checkpoints.length;
  let finished = 0;
  const report = await runProbe(p.checkpoints.map((f) => ({
    name: f,
    open: async () => (await loadModel(f)).model,
    release: (m) => { m.dispose(); finished += puzzles.length; },
  })), puzzles, { segments: p.segments, signal, onProgress: (done) => progress({ done: finished + done, total }) });
  const rows = report.checkpoints.flatMap((c) => [...c.groups, c.overall].map((g, i) => ({
    checkpoint: c.checkpoint, mask: i === c.groups.length ? 'all' : g.mask, puzzles: g.puzzles, finalAccuracy: g.finalAccuracy,
    stabilityRate: nullIfNaN(g.stabilityRate), corruptionEvents: g.corruptionEvents, exactBySegment: g.exactBySegment,
  })));
  return { rows, segments: report.segments, seconds: report.seconds, text: formatProbeReport(report) };
}

export async function ensembleRun(p: EnsembleParams, signal: AbortSignal, progress: Progress): Promise<EnsembleResult> {
  await engineBackend();
  const files = await resolveCheckpoints(p.sources, p.last ?? DEFAULT_LAST_CHECKPOINTS);
  const first = await loadModel(files[0]);
  const n = first.model.config.gridSize as GridSize;
  first.model.dispose();
  const kind = p.perturb ?? 'shifts';
  const seed = p.seed ?? 0;
  const perturbations = perturbationSet(kind, n, p.count ?? (kind === 'shifts' ? n : 9), seed);
  const { puzzles, source } = await loadPuzzleSource({
    data: p.data, generate: p.generate === undefined ? undefined : String(p.generate), limit: p.limit === undefined ? undefined : String(p.limit), seed: String(seed),
  }, n, undefined, signal);
  const t0 = performance.now();
  const total = puzzles.length * files.length;
  const matrix = await buildPassMatrix(files, puzzles, perturbations, {
    segments: p.segments, signal, onProgress: (q) => progress({ done: q.checkpoint * q.total + q.done, total }),
  });
  const report = buildEnsembleReport(matrix);
  const seconds = (performance.now() - t0) / 1000;
  return {
    puzzles: report.puzzles, checkpoints: report.checkpoints, perturbations: report.perturbations, summary: report.summary, seconds,
    text: formatEnsembleReport(report, `ensemble on ${source}`, seconds), detail: ensembleDetail(report),
  };
}

export async function landscapeRun(p: LandscapeParams, signal: AbortSignal, progress: Progress): Promise<LandscapeResult> {
  await engineBackend();
  const { model } = await loadModel(p.checkpoint);
  try {
    const parsed = parsePuzzle(p.puzzle, model.config.gridSize as GridSize);
    if ('error' in parsed) throw new Error(`puzzle: ${parsed.error}`);
    const l = await computeLandscapeAsync(model, parsed.grid, {
      size: p.size, step: p.step, segments: p.segments, basins: p.basins ?? false, signal,
      onProgress: (e) => { if (e.phase === 'grid') progress({ done: e.done, total: e.total }); },
    });
    return {
      size: l.size, radius: l.radius, step: l.step, segments: l.segments, heights: l.heights, flow: l.flow, trajectory: l.trajectory,
      segmentEnds: l.segmentEnds, explainedVarianceRatio: l.explainedVarianceRatio, centreEnergy: l.centreEnergy, seconds: l.seconds,
      basins: l.basins ? { labels: l.basins.labels, attractors: l.basins.attractors, moving: l.basins.moving } : null,
    };
  } finally {
    model.dispose();
  }
}
