/**
 * Handlers of `train`, `train.stop` and `evaluate`. Cheap to import: TF.js and the trainer load on the first call
 * (engine/rpc/train-engine.ts). Trainings in progress are listed by run folder so that `train.stop` can ask one (or
 * all) to end after their next checkpoint; cancelling a `train` request does the same and answers Cancelled.
 */
import * as path from 'node:path';
import { BACKEND_NAMES } from './backend-names';
import { checkParam, type Handler } from './handler';

type Heavy = typeof import('./train-engine');
let heavy: Promise<Heavy> | undefined;
const load = (): Promise<Heavy> => (heavy ??= import('./train-engine'));

/** Running trainings: resolved run folder -> stop requested. */
const running = new Map<string, { stop: boolean }>();

const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export const train: Handler<'train'> = async (params, ctx) => {
  checkParam(typeof params.preset === 'string' && params.preset.length > 0, 'preset must be a preset name');
  checkParam(typeof params.out === 'string' && params.out.length > 0, 'out must be a folder path');
  checkParam(params.steps === undefined || isInt(params.steps, 1, 10_000_000), 'steps must be an integer in 1..10000000');
  checkParam(params.batch === undefined || isInt(params.batch, 1, 65_536), 'batch must be an integer in 1..65536');
  checkParam(params.seed === undefined || isInt(params.seed, 0, 2 ** 32 - 1), 'seed must be an integer in 0..2^32-1');
  checkParam(params.data === undefined || (typeof params.data === 'string' && params.data.length > 0), 'data must be a dataset file');
  checkParam(params.backend === undefined || BACKEND_NAMES.includes(params.backend), `backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const out = path.resolve(params.out);
  checkParam(!running.has(out), `a training is already writing into ${out}`);
  const entry = { stop: false };
  running.set(out, entry);
  try {
    const engine = await load();
    return await engine.trainRun(params, {
      signal: ctx.signal, stopRequested: () => entry.stop, progress: (e) => ctx.progress(e), log: (level, m) => ctx.log(level, m),
    });
  } finally {
    running.delete(out);
  }
};

export const trainStop: Handler<'train.stop'> = (params) => {
  checkParam(params.out === undefined || typeof params.out === 'string', 'out must be a folder path');
  const target = params.out === undefined ? undefined : path.resolve(params.out);
  let stopping = 0;
  for (const [dir, entry] of running) {
    if (target !== undefined && dir !== target) continue;
    entry.stop = true;
    stopping++;
  }
  return { stopping };
};

export const evaluate: Handler<'evaluate'> = async (params, ctx) => {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.data === 'string' && params.data.length > 0, 'data must be a dataset file');
  checkParam(params.segments === undefined || isInt(params.segments, 1, 64), 'segments must be an integer in 1..64');
  checkParam(params.limit === undefined || isInt(params.limit, 1, 100_000_000), 'limit must be a positive integer');
  checkParam(params.save === undefined || typeof params.save === 'string', 'save must be a name');
  const engine = await load();
  return engine.evaluateRun(params, ctx.signal, (e) => ctx.progress(e));
};
