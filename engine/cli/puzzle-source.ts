/**
 * Puzzles for the analysis commands (classify, ensemble): from a dataset file (`--data`, any format the eval reads,
 * solutions from the file or the solver) or generated (`--generate N --seed S`, unique-solution puzzles of the
 * model's size). Loaded on demand by the *-run modules.
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { generatePuzzles } from '../sudoku/generator';
import { loadEvalPuzzles } from '../train/eval-data';

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

/** A whole number ≥ min from a flag (undefined stays undefined). */
export function intFlag(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${v}"`);
  return n;
}

/** A number from a flag (undefined stays undefined). */
export function numFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

export async function loadPuzzleSource(flags: PuzzleSourceFlags, n: GridSize, defaultCount = 200): Promise<{ puzzles: SourcedPuzzle[]; source: string }> {
  const limit = intFlag(flags.limit, 'limit', 1);
  if (flags.data) {
    const set = await loadEvalPuzzles(flags.data, { limit, size: n });
    return {
      puzzles: set.puzzles.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: `line ${p.line}`, rating: p.rating })),
      source: flags.data,
    };
  }
  const count = intFlag(flags.generate, 'generate', 1) ?? limit ?? defaultCount;
  const seed = intFlag(flags.seed, 'seed') ?? 0;
  const gen = generatePuzzles({ n, seed }, count);
  return {
    puzzles: gen.map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, id: `gen ${i}`, rating: g.rating })),
    source: `${count} generated ${n}×${n} puzzles (seed ${seed})`,
  };
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
