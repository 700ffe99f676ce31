/**
 * Packed copies of model weights kept in the GEMM module's memory across products (engine/kernels/wasm-gemm.ts).
 *
 * A product with few rows (one puzzle: 82 rows at 9×9) spends a large part of its time copying B into the module's
 * memory and packing it into 16-column panels: for the 27M model's [82, 512]·[512, 3072] gate|up product, 2.4 ms of copy
 * and pack against 6.2 ms of arithmetic on one thread. Weights do not change between the segments of an inspection, so
 * their packed form is kept: from the second product on, B costs nothing.
 *
 * Only the B operands that are, at the time of the product, the data of a registered tf.Variable are kept (a model's
 * weights); activations never are. TF.js never writes into a tensor's data: `Variable.assign` gives the variable the new
 * value's data object, so a changed weight is a new key and the old entry can never be read again. Entries are keyed
 * by that data object. When an entry's data no longer belongs to a variable (the weight was assigned, or its model
 * disposed), the whole region is dropped at the next insertion, so training (new weights each step) holds at most one
 * step's weights; the region is also dropped when it would pass its limit. The region sits at the start of the memory:
 * the callers' scratch for a product starts at `end`, and nothing is dropped while a product is running (the helper
 * threads read the region only inside a product).
 *
 * HRM_LENS_PACK_CACHE_MB sets the limit (default 256; 0 turns the cache off).
 */
import { tf } from '../tf';

/** What the cache needs from the GEMM module. */
export interface PackTarget {
  pack(b: number, out: number, K: number, N: number): void;
}

interface Entry { K: number; N: number; offset: number }

const ALIGN = 64;
const DEFAULT_LIMIT_MB = 256;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** The cache's limit in bytes from HRM_LENS_PACK_CACHE_MB (read at each use, so tests can switch it). */
function limitBytes(): number {
  const raw = process.env.HRM_LENS_PACK_CACHE_MB;
  const mb = raw === undefined || raw === '' ? DEFAULT_LIMIT_MB : Number(raw);
  return Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : 0;
}

/** The data objects of every registered variable, as of now. */
function variableData(): Set<object> {
  const live = new Set<object>();
  for (const v of Object.values(tf.engine().state.registeredVariables)) live.add(v.dataId);
  return live;
}

export class PackedWeightCache {
  private entries = new Map<object, Entry>();
  private top = 0;
  /** Products whose B came from the cache, and weights packed into it (tests, benchmarks). */
  readonly stats = { hits: 0, packs: 0, drops: 0 };

  /** Bytes at the start of the memory held by the cache: a product's scratch starts here. */
  get end(): number {
    return this.top;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    if (this.entries.size) this.stats.drops++;
    this.entries.clear();
    this.top = 0;
  }

  /**
   * The byte offset of B [K, N] packed into panels of `Np` columns (Np = N rounded up to the panel width), when `key`
   * (the tensor's data object) is a registered variable's data; packed on first use through `target.pack`, from the
   * raw B that `copyIn(floats, at)` writes at byte offset `at`. Undefined when B is not kept: not a weight, the cache
   * off, or B larger than the limit.
   */
  packed(key: object, K: number, N: number, Np: number, target: PackTarget, memory: WebAssembly.Memory,
    copyIn: (floats: Float32Array, at: number) => void): number | undefined {
    const limit = limitBytes();
    if (limit === 0) {
      if (this.entries.size) this.clear();
      return undefined;
    }
    const live = variableData();
    if (!live.has(key)) return undefined;
    const hit = this.entries.get(key);
    if (hit && hit.K === K && hit.N === N) {
      this.stats.hits++;
      return hit.offset;
    }
    const bytes = align(4 * K * Np);
    if (bytes > limit) return undefined;
    if (hit || [...this.entries.keys()].some((k) => !live.has(k)) || this.top + bytes > limit) this.clear();
    const offset = this.top;
    const raw = offset + bytes;
    const need = raw + 4 * K * N;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    copyIn(new Float32Array(memory.buffer), raw);
    target.pack(raw, offset, K, N);
    this.entries.set(key, { K, N, offset });
    this.top = raw;
    this.stats.packs++;
    return offset;
  }
}
