/** The heavy half of the inspect handlers (TF.js, model, analyses), imported on first use. */
import { engineBackend } from './engine-backend';
import type { HrmModel } from '../model';
import { loadModel } from '../train/load-model';
import { type InspectSummary, type PerturbationStrip, inspectPuzzleAsync, perturbationStrip } from '../analysis/inspect';
import { type LatentsWriter, openLatentsExport } from '../analysis/latents-export';

interface Cached {
  mtimeMs: number;
  model: Promise<HrmModel>;
  /** Requests running on the model now. */
  users: number;
  /** A newer file took its place: disposed once its last user is done. */
  replaced: boolean;
}

const cache = new Map<string, Cached>();

function disposeWhenUnused(entry: Cached): void {
  if (entry.replaced && entry.users === 0) void entry.model.then((m) => m.dispose(), () => undefined);
}

/**
 * Runs `fn` on the checkpoint's model, loaded once per path and modification time. Requests interleave (they let
 * the event loop turn between segments), so a model replaced by a newer file is disposed only when no request
 * uses it any more.
 */
async function withModel<T>(file: string, mtimeMs: number, fn: (model: HrmModel) => Promise<T>): Promise<T> {
  await engineBackend();
  let entry = cache.get(file);
  if (!entry || entry.mtimeMs !== mtimeMs) {
    if (entry) {
      entry.replaced = true;
      disposeWhenUnused(entry);
    }
    const fresh: Cached = { mtimeMs, model: loadModel(file).then((r) => r.model), users: 0, replaced: false };
    fresh.model.catch(() => { if (cache.get(file) === fresh) cache.delete(file); });
    cache.set(file, fresh);
    entry = fresh;
  }
  const used = entry;
  used.users++;
  try {
    return await fn(await used.model);
  } finally {
    used.users--;
    disposeWhenUnused(used);
  }
}

export function inspectWithCheckpoint(
  file: string, mtimeMs: number, puzzle: string, segments: number | undefined, strip: boolean, signal: AbortSignal,
): Promise<InspectSummary> {
  return withModel(file, mtimeMs, (model) => inspectPuzzleAsync(model, file, puzzle, segments, { strip, signal }));
}

export function stripWithCheckpoint(file: string, mtimeMs: number, puzzle: string, segments: number | undefined, signal: AbortSignal): Promise<PerturbationStrip> {
  return withModel(file, mtimeMs, (model) => perturbationStrip(model, puzzle, segments, signal));
}

/** The puzzle's trace (latents included) written to `target` as a latents export; nothing is left of it when cancelled. */
export function latentsWithCheckpoint(
  file: string, mtimeMs: number, puzzle: string, segments: number | undefined, target: string, signal: AbortSignal,
): Promise<{ files: string[]; bytes: number }> {
  return withModel(file, mtimeMs, async (model) => {
    const writer: LatentsWriter = openLatentsExport(target, model, { checkpoint: file, source: 'inspect', ids: [puzzle], segments: segments ?? model.config.haltMaxSteps });
    try {
      await inspectPuzzleAsync(model, file, puzzle, segments, { strip: false, signal, onTrace: (t) => writer.write([t], 0) });
      writer.commit();
    } catch (err) {
      writer.abort();
      throw err;
    }
    return { files: writer.files, bytes: writer.bytes };
  });
}
