/**
 * The run folders of a reproduction: run.json (how the run was trained: engine/train/trainer.ts RunSpec; an imported
 * run has none) and its step-N.safetensors checkpoints (engine/ensemble/checkpoints.ts runCheckpoints). The newest
 * checkpoint is "the model" of the run; the last N form its bootstrap ensemble. The grid size comes from the newest
 * checkpoint's own config, so a folder whose run.json disagrees with its weights cannot slip through.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { configFromFile } from '../model';
import { loadCheckpoint } from '../train/checkpoint';
import { type RunSpec, Trainer } from '../train/trainer';
import { runCheckpoints } from '../ensemble/checkpoints';
import { DataError } from '../util/errors';
import type { GridSize } from '../sudoku/geometry';
import type { PaperArm } from './report-types';

export interface RunFolder {
  arm: PaperArm;
  dir: string;
  /** Null for a run.json without a training spec (an imported checkpoint). */
  spec: RunSpec | null;
  /** All checkpoints, oldest first. */
  checkpoints: string[];
  newest: string;
  step: number;
  gridSize: GridSize;
  haltMaxSteps: number;
}

export async function readRunFolder(dir: string, arm: PaperArm): Promise<RunFolder> {
  const abs = path.resolve(dir);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`--${arm}: ${dir} is not a run folder (no such folder)`);
  const runJson = path.join(abs, 'run.json');
  let text: string;
  try {
    text = await fs.readFile(runJson, 'utf8');
  } catch {
    throw new Error(`--${arm}: ${dir} is not a run folder (no run.json)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DataError({ file: runJson }, `not JSON (${(err as Error).message})`);
  }
  const hasSpec = parsed !== null && typeof parsed === 'object' && 'spec' in parsed;
  const spec = hasSpec ? await Trainer.readRunSpec(abs) : null;
  const checkpoints = await runCheckpoints(abs).catch(() => {
    throw new Error(`--${arm}: ${dir} holds no step-N.safetensors checkpoints`);
  });
  const newest = checkpoints[checkpoints.length - 1];
  const ckpt = await loadCheckpoint(newest);
  const config = configFromFile(ckpt.config, newest, 'config');
  if (spec && spec.model.gridSize !== config.gridSize) {
    throw new DataError({ file: runJson, field: 'spec.model.gridSize' }, `says ${spec.model.gridSize}×${spec.model.gridSize}, its newest checkpoint is ${config.gridSize}×${config.gridSize}`);
  }
  return { arm, dir: abs, spec, checkpoints, newest, step: ckpt.step, gridSize: config.gridSize as GridSize, haltMaxSteps: config.haltMaxSteps };
}

/** All runs, refused unless every one has the same grid size. */
export async function readRunFolders(baseline: readonly string[], mixing: readonly string[]): Promise<{ baseline: RunFolder[]; mixing: RunFolder[]; gridSize: GridSize }> {
  const b: RunFolder[] = [];
  for (const d of baseline) b.push(await readRunFolder(d, 'baseline'));
  const m: RunFolder[] = [];
  for (const d of mixing) m.push(await readRunFolder(d, 'mixing'));
  const all = [...b, ...m];
  const first = all[0];
  const other = all.find((r) => r.gridSize !== first.gridSize);
  if (other) {
    throw new RangeError(`runs of different grid sizes cannot be compared: ${first.dir} (--${first.arm}) is ${first.gridSize}×${first.gridSize}, `
      + `${other.dir} (--${other.arm}) is ${other.gridSize}×${other.gridSize}`);
  }
  const seen = new Map<string, PaperArm>();
  for (const r of all) {
    const prev = seen.get(r.dir);
    if (prev !== undefined) throw new RangeError(`${r.dir} is named twice (--${prev} and --${r.arm}): each run belongs to one arm, once`);
    seen.set(r.dir, r.arm);
  }
  return { baseline: b, mixing: m, gridSize: first.gridSize };
}
