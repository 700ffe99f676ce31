/**
 * A training session as `hrm-lens train` and the engine's `train` method run it: open a Trainer (a new run from a
 * preset with overrides, or a resumed run; either locks the run folder until the trainer is closed), then step it to
 * the target with periodic checkpoints, yielding to the event loop between steps (so that a host's stop request or a
 * Ctrl-C can arrive), and finish with the held-out evaluation and a final checkpoint — or, when stopped early and
 * asked to, with just the checkpoint.
 */
import * as path from 'node:path';
import { getPreset, type TrainSettings, validateTrainSettings } from './presets';
import { type RunSpec, type StepMetrics, Trainer } from './trainer';
import type { EvalResult } from './evaluate';
import type { JsonObject } from './checkpoint';
import type { TrainDataSpec } from './data-source';
import type { RunLockOptions } from './run-lock';
import { readAllRecords } from '../sudoku/dataset';
import { type GridSize, sizeFromCells } from '../sudoku/geometry';

export interface OpenTrainerOptions {
  /** Preset of a new run (ignored when resuming). */
  preset: string;
  /** Continue the run in this folder instead of starting one. */
  resume?: string;
  /** Folder of a new run (default: defaultRunDir()). */
  out?: string;
  /** Total steps (default: the preset's, or the resumed run's). */
  steps?: number;
  seed?: number;
  mixing?: boolean;
  /** Mixing with a fresh hint twin per draw instead of one fixed twin per training puzzle (implies mixing). */
  mixingResample?: boolean;
  augment?: boolean;
  /** Training settings that replace the preset's. */
  overrides?: Partial<TrainSettings>;
  /** A dataset file to train on instead of generated puzzles. */
  data?: string;
  /** The backend description recorded in the run. */
  backend: JsonObject;
  /** How the run folder is locked while written (engine/train/run-lock.ts): what holds it, force, notices. */
  lock?: RunLockOptions;
  /** Write a TensorBoard event file in the run folder (default true). */
  tensorboard?: boolean;
  /** With `resume`: continue from the checkpoint's weights with a new optimizer state (Trainer.resume). */
  freshOptimizer?: boolean;
}

/** `.hrm/runs/<preset>-s<seed>[-mix]-<yyyymmddThhmmss>` (relative to `base`, default the working directory). */
export function defaultRunDir(preset: string, seed: number, mixing: boolean, base = '.', now = new Date()): string {
  return path.join(base, '.hrm', 'runs', `${preset}-s${seed}${mixing ? '-mix' : ''}-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
}

/** Training puzzles (with solutions) from a dataset file. */
export async function poolFromFile(file: string, size: GridSize): Promise<TrainDataSpec> {
  const { records } = await readAllRecords(file);
  const puzzles = records.filter((r) => r.solution).map((r) => ({ puzzle: r.puzzle.slice(), solution: (r.solution as Int8Array).slice() }));
  if (puzzles.length === 0) throw new Error(`${file}: no puzzles with solutions (training needs the answer column)`);
  const n = sizeFromCells(puzzles[0].puzzle.length);
  if (n !== size) throw new Error(`${file}: ${n}×${n} puzzles, but the model is ${size}×${size}`);
  return { kind: 'pool', size, puzzles, description: path.resolve(file) };
}

export async function openTrainer(o: OpenTrainerOptions): Promise<{ trainer: Trainer; totalSteps: number }> {
  if (o.resume) {
    const saved = await Trainer.readRunSpec(o.resume);
    const pool = saved.data.kind === 'file' ? await poolFromFile(saved.data.path, saved.model.gridSize) : undefined;
    const trainer = await Trainer.resume(o.resume, { backend: o.backend, pool, lock: o.lock, tensorboard: o.tensorboard, freshOptimizer: o.freshOptimizer });
    return { trainer, totalSteps: o.steps ?? trainer.spec.train.steps };
  }
  const { spec, pool } = await newRunSpec(o);
  const trainer = await Trainer.create(o.out ?? defaultRunDir(spec.preset, spec.seed, spec.mixing), spec, pool, o.lock, { tensorboard: o.tensorboard });
  return { trainer, totalSteps: spec.train.steps };
}

/** The spec of a new run (its preset with the overrides, checked) and its training puzzles when they come from a file. */
export async function newRunSpec(o: OpenTrainerOptions): Promise<{ spec: RunSpec; pool: TrainDataSpec | undefined }> {
  const preset = getPreset(o.preset);
  const train: TrainSettings = { ...preset.train };
  for (const [k, v] of Object.entries(o.overrides ?? {})) if (v !== undefined) (train as unknown as Record<string, unknown>)[k] = v;
  if (o.steps !== undefined) train.steps = o.steps;
  validateTrainSettings(train);
  const seed = o.seed ?? 0;
  const pool = o.data ? await poolFromFile(o.data, preset.model.gridSize) : undefined;
  const mixing = !!o.mixing || !!o.mixingResample;
  const spec: RunSpec = {
    preset: preset.name, model: preset.model, train, seed, mixing, ...(mixing ? { mixingMode: o.mixingResample ? 'resample' as const : 'fixed' as const } : {}),
    augment: !!o.augment,
    data: pool && pool.kind === 'pool' ? { kind: 'file', path: pool.description, puzzles: pool.puzzles.length } : { kind: 'generated' },
    backend: o.backend,
  };
  return { spec, pool };
}

export interface TrainLoopHooks {
  /** Polled before every step; true ends the run early (after a checkpoint). */
  shouldStop(): boolean;
  /** After every step, with the smoothed rate (steps per second). */
  onStep?(m: StepMetrics, stepsPerSecond: number): void;
  onCheckpoint?(file: string, step: number): void;
  /** How steps are computed (Trainer.describeParallelism): after the first step, and whenever it changes. */
  onParallelism?(description: string): void;
  /** Run the held-out evaluation also when stopped early (the CLI does; default false). */
  evaluateWhenStopped?: boolean;
}

export interface TrainLoopResult {
  checkpoint: string;
  step: number;
  /** Ended before the target step. */
  stopped: boolean;
  /** Null when stopped early without evaluateWhenStopped. */
  heldOut: EvalResult | null;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

/** Step `trainer` to `totalSteps` (metrics logged, checkpoints every checkpointEvery steps), then save the last one. */
export async function runTrainLoop(trainer: Trainer, totalSteps: number, hooks: TrainLoopHooks): Promise<TrainLoopResult> {
  const every = trainer.spec.train.checkpointEvery;
  let ema = 0;
  let parallelism = '';
  while (trainer.step < totalSteps && !hooks.shouldStop()) {
    const m = trainer.trainStep();
    trainer.logMetrics(m);
    const now = trainer.describeParallelism();
    if (now !== parallelism) hooks.onParallelism?.(now);
    parallelism = now;
    ema = ema === 0 ? m.stepMs : 0.9 * ema + 0.1 * m.stepMs;
    hooks.onStep?.(m, 1000 / ema);
    if (m.step % every === 0 && m.step !== totalSteps) {
      const file = await trainer.saveCheckpoint();
      hooks.onCheckpoint?.(file, m.step);
    }
    await nextTick();
  }
  const stopped = trainer.step < totalSteps;
  const heldOut = stopped && !hooks.evaluateWhenStopped ? null : await trainer.evaluateHeldOutAsync();
  const checkpoint = await trainer.saveCheckpoint(heldOut ?? undefined);
  hooks.onCheckpoint?.(checkpoint, trainer.step);
  return { checkpoint, step: trainer.step, stopped, heldOut };
}
