/**
 * Batched matrix product for attention, a [G, M, K] @ b [G, K, N] → [G, M, N], in a form that is fast on wasm.
 *
 * tfjs-backend-wasm sends any BatchMatMul whose batch is not 1 to a scalar triple loop (~1.2 GFLOP/s here, against
 * ~16 GFLOP/s for XNNPACK's rank-2 path); its gradient adds transpose flags, which are slower still. Attention's
 * score and value products are exactly such batched products (G = batch · heads small matrices), and they took about
 * half of a segment's time. On wasm this op runs them as G rank-2 products on row blocks (copy-free Slice, see
 * engine/kernels/wasm-slice.ts) joined by one concat: ~2.2× faster at G = 128, S = 82, hd = 32. Its gradient is the
 * same op on explicitly transposed operands: dA = dY @ Bᵀ, dB = Aᵀ @ dY. Other backends use tf.matMul directly.
 * Values are those of tf.matMul (the same rank-2 kernel sums in the same order per product).
 */
import { tf } from '../tf';
import { GROUP_MATMUL_KERNEL, installWasmGroupMatMul } from '../kernels/wasm-group-matmul';

function groupedOnWasm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [G, M, K] = a.shape;
  const N = b.shape[2];
  return tf.tidy(() => {
    const a2 = tf.reshape(a, [G * M, K]) as tf.Tensor2D;
    const b2 = tf.reshape(b, [G * K, N]) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [];
    for (let g = 0; g < G; g++) {
      parts.push(tf.matMul(tf.slice(a2, [g * M, 0], [M, K]), tf.slice(b2, [g * K, 0], [K, N])));
    }
    return tf.reshape(tf.concat(parts, 0), [G, M, N]) as tf.Tensor3D;
  });
}

function product(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (tf.getBackend() !== 'wasm' || a.shape[0] === 1) return tf.matMul(a, b) as tf.Tensor3D;
  if (installWasmGroupMatMul() && a.dtype === 'float32' && b.dtype === 'float32') {
    return tf.engine().runKernel(GROUP_MATMUL_KERNEL, { a, b }, {}) as tf.Tensor3D;
  }
  return groupedOnWasm(a, b);
}

/** The slice-based path, exported for tests and benchmarks (the kernel's fallback). */
export function groupMatMulBySlices(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return groupedOnWasm(a, b);
}

const groupMatMulImpl = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: product(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      const dy3 = dy as tf.Tensor3D;
      return [
        product(dy3, tf.transpose(sb, [0, 2, 1])),
        product(tf.transpose(sa, [0, 2, 1]), dy3),
      ];
    },
  };
}) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** a [G, M, K] @ b [G, K, N] → [G, M, N] with a gradient that uses no transpose flags. */
export function groupMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`groupMatMul: expected a [G, M, K] and b [G, K, N], got a [${a.shape}] and b [${b.shape}]`);
  }
  return groupMatMulImpl(a, b);
}
