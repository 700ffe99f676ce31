/**
 * The engine process's PyTorch side, loaded by the first request that carries `torch`: one worker per interpreter,
 * device and dtype (started on first use, reused by later requests, stopped with the process: it exits when its
 * stdin closes), the checkpoints it runs cached by path and modification time (a few at a time), and the analyses'
 * forward passes on it. Requests share a worker; a model's load and its runs stay together (TorchWorker.exclusive).
 */
import { promises as fs } from 'node:fs';
import type { LogLevel } from '../protocol';
import type { InspectSummary, PerturbationStrip } from '../analysis/inspect';
import { openLatentsExport } from '../analysis/latents-export';
import { findTorchPython } from '../torch/python-discovery';
import type { TorchParams } from '../torch/torch-protocol';
import { TorchModel } from '../torch/torch-model';
import { TorchWorker } from '../torch/worker-client';
import { inspectPuzzleTorch, perturbationStripTorch } from '../torch/inspect-torch';
import { buildPassMatrixTorch, checkpointGridSize, runProbeTorch } from '../torch/analyses-torch';
import { computeLandscapeTorch } from '../torch/landscape-torch';
import { openedTorchMap } from '../torch/torch-map';
import type { MapOpener } from '../intervene/trajectory';
import type { GridSize } from '../sudoku/geometry';
import { type AnalysisRunner, puzzleGrid } from './analysis-engine';

type Log = (level: LogLevel, message: string) => void;

const workers = new Map<string, TorchWorker>();

/** The worker for these parameters (the interpreter found by python-discovery.ts when none is named). */
export async function engineTorchWorker(p: TorchParams, log: Log): Promise<TorchWorker> {
  const python = await findTorchPython(p.python);
  const device = p.device ?? 'auto';
  const dtype = p.dtype ?? 'fp32';
  const key = JSON.stringify([python, device, dtype]);
  let w = workers.get(key);
  if (!w) {
    w = new TorchWorker({ python, device, dtype, log: (line) => log('info', `torch worker: ${line}`) });
    workers.set(key, w);
    const info = await w.start().catch((e: unknown) => {
      workers.delete(key);
      throw e;
    });
    log('info', `PyTorch worker: torch ${info.torch} on ${info.device} (${info.dtype}), Python ${info.python} (${python}), pid ${info.pid}`);
  }
  return w;
}

/** Stops every worker (the engine process need not: its workers end when their stdin closes with it). */
export async function disposeTorchWorkers(): Promise<void> {
  const all = [...workers.values()];
  workers.clear();
  models.clear();
  await Promise.all(all.map((w) => w.dispose()));
}

/** Checkpoints kept loaded (engine side: their weights, re-sent when the worker holds another model). */
const MODELS_KEPT = 4;
const models = new Map<string, Promise<TorchModel>>();

/** The checkpoint as a model on `worker`, cached by path, modification time and worker. */
async function modelFor(file: string, worker: TorchWorker): Promise<TorchModel> {
  const st = await fs.stat(file);
  const key = `${st.mtimeMs}\n${worker.python}\n${file}`;
  let m = models.get(key);
  if (!m) {
    m = TorchModel.fromCheckpoint(file, worker);
    m.catch(() => { if (models.get(key) === m) models.delete(key); });
    for (const k of [...models.keys()]) if (k.endsWith(`\n${file}`)) models.delete(k); // an older version of the file
    models.set(key, m);
    while (models.size > MODELS_KEPT) models.delete(models.keys().next().value as string);
  } else {
    models.delete(key);
    models.set(key, m);
  }
  return m;
}

/** How the interventions open their checkpoints on the worker of `p` (models cached as for the other requests). */
export async function torchMapOpener(p: TorchParams, log: Log): Promise<MapOpener> {
  const worker = await engineTorchWorker(p, log);
  return async (file) => openedTorchMap(await modelFor(file, worker), file);
}

export async function inspectTorchRequest(
  p: { checkpoint: string; puzzle: string; segments?: number; torch: TorchParams }, strip: boolean, signal: AbortSignal, log: Log,
): Promise<InspectSummary> {
  const model = await modelFor(p.checkpoint, await engineTorchWorker(p.torch, log));
  return inspectPuzzleTorch(model, p.checkpoint, p.puzzle, p.segments, { strip, signal });
}

export async function stripTorchRequest(
  p: { checkpoint: string; puzzle: string; segments?: number; torch: TorchParams }, signal: AbortSignal, log: Log,
): Promise<PerturbationStrip> {
  const model = await modelFor(p.checkpoint, await engineTorchWorker(p.torch, log));
  return perturbationStripTorch(model, p.puzzle, p.segments, signal);
}

/** The puzzle's trace, recorded by the worker, written to `file` as a latents export; nothing is left of it when cancelled. */
export async function latentsTorchRequest(
  p: { checkpoint: string; puzzle: string; segments?: number; file: string; torch: TorchParams }, signal: AbortSignal, log: Log,
): Promise<{ files: string[]; bytes: number }> {
  const model = await modelFor(p.checkpoint, await engineTorchWorker(p.torch, log));
  const writer = openLatentsExport(p.file, model, { checkpoint: p.checkpoint, source: 'inspect', ids: [p.puzzle], segments: p.segments ?? model.config.haltMaxSteps });
  try {
    await inspectPuzzleTorch(model, p.checkpoint, p.puzzle, p.segments, { strip: false, signal, onTrace: (t) => writer.write([t], 0) });
    writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
  return { files: writer.files, bytes: writer.bytes };
}

/** The analyses' forward passes on the worker (analysis-engine.ts AnalysisRunner). */
export async function torchAnalysisRunner(p: TorchParams, log: Log): Promise<AnalysisRunner> {
  const worker = await engineTorchWorker(p, log);
  return {
    gridSize: (file) => checkpointGridSize(file, worker),
    probe: (files, puzzles, opts, onReleased) => runProbeTorch(files, puzzles, opts, worker, onReleased),
    passMatrix: (files, puzzles, perturbations, opts) => buildPassMatrixTorch(files, puzzles, perturbations, opts, worker),
    async landscape(file, puzzle, opts) {
      const model = await modelFor(file, worker);
      return computeLandscapeTorch(model, puzzleGrid(puzzle, model.config.gridSize as GridSize), opts);
    },
  };
}
