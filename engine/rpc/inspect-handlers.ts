/**
 * Handler of `inspect`: one puzzle's trace summary with one checkpoint. TF.js and the model code load on the first
 * call (the engine reaches 'ready' without them); the backend is chosen once per process (auto, or
 * HRM_LENS_BACKEND) and loaded models are cached by path and modification time.
 */
import { promises as fs } from 'node:fs';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS } from '../util/limits';
import { checkIntParam, checkParam, type Handler } from './handler';

type Engine = typeof import('./inspect-engine');
let engine: Promise<Engine> | undefined;

/** Checks the parameters both methods share; returns the checkpoint's modification time. */
async function checked(params: { checkpoint: string; puzzle: string; segments?: number }): Promise<number> {
  checkParam(typeof params.checkpoint === 'string' && params.checkpoint.length > 0, 'checkpoint must be a file path');
  checkParam(typeof params.puzzle === 'string', 'puzzle must be a string of 16, 36 or 81 characters');
  const problem = puzzleProblem(params.puzzle);
  checkParam(problem === '', `puzzle: ${problem}`);
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  const stat = await fs.stat(params.checkpoint).catch(() => undefined);
  checkParam(stat?.isFile() === true, `no checkpoint file at ${params.checkpoint}`);
  return stat ? stat.mtimeMs : 0;
}

export const inspect: Handler<'inspect'> = async (params, ctx) => {
  checkParam(params.strip === undefined || typeof params.strip === 'boolean', 'strip must be true or false');
  const mtimeMs = await checked(params);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.inspectWithCheckpoint(params.checkpoint, mtimeMs, params.puzzle, params.segments, params.strip !== false, ctx.signal);
};

/** Handler of `inspect.strip`: the perturbation strip that `inspect` with `strip: false` left out; cancellable. */
export const inspectStrip: Handler<'inspect.strip'> = async (params, ctx) => {
  const mtimeMs = await checked(params);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.stripWithCheckpoint(params.checkpoint, mtimeMs, params.puzzle, params.segments, ctx.signal);
};
