/**
 * The cache of reference-checkpoint evaluations (official-eval.ts): one JSON file per evaluation,
 * `<cacheDir>/<key>.json`, where the key hashes everything the figures depend on:
 *
 *   the checkpoint       absolute path, size, modification time
 *   all_config.yaml      beside it: size and modification time, or absent (heads, cycles, … come from it)
 *   the evaluation       puzzles, seed, segments, and the dataset file's path, size and modification time
 *
 * A checkpoint rewritten, a YAML added or changed, other settings: another key, so a stale entry is never used.
 * Entries are written to a temp file and renamed (engine/util/atomic-write.ts). Shared by the engine (which writes)
 * and the extension host (which reads, to show figures after a restart without starting the engine): Node's fs and
 * crypto only, no TF.js.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EvalFigures } from '../protocol';
import type { OfficialEvalEntry, OfficialEvalSpec, OfficialModelSummary } from './official-protocol';

/** The evaluation of a followed checkpoint unless settings say otherwise. Seed: HRM Lens's held-out generator seed. */
export const OFFICIAL_EVAL_DEFAULTS: Readonly<Pick<OfficialEvalSpec, 'puzzles' | 'seed'>> = Object.freeze({ puzzles: 100, seed: 424242 });

/** Largest cache entry read (an entry is well under 10 kB). */
export const MAX_OFFICIAL_CACHE_BYTES = 256 * 1024;

export const OFFICIAL_CACHE_FORMAT = 'hrm-lens-official-eval';

/** A file's identity in the key: size and modification time, or null when it does not exist. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export interface OfficialKeyInput {
  /** Absolute path of the checkpoint. */
  file: string;
  stamp: FileStamp;
  config: FileStamp | null;
  spec: OfficialEvalSpec;
  data: FileStamp | null;
}

/** Size and modification time of a regular file; null when there is none (missing, a folder, unreadable). */
export async function fileStamp(file: string): Promise<FileStamp | null> {
  try {
    const st = await fs.stat(file);
    return st.isFile() || st.isDirectory() ? { size: st.isFile() ? st.size : 0, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** The all_config.yaml a checkpoint is read with (the one beside it). */
export function referenceConfigOf(checkpoint: string): string {
  return path.join(path.dirname(path.resolve(checkpoint)), 'all_config.yaml');
}

/** Everything the key hashes, read from the files now (`stamp`: the checkpoint's, when already known). */
export async function officialKeyInput(checkpoint: string, spec: OfficialEvalSpec, stamp?: FileStamp): Promise<OfficialKeyInput | undefined> {
  const file = path.resolve(checkpoint);
  const s = stamp ?? (await fileStamp(file));
  if (!s) return undefined;
  const data = spec.data === null ? null : await fileStamp(path.resolve(spec.data));
  return { file, stamp: s, config: await fileStamp(referenceConfigOf(file)), spec: { ...spec, data: spec.data === null ? null : path.resolve(spec.data) }, data };
}

/** 32 hex characters of SHA-256 over the key input. */
export function officialCacheKey(k: OfficialKeyInput): string {
  const stamp = (s: FileStamp | null) => (s ? [s.size, s.mtimeMs] : null);
  const canonical = JSON.stringify([
    OFFICIAL_CACHE_FORMAT, 1, k.file, stamp(k.stamp), stamp(k.config),
    k.spec.puzzles, k.spec.seed, k.spec.segments, k.spec.data, stamp(k.data),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export function officialCacheFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, `${key}.json`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const frac = (v: unknown): v is number => num(v) && v >= 0 && v <= 1;

function figuresOf(v: unknown): EvalFigures | undefined {
  if (!isObject(v)) return undefined;
  const { step, puzzles, segments, exact, cell, haltedAtLast, perSegment, time } = v;
  if (!num(step) || !num(puzzles) || !num(segments) || !frac(exact) || !frac(cell) || !frac(haltedAtLast) || typeof time !== 'string') return undefined;
  if (!Array.isArray(perSegment) || perSegment.length > 4096) return undefined;
  const per: EvalFigures['perSegment'] = [];
  for (const p of perSegment) {
    if (!isObject(p) || !num(p.segment) || !frac(p.exact) || !frac(p.cell)) return undefined;
    per.push({ segment: p.segment, exact: p.exact, cell: p.cell });
  }
  return { step, puzzles, segments, exact, cell, haltedAtLast, perSegment: per, time };
}

function modelOf(v: unknown): OfficialModelSummary | undefined {
  if (!isObject(v) || typeof v.variant !== 'string') return undefined;
  const { gridSize, hidden, heads, haltMaxSteps, numParams } = v;
  if (!num(gridSize) || !num(hidden) || !num(heads) || !num(haltMaxSteps) || !num(numParams)) return undefined;
  return { variant: v.variant, gridSize, hidden, heads, haltMaxSteps, numParams };
}

function specOf(v: unknown): OfficialEvalSpec | undefined {
  if (!isObject(v) || !num(v.puzzles) || !num(v.seed)) return undefined;
  if (v.data !== null && typeof v.data !== 'string') return undefined;
  if (v.segments !== null && !num(v.segments)) return undefined;
  return { puzzles: v.puzzles, seed: v.seed, data: v.data, segments: v.segments };
}

/**
 * A cache entry from its parsed JSON, or undefined when it is not one, or not the one of `key` (a file under another
 * name, or hand-edited). Every field is checked: the extension shows what it reads.
 */
export function parseOfficialCacheEntry(json: unknown, key: string): OfficialEvalEntry | undefined {
  if (!isObject(json) || json.format !== OFFICIAL_CACHE_FORMAT || json.version !== 1 || json.key !== key) return undefined;
  const { file, size, mtimeMs, configFile, step, seconds, notes } = json;
  if (typeof file !== 'string' || !num(size) || !num(mtimeMs) || !num(step) || !num(seconds)) return undefined;
  if (configFile !== null && typeof configFile !== 'string') return undefined;
  if (!Array.isArray(notes) || !notes.every((n): n is string => typeof n === 'string')) return undefined;
  const spec = specOf(json.spec);
  const model = modelOf(json.model);
  const figures = figuresOf(json.figures);
  if (!spec || !model || !figures) return undefined;
  return { format: OFFICIAL_CACHE_FORMAT, version: 1, key, file, size, mtimeMs, configFile, step, spec, model, figures, seconds, notes };
}
