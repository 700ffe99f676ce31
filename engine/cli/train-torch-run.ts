/**
 * `hrm-lens train --backend torch`: the run trained by the torch trainer under torchrun (engine/torch/torch-train.ts).
 *   hrm-lens train --backend torch --preset tiny-4x4 [--nproc-per-node N] [--device auto|cuda|cpu] [--dtype fp32|bf16] [--python P] [--threads T]
 *   hrm-lens train --backend torch --nnodes M --node-rank R --rdzv-endpoint HOST:PORT [--rdzv-id ID] …   (on every node)
 *   hrm-lens train --backend torch --resume DIR [--steps N]    (a run trained by the engine or by torch; the run's dtype unless --dtype)
 * Progress, Ctrl-C (stop after a checkpoint; twice: stop torchrun now) and the closing JSON line as for the engine's
 * training (train-run.ts).
 */
import { findTorchPython } from '../torch/python-discovery';
import { formatDuration } from './progress';
import { LIMITS, intOption } from '../util/limits';
import type { TrainFlags } from './train-run';
import type { TrainSettings } from '../train/presets';
import { selectBackend } from '../backend';
import { evalResultJson } from '../train/trainer';
import { TORCH_DTYPES, TORCH_TRAIN_DEVICES, type TorchDtype, type TorchTrainDevice, startTorchTraining } from '../torch/torch-train';

/** The options `--backend torch` adds to `hrm-lens train`. */
export interface TorchTrainFlags {
  python?: string;
  device?: string;
  /** fp32 | bf16; absent: fp32 for a new run, the run's own on --resume. */
  dtype?: string;
  nprocPerNode?: string;
  nnodes?: string;
  nodeRank?: string;
  rdzvEndpoint?: string;
  rdzvId?: string;
}

export async function runTorchTraining(flags: TrainFlags & TorchTrainFlags, options: { steps?: number; seed?: number; overrides: Partial<TrainSettings> }): Promise<void> {
  const device = flags.device ?? 'auto';
  if (!(TORCH_TRAIN_DEVICES as readonly string[]).includes(device)) throw new RangeError(`--device must be one of ${TORCH_TRAIN_DEVICES.join(', ')} for training, got ${JSON.stringify(device)}`);
  if (flags.dtype !== undefined && !(TORCH_DTYPES as readonly string[]).includes(flags.dtype)) {
    throw new RangeError(`--dtype must be one of ${TORCH_DTYPES.join(', ')}, got ${JSON.stringify(flags.dtype)}`);
  }
  const dtype = flags.dtype as TorchDtype | undefined;
  const nprocPerNode = intOption(flags.nprocPerNode, 'nproc-per-node', { min: 1, max: 1024 }) ?? 1;
  const nnodes = intOption(flags.nnodes, 'nnodes', { min: 1, max: 65536 }) ?? 1;
  const nodeRank = intOption(flags.nodeRank, 'node-rank', { min: 0, max: 65535 }) ?? 0;
  const threads = intOption(flags.threads, 'threads', LIMITS.threads);
  const log = (s: string) => { if (!flags.quiet) process.stderr.write(s); };
  // The engine itself only evaluates the final checkpoint: its fastest TF.js backend (HRM_LENS_BACKEND=torch, which
  // chose this path, names no TF.js backend).
  if (process.env.HRM_LENS_BACKEND === 'torch') delete process.env.HRM_LENS_BACKEND;
  await selectBackend({});
  const t0 = Date.now();
  let rateMs = 0;
  let last = t0;
  const training = await startTorchTraining({
    preset: flags.preset, resume: flags.resume, out: flags.out, steps: options.steps, seed: options.seed, mixing: flags.mixing,
    mixingResample: flags.mixingResample, augment: flags.augment, data: flags.data, overrides: options.overrides, tensorboard: flags.tensorboard,
    lock: {
      command: ['hrm-lens', ...process.argv.slice(2)].join(' '), forceUnlock: flags.forceUnlock,
      onNotice: (m) => process.stderr.write(`hrm-lens train: ${m}\n`),
    },
    python: await findTorchPython(flags.python), device: device as TorchTrainDevice, dtype, threads,
    nprocPerNode, nnodes, nodeRank, rdzvEndpoint: flags.rdzvEndpoint, rdzvId: flags.rdzvId, evaluateWhenStopped: true,
    onHello: (h, command, trainDtype) => {
      log(`hrm-lens train: torch ${h.torch} on ${h.device}, ${h.worldSize} process${h.worldSize === 1 ? '' : 'es'}`
        + `${h.distBackend ? ` (${h.distBackend})` : ''}, ${trainDtype}, from step ${h.step}\n  ${command.join(' ')}\n`);
    },
    onStep: (m) => {
      const now = Date.now();
      rateMs = rateMs === 0 ? now - last : 0.9 * rateMs + 0.1 * (now - last);
      last = now;
      if (!(process.stderr.isTTY || m.step % 50 === 0)) return;
      const loss = typeof m.loss === 'number' ? m.loss.toFixed(4) : '–';
      const cell = typeof m.batchCellAccuracy === 'number' ? `${(m.batchCellAccuracy * 100).toFixed(1)}%` : '–';
      const exact = typeof m.exactAccuracy === 'number' ? `${(m.exactAccuracy * 100).toFixed(1)}%` : '–';
      const line = `step ${m.step}  loss ${loss}  cell ${cell}  exact(halted) ${exact}  ${(1000 / Math.max(1, rateMs)).toFixed(2)} steps/s`;
      log(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);
    },
    onCheckpoint: (file) => log(`\ncheckpoint ${file}\n`),
    onLog: (line) => log(`torch: ${line}\n`),
  });
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) { log('\nstopping torchrun now…\n'); training.kill(); return; }
    stopping = true;
    log('\nstopping after a checkpoint… (Ctrl-C again to stop torchrun now)\n');
    training.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const end = await training.done;
    if (!end.writesRun) {
      log(`hrm-lens train: node done at step ${end.step}\n`);
      return;
    }
    const r = end.heldOut;
    if (r) {
      log(`held-out (${r.puzzles} puzzles, ${r.segments} segments): exact ${(r.exact * 100).toFixed(1)}%, `
        + `per segment ${r.perSegment.map((s) => (s.exact * 100).toFixed(0)).join(' ')}  (${formatDuration((Date.now() - t0) / 1000)})\n`);
    }
    process.stdout.write(`${JSON.stringify({ run: end.dir, checkpoint: end.checkpoint, step: end.step, ...(r ? { heldOut: evalResultJson(r, end.step) } : {}) })}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
