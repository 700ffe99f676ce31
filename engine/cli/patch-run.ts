/** The action of `hrm-lens patch`, on one puzzle or over a dataset (loaded on demand: it loads TF.js). */
import type { PatchDataParams, PatchParams, PatchSource, StatePart } from '../intervene/intervene-protocol';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, intOption } from '../util/limits';
import { withMapOpenerAndProgress } from './map-opener';
import type { TorchCliFlags } from './torch-options';
import { type PuzzleSourceFlags, puzzleSourceOptions } from './puzzle-source';

export interface PatchFlags extends PuzzleSourceFlags, TorchCliFlags {
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

/** --relabel: digits (2341) or a comma-separated list (2,3,4,1). */
function relabelPerm(text: string): number[] {
  return text.includes(',') ? intList(text, 'relabel', { min: 1, max: 9 }) : [...text.trim()].map((c) => intOption(c, 'relabel', { min: 1, max: 9 }) as number);
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
  if (flags.relabel !== undefined) return { kind: 'relabel', perm: relabelPerm(flags.relabel) };
  return {
    kind: 'latents', file: flags.fromLatents as string,
    segment: intOption(flags.segment, 'segment', LIMITS.segments), row: intOption(flags.row, 'row', LIMITS.latentsRow),
  };
}

/** The sweep settings shared by the one-puzzle and the dataset-level patch. */
function sweepParams(flags: PatchFlags): Pick<PatchParams, 'part' | 'cells' | 'atSegments' | 'segments'> {
  return {
    part: partOption(flags.part),
    cells: flags.cells === undefined ? undefined : intList(flags.cells, 'cells', { min: 0, max: 80 }),
    atSegments: flags.at === undefined ? undefined : intList(flags.at, 'at', LIMITS.segments),
    segments: intOption(flags.segments, 'segments', LIMITS.segments),
  };
}

/** The request the flags describe, checked before anything is loaded. */
export function patchParams(checkpoint: string, puzzle: string, flags: PatchFlags): PatchParams {
  const problem = puzzleProblem(puzzle);
  if (problem) throw new Error(`puzzle: ${problem}`);
  return { checkpoint, puzzle, source: patchSource(flags), ...sweepParams(flags) };
}

/**
 * Whether the flags ask for the dataset-level patch (--data or --generate) rather than one PUZZLE's; exactly one of
 * the two must be given, and --limit / --seed only go with the dataset.
 */
export function isDataPatch(puzzle: string | undefined, flags: PatchFlags): boolean {
  const data = flags.data !== undefined || flags.generate !== undefined;
  if (puzzle !== undefined && data) throw new Error('patch: give a PUZZLE or --data / --generate, not both');
  if (puzzle === undefined && !data) throw new Error('patch: give a PUZZLE, or --data FILE / --generate N to patch every puzzle of a dataset');
  if (!data && (flags.limit !== undefined || flags.seed !== undefined)) throw new Error('patch: --limit and --seed go with --data / --generate');
  return data;
}

/** The dataset-level request the flags describe (donor: --from-checkpoint or --relabel), checked before anything is loaded. */
export function patchDataParams(checkpoint: string, flags: PatchFlags): PatchDataParams {
  if (flags.fromPuzzle !== undefined || flags.fromLatents !== undefined || flags.segment !== undefined || flags.row !== '0'
    || (flags.fromCheckpoint !== undefined) === (flags.relabel !== undefined)) {
    throw new Error('patch: with --data / --generate give one donor: --from-checkpoint (each puzzle on that checkpoint) or --relabel (each puzzle relabeled)');
  }
  const { limit, generate, seed } = puzzleSourceOptions(flags);
  return {
    checkpoint,
    source: flags.fromCheckpoint !== undefined ? { kind: 'trace', checkpoint: flags.fromCheckpoint } : { kind: 'relabel', perm: relabelPerm(flags.relabel as string) },
    puzzles: { data: flags.data, limit, generate, seed },
    ...sweepParams(flags),
  };
}

export async function runPatch(checkpoint: string, puzzle: string | undefined, flags: PatchFlags): Promise<void> {
  const data = isDataPatch(puzzle, flags);
  const params = data ? patchDataParams(checkpoint, flags) : patchParams(checkpoint, puzzle as string, flags);
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  const r = await withMapOpenerAndProgress(flags, 'patch', async (open, onProgress) => ('puzzles' in params
    ? (await import('../intervene/patch-data-run')).patchDataRun(params, undefined, onProgress, batch, open)
    : (await import('../intervene/patch-kick-engine')).patchRun(params, undefined, onProgress, batch, open)));
  process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : r.text);
}
