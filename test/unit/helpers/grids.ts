// A grid from its text for the tests (row-major digits, '.' or '0' for blanks); throws on a malformed one.
import { type Grid, parseGrid } from '../../../engine/sudoku/geometry';

export function grid(text: string, n: 4 | 6 | 9 = 4): Grid {
  const p = parseGrid(text, n);
  if ('error' in p) throw new Error(p.error);
  return p.grid;
}
