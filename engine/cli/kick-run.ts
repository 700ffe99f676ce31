/** The action of `hrm-lens kick` (loaded on demand: it loads TF.js). */
import type { KickParams } from '../intervene/intervene-protocol';
import { kickCount } from '../intervene/kick-defaults';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, intOption, limitText, numOption } from '../util/limits';
import { backendFromFlags } from './train-run';
import { Progress } from './progress';
import { partOption } from './patch-run';

export interface KickFlags {
  eps: string; directions: string; pcs: string; part: string; segments?: string; runOn?: string; seed: string;
  batch: string; json?: boolean; backend: string; threads?: string;
}

/** The request the flags describe, checked before anything is loaded. */
export function kickParams(checkpoint: string, puzzle: string, flags: KickFlags): KickParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  const sizes = flags.eps.split(',').map((s) => s.trim());
  if (sizes.length < LIMITS.kickSizes.min || sizes.length > LIMITS.kickSizes.max) throw new RangeError(`--eps must list ${limitText(LIMITS.kickSizes)} sizes, got ${sizes.length}`);
  const p: KickParams = {
    checkpoint, puzzle,
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

export async function runKick(checkpoint: string, puzzle: string, flags: KickFlags): Promise<void> {
  const params = kickParams(checkpoint, puzzle, flags);
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  await backendFromFlags(flags);
  const { kickRun } = await import('../intervene/patch-kick-engine');
  const progress = new Progress({ label: 'kick', unit: 'segments' });
  const r = await kickRun(params, undefined, (e) => progress.update(e.done, e.done / e.total), batch);
  progress.done();
  process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : r.text);
}
