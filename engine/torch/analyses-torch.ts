/**
 * The probe and the ensemble's pass matrix with their forward passes on the PyTorch worker (one checkpoint loaded at
 * a time, as on TF.js); everything else (puzzles, perturbations, reports) is the analyses' own code. Used by the CLI
 * (`--backend torch`) and the engine's methods (a request carrying `torch`).
 */
import { type ProbeOptions, type ProbePuzzle, type ProbeReport, runProbeWith } from '../analysis/probe';
import type { Perturbation } from '../ensemble/perturb';
import { type EnsemblePuzzle, type PassMatrixOptions, buildPassMatrixWith } from '../ensemble/checkpoints';
import type { PassMatrix } from '../ensemble/report';
import type { GridSize } from '../sudoku/geometry';
import { batchTraceMetricsTorch } from './recorder';
import { perturbedPassesTorch } from './passes';
import { TorchModel } from './torch-model';
import type { TorchWorker } from './worker-client';

/** The grid size of a checkpoint (read and checked by the engine; nothing is sent to the worker). */
export async function checkpointGridSize(file: string, worker: TorchWorker): Promise<GridSize> {
  return (await TorchModel.fromCheckpoint(file, worker)).config.gridSize as GridSize;
}

/** engine/analysis/probe.ts runProbe on the worker: every checkpoint on the same puzzles, one after the other. */
export function runProbeTorch(
  files: readonly string[], puzzles: readonly ProbePuzzle[], opts: ProbeOptions, worker: TorchWorker, onReleased?: () => void,
): Promise<ProbeReport> {
  const inputs = puzzles.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id }));
  return runProbeWith(files.map((f) => ({ name: f, open: () => TorchModel.fromCheckpoint(f, worker), release: () => onReleased?.() })), puzzles, opts,
    (model, o) => batchTraceMetricsTorch(model, inputs, { segments: o.segments, batch: o.batch, latents: o.segments > 1, onProgress: o.onProgress, signal: o.signal }));
}

/** engine/ensemble/checkpoints.ts buildPassMatrix on the worker. */
export function buildPassMatrixTorch(
  files: readonly string[], puzzles: readonly EnsemblePuzzle[], perturbations: readonly Perturbation[], opts: PassMatrixOptions, worker: TorchWorker,
): Promise<PassMatrix> {
  return buildPassMatrixWith(files, puzzles, perturbations, opts, async (file, grids, o) =>
    perturbedPassesTorch(await TorchModel.fromCheckpoint(file, worker), grids, perturbations, o));
}
