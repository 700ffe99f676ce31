/**
 * Seeded held-out splits.
 *  - `splitDataset`: in memory, exact: round(test·N) records chosen by a seeded permutation go to the test split;
 *    both splits keep the input order.
 *  - `hashSplit` / `splitStream`: streaming, one pass, no memory: a record goes to test when a seeded hash of its
 *    puzzle falls below `test`. The test share is ≈ `test` (binomial), the same puzzle always lands in the same
 *    split (duplicates never straddle the split), and the assignment does not depend on row order.
 * Neither split is symmetry-aware: a transformed copy of a train puzzle can land in test (Sudoku-Extreme was built
 * with inequivalent splits; check before comparing to its numbers).
 */
import { Rng } from '../../util/rng';
import { deriveSeed } from '../../util/hash-seed';
import type { AnyIterable } from './record';

export type SplitName = 'train' | 'test';

export interface SplitOptions {
  /** Fraction of records held out for test, in [0, 1]. */
  test: number;
  seed: number;
}

const PURPOSE_SPLIT = 0x5b17;

function checkFraction(test: number): void {
  if (!(test >= 0 && test <= 1)) throw new RangeError(`split: test fraction must be in [0, 1], got ${test}`);
}

/** Exact seeded split of an in-memory list. */
export function splitDataset<T>(records: readonly T[], opts: SplitOptions): { train: T[]; test: T[] } {
  checkFraction(opts.test);
  const n = records.length;
  const count = Math.round(opts.test * n);
  const perm = new Rng(deriveSeed(opts.seed, PURPOSE_SPLIT, n)).permutation(n);
  const isTest = new Uint8Array(n);
  for (let i = 0; i < count; i++) isTest[perm[i]] = 1;
  const train: T[] = [];
  const test: T[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? test : train).push(records[i]);
  return { train, test };
}

/** 32-bit FNV-1a of the cells. */
function hashCells(cells: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < cells.length; i++) h = Math.imul(h ^ (cells[i] & 0xff), 0x01000193);
  return h | 0;
}

/** Which split a puzzle belongs to under (test, seed); depends only on the puzzle's cells. */
export function hashSplit(puzzle: ArrayLike<number>, opts: SplitOptions): SplitName {
  checkFraction(opts.test);
  const u = (deriveSeed(opts.seed, PURPOSE_SPLIT, hashCells(puzzle)) >>> 0) / 0x1_0000_0000;
  return u < opts.test ? 'test' : 'train';
}

/** Tag each record of a stream with its hash split. */
export async function* splitStream<T extends { puzzle: ArrayLike<number> }>(records: AnyIterable<T>, opts: SplitOptions): AsyncGenerator<{ split: SplitName; record: T }> {
  checkFraction(opts.test);
  for await (const record of records) yield { split: hashSplit(record.puzzle, opts), record };
}
