/**
 * Seeded random numbers for everything in the engine (generator, hint twins, augmentation, training).
 * Backed by pure-rand's xoroshiro128+; the state can be saved and restored so that resumed runs continue exactly.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

type Generator = ReturnType<typeof xoroshiro128plus>;

export class Rng {
  private gen: Generator;

  constructor(seed: number | readonly number[]) {
    this.gen = typeof seed === 'number' ? xoroshiro128plus(seed | 0) : xoroshiro128plusFromState(seed);
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int: n must be >= 1, got ${n}`);
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Integer uniform in [lo, hi] (both included). */
  range(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi);
  }

  /** Float uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Standard normal sample (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** An independent child stream, derived deterministically from this one (advances this stream by one draw). */
  fork(): Rng {
    return new Rng(this.gen.next() ^ 0x5bd1e995);
  }

  /** Serialisable state (for checkpoints). */
  getState(): number[] {
    return [...this.gen.getState()];
  }

  static fromState(state: readonly number[]): Rng {
    return new Rng(state);
  }
}
