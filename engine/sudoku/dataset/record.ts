/**
 * The dataset record every reader yields and every writer and helper takes, plus the reader interface shared by the
 * CSV, one-per-line and reference `.npy` folder readers.
 *
 * Readers hand out grids as views into small shared slabs (see GridSlab in validate.ts): index them normally, but
 * `slice()` a grid before using its `.buffer` directly (e.g. transferring it to a worker).
 */
import type { Grid, GridSize } from '../geometry';
import { sizeFromCells } from '../geometry';
import type { ValidationReport } from './validate';

export interface DatasetRecord {
  /** Digits 0..N, 0 = blank, row-major. */
  puzzle: Grid;
  /** The full solution when the file gives one (or validation solved a puzzle that had none). */
  solution?: Grid;
  /** Difficulty from the file (Sudoku-Extreme: tdoku backtracks; hrm-lens files: this solver's backtracks). */
  rating?: number;
  /** Where the puzzle comes from: the CSV `source` column, or the split name for `.npy` folders. */
  source?: string;
  /** 1-based line in the file (CSV: the header is line 1); for `.npy` folders, the 1-based row. */
  line: number;
}

export type DatasetFormat = 'csv' | 'lines' | 'npy-folder';

/** A dataset opened for streaming. Each iteration re-reads the file and starts a fresh report. */
export interface DatasetReader extends AsyncIterable<DatasetRecord> {
  /** The path as given. */
  readonly path: string;
  readonly format: DatasetFormat;
  /** Counts of the current (or last) iteration: rows, valid, invalid by kind, unique checks. */
  readonly report: ValidationReport;
  /** Fraction of the input consumed so far by the current iteration (0..1), for progress lines. */
  progress(): number;
}

/** Grid size of a record (from its cell count). */
export function recordSize(r: Pick<DatasetRecord, 'puzzle'>): GridSize {
  const n = sizeFromCells(r.puzzle.length);
  if (n === undefined) throw new RangeError(`record has ${r.puzzle.length} cells; expected 16, 36 or 81`);
  return n;
}

/** Number of given (non-blank) cells. */
export function clueCount(grid: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < grid.length; i++) if (grid[i] !== 0) k++;
  return k;
}

/** Either kind of iterable: readers are async, in-memory arrays are sync; the helpers accept both. */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;
