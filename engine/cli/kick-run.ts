/** The action of `hrm-lens kick` (loaded on demand: it loads TF.js). */
import type { KickDataParams, KickParams } from '../intervene/intervene-protocol';
import { kickCount } from '../intervene/kick-defaults';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, intOption, limitText, numOption } from '../util/limits';
import { withMapOpenerAndProgress } from './map-opener';
import type { TorchCliFlags } from './torch-options';
import { partOption } from './patch-run';
import { type PuzzleSourceFlags, puzzleSourceOptions, toJson } from './puzzle-source';

export interface KickFlags extends PuzzleSourceFlags, TorchCliFlags {
  /** A second checkpoint to compare on the same puzzles (with --data / --generate). */
  compare?: string;
  eps: string; directions: string; pcs: string; part: string; segments?: string; runOn?: string; seed: string;
  batch: string; json?: boolean; backend: string; threads?: string;
}

/** The kick settings of the flags (sizes, directions, part, segments, seed), checked. */
function kickSettingsOf(flags: KickFlags): Omit<KickParams, 'checkpoint' | 'puzzle'> {
  const sizes = flags.eps.split(',').map((s) => s.trim());
  if (sizes.length < LIMITS.kickSizes.min || sizes.length > LIMITS.kickSizes.max) throw new RangeError(`--eps must list ${limitText(LIMITS.kickSizes)} sizes, got ${sizes.length}`);
  const p = {
    epsilons: sizes.map((s) => numOption(s, 'eps', NUM_LIMITS.kickEpsilon) as number),
    directions: intOption(flags.directions, 'directions', LIMITS.kickDirections),
    pcs: intOption(flags.pcs, 'pcs', LIMITS.kickPcs),
    part: partOption(flags.part),
    segments: intOption(flags.segments, 'segments', LIMITS.segments),
    runOn: intOption(flags.runOn, 'run-on', LIMITS.segments),
    seed: intOption(flags.seed, 'seed', LIMITS.seed),
  };
  const kicks = kickCount(p);
  if (kicks < LIMITS.kicks.min || kicks > LIMITS.kicks.max) {
    throw new RangeError(`--eps × (--directions + 2 · --pcs) must be ${limitText(LIMITS.kicks)} kicks, got ${kicks}`);
  }
  return p;
}

/** Whether the flags ask for kicks over a dataset (--data or --generate). */
function overData(flags: KickFlags): boolean {
  return flags.data !== undefined || flags.generate !== undefined;
}

/** The request the flags describe, checked before anything is loaded. */
export function kickParams(checkpoint: string, puzzle: string, flags: KickFlags): KickParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  return { checkpoint, puzzle, ...kickSettingsOf(flags) };
}

/** The dataset-level request the flags describe (--data / --generate, --limit, --seed, --compare), checked. */
export function kickDataParams(checkpoint: string, flags: KickFlags): KickDataParams {
  const src = puzzleSourceOptions(flags);
  return {
    checkpoints: flags.compare === undefined ? [checkpoint] : [checkpoint, flags.compare],
    puzzles: { data: flags.data, limit: src.limit, generate: src.generate, seed: src.seed },
    ...kickSettingsOf(flags),
  };
}

export async function runKick(checkpoint: string, puzzle: string | undefined, flags: KickFlags): Promise<void> {
  if (puzzle !== undefined && overData(flags)) throw new Error('kick: give a PUZZLE or --data / --generate, not both');
  if (puzzle === undefined && !overData(flags)) throw new Error('kick: give a PUZZLE, or --data FILE / --generate N for kicks over a dataset');
  if (flags.compare !== undefined && puzzle !== undefined) throw new Error('kick: --compare goes with --data / --generate');
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  if (puzzle === undefined) {
    const params = kickDataParams(checkpoint, flags);
    const r = await withMapOpenerAndProgress(flags, 'kick', async (open, onProgress) =>
      (await import('../intervene/kick-data-run')).kickDataRun(params, undefined, onProgress, batch, open));
    process.stdout.write(flags.json ? `${toJson(r)}\n` : r.text);
    return;
  }
  const params = kickParams(checkpoint, puzzle, flags);
  const r = await withMapOpenerAndProgress(flags, 'kick', async (open, onProgress) =>
    (await import('../intervene/patch-kick-engine')).kickRun(params, undefined, onProgress, batch, open));
  process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : r.text);
}
