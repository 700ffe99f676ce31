/** The action of `hrm-lens lens` (loaded on demand: it loads TF.js). */
import type { LensParams } from '../intervene/intervene-protocol';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, intOption } from '../util/limits';
import { backendFromFlags } from './train-run';
import { runWithProgress } from './progress';
import { toJson } from './puzzle-source';

export interface LensFlags {
  segments?: string; json?: boolean; backend: string; threads?: string;
}

/** The request the flags describe, checked before anything is loaded. */
export function lensParams(checkpoint: string, puzzle: string, flags: LensFlags): LensParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  return { checkpoint, puzzle, segments: intOption(flags.segments, 'segments', LIMITS.segments) };
}

export async function runLens(checkpoint: string, puzzle: string, flags: LensFlags): Promise<void> {
  const params = lensParams(checkpoint, puzzle, flags);
  await backendFromFlags(flags);
  const { lensRun } = await import('../rpc/map-analysis-engine');
  await runWithProgress('lens', 'segments', flags.json, toJson, (signal, onProgress) => lensRun(params, signal, onProgress));
}
