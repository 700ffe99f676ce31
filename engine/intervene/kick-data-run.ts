/**
 * The heavy half of `intervene.kickData` and of `hrm-lens kick --data | --generate`: opens one or two checkpoints as
 * RecurrentMaps (`open`: TF.js on the process's backend by default, or the PyTorch worker), loads the puzzles (a dataset file or generated ones,
 * engine/cli/puzzle-source.ts) and runs kick-data.ts with the event loop turning between segments (progress,
 * cancellation through the signal). Every model it opens is disposed on every path.
 */
import path from 'node:path';
import type { GridSize } from '../sudoku/geometry';
import { loadPuzzleSource } from '../cli/puzzle-source';
import { runStepsAsync } from '../util/steps';
import type { KickDataParams, KickDataResult } from './intervene-protocol';
import { kickDataSteps } from './kick-data';
import { type MapOpener, type OpenedMap, openMap } from './trajectory';

type Progress = (e: { done: number; total: number }) => void;

export async function kickDataRun(p: KickDataParams, signal?: AbortSignal, progress?: Progress, batch?: number, open: MapOpener = openMap): Promise<KickDataResult> {
  const opened: OpenedMap[] = [];
  try {
    for (const c of p.checkpoints) opened.push(await open(c));
    const n = opened[0].map.n as GridSize;
    const q = p.puzzles;
    const { puzzles, source } = await loadPuzzleSource({
      data: q.data, generate: q.generate === undefined ? undefined : String(q.generate),
      limit: q.limit === undefined ? undefined : String(q.limit), seed: q.seed === undefined ? undefined : String(q.seed),
    }, n, 100, signal);
    const names = opened.map((o) => path.basename(o.file));
    // Two checkpoints with one file name (step-030000 of two runs): name them by their folder too.
    const labels = names.length === 2 && names[0] === names[1] ? opened.map((o) => path.join(path.basename(path.dirname(o.file)), path.basename(o.file))) : names;
    return await runStepsAsync(kickDataSteps(
      opened.map((o, i) => ({ map: o.map, label: labels[i], checkpoint: o.file })),
      puzzles.map((x) => ({ puzzle: x.puzzle, solution: x.solution, id: x.id })),
      {
        segments: p.segments, runOn: p.runOn, epsilons: p.epsilons, directions: p.directions, pcs: p.pcs, part: p.part, seed: p.seed,
        source, batch, signal, onProgress: (done, total) => progress?.({ done, total }),
      },
    ), signal, 'kick');
  } finally {
    for (const o of opened) o.dispose();
  }
}
