/**
 * Run a computation that must not be recorded on the active gradient tape, from inside tf.variableGrads: the
 * equivalent of PyTorch's `torch.no_grad()`. Used for the reference's extra forward pass that produces the Q-continue
 * target: its ops would otherwise be recorded (and their saved tensors held) until the gradient is computed.
 * TF.js records a kernel only while `state.gradientDepth > 0`; this sets it to 0 for the call and restores it.
 */
import { tf } from '../tf';

export function withoutTape<T>(fn: () => T): T {
  const state = tf.engine().state;
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return fn();
  } finally {
    state.gradientDepth = depth;
  }
}
