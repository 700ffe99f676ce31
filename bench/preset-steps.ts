/**
 * Training speed of a preset as `hrm-lens train --preset NAME` runs it: the preset's model, batch, micro-batch,
 * optimizer and ACT settings, and its generated puzzles (drawing them is part of a step, as in a real run; the
 * held-out set is not generated). `warmup` optimizer steps first (the JIT, the data-parallel helper and the first
 * full batch of puzzles), then `runs` runs of `steps` steps each, timed; one rate per run (steps ÷ seconds). Used by
 * bench/presets-bench.ts and the `presets` row of bench/summary-ts.ts. The backend is the process's (selectBackend
 * first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';

/** The presets timed by default: the CPU demo, both 6×6 presets and the 9×9 one. */
export const BENCH_PRESETS = ['tiny-4x4', 'small-6x6', 'hard-6x6', 'easy-9x9'] as const;

export interface PresetTiming {
  preset: string;
  gridSize: number;
  hidden: number;
  batch: number;
  /** The micro-batch the trainer used (on wasm half the batch unless the preset sets one). */
  microBatch: number;
  params: number;
  warmup: number;
  steps: number;
  /** One rate per timed run: steps ÷ seconds. */
  stepsPerSecond: number[];
  /** Seconds the warm-up steps took (the first step generates a whole batch of puzzles). */
  warmupSeconds: number;
}

export interface PresetTimingOptions {
  steps: number;
  warmup: number;
  runs: number;
  seed?: number;
}

/** Times `opts.runs` runs of `opts.steps` optimizer steps of `preset`, after `opts.warmup` steps. */
export async function timePresetSteps(preset: string, opts: PresetTimingOptions): Promise<PresetTiming> {
  for (const [k, v] of Object.entries({ steps: opts.steps, runs: opts.runs })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`timePresetSteps: ${k} must be an integer >= 1, got ${v}`);
  }
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) throw new RangeError(`timePresetSteps: warmup must be an integer >= 0, got ${opts.warmup}`);
  const p = getPreset(preset);
  const dir = mkdtempSync(path.join(tmpdir(), `hrm-bench-${preset}-`));
  try {
    const trainer = await Trainer.create(dir, {
      preset: p.name, model: p.model, train: { ...p.train, evalPuzzles: 0, steps: opts.warmup + opts.runs * opts.steps },
      seed: opts.seed ?? 1, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
    });
    try {
      const t0 = performance.now();
      for (let i = 0; i < opts.warmup; i++) trainer.trainStep();
      const warmupSeconds = (performance.now() - t0) / 1000;
      const stepsPerSecond: number[] = [];
      for (let r = 0; r < opts.runs; r++) {
        const t = performance.now();
        for (let i = 0; i < opts.steps; i++) trainer.trainStep();
        stepsPerSecond.push(opts.steps / ((performance.now() - t) / 1000));
      }
      return {
        preset: p.name, gridSize: p.model.gridSize, hidden: p.model.hidden, batch: p.train.batch, microBatch: trainer.microBatchSize(),
        params: trainer.model.numParams(), warmup: opts.warmup, steps: opts.steps, stepsPerSecond, warmupSeconds,
      };
    } finally {
      await trainer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
