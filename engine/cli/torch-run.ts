/**
 * `--backend torch` for the CLI's analyses: the forward passes run in the PyTorch worker (engine/torch/), the
 * analyses in TypeScript as on every other backend. Options: `--python PATH` (default: engine/torch/python-discovery.ts:
 * env HRM_LENS_PYTHON, else the first of python3, /usr/bin/python3, python that can import torch), `--device
 * auto|cuda|mps|cpu` (auto: CUDA, else Apple MPS, else CPU), `--dtype fp32|bf16`, `--threads N` (torch CPU threads).
 * `--save-latents FILE` writes the traces the worker recorded, in the layout the TF.js engine writes
 * (engine/analysis/latents-export.ts).
 */
import type { TorchCliFlags } from './torch-options';
import type { GridSize } from '../sudoku/geometry';
import { classifyFromMetrics, classifyInputs } from '../analysis/classify';
import type { InspectSummary } from '../analysis/inspect';
import type { ClassifyReport } from '../analysis/classify';
import { batchTraceMetricsTorch } from '../torch/recorder';
import { inspectPuzzleTorch } from '../torch/inspect-torch';
import { TorchModel } from '../torch/torch-model';
import { TORCH_DEVICES, TORCH_DTYPES } from '../torch/torch-params';
import type { TorchDevice, TorchDtype } from '../torch/torch-protocol';
import { TorchWorker } from '../torch/worker-client';
import { findTorchPython } from '../torch/python-discovery';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import { puzzleProblem } from '../sudoku/givens';
import { type PuzzleSourceFlags, loadPuzzleSource, puzzleSourceOptions } from './puzzle-source';
import { Progress } from './progress';
import { type TraceSink, openLatentsExport } from '../analysis/latents-export';

export interface TorchFlags extends TorchCliFlags {
  backend: string;
  threads?: string;
  saveLatents?: string;
}

/** The worker the flags ask for (not started yet); the interpreter is --python, else found (python-discovery.ts). */
export async function torchWorkerFromFlags(flags: TorchFlags): Promise<TorchWorker> {
  const device = flags.device ?? 'auto';
  const dtype = flags.dtype ?? 'fp32';
  if (!(TORCH_DEVICES as readonly string[]).includes(device)) throw new Error(`--device must be one of ${TORCH_DEVICES.join(', ')}, got ${JSON.stringify(device)}`);
  if (!(TORCH_DTYPES as readonly string[]).includes(dtype)) throw new Error(`--dtype must be one of ${TORCH_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  const threads = intOption(flags.threads, 'threads', LIMITS.threads);
  return new TorchWorker({
    python: await findTorchPython(flags.python), device: device as TorchDevice, dtype: dtype as TorchDtype, threads,
    log: (line) => process.stderr.write(`torch: ${line}\n`),
  });
}

/** Runs `run` with a started worker (its versions and device on stderr), stopped after. */
export async function withTorchWorker<T>(flags: TorchFlags, run: (worker: TorchWorker) => Promise<T>): Promise<T> {
  const worker = await torchWorkerFromFlags(flags);
  try {
    const info = await worker.start();
    process.stderr.write(`torch ${info.torch} on ${info.device} (${info.dtype}), Python ${info.python}\n`);
    return await run(worker);
  } finally {
    await worker.dispose();
  }
}

/**
 * Runs `run` with a sink writing the latents export `target` (committed when `run` resolves, removed when it fails),
 * or with no sink when there is no target; the export's one-line summary goes to stderr.
 */
async function withLatents<T>(
  target: string | undefined, model: TorchModel, o: { checkpoint: string; source: string; ids: readonly string[]; segments: number },
  run: (sink: TraceSink | undefined) => Promise<T>,
): Promise<T> {
  if (target === undefined) return run(undefined);
  const writer = openLatentsExport(target, model, o);
  try {
    const value = await run((traces, start) => writer.write(traces, start));
    writer.commit();
    process.stderr.write(`latents: ${writer.summary}\n`);
    return value;
  } catch (err) {
    writer.abort();
    throw err;
  }
}

function withTorchModel<T>(flags: TorchFlags & { checkpoint: string }, run: (m: TorchModel) => Promise<T>): Promise<T> {
  return withTorchWorker(flags, async (worker) => run(await TorchModel.fromCheckpoint(flags.checkpoint, worker)));
}

/** `hrm-lens inspect --backend torch`: the trace and the perturbation strip recorded by the worker. */
export async function inspectTorch(flags: TorchFlags & { checkpoint: string; puzzle: string; segments?: string }): Promise<InspectSummary> {
  const problem = puzzleProblem(flags.puzzle);
  if (problem) throw new Error(`--puzzle: ${problem}`);
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  return withTorchModel(flags, (model) => withLatents(flags.saveLatents, model, {
    checkpoint: flags.checkpoint, source: 'inspect', ids: [flags.puzzle], segments: segments ?? model.config.haltMaxSteps,
  }, (sink) => inspectPuzzleTorch(model, flags.checkpoint, flags.puzzle, segments, { onTrace: sink && ((t) => sink([t], 0)) })));
}

export interface ClassifyTorchFlags extends TorchFlags, PuzzleSourceFlags {
  checkpoint: string; segments?: string; trivialWithin: string; last: string; tau?: string; batch: string;
}

/** `hrm-lens classify --backend torch`: traces by the worker, batch by batch; the modes computed as on any backend. */
export async function classifyTorch(flags: ClassifyTorchFlags): Promise<{ report: ClassifyReport; source: string }> {
  puzzleSourceOptions(flags);
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  const modeOpts = {
    trivialWithin: intOption(flags.trivialWithin, 'trivial-within', LIMITS.segmentCount), lastSegments: intOption(flags.last, 'last', LIMITS.segmentCount),
    tau: numOption(flags.tau, 'tau', NUM_LIMITS.tau),
  };
  return withTorchModel(flags, async (model) => {
    const t0 = performance.now();
    const { puzzles, source } = await loadPuzzleSource(flags, model.config.gridSize as GridSize);
    const S = segments ?? model.config.haltMaxSteps;
    const progress = new Progress({ label: 'classify', unit: 'puzzles', total: puzzles.length });
    const inputs = classifyInputs(puzzles);
    const metrics = await withLatents(flags.saveLatents, model, { checkpoint: flags.checkpoint, source: 'classify', ids: puzzles.map((p) => p.id), segments: S },
      (sink) => batchTraceMetricsTorch(model, inputs, { segments: S, batch, latents: true, onProgress: (d) => progress.update(d), onTraces: sink }));
    progress.done();
    return { report: classifyFromMetrics(puzzles, metrics, S, modeOpts, t0), source };
  });
}
