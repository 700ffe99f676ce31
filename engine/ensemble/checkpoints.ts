/**
 * Checkpoint ensembles (model bootstrapping; docs/analyses.md §Checkpoint ensembles) and the pass matrix they feed to
 * report.ts.
 *
 * Sources: a run folder (its `step-N.safetensors` files, engine/train/checkpoint.ts; the LAST K by step, oldest first,
 * as the paper takes the last 10 of one run), or any list of checkpoint files (kept in the given order). A file in
 * the list may itself be a run folder, which then contributes its last K (or all) checkpoints.
 * The pass matrix loads ONE checkpoint at a time (load, run every puzzle × perturbation, dispose), so a K-checkpoint
 * ensemble needs the memory of one model.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { listCheckpoints } from '../train/checkpoint';
import { loadModel } from '../train/load-model';
import type { Grid } from '../sudoku/geometry';
import type { Pass } from './votes';
import type { PassMatrix } from './report';
import { type Perturbation, type PerturbedRunOptions, perturbedPassesBatchedAsync } from './perturb';

/** The last `last` checkpoints of a run folder (all when undefined), oldest first; throws when there are none. */
export async function runCheckpoints(dir: string, last?: number): Promise<string[]> {
  if (last !== undefined && (!Number.isInteger(last) || last < 1)) throw new RangeError(`last must be an integer >= 1, got ${last}`);
  const all = await listCheckpoints(dir);
  if (all.length === 0) throw new Error(`${dir}: no step-N.safetensors checkpoints`);
  return all.slice(last === undefined ? 0 : Math.max(0, all.length - last)).map((e) => e.file);
}

/** Expands a list of files and run folders into checkpoint files (folders: their last `last`). */
export async function resolveCheckpoints(sources: readonly string[], last?: number): Promise<string[]> {
  const out: string[] = [];
  for (const s of sources) {
    const st = await fs.stat(s).catch(() => undefined);
    if (!st) throw new Error(`${s}: no such file or folder`);
    if (st.isDirectory()) out.push(...await runCheckpoints(s, last));
    else out.push(s);
  }
  if (out.length === 0) throw new Error('no checkpoints given');
  return out;
}

/** A short, unique-enough display name: `<folder>/<file stem>`. */
export function checkpointLabel(file: string): string {
  return `${path.basename(path.dirname(file))}/${path.basename(file).replace(/\.safetensors$/, '')}`;
}

export interface EnsemblePuzzle {
  puzzle: Grid;
  solution: Grid;
  id?: string;
  rating?: number;
}

export interface PassMatrixOptions {
  segments?: number;
  maxRows?: number;
  onProgress?: (p: { checkpoint: number; checkpoints: number; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** Runs every checkpoint on every puzzle × perturbation; the result is report.ts's PassMatrix. */
export function buildPassMatrix(
  files: readonly string[], puzzles: readonly EnsemblePuzzle[], perturbations: readonly Perturbation[], opts: PassMatrixOptions = {},
): Promise<PassMatrix> {
  return buildPassMatrixWith(files, puzzles, perturbations, opts, async (file, grids, o) => {
    const { model } = await loadModel(file);
    try {
      return await perturbedPassesBatchedAsync(model, grids, perturbations, o);
    } finally {
      model.dispose();
    }
  });
}

/**
 * buildPassMatrix with another runner: `passesOf(file, grids, opts)` gives one checkpoint's passes
 * [puzzle][perturbation] (loading the checkpoint itself, e.g. into the PyTorch worker), one checkpoint at a time.
 */
export async function buildPassMatrixWith(
  files: readonly string[], puzzles: readonly EnsemblePuzzle[], perturbations: readonly Perturbation[], opts: PassMatrixOptions,
  passesOf: (file: string, grids: Grid[], opts: PerturbedRunOptions) => Promise<Pass[][]>,
): Promise<PassMatrix> {
  const byCheckpoint: Pass[][][] = [];
  for (let c = 0; c < files.length; c++) {
    byCheckpoint.push(await passesOf(files[c], puzzles.map((p) => p.puzzle), {
      segments: opts.segments, maxRows: opts.maxRows, signal: opts.signal,
      onProgress: (done, total) => opts.onProgress?.({ checkpoint: c, checkpoints: files.length, done, total }),
    }));
  }
  const hasRatings = puzzles.every((p) => p.rating !== undefined);
  return {
    passes: puzzles.map((_, i) => byCheckpoint.map((perC) => perC[i])),
    solutions: puzzles.map((p) => p.solution),
    checkpointNames: files.map(checkpointLabel),
    perturbationNames: perturbations.map((p) => p.name),
    ratings: hasRatings ? puzzles.map((p) => p.rating as number) : undefined,
    puzzleIds: puzzles.map((p, i) => p.id ?? String(i)),
  };
}
