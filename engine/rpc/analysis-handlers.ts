/**
 * Handlers of `probe`, `ensemble` and `landscape` (engine/analysis/analysis-protocol.ts). Cheap to import; TF.js loads on
 * the first call. A request carrying `torch` runs its forward passes on the PyTorch worker.
 */
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, limitText } from '../util/limits';
import { checkIntParam, checkNumParam, checkParam, checkTorchParam, type Handler } from './handler';

type Heavy = typeof import('./analysis-engine');
let heavy: Promise<Heavy> | undefined;
const load = (): Promise<Heavy> => (heavy ??= import('./analysis-engine'));

const paths = (v: unknown, min: number, max: number): boolean =>
  Array.isArray(v) && v.length >= min && v.length <= max && v.every((s) => typeof s === 'string' && s.length > 0);

export const probe: Handler<'probe'> = async (params, ctx) => {
  checkParam(paths(params.checkpoints, 1, 2), 'checkpoints must list one or two checkpoint files');
  checkParam(params.masks === undefined || paths(params.masks, LIMITS.masks.min, LIMITS.masks.max), 'masks must be a list like ["cell", "row", "box", "random:5"]');
  checkIntParam(params.count, 'count', LIMITS.puzzles);
  checkParam(params.data === undefined || (typeof params.data === 'string' && params.data.length > 0), 'data must be a dataset file');
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  checkTorchParam(params.torch);
  return (await load()).probeRun(params, ctx.signal, (e) => ctx.progress(e), ctx.log);
};

export const ensemble: Handler<'ensemble'> = async (params, ctx) => {
  checkParam(paths(params.sources, LIMITS.sources.min, LIMITS.sources.max), `sources must list ${limitText(LIMITS.sources)} checkpoint files or run folders`);
  checkParam(params.perturb === undefined || ['shifts', 'relabel', 'symmetries', 'mixed'].includes(params.perturb), 'perturb must be shifts, relabel, symmetries or mixed');
  checkIntParam(params.last, 'last', LIMITS.checkpoints);
  checkIntParam(params.count, 'count', LIMITS.perturbations);
  checkIntParam(params.generate, 'generate', LIMITS.puzzles);
  checkParam(params.data === undefined || (typeof params.data === 'string' && params.data.length > 0), 'data must be a dataset file');
  // Without data, limit is the number of puzzles generated.
  checkIntParam(params.limit, 'limit', params.data === undefined ? LIMITS.puzzles : LIMITS.limit);
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  checkTorchParam(params.torch);
  return (await load()).ensembleRun(params, ctx.signal, (e) => ctx.progress(e), ctx.log);
};

export const landscape: Handler<'landscape'> = async (params, ctx) => {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.puzzle === 'string' && params.puzzle.length > 0, 'puzzle must be 16, 36 or 81 characters');
  const problem = puzzleProblem(params.puzzle);
  checkParam(problem === '', `puzzle: ${problem}`);
  checkIntParam(params.size, 'size', LIMITS.landscapeSize);
  checkNumParam(params.step, 'step', NUM_LIMITS.landscapeStep);
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkParam(params.basins === undefined || typeof params.basins === 'boolean', 'basins must be true or false');
  checkTorchParam(params.torch);
  return (await load()).landscapeRun(params, ctx.signal, (e) => ctx.progress(e), ctx.log);
};
