/**
 * One puzzle's inspection (engine/analysis/inspect.ts) with the forward passes on the PyTorch worker: the trace by the
 * worker's recorder, the perturbation strip by its last-segment passes; the summary computed by inspectTrace as on
 * every backend. As on TF.js, the identity relabeling's pass is the trace's own last segment, kept after a
 * `strip: false` inspection for the strip that follows (a few per model).
 */
import type { GridSize, Grid } from '../sudoku/geometry';
import { type InspectSummary, type PerturbationStrip, inspectInput, inspectTrace, stripFrom, stripPlan } from '../analysis/inspect';
import type { PuzzleTrace } from '../analysis/trace';
import { type Pass, passFromTrace } from '../ensemble/votes';
import { throwIfAborted } from '../util/steps';
import { captureTracesTorch } from './recorder';
import { perturbedPassesTorch } from './passes';
import type { TorchModel } from './torch-model';

const IDENTITY_KEPT = 8;
const identities = new WeakMap<TorchModel, Map<string, Pass>>();
const key = (grid: Grid, segments: number): string => `${segments}:${grid.join('')}`;

function keep(model: TorchModel, grid: Grid, segments: number, pass: Pass): void {
  const kept = identities.get(model) ?? new Map<string, Pass>();
  identities.set(model, kept);
  kept.delete(key(grid, segments));
  kept.set(key(grid, segments), pass);
  while (kept.size > IDENTITY_KEPT) kept.delete(kept.keys().next().value as string);
}

async function strip(model: TorchModel, grid: Grid, solution: Grid | undefined, segments: number, identity: Pass | undefined, signal?: AbortSignal): Promise<PerturbationStrip> {
  const { shifts, known } = stripPlan(model.config.gridSize as GridSize, identity);
  const [passes] = await perturbedPassesTorch(model, [grid], known ? shifts.slice(1) : shifts, { segments, signal });
  return stripFrom(known ? [known, ...passes] : passes, shifts.map((s) => s.name), solution);
}

export interface InspectTorchOptions {
  /** False leaves out the perturbation strip (`stripPending`). */
  strip?: boolean;
  /** Receives the recorded trace (latents included) before it is summarised. */
  onTrace?: (trace: PuzzleTrace) => void;
  signal?: AbortSignal;
}

/** inspectPuzzle on the worker. */
export async function inspectPuzzleTorch(
  model: TorchModel, checkpointFile: string, puzzleText: string, segments?: number, opts: InspectTorchOptions = {},
): Promise<InspectSummary> {
  const { grid, solution } = inspectInput(puzzleText, model.config.gridSize as GridSize);
  const S = segments ?? model.config.haltMaxSteps;
  throwIfAborted(opts.signal, 'inspect');
  const [trace] = await captureTracesTorch(model, [{ puzzle: grid, solution }], { segments: S, checkpoint: checkpointFile });
  opts.onTrace?.(trace);
  const identity = passFromTrace(trace);
  if (opts.strip === false) {
    keep(model, grid, S, identity);
    return inspectTrace(checkpointFile, trace);
  }
  return inspectTrace(checkpointFile, trace, await strip(model, grid, solution, S, identity, opts.signal));
}

/** perturbationStrip on the worker (the identity's pass from a preceding `strip: false` inspection when there was one). */
export function perturbationStripTorch(model: TorchModel, puzzleText: string, segments?: number, signal?: AbortSignal): Promise<PerturbationStrip> {
  const { grid, solution } = inspectInput(puzzleText, model.config.gridSize as GridSize);
  const S = segments ?? model.config.haltMaxSteps;
  return strip(model, grid, solution, S, identities.get(model)?.get(key(grid, S)), signal);
}
