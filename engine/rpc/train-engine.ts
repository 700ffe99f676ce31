/**
 * The heavy half of the train and evaluate handlers (TF.js, model, trainer), imported on first use. Runs the same
 * session code as `hrm-lens train` / `hrm-lens eval` (engine/train/train-session.ts, engine/train/eval-session.ts),
 * with the same run-folder lock: a folder another process writes fails the request with the lock's message.
 */
import * as path from 'node:path';
import type { BackendChoice } from '../backend';
import { EngineError, type EvaluateParams, type EvaluateResult, type LogLevel, type TrainEvent, type TrainParams, type TrainResult } from '../protocol';
import type { JsonObject } from '../train/checkpoint';
import { evalFigures, evaluateCheckpointFile } from '../train/eval-session';
import { openTrainer, runTrainLoop } from '../train/train-session';
import { engineBackend } from './engine-backend';

export interface TrainRunHooks {
  signal: AbortSignal;
  /** True once `train.stop` asked this run to stop. */
  stopRequested(): boolean;
  progress(event: TrainEvent): void;
  log(level: LogLevel, message: string): void;
}

export async function trainRun(p: TrainParams, hooks: TrainRunHooks): Promise<TrainResult> {
  const info = await engineBackend(p.backend as BackendChoice | undefined, (m) => hooks.log('warn', `train: ${m}`));
  const out = path.resolve(p.out);
  const { trainer, totalSteps } = await openTrainer({
    preset: p.preset, resume: p.resume ? out : undefined, out, steps: p.steps, seed: p.seed, mixing: p.mixing, mixingResample: p.mixingResample, data: p.data,
    overrides: { batch: p.batch }, backend: info as unknown as JsonObject,
    lock: { command: `HRM Lens engine: train${p.resume ? ' (resume)' : ''}`, onNotice: (m) => hooks.log('warn', `train: ${m}`) },
  });
  try {
    hooks.log('info', `train: ${trainer.dir}, preset ${trainer.spec.preset}, ${trainer.model.numParams()} params, backend ${info.name}, steps ${trainer.step}→${totalSteps}`);
    const end = await runTrainLoop(trainer, totalSteps, {
      shouldStop: () => hooks.signal.aborted || hooks.stopRequested(),
      onStep: (m, rate) => hooks.progress({
        kind: 'step', step: m.step, totalSteps, loss: m.loss, cellAccuracy: m.batchCellAccuracy,
        exactAccuracy: Number.isFinite(m.exactAccuracy) ? m.exactAccuracy : null, stepsPerSecond: rate, backend: info.name,
        meanSteps: Number.isFinite(m.meanSteps) ? m.meanSteps : null, segmentExact: m.segmentExact, lr: m.lr,
      }),
      onCheckpoint: (checkpoint, step) => hooks.progress({ kind: 'checkpoint', checkpoint, step }),
      onParallelism: (d) => hooks.log('info', `train: a step is ${d}`),
    });
    if (hooks.signal.aborted) throw new EngineError(`train cancelled at step ${end.step}; last checkpoint: ${end.checkpoint}`, 'Cancelled');
    return {
      run: trainer.dir, checkpoint: end.checkpoint, step: end.step, cancelled: end.stopped,
      heldOut: end.heldOut ? evalFigures(end.heldOut, end.step) : null, backend: info.name,
    };
  } finally {
    await trainer.close();
  }
}

export async function evaluateRun(p: EvaluateParams, signal: AbortSignal, progress: (e: { done: number; total: number }) => void): Promise<EvaluateResult> {
  await engineBackend();
  const { report } = await evaluateCheckpointFile({ ...p, signal, onProgress: (done, total) => progress({ done, total }) });
  return report;
}
