/**
 * Weights read from a file must be finite: a NaN or ±Inf anywhere turns every forward pass into NaN (blank decoded
 * grids, NaN halting values, 0% accuracy) without any other sign. Every path that turns a checkpoint file into model
 * weights (engine/train/checkpoint.ts loadCheckpoint for native checkpoints, engine/interop/hrm-keys.ts for imports)
 * calls assertFiniteWeights once, a single pass over each Float32Array.
 */
import { DataError } from '../util/errors';

/** Non-finite values of one array: NaN, +Inf and -Inf counts. */
export interface NonFiniteCount {
  nan: number;
  posInf: number;
  negInf: number;
}

/** Counts the NaN / ±Inf values of `data`; undefined when all are finite. */
export function countNonFinite(data: Float32Array): NonFiniteCount | undefined {
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) bad++; // false for every finite x; NaN for NaN and ±Inf
  }
  if (bad === 0) return undefined;
  const c: NonFiniteCount = { nan: 0, posInf: 0, negInf: 0 };
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (Number.isNaN(x)) c.nan++;
    else if (x === Infinity) c.posInf++;
    else if (x === -Infinity) c.negInf++;
  }
  return c;
}

/**
 * Throws a DataError naming `file` and the first tensor (in file order) that holds NaN or infinite values, with their
 * counts, and listing the other affected tensors.
 */
export function assertFiniteWeights(file: string, tensors: Iterable<readonly [string, { data: Float32Array }]>): void {
  const bad: { name: string; length: number; count: NonFiniteCount }[] = [];
  for (const [name, t] of tensors) {
    const count = countNonFinite(t.data);
    if (count) bad.push({ name, length: t.data.length, count });
  }
  if (bad.length === 0) return;
  const [first] = bad;
  const { nan, posInf, negInf } = first.count;
  const kinds = [nan ? `${nan} NaN` : '', posInf ? `${posInf} +Inf` : '', negInf ? `${negInf} -Inf` : ''].filter(Boolean).join(', ');
  const others = bad.slice(1);
  const more = others.length === 0 ? ''
    : `; ${others.length} more weight${others.length === 1 ? '' : 's'} with non-finite values: ${others.slice(0, 3).map((b) => b.name).join(', ')}${others.length > 3 ? ', …' : ''}`;
  throw new DataError({ file, field: first.name },
    `${nan + posInf + negInf} of ${first.length} values are not finite (${kinds})${more}. `
    + 'NaN or infinite weights make every output meaningless (a diverged training, or a damaged file)');
}
