/**
 * The heavy half of `intervene.patch` / `intervene.kick` and of `hrm-lens patch` / `hrm-lens kick`: opens the
 * checkpoints as RecurrentMaps (`open`: TF.js on the process's backend by default, or the PyTorch worker), resolves the patch's donor (another checkpoint or
 * puzzle, a relabeling, a latents file), and runs patch.ts / kick.ts with the event loop turning between segments
 * (progress events, cancellation through the signal). Every model it opens is disposed on every path.
 */
import path from 'node:path';
import type { KickParams, KickResult, PatchParams, PatchResult, PatchSource } from './intervene-protocol';
import { type Grid, type GridSize } from '../sudoku/geometry';
import { parsePuzzle } from '../sudoku/givens';
import { runStepsAsync } from '../util/steps';
import { type MapOpener, type OpenedMap, openMap } from './trajectory';
import { type ResolvedPatchDonor, patchSteps } from './patch';
import { kickSteps } from './kick';
import { readLatentsState } from './latents-source';
import type { RecurrentMap } from './recurrent-map';

type Progress = (e: { done: number; total: number }) => void;

/** The puzzle parsed for an n×n model ("<what>: …" when it does not fit). */
export function puzzleFor(text: string, n: number, what = 'puzzle'): Grid {
  const parsed = parsePuzzle(text, n as GridSize);
  if ('error' in parsed) throw new Error(`${what}: ${parsed.error}`);
  return parsed.grid;
}

/** The donor of `source` for a receiver on `map` (opened maps are pushed onto `opened`, for the caller to dispose). */
async function resolveDonor(source: PatchSource, receiver: OpenedMap, opened: OpenedMap[], open: MapOpener): Promise<ResolvedPatchDonor> {
  const map: RecurrentMap = receiver.map;
  if (source.kind === 'trace') {
    let donorMap = map;
    let name = path.basename(receiver.file);
    if (source.checkpoint !== undefined && path.resolve(source.checkpoint) !== path.resolve(receiver.file)) {
      const d = await open(source.checkpoint);
      opened.push(d);
      donorMap = d.map;
      name = path.basename(d.file);
    }
    const puzzle = source.puzzle === undefined ? undefined : puzzleFor(source.puzzle, donorMap.n, 'source.puzzle');
    return { kind: 'trace', map: donorMap, puzzle, label: source.puzzle === undefined ? `${name} (same puzzle)` : `${name} on ${source.puzzle}` };
  }
  if (source.kind === 'relabel') return { kind: 'relabel', perm: source.perm };
  const s = await readLatentsState(source.file, map, { segment: source.segment, row: source.row });
  return {
    kind: 'state', state: s.state, grids: s.grids, puzzle: s.puzzle, solution: s.solution,
    label: `${path.basename(source.file)} row ${s.row} segment ${s.segment}`,
  };
}

/** `intervene.patch` / `hrm-lens patch`. */
export async function patchRun(p: PatchParams, signal?: AbortSignal, progress?: Progress, batch?: number, open: MapOpener = openMap): Promise<PatchResult> {
  const receiver = await open(p.checkpoint);
  const opened: OpenedMap[] = [];
  try {
    const puzzle = puzzleFor(p.puzzle, receiver.map.n);
    const donor = await resolveDonor(p.source, receiver, opened, open);
    return await runStepsAsync(patchSteps(receiver.map, { puzzle, label: path.basename(receiver.file) }, donor, {
      segments: p.segments, part: p.part, cells: p.cells, atSegments: p.atSegments, batch, signal,
      onProgress: (done, total) => progress?.({ done, total }),
    }), signal, 'patch');
  } finally {
    for (const m of opened) m.dispose();
    receiver.dispose();
  }
}

/** `intervene.kick` / `hrm-lens kick`. */
export async function kickRun(p: KickParams, signal?: AbortSignal, progress?: Progress, batch?: number, open: MapOpener = openMap): Promise<KickResult> {
  const opened = await open(p.checkpoint);
  try {
    const puzzle = puzzleFor(p.puzzle, opened.map.n);
    return await runStepsAsync(kickSteps(opened.map, puzzle, {
      segments: p.segments, runOn: p.runOn, epsilons: p.epsilons, directions: p.directions, pcs: p.pcs, part: p.part, seed: p.seed,
      label: path.basename(opened.file), batch, signal, onProgress: (done, total) => progress?.({ done, total }),
    }), signal, 'kick');
  } finally {
    opened.dispose();
  }
}
