/**
 * The held-out puzzles of a reproduction: the first N rows of a dataset file (`--data`; solutions from the file or the
 * solver, engine/train/eval-data.ts), or N puzzles generated the way the first baseline run's run.json says its
 * training data was generated (grid size, min/max clues) with a generator seed training never uses (options.ts,
 * default 424242; the same puzzles as `hrm-lens data generate --size n --count N --seed S [--min-clues a]
 * [--max-clues b]`). Either way they are written into the report folder as heldout.csv (question, answer, rating), and
 * every recompute command of the report reads that file.
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { generatePuzzlesAsync } from '../sudoku/generator';
import { loadEvalPuzzles } from '../train/eval-data';
import { writeCsv } from '../sudoku/dataset';
import type { RunFolder } from './runs';
import type { PaperDataInput } from './report-types';

export interface HeldOutPuzzle {
  id: string;
  puzzle: Grid;
  solution: Grid;
  rating?: number;
}

/** Throws unless held-out puzzles can be had: from `data`, or generated as the run's training data was. */
export function checkHeldOutSource(data: string | undefined, source: RunFolder): void {
  if (data) return;
  if (!source.spec) {
    throw new Error(`--data is required: ${source.dir}/run.json does not say how the run's training data was generated (an imported run)`);
  }
  if (source.spec.data.kind === 'file') {
    throw new Error(`--data is required: ${source.dir} was trained on the dataset file ${source.spec.data.path}; give held-out puzzles from the same source`);
  }
}

/** The id of held-out puzzle i: its line in heldout.csv (the header is line 1), as the CLI's --data commands name it. */
export const lineId = (i: number): string => `line ${i + 2}`;

export async function heldOutPuzzles(
  opts: { data?: string; puzzles: number; seed: number; gridSize: GridSize; source: RunFolder }, signal?: AbortSignal,
): Promise<{ puzzles: HeldOutPuzzle[]; data: PaperDataInput }> {
  if (opts.data) {
    const set = await loadEvalPuzzles(opts.data, { limit: opts.puzzles, size: opts.gridSize });
    return {
      puzzles: set.puzzles.map((p, i) => ({ id: lineId(i), puzzle: p.puzzle, solution: p.solution, rating: p.rating })),
      data: { kind: 'file', file: opts.data, puzzles: set.puzzles.length },
    };
  }
  checkHeldOutSource(undefined, opts.source);
  const spec = opts.source.spec as NonNullable<RunFolder['spec']>;
  const minClues = spec.train.minClues ?? null;
  const maxClues = spec.train.maxClues ?? null;
  const gen = await generatePuzzlesAsync({ n: opts.gridSize, seed: opts.seed, minClues: minClues ?? undefined, maxClues: maxClues ?? undefined }, opts.puzzles, signal);
  return {
    puzzles: gen.map((g, i) => ({ id: lineId(i), puzzle: g.puzzle, solution: g.solution, rating: g.rating })),
    data: { kind: 'generated', seed: opts.seed, minClues, maxClues, puzzles: gen.length, from: opts.source.dir },
  };
}

/** heldout.csv: Sudoku-Extreme columns, puzzle i on line i + 2. */
export async function writeHeldOut(file: string, puzzles: readonly HeldOutPuzzle[], data: PaperDataInput): Promise<void> {
  // Generated puzzles carry the source `hrm-lens data generate` writes, so that command recreates the same file.
  const source = data.kind === 'generated' ? `hrm-lens:seed=${data.seed}` : 'held-out';
  await writeCsv(file, puzzles.map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, rating: p.rating, source, line: i + 2 })));
}
