/**
 * Givens that contradict each other (the same digit twice in a row, column or box), and the parsing of a puzzle a
 * person typed: its characters, its size and its givens are checked before any model or solver runs, and a refusal
 * names the clashing cells ("givens clash: r1c1 = 1 and r1c5 = 1 (row 1)").
 */
import { type Geometry, type Grid, type GridSize, geometry, parseGrid } from './geometry';

export interface GivensClash {
  /** The earlier and the later cell (row-major indices) holding the same digit. */
  first: number;
  second: number;
  digit: number;
  /** The units both cells share, e.g. ["row 1", "box 1"]. */
  units: string[];
  /** Clashing pairs in the whole grid (this one included). */
  pairs: number;
}

/** "r1c5": the cell's row and column, 1-based. */
export function cellLabel(cell: number, n: number): string {
  return `r${Math.floor(cell / n) + 1}c${(cell % n) + 1}`;
}

/** The first pair of givens (in row-major order of the later cell) with the same digit in a shared unit. */
export function findGivensClash(grid: ArrayLike<number>, geo: Geometry): GivensClash | undefined {
  let found: GivensClash | undefined;
  let pairs = 0;
  for (let c = 0; c < geo.cells; c++) {
    const d = grid[c];
    if (d === 0) continue;
    for (const p of geo.peers[c]) {
      if (p >= c) break; // peers are sorted: only earlier cells, so each pair counts once
      if (grid[p] !== d) continue;
      pairs++;
      if (found) continue;
      const units: string[] = [];
      if (geo.row(p) === geo.row(c)) units.push(`row ${geo.row(c) + 1}`);
      if (geo.col(p) === geo.col(c)) units.push(`column ${geo.col(c) + 1}`);
      if (geo.box(p) === geo.box(c)) units.push(`box ${geo.box(c) + 1}`);
      found = { first: p, second: c, digit: d, units, pairs: 0 };
    }
  }
  if (found) found.pairs = pairs;
  return found;
}

/** "givens clash: r1c1 = 1 and r1c5 = 1 (row 1)", with the count of further clashing pairs when there are any. */
export function describeClash(clash: GivensClash, n: number): string {
  const more = clash.pairs > 1 ? `; ${clash.pairs - 1} more clashing pair${clash.pairs > 2 ? 's' : ''}` : '';
  return `givens clash: ${cellLabel(clash.first, n)} = ${clash.digit} and ${cellLabel(clash.second, n)} = ${clash.digit}`
    + ` (${clash.units.join(', ')})${more}`;
}

/**
 * A typed puzzle (whitespace ignored; 16, 36 or 81 characters; '.' or '0' blank) as a grid, or why it is refused:
 * a wrong length or size, a bad character, or givens that clash. `expectedSize`: the model's grid size.
 */
export function parsePuzzle(text: string, expectedSize?: GridSize): { grid: Grid; n: GridSize } | { error: string } {
  const parsed = parseGrid(text.replace(/\s+/g, ''), expectedSize);
  if ('error' in parsed) return parsed;
  const clash = findGivensClash(parsed.grid, geometry(parsed.n));
  return clash ? { error: describeClash(clash, parsed.n) } : parsed;
}

/** Why a typed puzzle is refused ('' when it is fine), for input boxes and request checks that know no model yet. */
export function puzzleProblem(text: string, expectedSize?: GridSize): string {
  const r = parsePuzzle(text, expectedSize);
  return 'error' in r ? r.error : '';
}
