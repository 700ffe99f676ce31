/**
 * Training presets: a model config plus the training settings that go with it.
 *
 * - tiny-4x4: the CPU demo (minutes on one core); docs/model.md §Presets.
 * - small-6x6: 6×6 puzzles with extra givens (the clue-count knob), tens of minutes on CPU.
 * - hard-6x6 / paper-6x6: minimal 6×6 puzzles, endless fresh ones or the paper's fixed 1,000 × 1,000 copies.
 * - easy-9x9: real 9×9 Sudoku with many givens; hours on CPU for exact solves.
 * - hrm-sudoku-extreme: the paper's 27M configuration and recipe (for GPUs and imported weights).
 * Every field can be overridden from the CLI or a config file.
 */
import { type HrmConfig, HRM_SUDOKU_27M, TINY_4X4, makeConfig } from '../model/config';
import { type IntLimit, type NumLimit, LIMITS, NUM_LIMITS, intProblem, numProblem } from '../util/limits';
import { DataError } from '../util/errors';
import type { LossType } from './losses';

export interface TrainSettings {
  /** Global batch (slots). */
  batch: number;
  /**
   * Micro-batch for gradient accumulation (the wasm heap is 4 GiB); default: on wasm half the batch (two micro-batches,
   * side by side on two cores: Trainer.microBatchSize), elsewhere the batch.
   */
  microBatch?: number;
  /** Optimizer steps. */
  steps: number;
  lr: number;
  warmup: number;
  /** Cosine floor as a fraction of lr (1 = constant after warm-up, the reference default). */
  lrMinRatio: number;
  weightDecay: number;
  puzzleEmbLr: number;
  puzzleEmbWeightDecay: number;
  lossType: LossType;
  /**
   * HRM halting: true (the default when absent) trains q_continue on the next segment's Q (an extra forward pass) and
   * halts when q_halt > q_continue; false has no continue target and halts when q_halt > 0 (the reference's later
   * `no_ACT_continue`, TRM's rule). TRM always halts on q_halt alone.
   */
  actContinue?: boolean;
  /** EMA decay (TRM uses 0.999); undefined = no EMA. */
  ema?: number;
  checkpointEvery: number;
  keepLast: number;
  /** Generated training puzzles: clue bounds. */
  minClues?: number;
  maxClues?: number;
  /** A fixed training set of this many puzzles (the paper's small-sample regime) instead of endless fresh ones. */
  fixedSetSize?: number;
  /**
   * Fixed symmetry copies per puzzle of the fixed set (or dataset file), as the reference builder's `--num-aug`: each
   * puzzle plus this many transforms, one member drawn per draw (engine/train/data-source.ts).
   */
  augmentCopies?: number;
  /** Held-out evaluation set generated for the run (excluded from training): size and segments. */
  evalPuzzles: number;
  evalSegments: number;
}

export interface Preset {
  name: string;
  description: string;
  model: HrmConfig;
  train: TrainSettings;
}

const common = { lrMinRatio: 1, lossType: 'stablemax' as const, keepLast: 10 };

export const PRESETS: Readonly<Record<string, Preset>> = {
  'tiny-4x4': {
    name: 'tiny-4x4',
    description: '4×4 Sudoku, D=64, 1+1 layers, learned positions, softmax CE; learns to solve most puzzles in minutes on one CPU core',
    // Learned positions and softmax cross-entropy learn markedly faster than RoPE + stablemax at this size (measured:
    // eval cell accuracy 0.82 vs 0.58 after 600 steps), as in the CPU prototype
    // (docs/model.md §Why tiny-4x4 uses learned positions and softmax).
    model: { ...TINY_4X4, positions: 'learned' },
    train: {
      ...common, lossType: 'softmax', batch: 64, steps: 2000, lr: 1e-3, warmup: 50, weightDecay: 0.1, puzzleEmbLr: 1e-3,
      puzzleEmbWeightDecay: 0.1, checkpointEvery: 250, evalPuzzles: 500, evalSegments: 4,
    },
  },
  'small-6x6': {
    name: 'small-6x6',
    description: '6×6 Sudoku with 18 givens, D=64, 4 heads, 1+1 layers, halt-only ACT; ~21 minutes on 2 CPU cores for 20,000 steps (90–92% of held-out puzzles solved exactly)',
    // Four heads instead of two (two stall at ~80% of cells with no exact solves) and no continue target (halt when
    // q_halt > 0: no extra forward pass, ~1.5× the steps per minute); docs/model.md §What training settings change.
    model: makeConfig({ ...TINY_4X4, gridSize: 6, heads: 4, haltMaxSteps: 6 }),
    train: {
      ...common, batch: 64, steps: 20000, lr: 1e-3, lrMinRatio: 0.1, warmup: 100, weightDecay: 0.1, puzzleEmbLr: 1e-3,
      puzzleEmbWeightDecay: 0.1, actContinue: false, checkpointEvery: 2000, minClues: 18, evalPuzzles: 200, evalSegments: 8,
    },
  },
  'hard-6x6': {
    name: 'hard-6x6',
    description: 'minimal 6×6 Sudoku (~10 givens, no clue can be removed), D=64, 4 heads, 1+1 layers, up to 16 segments, halt-only ACT, endless fresh puzzles',
    model: makeConfig({ ...TINY_4X4, gridSize: 6, hidden: 64, heads: 4, haltMaxSteps: 16 }),
    train: {
      ...common, batch: 64, steps: 50000, lr: 1e-3, lrMinRatio: 0.1, warmup: 200, weightDecay: 0.1, puzzleEmbLr: 1e-3,
      puzzleEmbWeightDecay: 0.1, actContinue: false, checkpointEvery: 2500, minClues: 0, evalPuzzles: 500, evalSegments: 16,
    },
  },
  'paper-6x6': {
    name: 'paper-6x6',
    description: "hard-6x6's model trained as the paper trains: a fixed set of 1,000 minimal 6×6 puzzles × 1,000 symmetry copies, 20,000 steps",
    // The paper's small-sample regime (1,000 training puzzles, fixed augmentations) at the scale of hard-6x6: endless
    // fresh puzzles make the baseline near perfect, a fixed set leaves it an imperfect solver (docs/model.md §paper-6x6).
    model: makeConfig({ ...TINY_4X4, gridSize: 6, hidden: 64, heads: 4, haltMaxSteps: 16 }),
    train: {
      ...common, batch: 64, steps: 20000, lr: 1e-3, lrMinRatio: 0.1, warmup: 200, weightDecay: 0.1, puzzleEmbLr: 1e-3,
      puzzleEmbWeightDecay: 0.1, actContinue: false, checkpointEvery: 1000, minClues: 0, fixedSetSize: 1000,
      augmentCopies: 1000, evalPuzzles: 500, evalSegments: 16,
    },
  },
  'easy-9x9': {
    name: 'easy-9x9',
    description: '9×9 Sudoku with ≥ 40 givens, D=64, 4 heads, 1+1 layers, halt-only ACT; about an hour on 2 CPU cores for 30,000 steps',
    // hard-6x6's model at 81 cells: the wider 2 + 2-block model learned ~0.2 steps/s here, far too slow to reach exact
    // solves on a CPU (docs/model.md §easy-9x9).
    model: makeConfig({ ...TINY_4X4, gridSize: 9, hidden: 64, heads: 4, haltMaxSteps: 8 }),
    train: {
      ...common, batch: 64, steps: 30000, lr: 1e-3, lrMinRatio: 0.1, warmup: 200, weightDecay: 0.1, puzzleEmbLr: 1e-3,
      puzzleEmbWeightDecay: 0.1, actContinue: false, checkpointEvery: 1000, minClues: 40, evalPuzzles: 200, evalSegments: 8,
    },
  },
  'hrm-sudoku-extreme': {
    name: 'hrm-sudoku-extreme',
    description: "The paper's 27M HRM and recipe (global batch 768, lr 1e-4, wd 1.0, 2000 warm-up steps); for GPUs and imported weights",
    model: { ...HRM_SUDOKU_27M },
    train: {
      ...common, batch: 768, microBatch: 32, steps: 52080, lr: 1e-4, warmup: 2000, weightDecay: 1.0, puzzleEmbLr: 1e-4,
      puzzleEmbWeightDecay: 1.0, checkpointEvery: 1302, fixedSetSize: 1000, augmentCopies: 1000, evalPuzzles: 1000, evalSegments: 16,
    },
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}" (known: ${presetNames().join(', ')})`);
  return { name: p.name, description: p.description, model: { ...p.model }, train: { ...p.train } };
}

/**
 * The range of every training setting (presets, CLI flags, `train` requests and a resumed run's run.json), from the
 * shared table engine/util/limits.ts where the setting is an option too.
 */
export const TRAIN_SETTING_RANGES: Readonly<Record<Exclude<keyof TrainSettings, 'lossType' | 'actContinue'>, { int: IntLimit } | { num: NumLimit }>> = Object.freeze({
  batch: { int: LIMITS.batch },
  microBatch: { int: LIMITS.batch },
  steps: { int: LIMITS.steps },
  lr: { num: NUM_LIMITS.lr },
  warmup: { int: { min: 0, max: LIMITS.steps.max } },
  lrMinRatio: { num: { min: 0, max: 1, minInclusive: true } },
  weightDecay: { num: { min: 0, max: 100, minInclusive: true } },
  puzzleEmbLr: { num: { min: 0, max: NUM_LIMITS.lr.max, minInclusive: true } },
  puzzleEmbWeightDecay: { num: { min: 0, max: 100, minInclusive: true } },
  ema: { num: { min: 0, max: 1 } },
  checkpointEvery: { int: LIMITS.steps },
  keepLast: { int: LIMITS.keepLast },
  minClues: { int: { min: 0, max: 81 } },
  maxClues: { int: { min: 0, max: 81 } },
  fixedSetSize: { int: LIMITS.puzzles },
  augmentCopies: { int: { min: 0, max: LIMITS.puzzles.max } },
  evalPuzzles: { int: { min: 0, max: LIMITS.puzzles.max } },
  evalSegments: { int: LIMITS.segments },
});

/** Every problem with training settings, with the setting each concerns (empty when valid). Optional settings may be absent. */
export function trainSettingsProblems(t: TrainSettings): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const rec = t as unknown as Record<string, unknown>;
  for (const [k, r] of Object.entries(TRAIN_SETTING_RANGES)) {
    const v = rec[k];
    const optional = k === 'microBatch' || k === 'ema' || k === 'minClues' || k === 'maxClues' || k === 'fixedSetSize' || k === 'augmentCopies';
    if (v === undefined && optional) continue;
    const problem = 'int' in r ? intProblem(k, v, r.int) : numProblem(k, v, r.num);
    if (problem !== undefined) out.push({ field: k, message: problem });
  }
  if (t.lossType !== 'stablemax' && t.lossType !== 'softmax') out.push({ field: 'lossType', message: `lossType must be 'stablemax' or 'softmax', got ${String(t.lossType)}` });
  if (t.actContinue !== undefined && typeof t.actContinue !== 'boolean') out.push({ field: 'actContinue', message: `actContinue must be true or false, got ${String(t.actContinue)}` });
  return out;
}

/**
 * Throws unless the settings are within TRAIN_SETTING_RANGES: a DataError naming `file` and `spec.train.<field>`
 * when they were read from a file (a run's run.json), else a RangeError.
 */
export function validateTrainSettings(t: TrainSettings, file?: string): TrainSettings {
  const problems = trainSettingsProblems(t);
  if (problems.length === 0) return t;
  const text = `bad training settings: ${problems.map((p) => p.message).join('; ')}`;
  if (file !== undefined) throw new DataError({ file, field: `spec.train.${problems[0].field}` }, text);
  throw new RangeError(text);
}
