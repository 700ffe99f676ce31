/**
 * The engine method `official.evaluate` (engine/protocol.ts `EngineMethods`): the held-out evaluation of a reference
 * trainer's checkpoint (`step_N`, a torch.save file, with `all_config.yaml` beside it) read where it lies, never
 * copied (engine/interop/official-eval.ts), its figures cached by path, size and modification time
 * (official-cache.ts). Types only: this module is bundled into the extension host.
 */
import type { EvalFigures } from '../protocol';

/** What is evaluated, besides the file: part of the cache key. */
export interface OfficialEvalSpec {
  /** Puzzles evaluated: generated (the first N of `seed`) or the first N rows of `data`. */
  puzzles: number;
  /** Generator seed of the generated puzzles (ignored with `data`). */
  seed: number;
  /** A dataset file (CSV, one per line, or a reference .npy folder), or null for generated puzzles. */
  data: string | null;
  /** Segments run per puzzle, or null for the model's own budget (halt_max_steps). */
  segments: number | null;
}

export interface OfficialEvalParams {
  /** The checkpoint, read in place. */
  file: string;
  /** Folder of the cache entries (`<key>.json`); none read or written when absent. */
  cacheDir?: string;
  /** Default OFFICIAL_EVAL_DEFAULTS.puzzles. */
  puzzles?: number;
  /** Default OFFICIAL_EVAL_DEFAULTS.seed. */
  seed?: number;
  data?: string;
  segments?: number;
}

/** The model a checkpoint holds, as the importer read it. */
export interface OfficialModelSummary {
  variant: string;
  gridSize: number;
  hidden: number;
  heads: number;
  haltMaxSteps: number;
  numParams: number;
}

/** One cache entry (`<cacheDir>/<key>.json`), and the method's result without `cached` / `cacheFile`. */
export interface OfficialEvalEntry {
  format: 'hrm-lens-official-eval';
  version: 1;
  key: string;
  file: string;
  size: number;
  mtimeMs: number;
  /** The all_config.yaml used, if any. */
  configFile: string | null;
  step: number;
  spec: OfficialEvalSpec;
  model: OfficialModelSummary;
  /** Held-out figures (as a run's .eval.json holds them). */
  figures: EvalFigures;
  seconds: number;
  /** What the importer assumed (fields neither the shapes nor the YAML gave). */
  notes: string[];
}

export interface OfficialEvalResult extends OfficialEvalEntry {
  /** True when the figures came from the cache (nothing was read or run). */
  cached: boolean;
  /** The cache entry read or written (null without `cacheDir`). */
  cacheFile: string | null;
}

export interface OfficialMethods {
  /** Evaluate a reference checkpoint in place (cached); never executes code from the file (restricted pickle reader). */
  'official.evaluate': { params: OfficialEvalParams; result: OfficialEvalResult; progress: { done: number; total: number } };
}
