/**
 * One puzzle's trace, summarised: run it for S segments (halting off) with the capture API and report per segment
 * the decoded grid, wrong cells, conflict energy E, loss, σ(q_halt)/σ(q_continue) and latent residual; first-exact and
 * critical segments; corruptions; and the trajectory's class with its evidence. Used by `hrm-lens inspect` and by the
 * engine's `inspect` method.
 */
import type { HrmModel } from '../model';
import { captureTraceSteps } from './capture-trace';
import { computeTraceMetrics, type TraceMetrics } from './segment-metrics';
import { classifyMode, type ModeResult } from './modes';
import { pcaTrajectory, zHTrajectory } from './pca';
import { type Perturbation, cyclicShifts, perturbedPassSteps, perturbedPassesAsync } from '../ensemble/perturb';
import { type Pass, answersEqual, labelFreeVote, passFromTrace } from '../ensemble/votes';
import { identityTransform, transformsEqual } from '../sudoku/symmetry';
import { geometry, type Grid, gridToString, type GridSize } from '../sudoku/geometry';
import { parsePuzzle } from '../sudoku/givens';
import { solve } from '../sudoku/solver';
import { runSteps, runStepsAsync, type Steps } from '../util/steps';
import type { PerturbedAnswer, StripVote, TraceSegment } from './inspect-types';
import type { PuzzleTrace } from './trace';

export interface InspectSummary {
  checkpoint: string;
  puzzle: string;
  solution: string | null;
  segments: TraceSegment[];
  firstExact: number | null;
  stableFrom: number | null;
  criticalSegment: number | null;
  corruptions: number[];
  mode: ModeResult;
  /** Row-major [segment][cell]: the confidence of each cell's decoded digit (softmax probability). */
  cellConfidence: Float32Array;
  /**
   * The latent trajectory on its first two principal components: z_H after every H-update
   * (docs/analyses.md §PCA trajectories), PCA by the Gram method with the deterministic sign convention. `points`
   * row-major [update][2]; `updatesPerSegment` maps updates to segments; `explained` = explained-variance ratios of
   * PC1, PC2. Null when fewer than 2 states.
   */
  pca: { points: Float64Array; updatesPerSegment: number; explained: [number, number] } | null;
  /**
   * The perturbation strip (docs/analyses.md §Input perturbations): the puzzle under the n cyclic digit shifts
   * p = 0..n−1, all in one forward batch, each last-segment answer mapped back to the original frame; `exact` null when
   * the solution is not unique. `vote`: the label-free plurality over the halted passes (all passes when none halted).
   */
  perturbations: PerturbedAnswer[];
  vote: StripVote;
  /**
   * True when the strip was left out (`{ strip: false }`): `perturbations` is empty and `vote` empty until
   * perturbationStrip's result is merged in. The strip runs n passes of every segment, ~9× the trace's own work at 9×9
   * (the 27M model: ~42 s against ~5.5 s on 2 cores), so the extension shows the trace first and asks for it after.
   */
  stripPending?: boolean;
}

/** The perturbation strip of a puzzle (InspectSummary's `perturbations` and `vote`). */
export type PerturbationStrip = Pick<InspectSummary, 'perturbations' | 'vote'>;

/** The puzzle parsed for `model`'s grid size, and its solution when the solver finds exactly one. */
function preparePuzzle(model: { config: { gridSize: number } }, puzzleText: string): { grid: Grid; n: GridSize; solution: Grid | undefined } {
  const parsed = parsePuzzle(puzzleText, model.config.gridSize as GridSize);
  if ('error' in parsed) throw new Error(`puzzle: ${parsed.error}`);
  const solved = solve(parsed.grid, geometry(parsed.n));
  return { grid: parsed.grid, n: parsed.n, solution: solved.solutions === 1 ? solved.solution : undefined };
}

/** The strip of the passes of the relabelings `names` (in order), each answer judged against the solution when known. */
export function stripFrom(passes: readonly Pass[], names: readonly string[], solution: Grid | undefined): PerturbationStrip {
  const right = (g: ArrayLike<number>): boolean | null => (solution ? answersEqual(g, solution) : null);
  const vote = labelFreeVote(passes);
  return {
    perturbations: passes.map((p, i) => ({ name: names[i], answer: gridToString(p.answer), halted: p.halted, exact: right(p.answer) })),
    vote: { answer: vote.answer ? gridToString(vote.answer) : null, votes: vote.votes, pool: vote.pool, poolSize: vote.poolSize, exact: vote.answer ? right(vote.answer) : null },
  };
}

/**
 * The identity relabeling's pass is the trace's own last segment (each row is computed the same way in any batch, so
 * the strip's batch would give its bits again): it is taken from the trace, and only the other relabelings run.
 * inspectPuzzle with `strip: false` keeps it here for the `perturbationStrip` call that follows (a few per model).
 */
const identityPasses = new WeakMap<HrmModel, Map<string, { pass: Pass; weights: object[] }>>();
const IDENTITY_KEPT = 8;
const identityKey = (grid: Grid, segments: number): string => `${segments}:${grid.join('')}`;
/** The weights' data objects: `Variable.assign` gives a weight a new one, so a kept pass of older weights is not used. */
const weightData = (model: HrmModel): object[] => [...model.weights.values()].map((v) => v.dataId);

function keepIdentity(model: HrmModel, grid: Grid, segments: number, pass: Pass): void {
  const kept = identityPasses.get(model) ?? new Map<string, { pass: Pass; weights: object[] }>();
  identityPasses.set(model, kept);
  kept.delete(identityKey(grid, segments));
  kept.set(identityKey(grid, segments), { pass, weights: weightData(model) });
  while (kept.size > IDENTITY_KEPT) kept.delete(kept.keys().next().value as string);
}

function keptIdentity(model: HrmModel, grid: Grid, segments: number): Pass | undefined {
  const hit = identityPasses.get(model)?.get(identityKey(grid, segments));
  const now = weightData(model);
  return hit && hit.weights.length === now.length && hit.weights.every((d, i) => d === now[i]) ? hit.pass : undefined;
}

/** The relabelings to run and, when the first is the identity and its pass is known, that pass. */
export function stripPlan(n: GridSize, identity: Pass | undefined): { shifts: Perturbation[]; known: Pass | undefined } {
  const shifts = cyclicShifts(n);
  const known = identity && transformsEqual(shifts[0].transform, identityTransform(n)) ? identity : undefined;
  return { shifts, known };
}

function* stripSteps(model: HrmModel, grid: Grid, n: GridSize, solution: Grid | undefined, segments: number, identity: Pass): Steps<PerturbationStrip> {
  const { shifts, known } = stripPlan(n, identity);
  const [passes] = yield* perturbedPassSteps(model, [grid], known ? shifts.slice(1) : shifts, { segments });
  return stripFrom(known ? [known, ...passes] : passes, shifts.map((s) => s.name), solution);
}

/**
 * The perturbation strip alone (what inspectPuzzle adds to the trace): the n cyclic digit shifts, `segments` each, in
 * one batch (the identity's pass taken from a preceding `strip: false` inspection when there was one). It yields to
 * the event loop after every segment: an aborted `signal` stops it (AbortError).
 */
export async function perturbationStrip(model: HrmModel, puzzleText: string, segments?: number, signal?: AbortSignal): Promise<PerturbationStrip> {
  const { grid, n, solution } = preparePuzzle(model, puzzleText);
  const segs = segments ?? model.config.haltMaxSteps;
  const { shifts, known } = stripPlan(n, keptIdentity(model, grid, segs));
  const passes = await perturbedPassesAsync(model, grid, known ? shifts.slice(1) : shifts, { segments: segs, signal });
  return stripFrom(known ? [known, ...passes] : passes, shifts.map((s) => s.name), solution);
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

export interface InspectOptions {
  /** False leaves out the perturbation strip. */
  strip?: boolean;
  /** Receives the recorded trace (latents included) before it is summarised: a latents export writes it. */
  onTrace?: (trace: PuzzleTrace) => void;
}

/**
 * Inspect `puzzleText` (16/36/81 characters, '.' or '0' blanks) with `model`; the solution is found by the solver.
 * `strip: false` leaves out the perturbation strip (`stripPending`; perturbationStrip computes it).
 */
export function inspectPuzzle(model: HrmModel, checkpointFile: string, puzzleText: string, segments?: number, opts: InspectOptions = {}): InspectSummary {
  return runSteps(inspectSteps(model, checkpointFile, puzzleText, segments, opts));
}

/**
 * inspectPuzzle with the event loop turning between segments (the engine's `inspect`), so that ping and cancel are
 * answered while it runs; an aborted `signal` stops it at the next segment (AbortError), every tensor freed.
 */
export function inspectPuzzleAsync(
  model: HrmModel, checkpointFile: string, puzzleText: string, segments?: number, opts: InspectOptions & { signal?: AbortSignal } = {},
): Promise<InspectSummary> {
  return runStepsAsync(inspectSteps(model, checkpointFile, puzzleText, segments, opts), opts.signal, 'inspect');
}

/** inspectPuzzle as a step generator (engine/util/steps.ts): one `yield` after every segment. */
function* inspectSteps(model: HrmModel, checkpointFile: string, puzzleText: string, segments: number | undefined, opts: InspectOptions): Steps<InspectSummary> {
  const { grid, n, solution } = preparePuzzle(model, puzzleText);
  const segs = segments ?? model.config.haltMaxSteps;
  const [trace] = yield* captureTraceSteps(model, [{ puzzle: grid, solution }], { segments: segs, checkpoint: checkpointFile });
  opts.onTrace?.(trace);
  const identity = passFromTrace(trace);
  if (opts.strip === false) keepIdentity(model, grid, segs, identity);
  const strip = opts.strip === false ? undefined : yield* stripSteps(model, grid, n, solution, segs, identity);
  return inspectTrace(checkpointFile, trace, strip);
}

/**
 * The summary of one recorded trace (from any recorder; `trace.solution` is the solver's unique solution or absent),
 * with the perturbation strip when given, else marked `stripPending`.
 */
export function inspectTrace(checkpointFile: string, trace: PuzzleTrace, strip?: PerturbationStrip): InspectSummary {
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
  const solution = trace.solution;
  const summary = summarize(checkpointFile, metrics, solution ? gridToString(solution) : null, classifyMode(metrics), pca,
    strip ?? { perturbations: [], vote: { answer: null, votes: 0, pool: 'all', poolSize: 0, exact: null } });
  return strip ? summary : { ...summary, stripPending: true };
}

/** The puzzle parsed for grid size `n`, and its solution when the solver finds exactly one (what inspect records). */
export function inspectInput(puzzleText: string, n: GridSize): { grid: Grid; solution: Grid | undefined } {
  const { grid, solution } = preparePuzzle({ config: { gridSize: n } }, puzzleText);
  return { grid, solution };
}
