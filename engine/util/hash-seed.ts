/**
 * Derive independent 32-bit seeds from a base seed and a path of integers (e.g. seed, step, slot).
 * Stateless derivation is what makes training resumable exactly: draw k of a stream needs only (seed, k).
 */
export function deriveSeed(...parts: number[]): number {
  // splitmix32-style avalanche over each part.
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (h + 0x6d2b79f5) | 0;
  }
  return h | 0;
}
