/**
 * One puzzle's trace, summarised: run it for S segments (halting off) with the capture API and report per segment
 * the decoded grid, wrong cells, conflict energy E, loss, σ(q_halt)/σ(q_continue) and latent residual; first-exact and
 * critical segments; corruptions; and the trajectory's class with its evidence. Used by `hrm-lens inspect` and by the
 * engine's `inspect` method.
 */
import type { HrmModel } from '../model';
import { captureTraces } from './capture-trace';
import { computeTraceMetrics, type TraceMetrics } from './segment-metrics';
import { classifyMode, type ModeResult } from './modes';
import { pcaTrajectory, zHTrajectory } from './pca';
import { cyclicShifts, perturbedPasses } from '../ensemble/perturb';
import { answersEqual, labelFreeVote } from '../ensemble/votes';
import { geometry, gridToString, parseGrid, type GridSize } from '../sudoku/geometry';
import { solve } from '../sudoku/solver';

export interface InspectSummary {
  checkpoint: string;
  puzzle: string;
  solution: string | null;
  segments: {
    segment: number; grid: string; exact: boolean; wrong: number | null; wrongGivens: number | null; wrongBlanks: number | null;
    energy: number; loss: number | null; changed: number; qHalt: number; qContinue: number; residualH: number | null;
  }[];
  firstExact: number | null;
  stableFrom: number | null;
  criticalSegment: number | null;
  corruptions: number[];
  mode: ModeResult;
  /** Row-major [segment][cell]: the confidence of each cell's decoded digit (softmax probability). */
  cellConfidence: Float32Array;
  /**
   * The latent trajectory on its first two principal components: z_H after every H-update (paper §6.3), PCA by the
   * Gram method with the deterministic sign convention. `points` row-major [update][2]; `updatesPerSegment` maps
   * updates to segments; `explained` = explained-variance ratios of PC1, PC2. Null when fewer than 2 states.
   */
  pca: { points: Float64Array; updatesPerSegment: number; explained: [number, number] } | null;
  /**
   * The perturbation strip (paper §7.2): the puzzle under the n cyclic digit shifts p = 0..n−1, all in one forward
   * batch, each last-segment answer mapped back to the original frame; `exact` null when the solution is not unique.
   * `vote`: the label-free plurality over the halted passes (all passes when none halted).
   */
  perturbations: { name: string; answer: string; halted: boolean; exact: boolean | null }[];
  vote: { answer: string | null; votes: number; pool: 'halted' | 'all'; poolSize: number; exact: boolean | null };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function summarize(checkpoint: string, m: TraceMetrics, solution: string | null, mode: ModeResult, pca: InspectSummary['pca'],
  strip: Pick<InspectSummary, 'perturbations' | 'vote'>): InspectSummary {
  const segs = [];
  for (let k = 0; k < m.segments; k++) {
    segs.push({
      segment: k + 1, grid: gridToString(m.grids.subarray(k * m.cells, (k + 1) * m.cells)), exact: m.exact[k] === 1,
      wrong: m.wrong ? m.wrong[k] : null, wrongGivens: m.wrongGivens ? m.wrongGivens[k] : null, wrongBlanks: m.wrongBlanks ? m.wrongBlanks[k] : null,
      energy: m.energy[k], loss: m.loss ? finite(m.loss[k]) : null, changed: m.changed[k],
      qHalt: m.qHaltProb[k], qContinue: m.qContinueProb[k], residualH: finite(m.residualH[k]),
    });
  }
  return {
    checkpoint, puzzle: gridToString(m.puzzle), solution, segments: segs, firstExact: m.firstExact, stableFrom: m.stableFrom,
    criticalSegment: m.criticalSegment, corruptions: m.corruptions, mode, cellConfidence: Float32Array.from(m.confidence), pca, ...strip,
  };
}

/** Inspect `puzzleText` (16/36/81 characters, '.' or '0' blanks) with `model`; the solution is found by the solver. */
export function inspectPuzzle(model: HrmModel, checkpointFile: string, puzzleText: string, segments?: number): InspectSummary {
  const parsed = parseGrid(puzzleText.replace(/\s+/g, ''), model.config.gridSize as GridSize);
  if ('error' in parsed) throw new Error(`puzzle: ${parsed.error}`);
  const solved = solve(parsed.grid, geometry(parsed.n));
  const solution = solved.solutions === 1 ? solved.solution : undefined;
  const [trace] = captureTraces(model, [{ puzzle: parsed.grid, solution }], { segments: segments ?? model.config.haltMaxSteps, checkpoint: checkpointFile });
  const metrics: TraceMetrics = computeTraceMetrics(trace);
  const states = zHTrajectory(trace, 'h-updates');
  let pca: InspectSummary['pca'] = null;
  if (states.length >= 2) {
    const r = pcaTrajectory(states, { components: 2 });
    const points = new Float64Array(states.length * 2);
    const k = r.components.length;
    for (let i = 0; i < states.length; i++) for (let c = 0; c < Math.min(2, k); c++) points[i * 2 + c] = r.projections[i * k + c];
    pca = { points, updatesPerSegment: Math.max(1, Math.round(states.length / trace.segments.length)), explained: [r.explainedVarianceRatio[0] ?? 0, r.explainedVarianceRatio[1] ?? 0] };
  }
  const segs = segments ?? model.config.haltMaxSteps;
  const shifts = cyclicShifts(parsed.n);
  const [passes] = perturbedPasses(model, [parsed.grid], shifts, { segments: segs });
  const right = (g: ArrayLike<number>): boolean | null => (solution ? answersEqual(g, solution) : null);
  const vote = labelFreeVote(passes);
  const strip: Pick<InspectSummary, 'perturbations' | 'vote'> = {
    perturbations: passes.map((p, i) => ({ name: shifts[i].name, answer: gridToString(p.answer), halted: p.halted, exact: right(p.answer) })),
    vote: { answer: vote.answer ? gridToString(vote.answer) : null, votes: vote.votes, pool: vote.pool, poolSize: vote.poolSize, exact: vote.answer ? right(vote.answer) : null },
  };
  return summarize(checkpointFile, metrics, solution ? gridToString(solution) : null, classifyMode(metrics), pca, strip);
}
