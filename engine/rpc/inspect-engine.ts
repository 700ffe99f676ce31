/** The heavy half of the inspect handlers (TF.js, model, analyses), imported on first use. */
import { engineBackend } from './engine-backend';
import type { HrmModel } from '../model';
import { loadModel } from '../train/load-model';
import { type InspectSummary, type PerturbationStrip, inspectPuzzle, perturbationStrip } from '../analysis/inspect';

const cache = new Map<string, { mtimeMs: number; model: HrmModel }>();

/** The checkpoint's model, loaded once per path and modification time. */
async function modelOf(file: string, mtimeMs: number): Promise<HrmModel> {
  await engineBackend();
  let hit = cache.get(file);
  if (!hit || hit.mtimeMs !== mtimeMs) {
    hit?.model.dispose();
    hit = { mtimeMs, model: (await loadModel(file)).model };
    cache.set(file, hit);
  }
  return hit.model;
}

export async function inspectWithCheckpoint(file: string, mtimeMs: number, puzzle: string, segments?: number, strip = true): Promise<InspectSummary> {
  return inspectPuzzle(await modelOf(file, mtimeMs), file, puzzle, segments, { strip });
}

export async function stripWithCheckpoint(file: string, mtimeMs: number, puzzle: string, segments: number | undefined, signal: AbortSignal): Promise<PerturbationStrip> {
  return perturbationStrip(await modelOf(file, mtimeMs), puzzle, segments, signal);
}
