/**
 * Sign-SGD with decoupled weight decay, the reference optimizer for the puzzle-identifier embedding
 * (`sparse_embedding.py`; docs/model.md §Sign-SGD for the puzzle embedding):
 *   w ← w · (1 − lr · wd) − lr · sign(g).
 *
 * The reference updates only the table rows used by the batch. With `sparseRows` (the default), rows of a rank ≥ 2
 * parameter whose gradient is entirely zero are left untouched (no decay either); for Sudoku (one puzzle id, one
 * row) this is the same as the dense rule. Stateless: nothing to checkpoint.
 */
import { tf } from '../tf';

export interface SignSgdOptions {
  weightDecay?: number;
  /** Leave rows (first axis) with an all-zero gradient untouched, like the reference's sparse update. Default true. */
  sparseRows?: boolean;
}

/** The new value of `w` after one sign-SGD step (a new tensor; the caller owns it). */
export function signSgdUpdate(w: tf.Tensor, g: tf.Tensor, lr: number, weightDecay: number, sparseRows = true): tf.Tensor {
  return tf.tidy(() => {
    const delta = tf.add(tf.mul(w, lr * weightDecay), tf.mul(tf.sign(g), lr));
    if (!sparseRows || w.rank < 2) return tf.sub(w, delta);
    const rows = w.shape[0];
    const used = tf.step(tf.max(tf.reshape(tf.abs(g), [rows, -1]), 1)); // 1 where the row has any gradient
    const mask = tf.reshape(used, [rows, ...w.shape.slice(1).map(() => 1)]);
    return tf.sub(w, tf.mul(delta, mask));
  });
}

export class SignSGD {
  readonly weightDecay: number;
  readonly sparseRows: boolean;

  constructor(private readonly params: ReadonlyMap<string, tf.Variable>, options: SignSgdOptions = {}) {
    this.weightDecay = options.weightDecay ?? 0;
    this.sparseRows = options.sparseRows ?? true;
  }

  /** One update of every parameter named in `grads`. Does not dispose the gradients. */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (p === undefined) throw new Error(`SignSGD: gradient for unknown parameter "${name}"`);
      if (!tf.util.arraysEqual(g.shape, p.shape)) {
        throw new Error(`SignSGD: gradient for "${name}" has shape [${g.shape.join(', ')}], parameter has [${p.shape.join(', ')}]`);
      }
      const next = signSgdUpdate(p, g, lr, this.weightDecay, this.sparseRows);
      p.assign(next);
      next.dispose();
    }
  }
}
