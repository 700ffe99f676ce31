/**
 * Handler of `inspect`: one puzzle's trace summary with one checkpoint. TF.js and the model code load on the first
 * call (the engine reaches 'ready' without them); the backend is chosen once per process (auto, or
 * HRM_LENS_BACKEND) and loaded models are cached by path and modification time.
 */
import { promises as fs } from 'node:fs';
import { checkParam, type Handler } from './handler';

type Engine = typeof import('./inspect-engine');
let engine: Promise<Engine> | undefined;

export const inspect: Handler<'inspect'> = async (params) => {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.puzzle === 'string', 'puzzle must be a string of 16, 36 or 81 characters');
  checkParam(params.segments === undefined || (Number.isInteger(params.segments) && params.segments >= 1 && params.segments <= 64), 'segments must be an integer in 1..64');
  const stat = await fs.stat(params.checkpoint).catch(() => undefined);
  checkParam(stat?.isFile() === true, `no checkpoint file at ${params.checkpoint}`);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.inspectWithCheckpoint(params.checkpoint, stat ? stat.mtimeMs : 0, params.puzzle, params.segments);
};
