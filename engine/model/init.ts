/**
 * Seeded JAX/Flax-style truncated-normal initialisation (docs/model.md §Initialisation).
 *
 * A standard normal truncated to [-2, 2], multiplied by std × 1.1368472 so that the *actual* standard deviation is
 * `std`; values therefore lie within ±2 × 1.1368472 × std. Samples come from the engine's seeded Rng (rejection
 * sampling of Box–Muller normals), so the same seed gives the same numbers on every machine.
 */
import { Rng } from '../util/rng';

/** 1 / std of a standard normal truncated to ±2: the factor the reference multiplies by. */
export const TRUNC_NORMAL_STD_FACTOR = 1.1368472;

/** `count` samples of a truncated normal with actual standard deviation `std` (std 0 gives zeros). */
export function truncNormal(rng: Rng, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  if (std === 0) return out;
  const scale = std * TRUNC_NORMAL_STD_FACTOR;
  for (let i = 0; i < count; i++) {
    let z = rng.normal();
    while (z < -2 || z > 2) z = rng.normal();
    out[i] = z * scale;
  }
  return out;
}
