/**
 * The actions of `hrm-lens train` and `hrm-lens eval` (loaded on demand: they pull in TF.js).
 *   hrm-lens train --preset tiny-4x4 [--mixing | --mixing-resample] [--augment] [--steps N] [--seed S] [--backend wasm] [--out DIR]
 *   hrm-lens train --resume DIR [--steps N]
 *   hrm-lens eval --checkpoint F [--data D] [--segments S] [--limit N] [--json] [--save NAME]
 * Ctrl-C stops training cleanly after writing a checkpoint. The run folder is locked while written: a second
 * writer fails with the lock's message (exit code 1); a stale lock is taken over with a notice on stderr.
 */
import { type BackendChoice, selectBackend } from '../backend';
import { evalResultJson } from '../train/trainer';
import type { EvalResult } from '../train/evaluate';
import type { JsonObject } from '../train/checkpoint';
import { openTrainer, runTrainLoop } from '../train/train-session';
import { evaluateCheckpointFile } from '../train/eval-session';
import { formatDuration } from './progress';
import type { TrainSettings } from '../train/presets';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import type { TorchTrainFlags } from './train-torch-run';

export interface TrainFlags extends TorchTrainFlags {
  preset: string; resume?: string; steps?: string; seed: string; mixing?: boolean; mixingResample?: boolean; augment?: boolean; backend: string;
  threads?: string; out?: string; batch?: string; microBatch?: string; lr?: string; checkpointEvery?: string; keepLast?: string;
  data?: string; fixedSet?: string; augmentCopies?: string; evalPuzzles?: string; quiet?: boolean; forceUnlock?: boolean; freshOptimizer?: boolean; actContinue?: boolean;
  /** False with --no-tensorboard. */
  tensorboard?: boolean;
}

export async function backendFromFlags(flags: { backend: string; threads?: string }): Promise<JsonObject> {
  const info = await selectBackend({ backend: flags.backend as BackendChoice, threads: intOption(flags.threads, 'threads', LIMITS.threads) });
  return info as unknown as JsonObject;
}

/** The training options checked against their ranges (engine/util/limits.ts), before anything is loaded. */
function trainOptions(flags: TrainFlags): { steps?: number; seed?: number; overrides: Partial<TrainSettings> } {
  return {
    steps: intOption(flags.steps, 'steps', LIMITS.steps), seed: intOption(flags.seed, 'seed', LIMITS.seed),
    overrides: {
      batch: intOption(flags.batch, 'batch', LIMITS.batch), microBatch: intOption(flags.microBatch, 'micro-batch', LIMITS.batch),
      checkpointEvery: intOption(flags.checkpointEvery, 'checkpoint-every', LIMITS.steps), keepLast: intOption(flags.keepLast, 'keep-last', LIMITS.keepLast),
      fixedSetSize: intOption(flags.fixedSet, 'fixed-set', LIMITS.puzzles),
      augmentCopies: intOption(flags.augmentCopies, 'augment-copies', { min: 0, max: LIMITS.puzzles.max }),
      evalPuzzles: intOption(flags.evalPuzzles, 'eval-puzzles', { min: 0, max: LIMITS.puzzles.max }), lr: numOption(flags.lr, 'lr', NUM_LIMITS.lr),
      actContinue: flags.actContinue,
    },
  };
}

export async function runTraining(flags: TrainFlags): Promise<void> {
  const options = trainOptions(flags);
  // PyTorch trains, under torchrun (engine/torch/torch-train.ts); the engine keeps the run folder and the data.
  if (flags.freshOptimizer && !flags.resume) throw new Error('--fresh-optimizer goes with --resume DIR');
  if (flags.dtype !== undefined && flags.backend !== 'torch') {
    throw new Error(`--dtype ${flags.dtype}: --dtype goes with --backend torch (the TF.js engine trains in float32)`);
  }
  if (flags.backend === 'torch') {
    if (flags.freshOptimizer) throw new Error('--fresh-optimizer: resume with the TF.js engine (a backend other than torch)');
    return (await import('./train-torch-run')).runTorchTraining(flags, options);
  }
  const backend = await backendFromFlags(flags);
  const { trainer, totalSteps } = await openTrainer({
    preset: flags.preset, resume: flags.resume, out: flags.out, steps: options.steps, seed: options.seed,
    mixing: flags.mixing, mixingResample: flags.mixingResample, augment: flags.augment, data: flags.data, backend, overrides: options.overrides,
    tensorboard: flags.tensorboard, freshOptimizer: flags.freshOptimizer,
    lock: {
      command: ['hrm-lens', ...process.argv.slice(2)].join(' '), forceUnlock: flags.forceUnlock,
      onNotice: (m) => process.stderr.write(`hrm-lens train: ${m}\n`),
    },
  });
  const log = (s: string) => { if (!flags.quiet) process.stderr.write(s); };
  log(`hrm-lens train: ${trainer.dir}  preset ${trainer.spec.preset}  ${trainer.model.numParams().toLocaleString('en-US')} params  `
    + `backend ${String(backend.name)}  steps ${trainer.step}→${totalSteps}\n`);
  let stop = false;
  const onSigint = () => { if (stop) process.exit(130); stop = true; log('\nstopping after a checkpoint… (Ctrl-C again to abort)\n'); };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const t0 = Date.now();
  const startStep = trainer.step;
  try {
    const end = await runTrainLoop(trainer, totalSteps, {
      shouldStop: () => stop,
      evaluateWhenStopped: true,
      onStep: (m, rate) => {
        if (!(process.stderr.isTTY || m.step % 50 === 0 || m.step === totalSteps)) return;
        const eta = (totalSteps - m.step) / rate;
        const line = `step ${m.step}/${totalSteps}  loss ${m.loss.toFixed(4)}  cell ${(m.batchCellAccuracy * 100).toFixed(1)}%`
          + `  exact(halted) ${Number.isNaN(m.exactAccuracy) ? '–' : (m.exactAccuracy * 100).toFixed(1) + '%'}  ${rate.toFixed(2)} steps/s  ETA ${formatDuration(eta)}`;
        log(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);
      },
      onCheckpoint: (file) => log(`\ncheckpoint ${file}\n`),
      onParallelism: (d) => log(`${process.stderr.isTTY ? '\n' : ''}a step is ${d}\n`),
    });
    const result = end.heldOut as EvalResult;
    log(`held-out (${result.puzzles} puzzles, ${result.segments} segments): exact ${(result.exact * 100).toFixed(1)}%, `
      + `per segment ${result.perSegment.map((s) => (s.exact * 100).toFixed(0)).join(' ')}  (${formatDuration((Date.now() - t0) / 1000)} for ${trainer.step - startStep} steps)\n`);
    process.stdout.write(`${JSON.stringify({ run: trainer.dir, checkpoint: end.checkpoint, step: trainer.step, heldOut: evalResultJson(result, trainer.step) })}\n`);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await trainer.close();
  }
}

export interface EvalFlags { checkpoint: string; data?: string; segments?: string; limit?: string; json?: boolean; save?: string | boolean; backend: string; threads?: string }

/** `--save` alone (commander gives true) stores under the data file's name (''), `--save NAME` under NAME. */
export function saveName(flag: string | boolean | undefined): string | undefined {
  if (flag === undefined || flag === false) return undefined;
  return flag === true ? '' : flag;
}

export async function runEval(flags: EvalFlags): Promise<void> {
  if (!flags.data) throw new Error('--data is required (a CSV, one-per-line file or reference .npy folder)');
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  const limit = intOption(flags.limit, 'limit', LIMITS.limit);
  await backendFromFlags(flags);
  const { report, result: r } = await evaluateCheckpointFile({ checkpoint: flags.checkpoint, data: flags.data, segments, limit, save: saveName(flags.save) });
  const { savedTo: _savedTo, ...json } = report;
  if (flags.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else {
    process.stdout.write(`${report.checkpoint} on ${flags.data}: ${r.puzzles} puzzles, ${r.segments} segments, ${report.seconds.toFixed(1)} s\n`);
    process.stdout.write(`segment  exact   cell\n`);
    for (const s of r.perSegment) process.stdout.write(`${String(s.segment).padStart(7)}  ${(s.exact * 100).toFixed(1).padStart(5)}%  ${(s.cell * 100).toFixed(1).padStart(5)}%\n`);
    process.stdout.write(`halted at the last segment: ${(r.haltedAtLast * 100).toFixed(1)}%\n`);
  }
}
