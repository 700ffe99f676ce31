/**
 * Decoding one segment's logits: argmax over the vocabulary per cell → tokens → digits, per-cell confidence, and the
 * reference stablemax cross-entropy (docs/analyses.md §Decoding and confidence), all in float64 math.
 *
 * Layout: logits are row-major [cell][vocab], vocab = n + 2 (0 PAD, 1 blank, digit d = token d + 1).
 * - argmax: the lowest token index wins ties (like torch.argmax); NaN logits never win; a cell whose logits are all NaN
 *   decodes to token 0 (PAD), i.e. digit 0.
 * - PAD and blank both decode to digit 0 (tokensToGrid).
 * - confidence: probability of the argmax token; the DEFAULT is softmax (what a user reads as "how sure"), the
 *   alternative is stablemax, the distribution the model is trained with: s(x) = x ≥ 0 ? x + 1 : 1 / (1 − x),
 *   p_v = s(x_v) / Σ_w s(x_w). Both are monotone in x, so the argmax is the same token under either.
 * - stablemax loss per cell = −log p_label with label = solution digit + 1; the puzzle loss is the mean over cells.
 *   Cells whose solution digit is 0 (unknown) have no label: NaN per cell and left out of the mean.
 */
import { type Grid, type GridSize, tokensToGrid } from '../sudoku/geometry';

export type ConfidenceKind = 'softmax' | 'stablemax';

export interface DecodedSegment {
  /** Argmax token per cell. */
  tokens: Int8Array;
  /** Digits 0..n (PAD/blank → 0). */
  digits: Grid;
  /** Probability of the argmax token per cell (softmax unless asked otherwise). */
  confidence: Float32Array;
  confidenceKind: ConfidenceKind;
}

/** Cells and vocabulary size for an n×n grid; throws when the logits do not have cells·vocab entries. */
export function logitsShape(logits: ArrayLike<number>, n: GridSize): { cells: number; vocab: number } {
  const cells = n * n;
  const vocab = n + 2;
  if (logits.length !== cells * vocab) {
    throw new RangeError(`logits: expected ${cells}×${vocab} = ${cells * vocab} values for a ${n}×${n} grid, got ${logits.length}`);
  }
  return { cells, vocab };
}

/** The stablemax transform s(x) = x ≥ 0 ? x + 1 : 1 / (1 − x) (positive, increasing). */
export function stablemax(x: number): number {
  return x >= 0 ? x + 1 : 1 / (1 - x);
}

/** Argmax token per cell (lowest index on ties; NaN never wins; all-NaN → 0). */
export function argmaxTokens(logits: ArrayLike<number>, n: GridSize): Int8Array {
  const { cells, vocab } = logitsShape(logits, n);
  const out = new Int8Array(cells);
  for (let c = 0; c < cells; c++) {
    const base = c * vocab;
    let best = 0;
    let bestV = -Infinity;
    let found = false;
    for (let v = 0; v < vocab; v++) {
      const x = logits[base + v];
      if (x > bestV || (!found && x === -Infinity)) { bestV = x; best = v; found = true; }
    }
    out[c] = best;
  }
  return out;
}

/** Decoded digits (0..n) per cell. */
export function decodeDigits(logits: ArrayLike<number>, n: GridSize): Grid {
  return tokensToGrid(argmaxTokens(logits, n));
}

/** Probability of token `token` in cell `cell` under softmax or stablemax (float64). */
function cellProb(logits: ArrayLike<number>, base: number, vocab: number, token: number, kind: ConfidenceKind): number {
  if (kind === 'softmax') {
    let m = -Infinity;
    for (let v = 0; v < vocab; v++) if (logits[base + v] > m) m = logits[base + v];
    if (m === -Infinity || Number.isNaN(m)) return NaN;
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - m);
    return Math.exp(logits[base + token] - m) / sum;
  }
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += stablemax(logits[base + v]);
  return stablemax(logits[base + token]) / sum;
}

/** Per cell: probability of the argmax token (softmax by default). */
export function cellConfidence(logits: ArrayLike<number>, n: GridSize, kind: ConfidenceKind = 'softmax', tokens?: Int8Array): Float32Array {
  const { cells, vocab } = logitsShape(logits, n);
  const tok = tokens ?? argmaxTokens(logits, n);
  const out = new Float32Array(cells);
  for (let c = 0; c < cells; c++) out[c] = cellProb(logits, c * vocab, vocab, tok[c], kind);
  return out;
}

/** Tokens, digits and confidence for one segment's logits. */
export function decodeSegment(logits: ArrayLike<number>, n: GridSize, opts: { confidence?: ConfidenceKind } = {}): DecodedSegment {
  const kind = opts.confidence ?? 'softmax';
  const tokens = argmaxTokens(logits, n);
  return { tokens, digits: tokensToGrid(tokens), confidence: cellConfidence(logits, n, kind, tokens), confidenceKind: kind };
}

/** Per cell −log p_stablemax(label), label = solution digit + 1, float64; NaN where the solution digit is 0. */
export function stablemaxCellLoss(logits: ArrayLike<number>, n: GridSize, solution: ArrayLike<number>): Float64Array {
  const { cells, vocab } = logitsShape(logits, n);
  if (solution.length !== cells) throw new RangeError(`stablemaxCellLoss: solution has ${solution.length} cells, expected ${cells}`);
  const out = new Float64Array(cells);
  for (let c = 0; c < cells; c++) {
    const d = solution[c];
    if (!(d >= 1 && d <= n)) { out[c] = NaN; continue; }
    const base = c * vocab;
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += stablemax(logits[base + v]);
    out[c] = -(Math.log(stablemax(logits[base + d + 1])) - Math.log(sum));
  }
  return out;
}

/** Puzzle loss: mean stablemax cross-entropy over the labelled cells (NaN when no cell has a label). */
export function stablemaxLoss(logits: ArrayLike<number>, n: GridSize, solution: ArrayLike<number>): number {
  const per = stablemaxCellLoss(logits, n, solution);
  let sum = 0;
  let count = 0;
  for (let c = 0; c < per.length; c++) if (!Number.isNaN(per[c])) { sum += per[c]; count++; }
  return count > 0 ? sum / count : NaN;
}

/**
 * Synthetic logits that decode to `grid` (digit 0 → the blank token): 0 everywhere, `margin` on the chosen token
 * (one number, or one per cell). For fixtures, demos and tests of everything downstream of the model.
 */
export function logitsFromGrid(grid: ArrayLike<number>, n: GridSize, margin: number | ArrayLike<number> = 5): Float32Array {
  const cells = n * n;
  const vocab = n + 2;
  if (grid.length !== cells) throw new RangeError(`logitsFromGrid: expected ${cells} cells, got ${grid.length}`);
  const out = new Float32Array(cells * vocab);
  for (let c = 0; c < cells; c++) {
    const d = grid[c];
    if (!(d >= 0 && d <= n)) throw new RangeError(`logitsFromGrid: cell ${c} holds ${d}; allowed 0..${n}`);
    const m = typeof margin === 'number' ? margin : margin[c];
    if (!(m > 0)) throw new RangeError(`logitsFromGrid: margin must be > 0 (cell ${c} has ${m})`);
    out[c * vocab + d + 1] = m;
  }
  return out;
}
