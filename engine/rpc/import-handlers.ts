/**
 * Handler of `import` (engine/interop/import-protocol.ts). Cheap to import: TF.js and the importer load on the first
 * call. The backend is the process's (engine-backend.ts): the importer builds the model once to prove it loads.
 */
import { LIMITS } from '../util/limits';
import { checkIntParam, checkParam, type Handler } from './handler';

export const importCheckpointHandler: Handler<'import'> = async (params) => {
  checkParam(typeof params.file === 'string' && params.file.length > 0, 'file must be a checkpoint path');
  checkParam(typeof params.out === 'string' && params.out.length > 0, 'out must be a folder path');
  checkParam(params.config === undefined || (typeof params.config === 'string' && params.config.length > 0), 'config must be a YAML file path');
  checkIntParam(params.heads, 'heads', LIMITS.heads);
  const [{ engineBackend }, { importCheckpoint }] = await Promise.all([import('./engine-backend'), import('../interop/import-checkpoint')]);
  await engineBackend();
  const r = await importCheckpoint(params.file, { config: params.config, out: params.out, overrides: params.heads ? { heads: params.heads } : undefined });
  return {
    file: r.file, dir: r.dir, source: r.source, sourceFormat: r.sourceFormat, configFile: r.configFile, variant: r.variant,
    gridSize: r.config.gridSize, hidden: r.config.hidden, heads: r.config.heads, numParams: r.numParams, step: r.step, notes: r.notes,
  };
};
