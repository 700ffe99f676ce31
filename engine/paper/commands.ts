/**
 * The command lines a reproduction report cites beside its numbers: each recomputes them from the same files (the run
 * folders and the report folder's heldout.csv) with the engine's own commands. Paths are absolute; an argument with
 * characters a POSIX shell treats specially is single-quoted.
 */

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function line(args: readonly (string | number)[]): string {
  return ['hrm-lens', ...args.map((a) => shellQuote(String(a)))].join(' ');
}

export interface ReproduceCommandArgs {
  baseline: readonly string[];
  mixing: readonly string[];
  data?: string;
  puzzles: number;
  seeds: { heldOut: number; probe: number; sample: number };
  relabelings: number;
  checkpoints: number;
  segments: number;
  landscapeSample: number;
  out: string;
}

export function reproduceCommand(a: ReproduceCommandArgs): string {
  return line(['reproduce', '--baseline', a.baseline.join(','), '--mixing', a.mixing.join(','), ...(a.data ? ['--data', a.data] : []),
    '--puzzles', a.puzzles, '--seeds', `${a.seeds.heldOut},${a.seeds.probe},${a.seeds.sample}`, '--relabelings', a.relabelings,
    '--checkpoints', a.checkpoints, '--segments', a.segments, '--landscape-sample', a.landscapeSample, '--out', a.out]);
}

export function generateCommand(a: { size: number; count: number; seed: number; minClues: number | null; maxClues: number | null; out: string }): string {
  return line(['data', 'generate', '--size', a.size, '--count', a.count, '--seed', a.seed,
    ...(a.minClues !== null ? ['--min-clues', a.minClues] : []), ...(a.maxClues !== null ? ['--max-clues', a.maxClues] : []), '--out', a.out]);
}

export function evalCommand(checkpoint: string, heldOut: string, segments: number): string {
  return line(['eval', '--checkpoint', checkpoint, '--data', heldOut, '--segments', segments]);
}

export function probeCommand(checkpoint: string, heldOut: string, count: number, masks: readonly string[], segments: number, seed: number): string {
  return line(['probe', '--checkpoint', checkpoint, '--data', heldOut, '--count', count, '--masks', masks.join(','), '--segments', segments, '--seed', seed, '--json']);
}

export function classifyCommand(checkpoint: string, heldOut: string, segments: number, last: number, trivialWithin: number): string {
  return line(['classify', '--checkpoint', checkpoint, '--data', heldOut, '--segments', segments, '--last', last, '--trivial-within', trivialWithin, '--json']);
}

/** One puzzle's per-segment wrong cells and loss; the puzzle is the placeholder PUZZLE (a row of heldout.csv). */
export function inspectCommand(checkpoint: string, segments: number, puzzle = 'PUZZLE'): string {
  return `${line(['inspect', '--checkpoint', checkpoint, '--segments', segments, '--json'])} --puzzle ${puzzle === 'PUZZLE' ? puzzle : shellQuote(puzzle)}`;
}

export function landscapeCommand(checkpoint: string, puzzle: string, size: number, segments: number): string {
  return line(['landscape', '--checkpoint', checkpoint, '--puzzle', puzzle, '--size', size, '--segments', segments, '--basins']);
}

export function ensembleCommand(run: string, last: number, heldOut: string, kind: 'shifts' | 'relabel', count: number, seed: number, segments: number): string {
  return line(['ensemble', '--run', run, '--last', last, '--data', heldOut, '--perturb', kind, '--count', count, '--seed', seed, '--segments', segments, '--json']);
}
