/** The heavy half of the inspect handler (TF.js, model, analyses), imported on first use. */
import { engineBackend } from './engine-backend';
import type { HrmModel } from '../model';
import { loadModel } from '../train/load-model';
import { type InspectSummary, inspectPuzzle } from '../analysis/inspect';

const cache = new Map<string, { mtimeMs: number; model: HrmModel }>();

export async function inspectWithCheckpoint(file: string, mtimeMs: number, puzzle: string, segments?: number): Promise<InspectSummary> {
  await engineBackend();
  let hit = cache.get(file);
  if (!hit || hit.mtimeMs !== mtimeMs) {
    hit?.model.dispose();
    hit = { mtimeMs, model: (await loadModel(file)).model };
    cache.set(file, hit);
  }
  return inspectPuzzle(hit.model, file, puzzle, segments);
}
