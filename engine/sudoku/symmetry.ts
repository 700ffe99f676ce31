/**
 * Sudoku symmetries (validity-preserving transforms) with exact inverses and composition.
 *
 * A transform t acts on a grid `old` as (reference `shuffle_sudoku`; docs/model.md §Augmentation):
 *   new[i][j] = digitMap[ T(old)[rowPerm[i]][colPerm[j]] ],   T(g)[r][c] = transpose ? g[c][r] : g[r][c]
 * i.e. new cell (i, j) reads old cell (rowPerm[i], colPerm[j]), or (colPerm[j], rowPerm[i]) when transposed.
 * digitMap[0] = 0 (blanks stay blank); digitMap[1..N] is a permutation of 1..N.
 * Transpose needs square boxes (4×4, 9×9); 6×6 boxes are 2×3, so transposing a 6×6 grid breaks its boxes and every
 * function here throws for it. A *valid* transform (isValidTransform) keeps rows within bands and moves bands as
 * blocks (likewise columns/stacks), so it maps Sudoku solutions to Sudoku solutions and unique puzzles to unique
 * puzzles; applyTransform itself accepts any row/column permutation.
 *
 * Algebra (checked by the tests): apply(compose(a, b), g) = apply(b, apply(a, g));
 * apply(invert(t), apply(t, g)) = g; mapBack(pred, t) = apply(invert(t), pred).
 */
import type { Geometry, Grid, GridSize } from './geometry';
import { isGridSize } from './geometry';
import type { Rng } from '../util/rng';

export interface SudokuTransform {
  readonly n: GridSize;
  /** Length n+1; digitMap[0] = 0; digitMap[d] = new digit for old digit d. */
  readonly digitMap: Int8Array;
  readonly transpose: boolean;
  /** Length n: new row i reads (transposed) old row rowPerm[i]. */
  readonly rowPerm: Int16Array;
  /** Length n: new column j reads (transposed) old column colPerm[j]. */
  readonly colPerm: Int16Array;
}

function boxShape(n: GridSize): { boxRows: number; boxCols: number } {
  const boxRows = n === 9 ? 3 : 2;
  return { boxRows, boxCols: n / boxRows };
}

function hasSquareBoxes(n: GridSize): boolean {
  const { boxRows, boxCols } = boxShape(n);
  return boxRows === boxCols;
}

function checkN(n: number, where: string): asserts n is GridSize {
  if (!isGridSize(n)) throw new RangeError(`${where}: n must be 4, 6 or 9, got ${n}`);
}

function noTransposeFor6(n: GridSize, transpose: boolean, where: string): void {
  if (transpose && !hasSquareBoxes(n)) {
    throw new RangeError(`${where}: transpose is not a symmetry of ${n}×${n} Sudoku (boxes are not square)`);
  }
}

function isPermutation(p: ArrayLike<number>, lo: number, count: number): boolean {
  if (p.length !== count || count > 30) return false;
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const v = p[i] - lo;
    if (!Number.isInteger(v) || v < 0 || v >= count) return false;
    const bit = 1 << v;
    if (seen & bit) return false;
    seen |= bit;
  }
  return true;
}

function identityPerm(n: number): Int16Array {
  const p = new Int16Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return p;
}

function identityDigits(n: number): Int8Array {
  const m = new Int8Array(n + 1);
  for (let d = 0; d <= n; d++) m[d] = d;
  return m;
}

/** Build a transform from parts (missing parts = identity); checks shapes and permutations, not band structure. */
export function makeTransform(n: GridSize, parts: { digitMap?: ArrayLike<number>; transpose?: boolean; rowPerm?: ArrayLike<number>; colPerm?: ArrayLike<number> } = {}): SudokuTransform {
  checkN(n, 'makeTransform');
  const transpose = parts.transpose ?? false;
  noTransposeFor6(n, transpose, 'makeTransform');
  const digitMap = parts.digitMap ? Int8Array.from(parts.digitMap) : identityDigits(n);
  if (digitMap.length !== n + 1 || digitMap[0] !== 0 || !isPermutation(digitMap.subarray(1), 1, n)) {
    throw new RangeError(`makeTransform: digitMap must have length ${n + 1}, digitMap[0] = 0 and digitMap[1..${n}] a permutation of 1..${n}`);
  }
  const rowPerm = parts.rowPerm ? Int16Array.from(parts.rowPerm) : identityPerm(n);
  const colPerm = parts.colPerm ? Int16Array.from(parts.colPerm) : identityPerm(n);
  if (!isPermutation(rowPerm, 0, n)) throw new RangeError(`makeTransform: rowPerm must be a permutation of 0..${n - 1}`);
  if (!isPermutation(colPerm, 0, n)) throw new RangeError(`makeTransform: colPerm must be a permutation of 0..${n - 1}`);
  return { n, digitMap, transpose, rowPerm, colPerm };
}

export function identityTransform(n: GridSize): SudokuTransform {
  return makeTransform(n);
}

/** Digit relabeling: perm[d-1] = new digit for d (a permutation of 1..n). */
export function relabeling(n: GridSize, perm: ArrayLike<number>): SudokuTransform {
  checkN(n, 'relabeling');
  if (!isPermutation(perm, 1, n)) throw new RangeError(`relabeling: perm must be a permutation of 1..${n} (length ${n})`);
  const digitMap = new Int8Array(n + 1);
  for (let d = 1; d <= n; d++) digitMap[d] = perm[d - 1];
  return makeTransform(n, { digitMap });
}

/** The paper's test-time relabeling: d -> ((d-1+p) mod n)+1 (any integer p; p ≡ 0 is the identity). */
export function cyclicShift(n: GridSize, p: number): SudokuTransform {
  checkN(n, 'cyclicShift');
  if (!Number.isInteger(p)) throw new RangeError(`cyclicShift: p must be an integer, got ${p}`);
  const perm = new Int8Array(n);
  for (let d = 1; d <= n; d++) perm[d - 1] = ((((d - 1 + p) % n) + n) % n) + 1;
  return relabeling(n, perm);
}

/** Transpose (4×4 and 9×9 only; throws for 6×6). */
export function transposeTransform(n: GridSize): SudokuTransform {
  return makeTransform(n, { transpose: true });
}

/** Row permutation moving whole bands: order[newBand] = oldBand. */
export function bandPermutation(geo: Geometry, order: ArrayLike<number>): SudokuTransform {
  if (!isPermutation(order, 0, geo.bands)) throw new RangeError(`bandPermutation: order must be a permutation of 0..${geo.bands - 1}`);
  const rowPerm = new Int16Array(geo.n);
  for (let b = 0; b < geo.bands; b++) for (let k = 0; k < geo.boxRows; k++) rowPerm[b * geo.boxRows + k] = order[b] * geo.boxRows + k;
  return makeTransform(geo.n, { rowPerm });
}

/** Column permutation moving whole stacks: order[newStack] = oldStack. */
export function stackPermutation(geo: Geometry, order: ArrayLike<number>): SudokuTransform {
  if (!isPermutation(order, 0, geo.stacks)) throw new RangeError(`stackPermutation: order must be a permutation of 0..${geo.stacks - 1}`);
  const colPerm = new Int16Array(geo.n);
  for (let s = 0; s < geo.stacks; s++) for (let k = 0; k < geo.boxCols; k++) colPerm[s * geo.boxCols + k] = order[s] * geo.boxCols + k;
  return makeTransform(geo.n, { colPerm });
}

/** Permute the rows inside one band: order[newOffset] = oldOffset (offsets 0..boxRows-1). */
export function rowsWithinBand(geo: Geometry, band: number, order: ArrayLike<number>): SudokuTransform {
  if (!Number.isInteger(band) || band < 0 || band >= geo.bands) throw new RangeError(`rowsWithinBand: band must be in 0..${geo.bands - 1}`);
  if (!isPermutation(order, 0, geo.boxRows)) throw new RangeError(`rowsWithinBand: order must be a permutation of 0..${geo.boxRows - 1}`);
  const rowPerm = identityPerm(geo.n);
  for (let k = 0; k < geo.boxRows; k++) rowPerm[band * geo.boxRows + k] = band * geo.boxRows + order[k];
  return makeTransform(geo.n, { rowPerm });
}

/** Permute the columns inside one stack: order[newOffset] = oldOffset (offsets 0..boxCols-1). */
export function colsWithinStack(geo: Geometry, stack: number, order: ArrayLike<number>): SudokuTransform {
  if (!Number.isInteger(stack) || stack < 0 || stack >= geo.stacks) throw new RangeError(`colsWithinStack: stack must be in 0..${geo.stacks - 1}`);
  if (!isPermutation(order, 0, geo.boxCols)) throw new RangeError(`colsWithinStack: order must be a permutation of 0..${geo.boxCols - 1}`);
  const colPerm = identityPerm(geo.n);
  for (let k = 0; k < geo.boxCols; k++) colPerm[stack * geo.boxCols + k] = stack * geo.boxCols + order[k];
  return makeTransform(geo.n, { colPerm });
}

export interface RandomTransformOptions {
  /** Random relabeling of 1..N (default true). */
  digits?: boolean;
  /** Transpose with probability 0.5 (default: true for 4×4 and 9×9, false for 6×6; explicit true throws for 6×6). */
  transpose?: boolean;
  /** Shuffle bands (default true). */
  bands?: boolean;
  /** Shuffle rows inside each band (default true). */
  rowsInBands?: boolean;
  /** Shuffle stacks (default true). */
  stacks?: boolean;
  /** Shuffle columns inside each stack (default true). */
  colsInStacks?: boolean;
}

/**
 * A random valid transform, drawn like the reference `shuffle_sudoku`: digit permutation, transpose coin, band order,
 * row order in each band, stack order, column order in each stack (in this order; a disabled part draws nothing).
 */
export function randomTransform(geo: Geometry, rng: Rng, opts: RandomTransformOptions = {}): SudokuTransform {
  const n = geo.n;
  if (opts.transpose === true) noTransposeFor6(n, true, 'randomTransform');
  const digits = opts.digits ?? true;
  const allowTranspose = opts.transpose ?? hasSquareBoxes(n);
  let digitMap: Int8Array | undefined;
  if (digits) {
    const p = rng.permutation(n);
    digitMap = new Int8Array(n + 1);
    for (let d = 1; d <= n; d++) digitMap[d] = p[d - 1] + 1;
  }
  const transpose = allowTranspose ? rng.float() < 0.5 : false;
  const lines = (count: number, size: number, blocks: boolean, inside: boolean): Int16Array => {
    const order = blocks ? rng.permutation(count) : identityPerm(count);
    const perm = new Int16Array(count * size);
    for (let b = 0; b < count; b++) {
      const off = inside ? rng.permutation(size) : identityPerm(size);
      for (let k = 0; k < size; k++) perm[b * size + k] = order[b] * size + off[k];
    }
    return perm;
  };
  const rowPerm = lines(geo.bands, geo.boxRows, opts.bands ?? true, opts.rowsInBands ?? true);
  const colPerm = lines(geo.stacks, geo.boxCols, opts.stacks ?? true, opts.colsInStacks ?? true);
  return makeTransform(n, { digitMap, transpose, rowPerm, colPerm });
}

/** new[i][j] = digitMap[T(old)[rowPerm[i]][colPerm[j]]]. Throws for a wrong length or a digit outside 0..N. */
export function applyTransform(grid: ArrayLike<number>, t: SudokuTransform): Grid {
  const n = t.n;
  if (grid.length !== n * n) throw new RangeError(`applyTransform: expected ${n * n} cells for a ${n}×${n} transform, got ${grid.length}`);
  noTransposeFor6(n, t.transpose, 'applyTransform');
  const out = new Int8Array(n * n);
  const { digitMap, rowPerm, colPerm } = t;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const src = t.transpose ? colPerm[j] * n + rowPerm[i] : rowPerm[i] * n + colPerm[j];
      const d = grid[src];
      if (!(d >= 0 && d <= n) || !Number.isInteger(d)) throw new RangeError(`applyTransform: cell ${src} holds ${d}; allowed 0..${n}`);
      out[i * n + j] = digitMap[d];
    }
  }
  return out;
}

function invertPerm(p: ArrayLike<number>): Int16Array {
  const q = new Int16Array(p.length);
  for (let i = 0; i < p.length; i++) q[p[i]] = i;
  return q;
}

/** The transform undoing t: apply(invert(t), apply(t, g)) = g. */
export function invertTransform(t: SudokuTransform): SudokuTransform {
  const n = t.n;
  const digitMap = new Int8Array(n + 1);
  for (let d = 0; d <= n; d++) digitMap[t.digitMap[d]] = d;
  const rInv = invertPerm(t.rowPerm);
  const cInv = invertPerm(t.colPerm);
  // Without transpose: old[r][c] = D⁻¹[new[R⁻¹r][C⁻¹c]]. With it: old[a][b] = D⁻¹[new[R⁻¹b][C⁻¹a]] = D⁻¹[Tnew[C⁻¹a][R⁻¹b]].
  return t.transpose
    ? makeTransform(n, { digitMap, transpose: true, rowPerm: cInv, colPerm: rInv })
    : makeTransform(n, { digitMap, transpose: false, rowPerm: rInv, colPerm: cInv });
}

/** First `first`, then `then`: apply(compose(a, b), g) = apply(b, apply(a, g)). */
export function composeTransforms(first: SudokuTransform, then: SudokuTransform): SudokuTransform {
  if (first.n !== then.n) throw new RangeError(`composeTransforms: sizes differ (${first.n} vs ${then.n})`);
  const n = first.n;
  const digitMap = new Int8Array(n + 1);
  for (let d = 0; d <= n; d++) digitMap[d] = then.digitMap[first.digitMap[d]];
  // `then` reads cell srcB(i,j) of the intermediate grid, which reads srcA(srcB(i,j)) of the original.
  // If `then` transposes, its row index feeds first's column lookup and vice versa.
  const rowSrc = then.transpose ? first.colPerm : first.rowPerm;
  const colSrc = then.transpose ? first.rowPerm : first.colPerm;
  const rowPerm = new Int16Array(n);
  const colPerm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    rowPerm[i] = rowSrc[then.rowPerm[i]];
    colPerm[i] = colSrc[then.colPerm[i]];
  }
  return makeTransform(n, { digitMap, transpose: first.transpose !== then.transpose, rowPerm, colPerm });
}

/** Map a prediction made on the transformed puzzle back to the original frame: apply(invert(t), pred). */
export function mapBack(predicted: ArrayLike<number>, t: SudokuTransform): Grid {
  return applyTransform(predicted, invertTransform(t));
}

/** Whether each line group is permuted as a block and lines only move inside their group. */
function blockPreserving(p: ArrayLike<number>, size: number): boolean {
  for (let i = 0; i < p.length; i += size) {
    const block = Math.floor(p[i] / size);
    for (let k = 1; k < size; k++) if (Math.floor(p[i + k] / size) !== block) return false;
  }
  return true;
}

/**
 * True when t is a Sudoku symmetry for geo: sizes match; digitMap fixes 0 and permutes 1..N; rowPerm/colPerm are
 * permutations that move bands/stacks as blocks and rows/columns only within them; transpose only with square boxes.
 */
export function isValidTransform(t: SudokuTransform, geo: Geometry): boolean {
  const n = geo.n;
  if (t.n !== n) return false;
  if (t.transpose && geo.boxRows !== geo.boxCols) return false;
  if (t.digitMap.length !== n + 1 || t.digitMap[0] !== 0 || !isPermutation(t.digitMap.subarray(1), 1, n)) return false;
  if (!isPermutation(t.rowPerm, 0, n) || !isPermutation(t.colPerm, 0, n)) return false;
  return blockPreserving(t.rowPerm, geo.boxRows) && blockPreserving(t.colPerm, geo.boxCols);
}

/** Exact equality of two transforms' parts (note: distinct parts never give the same action on all grids). */
export function transformsEqual(a: SudokuTransform, b: SudokuTransform): boolean {
  if (a.n !== b.n || a.transpose !== b.transpose) return false;
  for (let d = 0; d <= a.n; d++) if (a.digitMap[d] !== b.digitMap[d]) return false;
  for (let i = 0; i < a.n; i++) if (a.rowPerm[i] !== b.rowPerm[i] || a.colPerm[i] !== b.colPerm[i]) return false;
  return true;
}
