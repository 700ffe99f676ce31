/**
 * The engine process's side of a training with PyTorch: the `train` request that carries `torch` runs
 * engine/torch/torch-train.ts (as `hrm-lens train --backend torch` does: torchrun, the engine's run folder, data,
 * metrics and held-out evaluation), reporting the same `step` and `checkpoint` events as the TF.js training, so the
 * training dashboard, the Runs tree and `train.stop` work alike. Imported on first use (it loads TF.js, which
 * evaluates the final checkpoint).
 */
import * as path from 'node:path';
import type { BackendChoice } from '../backend';
import { EngineError, type TrainParams, type TrainResult } from '../protocol';
import { evalFigures } from '../train/eval-session';
import type { MetricsRecord } from '../train/metrics-log';
import { findTorchPython } from '../torch/python-discovery';
import { startTorchTraining } from '../torch/torch-train';
import type { TorchTrainParams } from '../torch/torch-protocol';
import { engineBackend } from './engine-backend';
import type { TrainRunHooks } from './train-engine';

/** How often a stop asked by `train.stop` is looked for. */
const STOP_POLL_MS = 200;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The run trained by PyTorch under torchrun; answers as the TF.js training does. */
export async function trainTorchRun(p: TrainParams & { torch: TorchTrainParams }, hooks: TrainRunHooks): Promise<TrainResult> {
  // TF.js evaluates the final checkpoint (held-out puzzles), on the backend the request names.
  await engineBackend(p.backend as BackendChoice | undefined, (m) => hooks.log('warn', `train: ${m}`));
  const python = await findTorchPython(p.torch.python);
  const out = path.resolve(p.out);
  let totalSteps = p.steps ?? 0;
  let emaMs = 0;
  const training = await startTorchTraining({
    preset: p.preset, resume: p.resume ? out : undefined, out, steps: p.steps, seed: p.seed, mixing: p.mixing, mixingResample: p.mixingResample,
    data: p.data, overrides: { batch: p.batch },
    lock: { command: `HRM Lens engine: train with PyTorch${p.resume ? ' (resume)' : ''}`, onNotice: (m) => hooks.log('warn', `train: ${m}`) },
    python, device: p.torch.device ?? 'auto', nprocPerNode: p.torch.processes ?? 1, evaluateWhenStopped: false,
    onHello: (h, command) => {
      hooks.log('info', `train: ${out} with PyTorch ${h.torch} on ${h.device}, ${h.worldSize} process${h.worldSize === 1 ? '' : 'es'}`
        + `${h.distBackend ? ` (${h.distBackend})` : ''}, from step ${h.step}: ${command.join(' ')}`);
    },
    onStep: (m: MetricsRecord) => {
      // The smoothed rate of the TF.js training (train-session.ts runTrainLoop): the trainer's own step times.
      const ms = num(m.stepMs) ?? 0;
      if (ms > 0) emaMs = emaMs === 0 ? ms : 0.9 * emaMs + 0.1 * ms;
      hooks.progress({
        kind: 'step', step: m.step, totalSteps, loss: num(m.loss) ?? Number.NaN, cellAccuracy: num(m.batchCellAccuracy) ?? Number.NaN,
        exactAccuracy: num(m.exactAccuracy), stepsPerSecond: emaMs > 0 ? 1000 / emaMs : 0, backend: 'torch', meanSteps: num(m.meanSteps),
        segmentExact: Array.isArray(m.segmentExact) ? m.segmentExact.map(num) : [], lr: num(m.lr) ?? Number.NaN,
      });
    },
    onCheckpoint: (checkpoint, step) => hooks.progress({ kind: 'checkpoint', checkpoint, step }),
    onLog: (line) => hooks.log('info', `torch: ${line}`),
  });
  totalSteps = training.totalSteps;
  let asked = false;
  const stopIfAsked = (): void => {
    if (!asked && (hooks.signal.aborted || hooks.stopRequested())) {
      asked = true;
      training.stop();
    }
  };
  const poll = setInterval(stopIfAsked, STOP_POLL_MS);
  hooks.signal.addEventListener('abort', stopIfAsked, { once: true });
  try {
    const end = await training.done;
    if (!end.checkpoint) throw new Error(`the PyTorch training of ${out} ended at step ${end.step} without a checkpoint`);
    if (hooks.signal.aborted) throw new EngineError(`train cancelled at step ${end.step}; last checkpoint: ${end.checkpoint}`, 'Cancelled');
    return {
      run: end.dir, checkpoint: end.checkpoint, step: end.step, cancelled: end.stopped,
      heldOut: end.heldOut ? evalFigures(end.heldOut, end.step) : null, backend: 'torch',
    };
  } finally {
    clearInterval(poll);
    hooks.signal.removeEventListener('abort', stopIfAsked);
  }
}
