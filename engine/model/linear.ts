/**
 * The dense layer every linear goes through: y = x @ W for rank-2 x [rows, in] and W [in, out] (TF.js layout).
 *
 * tf.matMul's own gradient uses the transposeA/transposeB flags, which on the wasm backend leave XNNPACK's fast path
 * (~10–40× slower, docs/model.md §Wasm-friendly formulation). This custom gradient materialises the transposes
 * explicitly so both backward matMuls are plain rank-2 products: dx = dy @ Wᵀ, dW = xᵀ @ dy. Same maths, same values.
 */
import { tf } from '../tf';

const linearImpl = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy2)];
    },
  };
}) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** x [rows, in] @ w [in, out] → [rows, out], with the explicit-transpose gradient. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0]) {
    throw new Error(`linear: expected x [rows, ${w.shape[0]}] and w [in, out], got x [${x.shape}] and w [${w.shape}]`);
  }
  return linearImpl(x, w);
}
