/**
 * Puzzles for the analysis commands (classify, ensemble; solved grids for probe): from a dataset file (`--data`, any format the eval reads,
 * solutions from the file or the solver) or generated (`--generate N --seed S`, unique-solution puzzles of the
 * model's size). Loaded on demand by the *-run modules.
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { generatePuzzlesAsync } from '../sudoku/generator';
import { loadEvalPuzzles } from '../train/eval-data';
import { LIMITS, intOption } from '../util/limits';

export interface SourcedPuzzle {
  puzzle: Grid;
  solution: Grid;
  id: string;
  rating?: number;
}

export interface PuzzleSourceFlags {
  data?: string;
  generate?: string;
  limit?: string;
  seed?: string;
}

/**
 * --limit, --generate and --seed checked against their ranges (engine/util/limits.ts); call before loading anything.
 * Without --data, --limit is the number of puzzles generated, so the range of generated puzzles applies to it.
 */
export function puzzleSourceOptions(flags: PuzzleSourceFlags): { limit?: number; generate?: number; seed: number } {
  return {
    limit: intOption(flags.limit, 'limit', flags.data ? LIMITS.limit : LIMITS.puzzles),
    generate: intOption(flags.generate, 'generate', LIMITS.puzzles),
    seed: intOption(flags.seed, 'seed', LIMITS.seed) ?? 0,
  };
}

/** The puzzles the flags name; generation lets the event loop turn (an aborted `signal` stops it). */
export async function loadPuzzleSource(
  flags: PuzzleSourceFlags, n: GridSize, defaultCount = 200, signal?: AbortSignal,
): Promise<{ puzzles: SourcedPuzzle[]; source: string }> {
  const { limit, generate, seed } = puzzleSourceOptions(flags);
  if (flags.data) {
    const set = await loadEvalPuzzles(flags.data, { limit, size: n });
    return {
      puzzles: set.puzzles.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: `line ${p.line}`, rating: p.rating })),
      source: flags.data,
    };
  }
  const count = generate ?? limit ?? defaultCount;
  const gen = await generatePuzzlesAsync({ n, seed }, count, signal);
  return {
    puzzles: gen.map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, id: `gen ${i}`, rating: g.rating })),
    source: `${count} generated ${n}×${n} puzzles (seed ${seed})`,
  };
}

/**
 * Solved grids of a dataset file for the probe: the first `limit` rows' answers, or the solver's solution of a row
 * without one (a DataError naming the row when it has none or several).
 */
export async function loadSolvedGrids(file: string, n: GridSize, limit?: number): Promise<Grid[]> {
  const set = await loadEvalPuzzles(file, { limit, size: n });
  return set.puzzles.map((p) => p.solution);
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–');

/** JSON text with typed arrays as arrays and non-finite numbers as null. */
export function toJson(value: unknown, space = 2): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  }, space);
}
