/**
 * Evaluation puzzles from a dataset file (any format openDataset reads), with their solutions: taken from the file
 * when it has them, otherwise solved (the solution must be unique).
 */
import { readAllRecords } from '../sudoku/dataset';
import { geometry, sizeFromCells, type GridSize } from '../sudoku/geometry';
import { solve } from '../sudoku/solver';
import { DataError } from '../util/errors';
import type { EvalPuzzle } from './evaluate';

export interface LoadedEvalSet {
  puzzles: (EvalPuzzle & { line: number; rating?: number })[];
  size: GridSize;
}

export async function loadEvalPuzzles(file: string, opts: { limit?: number; size?: GridSize } = {}): Promise<LoadedEvalSet> {
  const { records } = await readAllRecords(file);
  const puzzles: LoadedEvalSet['puzzles'] = [];
  let size: GridSize | undefined = opts.size;
  for (const r of records) {
    if (opts.limit !== undefined && puzzles.length >= opts.limit) break;
    const n = sizeFromCells(r.puzzle.length) as GridSize;
    if (size === undefined) size = n;
    if (n !== size) throw new DataError({ file, line: r.line, field: 'question' }, `a ${n}×${n} puzzle in a ${size}×${size} evaluation`);
    let solution = r.solution;
    if (!solution) {
      const res = solve(r.puzzle, geometry(n));
      if (res.solutions !== 1 || !res.solution) throw new DataError({ file, line: r.line, field: 'question' }, `puzzle has ${res.solutions === 0 ? 'no' : 'several'} solutions`);
      solution = res.solution;
    }
    puzzles.push({ puzzle: r.puzzle.slice(), solution: solution.slice(), line: r.line, rating: r.rating });
  }
  if (size === undefined || puzzles.length === 0) throw new DataError({ file }, 'no puzzles');
  return { puzzles, size };
}
