/**
 * Seeded reservoir sampling (Vitter's algorithm R): a uniform sample of k items from a stream of unknown length in
 * O(k) memory, e.g. the paper's 1,000 training puzzles out of Sudoku-Extreme's 3.8M rows. The sample depends only
 * on (stream, k, seed) and comes back in stream order.
 */
import { Rng } from '../../util/rng';
import { deriveSeed } from '../../util/hash-seed';
import type { AnyIterable } from './record';

const PURPOSE_SUBSAMPLE = 0x5ab5;

export class ReservoirSampler<T> {
  private readonly items: T[] = [];
  private readonly order: number[] = [];
  private readonly rng: Rng;
  /** Items offered so far. */
  seen = 0;

  constructor(readonly k: number, seed: number) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`ReservoirSampler: k must be an integer >= 0, got ${k}`);
    this.rng = new Rng(deriveSeed(seed, PURPOSE_SUBSAMPLE, k));
  }

  add(item: T): void {
    const i = this.seen++;
    if (i < this.k) {
      this.items.push(item);
      this.order.push(i);
      return;
    }
    if (this.k === 0) return;
    const j = this.rng.int(i + 1);
    if (j < this.k) {
      this.items[j] = item;
      this.order[j] = i;
    }
  }

  /** The sample in stream order (all items when fewer than k were offered). */
  result(): T[] {
    const idx = this.order.map((o, j) => [o, j] as const).sort((a, b) => a[0] - b[0]);
    return idx.map(([, j]) => this.items[j]);
  }
}

/** A uniform, seeded sample of `k` items (all of them when the stream is shorter), in stream order. */
export async function reservoirSample<T>(source: AnyIterable<T>, k: number, seed: number): Promise<T[]> {
  const s = new ReservoirSampler<T>(k, seed);
  for await (const item of source) s.add(item);
  return s.result();
}
