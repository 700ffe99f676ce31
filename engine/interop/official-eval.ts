/**
 * Evaluate a reference trainer's checkpoint where it lies (`step_N` from sapientinc/HRM, TRM or the paper's fork, with
 * `all_config.yaml` beside it): read with the importer's restricted readers (import-checkpoint.ts mapCheckpointFile;
 * nothing in the file is executed, nothing is copied or written beside it), the model built in memory, then the
 * held-out evaluation runs training's runs (engine/train/eval-session.ts evaluateInChunks: every puzzle for a fixed
 * number of segments, no halting) on generated puzzles of the model's grid size (the first `puzzles` of the generator
 * seeded `seed`) or on the first rows of a dataset file. The figures are cached (official-cache.ts); a cached
 * evaluation is answered without reading the checkpoint.
 *
 * A file that changes while it is read (the trainer still writing it) is a DataError and is not cached; so is any bad
 * or partial file (the readers' DataErrors name the file and the field). A TF.js backend must be selected first.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { modelFromWeights } from '../model';
import { evalFigures, evaluateInChunks } from '../train/eval-session';
import { loadEvalPuzzles } from '../train/eval-data';
import type { EvalPuzzle } from '../train/evaluate';
import { generatePuzzlesAsync } from '../sudoku/generator';
import type { GridSize } from '../sudoku/geometry';
import { mapCheckpointFile, stepFromFileName } from './import-checkpoint';
import {
  type FileStamp, OFFICIAL_CACHE_FORMAT, OFFICIAL_EVAL_DEFAULTS, MAX_OFFICIAL_CACHE_BYTES, officialCacheFile, officialCacheKey, officialKeyInput,
  parseOfficialCacheEntry,
} from './official-cache';
import type { OfficialEvalEntry, OfficialEvalParams, OfficialEvalResult, OfficialEvalSpec } from './official-protocol';

export interface OfficialEvalOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The spec of `p` with the defaults filled in. */
export function officialEvalSpec(p: Pick<OfficialEvalParams, 'puzzles' | 'seed' | 'data' | 'segments'>): OfficialEvalSpec {
  return {
    puzzles: p.puzzles ?? OFFICIAL_EVAL_DEFAULTS.puzzles, seed: p.seed ?? OFFICIAL_EVAL_DEFAULTS.seed,
    data: p.data === undefined || p.data === '' ? null : path.resolve(p.data), segments: p.segments ?? null,
  };
}

async function readCacheEntry(file: string, key: string): Promise<OfficialEvalEntry | undefined> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > MAX_OFFICIAL_CACHE_BYTES) return undefined;
    return parseOfficialCacheEntry(JSON.parse(await fs.readFile(file, 'utf8')), key);
  } catch {
    return undefined; // missing or malformed: evaluate again
  }
}

async function regularFileStamp(file: string): Promise<FileStamp> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (err) {
    throw new DataError({ file, field: 'file' }, `cannot read: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new DataError({ file, field: 'file' }, 'not a regular file');
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** The last generated set, kept for the next checkpoint of the same grid size (a followed run asks again and again). */
let lastGenerated: { key: string; puzzles: Promise<EvalPuzzle[]> } | undefined;

function generatedPuzzles(n: GridSize, seed: number, count: number, signal?: AbortSignal): Promise<EvalPuzzle[]> {
  const key = `${n}:${seed}:${count}`;
  if (lastGenerated?.key !== key) {
    const puzzles = generatePuzzlesAsync({ n, seed }, count, signal).then((g) => g.map((p) => ({ puzzle: p.puzzle, solution: p.solution })));
    const entry = { key, puzzles };
    lastGenerated = entry;
    puzzles.catch(() => { if (lastGenerated === entry) lastGenerated = undefined; });
  }
  return lastGenerated.puzzles;
}

/** Evaluate `p.file` in place, or answer from the cache (see the file comment). */
export async function evaluateOfficialCheckpoint(p: OfficialEvalParams, opts: OfficialEvalOptions = {}): Promise<OfficialEvalResult> {
  const file = path.resolve(p.file);
  const spec = officialEvalSpec(p);
  const before = await regularFileStamp(file);
  const input = await officialKeyInput(file, spec, before);
  if (!input) throw new DataError({ file, field: 'file' }, 'cannot read');
  const key = officialCacheKey(input);
  const cacheFile = p.cacheDir ? officialCacheFile(path.resolve(p.cacheDir), key) : null;
  if (cacheFile) {
    const hit = await readCacheEntry(cacheFile, key);
    if (hit) return { ...hit, cached: true, cacheFile };
  }
  const mapped = await mapCheckpointFile(file);
  const after = await regularFileStamp(file);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw new DataError({ file, field: 'file' }, `changed while it was read (${before.size} → ${after.size} bytes): still being written? It is read again once it stops changing`);
  }
  opts.signal?.throwIfAborted();
  const model = modelFromWeights(mapped.config, mapped.tensors);
  try {
    const n = mapped.config.gridSize as GridSize;
    const puzzles = spec.data === null
      ? await generatedPuzzles(n, spec.seed, spec.puzzles, opts.signal)
      : (await loadEvalPuzzles(spec.data, { limit: spec.puzzles, size: n })).puzzles;
    const segments = spec.segments ?? mapped.config.haltMaxSteps;
    const t0 = Date.now();
    const result = await evaluateInChunks(model, puzzles, { segments, signal: opts.signal, onProgress: opts.onProgress });
    const step = stepFromFileName(file);
    const c = mapped.config;
    const entry: OfficialEvalEntry = {
      format: OFFICIAL_CACHE_FORMAT, version: 1, key, file, size: before.size, mtimeMs: before.mtimeMs, configFile: mapped.configFile, step, spec,
      model: { variant: c.variant, gridSize: c.gridSize, hidden: c.hidden, heads: c.heads, haltMaxSteps: c.haltMaxSteps, numParams: model.numParams() },
      figures: evalFigures(result, step), seconds: (Date.now() - t0) / 1000, notes: mapped.notes,
    };
    if (cacheFile) await writeFileAtomic(cacheFile, `${JSON.stringify(entry, null, 1)}\n`);
    return { ...entry, cached: false, cacheFile };
  } finally {
    model.dispose();
  }
}
