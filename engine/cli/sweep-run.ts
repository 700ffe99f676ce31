/** The action of `hrm-lens sweep` (loaded on demand: it loads TF.js). */
import type { SweepParams } from '../intervene/intervene-protocol';
import { CONFIG_RANGES } from '../model/config';
import { LIMITS, intOption, limitText } from '../util/limits';
import { backendFromFlags } from './train-run';
import { runWithProgress } from './progress';
import { intList } from './patch-run';
import { toJson } from './puzzle-source';

export interface SweepFlags {
  data?: string; count: string; hCycles?: string; lCycles?: string; segments?: string;
  json?: boolean; backend: string; threads?: string;
}

function countList(text: string | undefined, name: string, limit: { min: number; max: number }): number[] | undefined {
  if (text === undefined) return undefined;
  const list = intList(text, name, limit);
  if (list.length > LIMITS.sweepValues.max) throw new RangeError(`--${name} must list ${limitText(LIMITS.sweepValues)} counts, got ${list.length}`);
  return list;
}

/** The request the flags describe, checked before anything is loaded. */
export function sweepParams(checkpoint: string, puzzles: readonly string[], flags: SweepFlags): SweepParams {
  if (flags.data !== undefined && puzzles.length > 0) throw new Error('give either puzzles or --data, not both');
  if (flags.data === undefined && puzzles.length === 0) throw new Error('give puzzles or --data FILE');
  if (puzzles.length > LIMITS.puzzles.max) throw new RangeError(`at most ${LIMITS.puzzles.max} puzzles, got ${puzzles.length}`);
  return {
    checkpoint,
    ...(flags.data !== undefined ? { data: flags.data, count: intOption(flags.count, 'count', LIMITS.puzzles) } : { puzzles: [...puzzles] }),
    hCycles: countList(flags.hCycles, 'h-cycles', CONFIG_RANGES.H_cycles),
    lCycles: countList(flags.lCycles, 'l-cycles', CONFIG_RANGES.L_cycles),
    segments: countList(flags.segments, 'segments', LIMITS.segments),
  };
}

export async function runSweep(checkpoint: string, puzzles: string[], flags: SweepFlags): Promise<void> {
  const params = sweepParams(checkpoint, puzzles, flags);
  await backendFromFlags(flags);
  const { sweepRun } = await import('../rpc/map-analysis-engine');
  await runWithProgress('sweep', 'puzzle runs', flags.json, toJson, (signal, onProgress) => sweepRun(params, signal, onProgress));
}
