/**
 * Grid geometry for N×N Sudoku with rectangular boxes: 4 (2×2), 6 (2×3: 2 rows × 3 columns), 9 (3×3).
 * Grids are Int8Array(N*N), row-major, digits 1..N, 0 = blank.
 * Model tokens follow the reference HRM: 0 = PAD, 1 = blank, digit + 1.
 */

export type GridSize = 4 | 6 | 9;
export const GRID_SIZES: readonly GridSize[] = [4, 6, 9];

/** A grid of digits 0..N (0 = blank), row-major. */
export type Grid = Int8Array;

export interface Geometry {
  readonly n: GridSize;
  /** Cells: n*n. */
  readonly cells: number;
  /** Box height (rows) and width (columns). */
  readonly boxRows: number;
  readonly boxCols: number;
  /** Number of bands (groups of boxRows rows) = n / boxRows, stacks = n / boxCols. */
  readonly bands: number;
  readonly stacks: number;
  /** Units: n rows, then n columns, then n boxes; each lists its n cell indices. */
  readonly units: readonly Int16Array[];
  /** For each cell, the indices of the 3 units containing it: [row, n + col, 2n + box]. */
  readonly unitsOfCell: readonly Int16Array[];
  /** For each cell, its distinct peers (cells sharing a unit), excluding itself. */
  readonly peers: readonly Int16Array[];
  /** Model vocabulary size: PAD + blank + n digits. */
  readonly vocabSize: number;
  row(cell: number): number;
  col(cell: number): number;
  box(cell: number): number;
}

export const PAD_TOKEN = 0;
export const BLANK_TOKEN = 1;

const cache = new Map<GridSize, Geometry>();

export function isGridSize(n: number): n is GridSize {
  return n === 4 || n === 6 || n === 9;
}

/** Grid size from a cell count (16, 36, 81); undefined for any other count. */
export function sizeFromCells(cells: number): GridSize | undefined {
  const n = Math.round(Math.sqrt(cells));
  return n * n === cells && isGridSize(n) ? n : undefined;
}

export function geometry(n: GridSize): Geometry {
  const hit = cache.get(n);
  if (hit) return hit;
  const boxRows = n === 9 ? 3 : 2;
  const boxCols = n / boxRows;
  const cells = n * n;
  const row = (c: number) => Math.floor(c / n);
  const col = (c: number) => c % n;
  const box = (c: number) => Math.floor(row(c) / boxRows) * (n / boxCols) + Math.floor(col(c) / boxCols);
  const units: Int16Array[] = [];
  for (let r = 0; r < n; r++) units.push(Int16Array.from({ length: n }, (_, k) => r * n + k));
  for (let c = 0; c < n; c++) units.push(Int16Array.from({ length: n }, (_, k) => k * n + c));
  for (let b = 0; b < n; b++) {
    const r0 = Math.floor(b / (n / boxCols)) * boxRows;
    const c0 = (b % (n / boxCols)) * boxCols;
    units.push(Int16Array.from({ length: n }, (_, k) => (r0 + Math.floor(k / boxCols)) * n + c0 + (k % boxCols)));
  }
  const unitsOfCell: Int16Array[] = [];
  const peers: Int16Array[] = [];
  for (let c = 0; c < cells; c++) {
    unitsOfCell.push(Int16Array.of(row(c), n + col(c), 2 * n + box(c)));
    const set = new Set<number>();
    for (const u of unitsOfCell[c]) for (const p of units[u]) if (p !== c) set.add(p);
    peers.push(Int16Array.from([...set].sort((a, b) => a - b)));
  }
  const g: Geometry = {
    n, cells, boxRows, boxCols, bands: n / boxRows, stacks: n / boxCols,
    units, unitsOfCell, peers, vocabSize: n + 2, row, col, box,
  };
  cache.set(n, g);
  return g;
}

/** Digits (0 = blank) to model tokens (1 = blank, digit + 1). */
export function gridToTokens(grid: ArrayLike<number>): Int32Array {
  const t = new Int32Array(grid.length);
  for (let i = 0; i < grid.length; i++) t[i] = grid[i] + 1;
  return t;
}

/** Model tokens back to digits: PAD (0) and blank (1) both become 0. */
export function tokensToGrid(tokens: ArrayLike<number>): Grid {
  const g = new Int8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) g[i] = tokens[i] >= 2 ? tokens[i] - 1 : 0;
  return g;
}

/** Symbols used in text: digits 1..9, '.' or '0' for blank. */
export function gridToString(grid: ArrayLike<number>, blank = '.'): string {
  let s = '';
  for (let i = 0; i < grid.length; i++) s += grid[i] === 0 ? blank : String(grid[i]);
  return s;
}

/**
 * Parse a puzzle string of 16/36/81 characters ('.' or '0' = blank, digits 1..N).
 * Returns a reason string instead of throwing, so dataset readers can name file, line and field.
 */
export function parseGrid(text: string, expectedSize?: GridSize): { grid: Grid; n: GridSize } | { error: string } {
  const n = sizeFromCells(text.length);
  if (n === undefined) return { error: `expected 16, 36 or 81 characters, got ${text.length}` };
  if (expectedSize !== undefined && n !== expectedSize) return { error: `expected a ${expectedSize}×${expectedSize} grid (${expectedSize * expectedSize} characters), got ${text.length}` };
  const grid = new Int8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 46 /* . */ || ch === 48 /* 0 */) grid[i] = 0;
    else if (ch >= 49 && ch <= 48 + n) grid[i] = ch - 48;
    else return { error: `bad character ${JSON.stringify(text[i])} at position ${i + 1} (allowed: 1-${n}, '.' or '0')` };
  }
  return { grid, n };
}

/** True when every cell holds a digit and no unit repeats one. */
export function isValidSolution(grid: ArrayLike<number>, geo: Geometry): boolean {
  for (const unit of geo.units) {
    let seen = 0;
    for (const c of unit) {
      const d = grid[c];
      if (d < 1 || d > geo.n) return false;
      const bit = 1 << d;
      if (seen & bit) return false;
      seen |= bit;
    }
  }
  return true;
}

/** True when every given (non-zero) cell of the puzzle equals the solution's digit there. */
export function givensMatch(puzzle: ArrayLike<number>, solution: ArrayLike<number>): boolean {
  for (let i = 0; i < puzzle.length; i++) if (puzzle[i] !== 0 && puzzle[i] !== solution[i]) return false;
  return true;
}

export function countBlanks(grid: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < grid.length; i++) if (grid[i] === 0) k++;
  return k;
}
