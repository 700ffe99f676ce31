/** The action of `hrm-lens spectrum` (loaded on demand: it loads TF.js). */
import type { SpectrumParams } from '../intervene/intervene-protocol';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import { backendFromFlags } from './train-run';
import { runWithProgress } from './progress';
import { partOption } from './patch-run';
import { toJson } from './puzzle-source';

export interface SpectrumFlags {
  at?: string; count: string; tolerance: string; maxIterations: string; part: string; seed: string;
  json?: boolean; backend: string; threads?: string;
}

/** The request the flags describe, checked before anything is loaded. */
export function spectrumParams(checkpoint: string, puzzle: string, flags: SpectrumFlags): SpectrumParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  return {
    checkpoint, puzzle,
    atSegment: intOption(flags.at, 'at', LIMITS.segments),
    count: intOption(flags.count, 'count', LIMITS.eigenvalues),
    tolerance: numOption(flags.tolerance, 'tolerance', NUM_LIMITS.eigenTolerance),
    maxIterations: intOption(flags.maxIterations, 'max-iterations', LIMITS.krylov),
    part: partOption(flags.part),
    seed: intOption(flags.seed, 'seed', LIMITS.seed),
  };
}

export async function runSpectrum(checkpoint: string, puzzle: string, flags: SpectrumFlags): Promise<void> {
  const params = spectrumParams(checkpoint, puzzle, flags);
  await backendFromFlags(flags);
  const { spectrumRun } = await import('../rpc/map-analysis-engine');
  await runWithProgress('spectrum', 'steps', flags.json, toJson, (signal, onProgress) => spectrumRun(params, signal, onProgress));
}
