/**
 * The actions of `hrm-lens train` and `hrm-lens eval` (loaded on demand: they pull in TF.js).
 *   hrm-lens train --preset tiny-4x4 [--mixing] [--augment] [--steps N] [--seed S] [--backend wasm] [--out DIR]
 *   hrm-lens train --resume DIR [--steps N]
 *   hrm-lens eval --checkpoint F [--data D] [--segments S] [--limit N] [--json] [--save NAME]
 * Ctrl-C stops training cleanly after writing a checkpoint.
 */
import * as path from 'node:path';
import { type BackendChoice, selectBackend } from '../backend';
import { getPreset } from '../train/presets';
import { type RunSpec, Trainer, evalResultJson } from '../train/trainer';
import { evaluate } from '../train/evaluate';
import { loadModel } from '../train/load-model';
import { loadEvalPuzzles } from '../train/eval-data';
import { readEvalResult, writeEvalResult, type JsonObject } from '../train/checkpoint';
import { formatDuration } from './progress';
import type { TrainDataSpec } from '../train/data-source';
import { readAllRecords } from '../sudoku/dataset';
import { type GridSize, sizeFromCells } from '../sudoku/geometry';

export interface TrainFlags {
  preset: string; resume?: string; steps?: string; seed: string; mixing?: boolean; augment?: boolean; backend: string;
  threads?: string; out?: string; batch?: string; microBatch?: string; lr?: string; checkpointEvery?: string; keepLast?: string;
  data?: string; fixedSet?: string; evalPuzzles?: string; quiet?: boolean;
}

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${v}"`);
  return n;
};

export async function backendFromFlags(flags: { backend: string; threads?: string }): Promise<JsonObject> {
  const info = await selectBackend({ backend: flags.backend as BackendChoice, threads: int(flags.threads, 'threads') });
  return info as unknown as JsonObject;
}

async function poolFromFile(file: string, size: GridSize): Promise<TrainDataSpec> {
  const { records } = await readAllRecords(file);
  const puzzles = records.filter((r) => r.solution).map((r) => ({ puzzle: r.puzzle.slice(), solution: (r.solution as Int8Array).slice() }));
  if (puzzles.length === 0) throw new Error(`${file}: no puzzles with solutions (training needs the answer column)`);
  const n = sizeFromCells(puzzles[0].puzzle.length);
  if (n !== size) throw new Error(`${file}: ${n}×${n} puzzles, but the model is ${size}×${size}`);
  return { kind: 'pool', size, puzzles, description: path.resolve(file) };
}

export async function runTraining(flags: TrainFlags): Promise<void> {
  const backend = await backendFromFlags(flags);
  let trainer: Trainer;
  let totalSteps: number;
  if (flags.resume) {
    const saved = await Trainer.readRunSpec(flags.resume);
    const pool = saved.data.kind === 'file' ? await poolFromFile(saved.data.path, saved.model.gridSize) : undefined;
    trainer = await Trainer.resume(flags.resume, { backend, pool });
    totalSteps = int(flags.steps, 'steps') ?? trainer.spec.train.steps;
  } else {
    const preset = getPreset(flags.preset);
    const train = { ...preset.train };
    const set = <K extends keyof typeof train>(k: K, v: (typeof train)[K] | undefined) => { if (v !== undefined) train[k] = v; };
    set('steps', int(flags.steps, 'steps'));
    set('batch', int(flags.batch, 'batch'));
    set('microBatch', int(flags.microBatch, 'micro-batch'));
    set('checkpointEvery', int(flags.checkpointEvery, 'checkpoint-every'));
    set('keepLast', int(flags.keepLast, 'keep-last'));
    set('fixedSetSize', int(flags.fixedSet, 'fixed-set'));
    set('evalPuzzles', int(flags.evalPuzzles, 'eval-puzzles'));
    if (flags.lr !== undefined) train.lr = Number(flags.lr);
    const seed = int(flags.seed, 'seed') ?? 0;
    const pool = flags.data ? await poolFromFile(flags.data, preset.model.gridSize) : undefined;
    const spec: RunSpec = {
      preset: preset.name, model: preset.model, train, seed, mixing: !!flags.mixing, augment: !!flags.augment,
      data: pool && pool.kind === 'pool' ? { kind: 'file', path: pool.description, puzzles: pool.puzzles.length } : { kind: 'generated' },
      backend,
    };
    const out = flags.out ?? path.join('.hrm', 'runs', `${preset.name}-s${seed}${flags.mixing ? '-mix' : ''}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
    trainer = await Trainer.create(out, spec, pool);
    totalSteps = train.steps;
  }
  const every = trainer.spec.train.checkpointEvery;
  const log = (s: string) => { if (!flags.quiet) process.stderr.write(s); };
  log(`hrm-lens train: ${trainer.dir}  preset ${trainer.spec.preset}  ${trainer.model.numParams().toLocaleString('en-US')} params  `
    + `backend ${String(backend.name)}  steps ${trainer.step}→${totalSteps}\n`);
  let stop = false;
  const onSigint = () => { if (stop) process.exit(130); stop = true; log('\nstopping after a checkpoint… (Ctrl-C again to abort)\n'); };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const t0 = Date.now();
  const startStep = trainer.step;
  let ema = 0;
  try {
    while (trainer.step < totalSteps && !stop) {
      const m = trainer.trainStep();
      trainer.logMetrics(m);
      ema = ema === 0 ? m.stepMs : 0.9 * ema + 0.1 * m.stepMs;
      if (process.stderr.isTTY || m.step % 50 === 0 || m.step === totalSteps) {
        const rate = 1000 / ema;
        const eta = (totalSteps - m.step) / rate;
        const line = `step ${m.step}/${totalSteps}  loss ${m.loss.toFixed(4)}  cell ${(m.batchCellAccuracy * 100).toFixed(1)}%`
          + `  exact(halted) ${Number.isNaN(m.exactAccuracy) ? '–' : (m.exactAccuracy * 100).toFixed(1) + '%'}  ${rate.toFixed(2)} steps/s  ETA ${formatDuration(eta)}`;
        log(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);
      }
      if (m.step % every === 0 && m.step !== totalSteps) {
        const file = await trainer.saveCheckpoint();
        log(`\ncheckpoint ${file}\n`);
      }
    }
    const result = trainer.evaluateHeldOut();
    const file = await trainer.saveCheckpoint(result);
    log(`\ncheckpoint ${file}\nheld-out (${result.puzzles} puzzles, ${result.segments} segments): exact ${(result.exact * 100).toFixed(1)}%, `
      + `per segment ${result.perSegment.map((s) => (s.exact * 100).toFixed(0)).join(' ')}  (${formatDuration((Date.now() - t0) / 1000)} for ${trainer.step - startStep} steps)\n`);
    process.stdout.write(`${JSON.stringify({ run: trainer.dir, checkpoint: file, step: trainer.step, heldOut: evalResultJson(result, trainer.step) })}\n`);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await trainer.close();
  }
}

export interface EvalFlags { checkpoint: string; data?: string; segments?: string; limit?: string; json?: boolean; save?: string; backend: string; threads?: string }

export async function runEval(flags: EvalFlags): Promise<void> {
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    if (!flags.data) throw new Error('--data is required (a CSV, one-per-line file or reference .npy folder)');
    const set = await loadEvalPuzzles(flags.data, { limit: int(flags.limit, 'limit'), size: model.config.gridSize });
    const segments = int(flags.segments, 'segments') ?? model.config.haltMaxSteps;
    const t0 = Date.now();
    const r = evaluate(model, set.puzzles, { segments });
    const seconds = (Date.now() - t0) / 1000;
    const json = { checkpoint: checkpoint.file, data: path.resolve(flags.data), ...evalResultJson(r, checkpoint.step), seconds };
    if (flags.save !== undefined) {
      const prev = (await readEvalResult(checkpoint.file)) as JsonObject | undefined;
      const sets = { ...((prev?.sets as JsonObject | undefined) ?? {}), [flags.save || path.basename(flags.data)]: json };
      await writeEvalResult(checkpoint.file, { ...(prev ?? {}), sets });
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else {
      process.stdout.write(`${checkpoint.file} on ${flags.data}: ${r.puzzles} puzzles, ${segments} segments, ${seconds.toFixed(1)} s\n`);
      process.stdout.write(`segment  exact   cell\n`);
      for (const s of r.perSegment) process.stdout.write(`${String(s.segment).padStart(7)}  ${(s.exact * 100).toFixed(1).padStart(5)}%  ${(s.cell * 100).toFixed(1).padStart(5)}%\n`);
      process.stdout.write(`halted at the last segment: ${(r.haltedAtLast * 100).toFixed(1)}%\n`);
    }
  } finally {
    model.dispose();
  }
}

