/**
 * Handler of `inspect`: one puzzle's trace summary with one checkpoint. TF.js and the model code load on the first
 * call (the engine reaches 'ready' without them); the backend is chosen once per process (auto, or
 * HRM_LENS_BACKEND) and loaded models are cached by path and modification time. A request carrying `torch` runs on
 * the PyTorch worker instead (torch-engine.ts).
 */
import { promises as fs } from 'node:fs';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS } from '../util/limits';
import type { InspectParams } from '../protocol';
import { checkIntParam, checkParam, checkTorchParam, type Handler } from './handler';

type Engine = typeof import('./inspect-engine');
let engine: Promise<Engine> | undefined;

type TorchSide = typeof import('./torch-engine');
let torchSide: Promise<TorchSide> | undefined;
/** The PyTorch side (torch-engine.ts), loaded by the first request that carries `torch`. */
const torchEngine = (): Promise<TorchSide> => (torchSide ??= import('./torch-engine'));

/** Checks the parameters the methods share; returns the checkpoint's modification time. */
async function checked(params: InspectParams): Promise<number> {
  checkTorchParam(params.torch);
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
  if (params.torch) return (await torchEngine()).inspectTorchRequest({ ...params, torch: params.torch }, params.strip !== false, ctx.signal, ctx.log);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.inspectWithCheckpoint(params.checkpoint, mtimeMs, params.puzzle, params.segments, params.strip !== false, ctx.signal);
};

/** Handler of `inspect.strip`: the perturbation strip that `inspect` with `strip: false` left out; cancellable. */
export const inspectStrip: Handler<'inspect.strip'> = async (params, ctx) => {
  const mtimeMs = await checked(params);
  if (params.torch) return (await torchEngine()).stripTorchRequest({ ...params, torch: params.torch }, ctx.signal, ctx.log);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.stripWithCheckpoint(params.checkpoint, mtimeMs, params.puzzle, params.segments, ctx.signal);
};

/** Handler of `inspect.latents`: the puzzle's trace saved as a latents export (safetensors, .npy files or a folder). */
export const inspectLatents: Handler<'inspect.latents'> = async (params, ctx) => {
  checkParam(typeof params.file === 'string' && params.file.length > 0, 'file must be a path (.safetensors, .npy or a folder)');
  const mtimeMs = await checked(params);
  if (params.torch) return (await torchEngine()).latentsTorchRequest({ ...params, torch: params.torch }, ctx.signal, ctx.log);
  engine ??= import('./inspect-engine');
  const e = await engine;
  return e.latentsWithCheckpoint(params.checkpoint, mtimeMs, params.puzzle, params.segments, params.file, ctx.signal);
};
