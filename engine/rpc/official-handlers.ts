/**
 * Handler of `official.evaluate` (engine/interop/official-protocol.ts). Cheap to import: TF.js and the importer load
 * on the first call; the backend is the process's (engine-backend.ts).
 */
import { LIMITS } from '../util/limits';
import { checkIntParam, checkParam, type Handler } from './handler';

export const officialEvaluate: Handler<'official.evaluate'> = async (params, ctx) => {
  checkParam(typeof params.file === 'string' && params.file.length > 0, 'file must be a checkpoint path');
  checkParam(params.cacheDir === undefined || (typeof params.cacheDir === 'string' && params.cacheDir.length > 0), 'cacheDir must be a folder path');
  checkParam(params.data === undefined || typeof params.data === 'string', 'data must be a dataset file');
  checkIntParam(params.puzzles, 'puzzles', LIMITS.puzzles);
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  const [{ engineBackend }, { evaluateOfficialCheckpoint }] = await Promise.all([import('./engine-backend'), import('../interop/official-eval')]);
  await engineBackend();
  return evaluateOfficialCheckpoint(params, { signal: ctx.signal, onProgress: (done, total) => ctx.progress({ done, total }) });
};
