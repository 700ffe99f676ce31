/**
 * Training with PyTorch (`hrm-lens train --backend torch`): the engine keeps the run and its data, the torch trainer
 * (python/hrm_lens_torch/train.py, under torchrun: DistributedDataParallel, gloo on CPU, nccl on CUDA) computes.
 *
 * - The run is the engine's: a new run's spec from the preset and overrides (train-session.ts newRunSpec), run.json,
 *   the run-folder lock (held by this process until the end), metrics.jsonl and the TensorBoard events written here
 *   from the trainer's step events, the held-out evaluation of the final checkpoint by the engine (eval.json). A
 *   resumed run may have been trained by the engine or by torch, and either can continue it.
 * - The data is the engine's: the run's TrainDataSource draws and the per-step learning rates and exploration floors
 *   go to the trainer through the feed (train-feed.ts), so the run trains on exactly the engine's examples in the
 *   engine's order, for any number of processes.
 * - The initial weights are the engine's (createModel's values for the seed), handed over as a checkpoint file.
 * - Checkpoints (weights, optimizer state, slots) are written by the trainer in the engine's layout, in float32 also
 *   with dtype bf16 (mixed precision: the trainer's forward and backward run under bfloat16 autocast).
 * With several nodes, every node runs `hrm-lens train --backend torch` with the same options and its own --node-rank;
 * the node with rank 0 writes the run folder, the others only feed their processes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configToJson, linearWeightNames, paramCount, trainableWeightNames, weightSpecs, initialWeight } from '../model';
import { encodeSafetensors, type SafeTensorInput } from '../interop/safetensors';
import { type RunSpec, Trainer, evalResultJson, makeData } from '../train/trainer';
import { type OpenTrainerOptions, defaultRunDir, newRunSpec, poolFromFile } from '../train/train-session';
import { type JsonObject, latestCheckpoint, loadOptimizerState, optimFileOf, pickState, writeEvalResult } from '../train/checkpoint';
import type { TrainDataSpec } from '../train/data-source';
import { MetricsLog, type MetricsRecord } from '../train/metrics-log';
import { TensorBoardWriter } from '../train/tensorboard-writer';
import { heldOutScalars, stepScalars } from '../train/tensorboard-scalars';
import { acquireRunLock, type RunLock } from '../train/run-lock';
import { loadModel } from '../train/load-model';
import { evaluateInChunks } from '../train/eval-session';
import type { EvalResult } from '../train/evaluate';
import { writeFileAtomic } from '../util/atomic-write';
import { DataError } from '../util/errors';
import { TrainFeed } from './train-feed';
import { type LaunchedTraining, type TrainEvent, checkTorchPython, freePort, launchTraining } from './train-launch';
import type { TorchDtype, TorchTrainDevice } from './torch-protocol';
import { TORCH_DTYPES } from './torch-params';

export type { TorchDtype, TorchTrainDevice } from './torch-protocol';
export { TORCH_DTYPES, TORCH_TRAIN_DEVICES } from './torch-params';

export interface TorchTrainOptions extends Omit<OpenTrainerOptions, 'backend'> {
  python: string;
  device: TorchTrainDevice;
  /**
   * fp32, or bf16: mixed precision (bfloat16 autocast forward and backward; weights, optimizer state and checkpoints
   * float32). Default: fp32 for a new run; a resumed run keeps the dtype its run.json records.
   */
  dtype?: TorchDtype;
  /** torch threads per process (OMP_NUM_THREADS). */
  threads?: number;
  nprocPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  rdzvEndpoint?: string;
  rdzvId?: string;
  /** Run the held-out evaluation also when stopped early (the CLI does). */
  evaluateWhenStopped?: boolean;
  /** The folder holding hrm_lens_torch (default: the installation's python/). */
  packageDir?: string;
  onStep?(record: MetricsRecord): void;
  onCheckpoint?(file: string, step: number): void;
  onHello?(info: Extract<TrainEvent, { event: 'hello' }>, command: readonly string[], dtype: TorchDtype): void;
  onLog?(line: string): void;
}

export interface TorchTrainResult {
  /** The run folder (on the node that writes it). */
  dir: string;
  /** Whether this node wrote the run folder (node rank 0). */
  writesRun: boolean;
  checkpoint: string | null;
  step: number;
  stopped: boolean;
  /** The held-out evaluation of the final checkpoint (null on other nodes, or when stopped without evaluateWhenStopped). */
  heldOut: EvalResult | null;
  /** The torchrun command line. */
  command: string[];
}

/** torchrun failed: its exit status and the tail of its output. */
export class TorchTrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchTrainError';
  }
}

export interface TorchTraining {
  /** The run folder (on the node that writes it). */
  dir: string;
  /** The step the training ends at. */
  totalSteps: number;
  /** The precision it trains in (the option, else the resumed run's, else fp32). */
  dtype: TorchDtype;
  /** Ask the trainer to stop after its current step (with a checkpoint). */
  stop(): void;
  /** Stop now: torchrun and its processes get SIGTERM (the trainer still writes a checkpoint when it can). */
  kill(): void;
  done: Promise<TorchTrainResult>;
}

/** The process layout checked against the batch: every process owns batch / processes slots. */
export function checkProcessLayout(batch: number, o: Pick<TorchTrainOptions, 'nprocPerNode' | 'nnodes' | 'nodeRank' | 'rdzvEndpoint'>): number {
  const nproc = o.nprocPerNode;
  const nnodes = o.nnodes ?? 1;
  const rank = o.nodeRank ?? 0;
  if (!Number.isSafeInteger(nproc) || nproc < 1) throw new RangeError(`--nproc-per-node must be an integer >= 1, got ${nproc}`);
  if (!Number.isSafeInteger(nnodes) || nnodes < 1) throw new RangeError(`--nnodes must be an integer >= 1, got ${nnodes}`);
  if (!Number.isSafeInteger(rank) || rank < 0 || rank >= nnodes) throw new RangeError(`--node-rank must be an integer in 0…${nnodes - 1}, got ${rank}`);
  if (nnodes > 1 && !o.rdzvEndpoint) throw new RangeError('--nnodes above 1 needs --rdzv-endpoint HOST:PORT (the same on every node)');
  const processes = nproc * nnodes;
  if (batch % processes !== 0) {
    throw new RangeError(`the batch (${batch} slots) must be a multiple of the number of processes (${processes} = --nproc-per-node ${nproc} × --nnodes ${nnodes}): `
      + 'each process owns batch / processes slots; change --nproc-per-node or --batch');
  }
  return processes;
}

/** The engine's initial weights for (config, seed), as a checkpoint file the trainer starts from (the benches reuse it). */
export function writeInitialWeights(file: string, spec: Pick<RunSpec, 'model' | 'seed'>): void {
  const tensors = new Map<string, SafeTensorInput>();
  for (const s of weightSpecs(spec.model)) tensors.set(s.name, { shape: [...s.shape], data: initialWeight(s, spec.seed) });
  fs.writeFileSync(file, encodeSafetensors(tensors, {
    format: 'hrm-lens', format_version: '1', step: '0', config: JSON.stringify(configToJson(spec.model)), meta: '{}',
  }));
}

/** The backend's one-line description in run.json and the checkpoints (python/hrm_lens_torch/train.py writes the same). */
function backendDetail(torch: string, processes: number, distBackend: string | null, device: string, dtype: TorchDtype): string {
  return `PyTorch ${torch}, ${processes} process${processes === 1 ? '' : 'es'}${distBackend ? ` (${distBackend})` : ''} on ${device}`
    + `${dtype === 'bf16' ? ', bf16 mixed precision' : ''}`;
}

/** The dtype a run's backend description records (run.json's spec.backend.dtype); fp32 when none (older runs, the engine's). */
function recordedDtype(backend: JsonObject | undefined): TorchDtype {
  const d = backend?.dtype;
  return (TORCH_DTYPES as readonly unknown[]).includes(d) ? d as TorchDtype : 'fp32';
}

function runJson(spec: RunSpec, describe: Record<string, unknown>, evalPuzzles: number): JsonObject {
  return {
    format: 'hrm-lens-run', spec: { ...spec, model: configToJson(spec.model) } as unknown as JsonObject, data: describe as JsonObject,
    evalPuzzles, numParams: paramCount(spec.model), created: new Date().toISOString(),
  };
}

/** Starts a torch training (see the file comment); `done` settles when it has ended and the run folder is complete. */
export async function startTorchTraining(o: TorchTrainOptions): Promise<TorchTraining> {
  const nodes = o.nnodes ?? 1;
  const writesRun = (o.nodeRank ?? 0) === 0;
  if (o.dtype !== undefined && !TORCH_DTYPES.includes(o.dtype)) throw new RangeError(`--dtype must be one of ${TORCH_DTYPES.join(', ')}, got ${JSON.stringify(o.dtype)}`);
  const backendOf = (dtype: TorchDtype): JsonObject => ({ name: 'torch', device: o.device, nodes, processesPerNode: o.nprocPerNode, dtype });
  // The run: a resumed one's spec and newest checkpoint, or a new one's spec.
  let spec: RunSpec;
  let pool: TrainDataSpec | undefined;
  let dir: string;
  let start: { file: string; step: number; drawCounter: number } | undefined;
  let dtype: TorchDtype;
  if (o.resume) {
    dir = o.resume;
    const saved = await Trainer.readRunSpec(dir);
    dtype = o.dtype ?? recordedDtype(saved.backend);
    spec = { ...saved, backend: backendOf(dtype) };
    pool = saved.data.kind === 'file' ? await poolFromFile(saved.data.path, saved.model.gridSize) : undefined;
    const latest = await latestCheckpoint(dir);
    if (!latest) throw new Error(`${dir}: no checkpoint to resume from`);
    const optim = optimFileOf(latest.file);
    if (!fs.existsSync(optim)) throw new Error(`${latest.file}: no optimizer state beside it; cannot resume exactly`);
    const state = await loadOptimizerState(optim, latest.step);
    const slots = pickState(state, 'slots');
    const drawCounter = Number(slots?.json.drawCounter);
    if (!slots || !Number.isSafeInteger(drawCounter) || drawCounter < 0) throw new DataError({ file: optim, field: 'state.slots.drawCounter' }, 'missing or not a count');
    if (slots.arrays.halted?.data.length !== spec.train.batch) {
      throw new DataError({ file: optim, field: 'slots/halted' }, `holds ${String(slots.arrays.halted?.data.length)} slots, the run's batch is ${spec.train.batch}`);
    }
    start = { file: latest.file, step: latest.step, drawCounter };
  } else {
    dtype = o.dtype ?? 'fp32';
    ({ spec, pool } = await newRunSpec({ ...o, backend: backendOf(dtype) }));
    dir = o.out ?? defaultRunDir(spec.preset, spec.seed, spec.mixing);
  }
  const baseBackend = backendOf(dtype);
  const totalSteps = o.steps ?? spec.train.steps;
  checkProcessLayout(spec.train.batch, o);
  const info = await checkTorchPython(o.python);
  if (o.device === 'cuda' && info.cudaDevices < o.nprocPerNode) {
    throw new RangeError(`--device cuda: PyTorch ${info.torch} of "${o.python}" sees ${info.cudaDevices} CUDA device${info.cudaDevices === 1 ? '' : 's'}, `
      + `and each of the ${o.nprocPerNode} processes of this node needs its own`);
  }
  // auto: CUDA when every process of this node gets a device of its own, else the CPU.
  const device: 'cuda' | 'cpu' = o.device === 'cuda' || (o.device === 'auto' && info.cudaDevices >= o.nprocPerNode) ? 'cuda' : 'cpu';

  let lock: RunLock | undefined;
  let metrics: MetricsLog | undefined;
  let tensorboard: TensorBoardWriter | undefined;
  let feed: TrainFeed | undefined;
  const cleanup = (): void => {
    try { feed?.dispose(); } catch { /* a temp folder */ }
    try { metrics?.close(); } finally {
      try { tensorboard?.close(); } finally { lock?.release(); }
    }
  };
  try {
    const { data, evalSet } = makeData(spec, pool);
    if (writesRun) {
      fs.mkdirSync(dir, { recursive: true });
      lock = await acquireRunLock(dir, o.lock);
      if (!start && await latestCheckpoint(dir).catch(() => undefined)) throw new Error(`${dir} already holds checkpoints: resume it instead`);
      metrics = await MetricsLog.open(path.join(dir, 'metrics.jsonl'), { resumeFromStep: start?.step ?? 0 });
      if (o.tensorboard !== false) tensorboard = TensorBoardWriter.open(dir, start ? { resumedFrom: start.step } : {});
      if (!start) await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(runJson(spec, data.describe(), evalSet.length), null, 2)}\n`);
    }
    feed = new TrainFeed({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-lens-torch-feed-')), data, config: spec.model, train: spec.train, seed: spec.seed });
    const initFile = path.join(feed.dir, 'init.safetensors');
    if (!start) writeInitialWeights(initFile, spec);
    const job = {
      version: 1, writesRun, runDir: path.resolve(dir), checkpoint: start ? path.resolve(start.file) : initFile, resume: start !== undefined,
      startStep: start?.step ?? 0, totalSteps, seed: spec.seed, train: spec.train, configJson: JSON.stringify(configToJson(spec.model)),
      linearNames: linearWeightNames(spec.model), trainableNames: trainableWeightNames(spec.model),
      metaBase: { seed: spec.seed, preset: spec.preset, mixing: spec.mixing, augment: spec.augment, data: data.describe() },
      backend: baseBackend, device, dtype, threads: o.threads ?? null, parentPid: process.pid,
      feed: { dir: feed.dir, drawChunk: feed.drawChunk, stepChunk: feed.stepChunk },
    };
    const jobFile = path.join(feed.dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify(job));
    feed.advance(start?.step ?? 0, start?.drawCounter ?? 0);
    const masterPort = nodes > 1 || o.rdzvEndpoint ? undefined : await freePort();
    const activeFeed = feed;
    const ref: { launched?: LaunchedTraining } = {};
    let failure: Error | undefined;
    let done: Extract<TrainEvent, { event: 'done' }> | undefined;
    let finalCheckpoint: string | null = null;
    let stopped = false;
    let rankError: string | undefined;
    const onEvent = (e: TrainEvent): void => {
      try {
        if (e.event === 'step') {
          activeFeed.advance(e.record.step, e.drawCounter);
          const record = e.record as MetricsRecord;
          metrics?.append(record);
          tensorboard?.addScalars(record.step, stepScalars(record));
          o.onStep?.(record);
        } else if (e.event === 'checkpoint') {
          tensorboard?.flush();
          if (e.final) finalCheckpoint = e.file;
          o.onCheckpoint?.(e.file, e.step);
        } else if (e.event === 'hello') {
          if (writesRun && !start) {
            // run.json records what the run was trained with, as the trainer found it.
            const device = e.device.replace(/:\d+$/, '');
            const backend = {
              ...baseBackend, torch: e.torch, device, distBackend: e.distBackend, processes: e.worldSize,
              detail: backendDetail(e.torch, e.worldSize, e.distBackend, device, dtype),
            };
            fs.writeFileSync(path.join(dir, 'run.json'), `${JSON.stringify(runJson({ ...spec, backend }, data.describe(), evalSet.length), null, 2)}\n`);
          }
          o.onHello?.(e, ref.launched?.command ?? [], dtype);
        } else if (e.event === 'done') {
          done = e;
          stopped = e.stopped;
        } else if (e.event === 'error') {
          rankError ??= `process ${e.rank}: ${e.message}`;
        }
      } catch (err) {
        failure ??= err as Error;
        ref.launched?.kill('SIGTERM');
      }
    };
    const run = launchTraining({
      python: o.python, nprocPerNode: o.nprocPerNode, nnodes: nodes, nodeRank: o.nodeRank, rdzvEndpoint: o.rdzvEndpoint, rdzvId: o.rdzvId,
      masterPort, job: jobFile, threads: o.threads, packageDir: o.packageDir, torchrunFix: info.torchrunNeedsFix,
    }, { onEvent, onLog: o.onLog });
    ref.launched = run;
    const finish = async (): Promise<TorchTrainResult> => {
      try {
        const exit = await run.exited;
        if (failure) throw failure;
        if (exit.code !== 0 || !done) {
          const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
          throw new TorchTrainError(`torchrun (${o.python} -m torch.distributed.run) ${how}${done ? '' : ' before the training finished'}`
            + `${rankError ? `: ${rankError}` : ''}`
            + `${exit.tail.trim() ? `; its last output:\n${exit.tail.trim().slice(-2500)}` : ''}`);
        }
        const step = (done as Extract<TrainEvent, { event: 'done' }>).step;
        let heldOut: EvalResult | null = null;
        if (writesRun && finalCheckpoint && (!stopped || o.evaluateWhenStopped)) {
          const { model } = await loadModel(finalCheckpoint);
          try {
            heldOut = await evaluateInChunks(model, evalSet, { segments: spec.train.evalSegments });
          } finally {
            model.dispose();
          }
          await writeEvalResult(finalCheckpoint, evalResultJson(heldOut, step));
          tensorboard?.addScalars(step, heldOutScalars(heldOut));
          tensorboard?.flush();
        }
        return { dir, writesRun, checkpoint: finalCheckpoint, step, stopped, heldOut, command: run.command };
      } finally {
        cleanup();
      }
    };
    return { dir, totalSteps, dtype, stop: () => { try { activeFeed.requestStop(); } catch { /* ended already */ } }, kill: () => run.kill('SIGTERM'), done: finish() };
  } catch (err) {
    cleanup();
    throw err;
  }
}
