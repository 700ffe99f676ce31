/**
 * The heavy half of `hrm-lens patch --data | --generate` (and of an `intervene.patchData` request): opens the
 * receiver's checkpoint and the donor's (`open`: TF.js by default, or the PyTorch worker; same state shape, checked
 * before the puzzles are loaded), loads the puzzles (a dataset file or generated ones, engine/cli/puzzle-source.ts),
 * and runs patch-data.ts with the event loop turning
 * between segments (progress events, cancellation through the signal). Every model it opens is disposed on every path.
 */
import path from 'node:path';
import type { PatchDataParams, PatchDataResult } from './intervene-protocol';
import { loadPuzzleSource } from '../cli/puzzle-source';
import { relabeling } from '../sudoku/symmetry';
import { runStepsAsync } from '../util/steps';
import { type MapOpener, type OpenedMap, openMap } from './trajectory';
import { checkSameShape } from './patch';
import { type PatchDataDonor, patchDataSteps } from './patch-data';

type Progress = (e: { done: number; total: number }) => void;

const text = (x: number | undefined): string | undefined => (x === undefined ? undefined : String(x));

/** `intervene.patchData` / `hrm-lens patch --data | --generate`. */
export async function patchDataRun(p: PatchDataParams, signal?: AbortSignal, progress?: Progress, batch?: number, open: MapOpener = openMap): Promise<PatchDataResult> {
  const receiver = await open(p.checkpoint);
  const opened: OpenedMap[] = [];
  try {
    const receiverName = path.basename(receiver.file);
    let donor: PatchDataDonor;
    if (p.source.kind === 'trace') {
      let donorMap = receiver.map;
      let name = receiverName;
      if (path.resolve(p.source.checkpoint) !== path.resolve(receiver.file)) {
        const d = await open(p.source.checkpoint);
        opened.push(d);
        donorMap = d.map;
        name = path.basename(d.file);
      }
      checkSameShape(receiver.map, donorMap, receiverName, name);
      donor = { kind: 'trace', map: donorMap, label: name };
    } else {
      relabeling(receiver.map.n, p.source.perm);
      donor = { kind: 'relabel', perm: p.source.perm };
    }
    const { puzzles, source } = await loadPuzzleSource({
      data: p.puzzles.data, limit: text(p.puzzles.limit), generate: text(p.puzzles.generate), seed: text(p.puzzles.seed),
    }, receiver.map.n, undefined, signal);
    return await runStepsAsync(patchDataSteps(receiver.map, puzzles, donor, {
      segments: p.segments, part: p.part, cells: p.cells, atSegments: p.atSegments, batch, signal, receiverName, source,
      onProgress: (done, total) => progress?.({ done, total }),
    }), signal, 'patch');
  } finally {
    for (const m of opened) m.dispose();
    receiver.dispose();
  }
}
