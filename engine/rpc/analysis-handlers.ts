/** Handlers of `probe` and `ensemble` (engine/analysis/analysis-protocol.ts). Cheap to import; TF.js loads on the first call. */
import { checkParam, type Handler } from './handler';

type Heavy = typeof import('./analysis-engine');
let heavy: Promise<Heavy> | undefined;
const load = (): Promise<Heavy> => (heavy ??= import('./analysis-engine'));

const optInt = (v: unknown, lo: number, hi: number): boolean => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi);
const paths = (v: unknown, min: number, max: number): boolean =>
  Array.isArray(v) && v.length >= min && v.length <= max && v.every((s) => typeof s === 'string' && s.length > 0);

export const probe: Handler<'probe'> = async (params, ctx) => {
  checkParam(paths(params.checkpoints, 1, 2), 'checkpoints must list one or two checkpoint files');
  checkParam(params.masks === undefined || paths(params.masks, 1, 16), 'masks must be a list like ["cell", "row", "box", "random:5"]');
  checkParam(optInt(params.count, 1, 100_000), 'count must be an integer in 1..100000');
  checkParam(optInt(params.segments, 1, 64), 'segments must be an integer in 1..64');
  checkParam(optInt(params.seed, 0, 2 ** 32 - 1), 'seed must be an integer in 0..2^32-1');
  return (await load()).probeRun(params, ctx.signal, (e) => ctx.progress(e));
};

export const ensemble: Handler<'ensemble'> = async (params, ctx) => {
  checkParam(paths(params.sources, 1, 64), 'sources must list checkpoint files or run folders');
  checkParam(params.perturb === undefined || ['shifts', 'relabel', 'symmetries', 'mixed'].includes(params.perturb), 'perturb must be shifts, relabel, symmetries or mixed');
  checkParam(optInt(params.last, 1, 1000) && optInt(params.count, 1, 1000) && optInt(params.generate, 1, 1_000_000) && optInt(params.limit, 1, 100_000_000),
    'last, count, generate and limit must be positive integers');
  checkParam(optInt(params.segments, 1, 64), 'segments must be an integer in 1..64');
  checkParam(optInt(params.seed, 0, 2 ** 32 - 1), 'seed must be an integer in 0..2^32-1');
  checkParam(params.data === undefined || (typeof params.data === 'string' && params.data.length > 0), 'data must be a dataset file');
  return (await load()).ensembleRun(params, ctx.signal, (e) => ctx.progress(e));
};

export const landscape: Handler<'landscape'> = async (params, ctx) => {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.puzzle === 'string' && params.puzzle.length > 0, 'puzzle must be 16, 36 or 81 characters');
  checkParam(params.size === undefined || (optInt(params.size, 1, 201) && params.size % 2 === 1), 'size must be an odd integer in 1..201');
  checkParam(params.step === undefined || (typeof params.step === 'number' && params.step > 0 && Number.isFinite(params.step)), 'step must be a positive number');
  checkParam(optInt(params.segments, 1, 64), 'segments must be an integer in 1..64');
  checkParam(params.basins === undefined || typeof params.basins === 'boolean', 'basins must be true or false');
  return (await load()).landscapeRun(params, ctx.signal, (e) => ctx.progress(e));
};
