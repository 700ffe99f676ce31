/**
 * Reading a reference trainer's run folder (sapientinc/HRM `pretrain.py`, TRM, the paper's fork), as it is written:
 *
 *   <folder>/all_config.yaml        the run's config (written first)
 *   <folder>/step_<N>               a torch.save checkpoint, no extension (written in place, not renamed into place)
 *
 * A followed folder (setting hrmLens.officialRunFolders) is such a run folder, or a folder of them (the reference
 * writes `checkpoints/<project>/<run>/`): its subfolders that hold a `step_N` or an all_config.yaml are the runs.
 * A checkpoint is evaluated only once it has settled (SettleTracker: the same size and modification time for a
 * while), because the trainer may still be writing it. Cached figures (engine/interop/official-cache.ts) are read
 * here too, so that a restart shows them without starting the engine. No `vscode` import: unit-tested on real files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type FileStamp, officialCacheFile, officialCacheKey, officialKeyInput, parseOfficialCacheEntry, MAX_OFFICIAL_CACHE_BYTES } from '../../engine/interop/official-cache';
import type { OfficialEvalEntry, OfficialEvalSpec } from '../../engine/interop/official-protocol';
import { readBoundedJsonObject } from './bounded-read';

/** A reference checkpoint's file name: `step_<N>` (N = the optimizer step). */
export const OFFICIAL_STEP_RE = /^step_(\d{1,15})$/;

/** Subfolders of a followed folder looked at (a folder of runs), and checkpoints listed per run. */
export const MAX_OFFICIAL_SUBFOLDERS = 200;
export const MAX_OFFICIAL_CHECKPOINTS = 2000;

export interface OfficialCheckpointFile extends FileStamp {
  file: string;
  /** `step_<N>`. */
  name: string;
  step: number;
}

export interface OfficialRunFolder {
  dir: string;
  name: string;
  /** The followed folder this run was found under (the run folder itself, or its parent). */
  root: string;
  /** False when the followed folder does not exist (or is not a folder). */
  exists: boolean;
  /** all_config.yaml is there. */
  hasConfig: boolean;
  /** Newest step first. */
  checkpoints: OfficialCheckpointFile[];
}

/** The step_N files and all_config.yaml of one folder (regular files only); undefined when it cannot be read. */
export async function scanOfficialRunFolder(dir: string, root = dir): Promise<OfficialRunFolder | undefined> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const names = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && OFFICIAL_STEP_RE.test(e.name)).map((e) => e.name);
  const checkpoints: OfficialCheckpointFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => undefined);
    const step = Number(OFFICIAL_STEP_RE.exec(name)?.[1]);
    if (st?.isFile() && Number.isSafeInteger(step)) checkpoints.push({ file, name, step, size: st.size, mtimeMs: st.mtimeMs });
  }
  checkpoints.sort((a, b) => b.step - a.step || b.mtimeMs - a.mtimeMs);
  const hasConfig = entries.some((e) => e.name === 'all_config.yaml' && (e.isFile() || e.isSymbolicLink()));
  return { dir, name: path.basename(dir), root, exists: true, hasConfig, checkpoints: checkpoints.slice(0, MAX_OFFICIAL_CHECKPOINTS) };
}

const isRun = (r: OfficialRunFolder): boolean => r.hasConfig || r.checkpoints.length > 0;

/**
 * The runs of one followed folder: the folder itself when it holds a step_N or an all_config.yaml, else its
 * subfolders that do (by name); a folder that holds neither yet is listed empty (a run about to start). A missing
 * folder is listed with `exists: false`.
 */
export async function findOfficialRuns(root: string): Promise<OfficialRunFolder[]> {
  const self = await scanOfficialRunFolder(root);
  if (!self) return [{ dir: root, name: path.basename(root), root, exists: false, hasConfig: false, checkpoints: [] }];
  if (isRun(self)) return [self];
  let subs: string[];
  try {
    subs = (await fs.readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    subs = [];
  }
  const runs: OfficialRunFolder[] = [];
  for (const name of subs.slice(0, MAX_OFFICIAL_SUBFOLDERS)) {
    const r = await scanOfficialRunFolder(path.join(root, name), root);
    if (r && isRun(r)) runs.push(r);
  }
  return runs.length ? runs : [self];
}

/**
 * When a file being written has settled: `observe` is told its size and modification time at each look and answers
 * how many milliseconds remain until it counts as settled (0: now). Settled means unchanged for `settleMs`, or last
 * modified at least `settleMs` ago when first seen (a checkpoint written before HRM Lens looked).
 */
export class SettleTracker {
  private readonly seen = new Map<string, { size: number; mtimeMs: number; since: number }>();

  constructor(readonly settleMs: number) {}

  observe(file: string, size: number, mtimeMs: number, now: number): number {
    const prev = this.seen.get(file);
    if (!prev || prev.size !== size || prev.mtimeMs !== mtimeMs) {
      const since = prev ? now : Math.min(now, Math.max(mtimeMs, now - this.settleMs));
      this.seen.set(file, { size, mtimeMs, since });
      return Math.max(0, since + this.settleMs - now);
    }
    return Math.max(0, prev.since + this.settleMs - now);
  }

  /** Drop the files not in `keep` (removed ones). */
  retain(keep: ReadonlySet<string>): void {
    for (const f of this.seen.keys()) if (!keep.has(f)) this.seen.delete(f);
  }
}

/** The cached evaluation of `file` under `spec`, or undefined (none, stale, unreadable). */
export async function readCachedOfficialEval(cacheDir: string, file: string, spec: OfficialEvalSpec, stamp?: FileStamp): Promise<OfficialEvalEntry | undefined> {
  const input = await officialKeyInput(file, spec, stamp);
  if (!input) return undefined;
  const key = officialCacheKey(input);
  return parseOfficialCacheEntry(await readBoundedJsonObject(officialCacheFile(cacheDir, key), MAX_OFFICIAL_CACHE_BYTES), key);
}
