/**
 * Handlers of `train`, `train.stop` and `evaluate`. Cheap to import: TF.js and the trainer load on the first call
 * (engine/rpc/train-engine.ts; a `train` request carrying `torch` trains with PyTorch under torchrun instead,
 * torch-train-engine.ts). Trainings in progress are listed by run folder so that `train.stop` can ask one (or all) to
 * end after their next checkpoint; cancelling a `train` request does the same and answers Cancelled.
 */
import * as path from 'node:path';
import { BACKEND_NAMES } from './backend-names';
import { LIMITS } from '../util/limits';
import { checkIntParam, checkParam, type Handler } from './handler';
import { torchTrainParamsProblem } from '../torch/torch-params';

type Heavy = typeof import('./train-engine');
let heavy: Promise<Heavy> | undefined;
const load = (): Promise<Heavy> => (heavy ??= import('./train-engine'));
type TorchSide = typeof import('./torch-train-engine');
let torchSide: Promise<TorchSide> | undefined;
const loadTorch = (): Promise<TorchSide> => (torchSide ??= import('./torch-train-engine'));

/** Running trainings: resolved run folder -> stop requested. */
const running = new Map<string, { stop: boolean }>();

export const train: Handler<'train'> = async (params, ctx) => {
  checkParam(typeof params.preset === 'string' && params.preset.length > 0, 'preset must be a preset name');
  checkParam(typeof params.out === 'string' && params.out.length > 0, 'out must be a folder path');
  checkIntParam(params.steps, 'steps', LIMITS.steps);
  checkIntParam(params.batch, 'batch', LIMITS.batch);
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  checkParam(params.mixing === undefined || typeof params.mixing === 'boolean', 'mixing must be true or false');
  checkParam(params.mixingResample === undefined || typeof params.mixingResample === 'boolean', 'mixingResample must be true or false');
  checkParam(params.data === undefined || (typeof params.data === 'string' && params.data.length > 0), 'data must be a dataset file');
  checkParam(params.backend === undefined || BACKEND_NAMES.includes(params.backend), `backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const torchProblem = params.torch === undefined ? '' : torchTrainParamsProblem(params.torch);
  checkParam(torchProblem === '', torchProblem);
  const out = path.resolve(params.out);
  checkParam(!running.has(out), `a training is already writing into ${out}`);
  const entry = { stop: false };
  running.set(out, entry);
  try {
    const hooks = { signal: ctx.signal, stopRequested: () => entry.stop, progress: ctx.progress.bind(ctx), log: ctx.log.bind(ctx) };
    if (params.torch) return await (await loadTorch()).trainTorchRun({ ...params, torch: params.torch }, hooks);
    return await (await load()).trainRun(params, hooks);
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
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkIntParam(params.limit, 'limit', LIMITS.limit);
  checkParam(params.save === undefined || typeof params.save === 'string', 'save must be a name');
  const engine = await load();
  return engine.evaluateRun(params, ctx.signal, (e) => ctx.progress(e));
};
