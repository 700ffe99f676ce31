/**
 * The Jacobian of the one-segment map z ↦ F(z, x) (engine/intervene/recurrent-map.ts) at a state z = (z_H, z_L), with x
 * (the puzzle's embedding) fixed, as products with vectors (docs/analyses.md §Interventions).
 *
 * Which product: the vector–Jacobian product uᵀJ, by TF.js reverse mode (tf.engine().gradients with dy = u): exact up
 * to float32 rounding, on every backend, through the model's own custom gradients. A Jacobian–vector product J v would
 * need forward mode, which TF.js lacks; the derivative of the VJP (double backward) does not go through the model's
 * fused kernels and custom gradients. J and Jᵀ have the same eigenvalues (complex pairs included), so the spectrum is
 * computed with Arnoldi on v ↦ Jᵀv (engine/intervene/arnoldi.ts); its Ritz vectors are J's left eigenvectors.
 *
 * `part` restricts the map: 'both' is (z_H, z_L) ↦ (z_H', z_L'); 'zH' is z_H ↦ z_H' with the input z_L held fixed;
 * 'zL' is z_L ↦ z_L' with the input z_H held fixed. Vectors are flattened [position][hidden], z_H's block before
 * z_L's for 'both'. The state has one batch row.
 */
import { tf } from '../tf';
import type { StatePart } from './intervene-protocol';
import type { Carry, RecurrentMap } from './recurrent-map';

export interface MapJacobian {
  readonly part: StatePart;
  /** Length of the vectors the products take and give. */
  readonly dimension: number;
  /** uᵀJ (= Jᵀu), float64 in and out, computed in float32. */
  vjp(u: Float64Array): Float64Array;
  /** The state z restricted to the part, flattened. */
  state(): Float64Array;
  /** F(z) restricted to the part, flattened. */
  image(): Float64Array;
  /** ‖F(z) − z‖ / ‖z‖ on the part (0/0 → 0). */
  fixedPointResidual(): number;
  /** Frees the tensors held (the state and x copies). */
  dispose(): void;
}

function flatten(c: Carry, part: StatePart): tf.Tensor1D {
  return tf.tidy(() => {
    const h = tf.reshape(c.zH, [-1]) as tf.Tensor1D;
    const l = tf.reshape(c.zL, [-1]) as tf.Tensor1D;
    if (part === 'zH') return h;
    if (part === 'zL') return l;
    return tf.concat([h, l]) as tf.Tensor1D;
  });
}

function read(t: tf.Tensor): Float64Array {
  const out = Float64Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return out;
}

/** The Jacobian of `map` at `carry` (one row; copied, not disposed) for the input embedding `x` (copied). */
export function mapJacobian(map: RecurrentMap, carry: Carry, x: tf.Tensor3D, part: StatePart = 'both'): MapJacobian {
  if (carry.zH.shape[0] !== 1 || carry.zL.shape[0] !== 1 || x.shape[0] !== 1) {
    throw new RangeError(`jacobian: the state and x must have one batch row, got [${carry.zH.shape}], [${carry.zL.shape}], [${x.shape}]`);
  }
  if (part !== 'zH' && part !== 'zL' && part !== 'both') throw new RangeError(`jacobian: part must be zH, zL or both, got ${String(part)}`);
  const zH = tf.keep(tf.clone(carry.zH));
  const zL = tf.keep(tf.clone(carry.zL));
  const xs = tf.keep(tf.clone(x));
  const half = zH.size;
  const dimension = part === 'both' ? 2 * half : half;
  let disposed = false;
  const alive = (): void => {
    if (disposed) throw new Error('jacobian: used after dispose()');
  };
  const image = (): Float64Array => {
    alive();
    return read(tf.tidy(() => {
      const out = map.step({ zH, zL }, xs);
      const flat = flatten(out, part);
      tf.dispose([out.zH, out.zL]);
      return flat;
    }));
  };
  const state = (): Float64Array => {
    alive();
    return read(flatten({ zH, zL }, part));
  };
  return {
    part,
    dimension,
    vjp(u) {
      alive();
      if (u.length !== dimension) throw new RangeError(`jacobian: vector has ${u.length} values, the ${part} map ${dimension}`);
      return read(tf.tidy(() => {
        const dy = tf.tensor1d(Float32Array.from(u));
        // The inputs the gradient is taken for are fresh copies, so the tape links them to the output and nothing else.
        const inH = tf.clone(zH);
        const inL = tf.clone(zL);
        const wrt = part === 'zH' ? [inH] : part === 'zL' ? [inL] : [inH, inL];
        const { value, grads } = tf.engine().gradients(() => {
          const out = map.step({ zH: inH as tf.Tensor3D, zL: inL as tf.Tensor3D }, xs);
          return flatten(out, part);
        }, wrt, dy, true);
        value.dispose();
        const parts = grads.map((g, i) => (g ? tf.reshape(g, [-1]) : tf.zeros([wrt[i].size])));
        return parts.length === 1 ? parts[0] : tf.concat(parts);
      }));
    },
    state,
    image,
    fixedPointResidual() {
      const z = state();
      const f = image();
      let diff = 0;
      let base = 0;
      for (let i = 0; i < z.length; i++) {
        diff += (f[i] - z[i]) ** 2;
        base += z[i] ** 2;
      }
      if (base === 0) return diff === 0 ? 0 : Infinity;
      return Math.sqrt(diff / base);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([zH, zL, xs]);
    },
  };
}
