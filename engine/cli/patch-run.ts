/** The action of `hrm-lens patch` (loaded on demand: it loads TF.js). */
import type { PatchParams, PatchSource, StatePart } from '../intervene/intervene-protocol';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, intOption } from '../util/limits';
import { backendFromFlags } from './train-run';
import { Progress } from './progress';

export interface PatchFlags {
  fromPuzzle?: string; fromCheckpoint?: string; relabel?: string; fromLatents?: string; segment?: string; row: string;
  part: string; cells?: string; at?: string; segments?: string; batch: string; json?: boolean; backend: string; threads?: string;
}

/** A comma-separated list of integers, each within `limit` ("--cells must list integers …" otherwise). */
export function intList(text: string, name: string, limit: { min: number; max: number }): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s === '')) throw new RangeError(`--${name} must be a comma-separated list of integers, got ${JSON.stringify(text)}`);
  return parts.map((s) => intOption(s, name, limit) as number);
}

/** A state part option (--part). */
export function partOption(text: string): StatePart {
  if (text !== 'zH' && text !== 'zL' && text !== 'both') throw new RangeError(`--part must be zH, zL or both, got ${JSON.stringify(text)}`);
  return text;
}

/** The donor from the flags: exactly one of --from-puzzle / --from-checkpoint (together), --relabel, --from-latents. */
function patchSource(flags: PatchFlags): PatchSource {
  const trace = flags.fromPuzzle !== undefined || flags.fromCheckpoint !== undefined;
  const count = [trace, flags.relabel !== undefined, flags.fromLatents !== undefined].filter(Boolean).length;
  if (count !== 1) throw new Error('patch: give one donor: --from-puzzle and/or --from-checkpoint, --relabel, or --from-latents');
  if ((flags.segment !== undefined || flags.row !== '0') && flags.fromLatents === undefined) throw new Error('patch: --segment and --row go with --from-latents');
  if (flags.fromPuzzle !== undefined) {
    const problem = puzzleProblem(flags.fromPuzzle);
    if (problem) throw new Error(`--from-puzzle: ${problem}`);
  }
  if (trace) return { kind: 'trace', checkpoint: flags.fromCheckpoint, puzzle: flags.fromPuzzle };
  if (flags.relabel !== undefined) {
    const perm = flags.relabel.includes(',') ? intList(flags.relabel, 'relabel', { min: 1, max: 9 }) : [...flags.relabel.trim()].map((c) => intOption(c, 'relabel', { min: 1, max: 9 }) as number);
    return { kind: 'relabel', perm };
  }
  return {
    kind: 'latents', file: flags.fromLatents as string,
    segment: intOption(flags.segment, 'segment', LIMITS.segments), row: intOption(flags.row, 'row', LIMITS.latentsRow),
  };
}

/** The request the flags describe, checked before anything is loaded. */
export function patchParams(checkpoint: string, puzzle: string, flags: PatchFlags): PatchParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  return {
    checkpoint, puzzle, source: patchSource(flags), part: partOption(flags.part),
    cells: flags.cells === undefined ? undefined : intList(flags.cells, 'cells', { min: 0, max: 80 }),
    atSegments: flags.at === undefined ? undefined : intList(flags.at, 'at', LIMITS.segments),
    segments: intOption(flags.segments, 'segments', LIMITS.segments),
  };
}

export async function runPatch(checkpoint: string, puzzle: string, flags: PatchFlags): Promise<void> {
  const params = patchParams(checkpoint, puzzle, flags);
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  await backendFromFlags(flags);
  const { patchRun } = await import('../intervene/patch-kick-engine');
  const progress = new Progress({ label: 'patch', unit: 'segments' });
  const r = await patchRun(params, undefined, (e) => progress.update(e.done, e.done / e.total), batch);
  progress.done();
  process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : r.text);
}
