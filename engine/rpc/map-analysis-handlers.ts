/**
 * Handlers of `intervene.spectrum`, `intervene.sweep` and `intervene.lens` (engine/intervene/intervene-protocol.ts
 * MapAnalysisMethods). Cheap to import: the parameters are checked against their ranges (engine/util/limits.ts) here,
 * TF.js and the model load on the first call (map-analysis-engine.ts).
 */
import { CONFIG_RANGES } from '../model/config';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, limitText } from '../util/limits';
import { checkIntParam, checkNumParam, checkParam, type Handler } from './handler';

type Heavy = typeof import('./map-analysis-engine');
let heavy: Promise<Heavy> | undefined;
/** The heavy half, with the engine process's backend chosen. */
const load = async (): Promise<Heavy> => {
  const [mod] = await Promise.all([heavy ??= import('./map-analysis-engine'), import('./engine-backend').then((b) => b.engineBackend())]);
  return mod;
};

const PARTS: readonly unknown[] = ['zH', 'zL', 'both'];

function checkCheckpointAndPuzzle(params: { checkpoint: unknown; puzzle: unknown }): void {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.puzzle === 'string' && params.puzzle.length > 0, 'puzzle must be 16, 36 or 81 characters');
  const problem = puzzleProblem(params.puzzle);
  checkParam(problem === '', `puzzle: ${problem}`);
}

/** A list of 1…LIMITS.sweepValues.max integers, each within min…max. */
function checkCounts(value: unknown, name: string, min: number, max: number): void {
  if (value === undefined) return;
  const l = LIMITS.sweepValues;
  checkParam(Array.isArray(value) && value.length >= l.min && value.length <= l.max,
    `${name} must list ${limitText(l)} counts`);
  (value as unknown[]).forEach((v, i) => checkIntParam(v, `${name}[${i}]`, { min, max }, true));
}

export const interveneSpectrum: Handler<'intervene.spectrum'> = async (params, ctx) => {
  checkCheckpointAndPuzzle(params);
  checkIntParam(params.atSegment, 'atSegment', LIMITS.segments);
  checkIntParam(params.count, 'count', LIMITS.eigenvalues);
  checkNumParam(params.tolerance, 'tolerance', NUM_LIMITS.eigenTolerance);
  checkIntParam(params.maxIterations, 'maxIterations', LIMITS.krylov);
  checkParam(params.part === undefined || PARTS.includes(params.part), 'part must be zH, zL or both');
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  return (await load()).spectrumRun(params, ctx.signal, (e) => ctx.progress(e));
};

export const interveneSweep: Handler<'intervene.sweep'> = async (params, ctx) => {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  const hasData = params.data !== undefined;
  const hasPuzzles = params.puzzles !== undefined;
  checkParam(hasData !== hasPuzzles, 'give either puzzles or data');
  if (hasData) checkParam(typeof params.data === 'string' && params.data.length > 0, 'data must be a dataset file');
  if (hasPuzzles) {
    const ps: unknown = params.puzzles;
    checkParam(Array.isArray(ps) && ps.length >= LIMITS.puzzles.min && ps.length <= LIMITS.puzzles.max
      && ps.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 200), `puzzles must list ${limitText(LIMITS.puzzles)} puzzles ("puzzle" or "puzzle,answer")`);
  }
  checkIntParam(params.count, 'count', LIMITS.puzzles);
  checkCounts(params.hCycles, 'hCycles', CONFIG_RANGES.H_cycles.min, CONFIG_RANGES.H_cycles.max);
  checkCounts(params.lCycles, 'lCycles', CONFIG_RANGES.L_cycles.min, CONFIG_RANGES.L_cycles.max);
  checkCounts(params.segments, 'segments', LIMITS.segments.min, LIMITS.segments.max);
  return (await load()).sweepRun(params, ctx.signal, (e) => ctx.progress(e));
};

export const interveneLens: Handler<'intervene.lens'> = async (params, ctx) => {
  checkCheckpointAndPuzzle(params);
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  return (await load()).lensRun(params, ctx.signal, (e) => ctx.progress(e));
};
