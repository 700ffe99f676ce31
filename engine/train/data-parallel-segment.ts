/**
 * A no-tape segment over a batch with the data-parallel helper (data-parallel.ts): the helper computes the second
 * half of the rows while this thread computes the first, each with single-threaded kernels; the outputs are
 * concatenated. Every kernel computes a batch row the same way for any batch size, so the result has the bits of
 * runSegment on the whole batch (tested). Small batches, calls on a gradient tape and backends other than wasm run
 * runSegment as it is.
 */
import { tf } from '../tf';
import { type Carry, type HrmModel, type SegmentOutput, disposeCarry, runSegment } from '../model';
import { onOneThread } from '../kernels/wasm-gemm';
import { DataParallelHelper } from './data-parallel';

/** Below this many batch rows a segment stays on one side (halves would not pay for the exchange). */
export const MIN_PARALLEL_BATCH = 16;

export function runSegmentParallel(model: HrmModel, carry: Carry, tokens: tf.Tensor2D): SegmentOutput {
  const B = tokens.shape[0];
  const helper = B >= MIN_PARALLEL_BATCH && tf.engine().state.gradientDepth === 0 ? DataParallelHelper.get() : undefined;
  if (!helper) return runSegment(model, carry, tokens);
  const b0 = Math.ceil(B / 2);
  const cells = tokens.shape[1];
  const half = (x: tf.Tensor3D, start: number, size: number) => tf.slice(x, [start, 0, 0], [size, -1, -1]);
  const mineCarry: Carry = { zH: half(carry.zH, 0, b0), zL: half(carry.zL, 0, b0) };
  const theirCarry: Carry = { zH: half(carry.zH, b0, B - b0), zL: half(carry.zL, b0, B - b0) };
  const allTokens = tokens.dataSync() as Int32Array;
  const mineTokens = tf.tensor2d(allTokens.subarray(0, b0 * cells), [b0, cells], 'int32');
  try {
    helper.syncModel(model);
    const onHelper = helper.beginSegment(theirCarry, allTokens.slice(b0 * cells), B - b0);
    const t0 = performance.now();
    const mine = onHelper ? onOneThread(() => runSegment(model, mineCarry, mineTokens)) : runSegment(model, mineCarry, mineTokens);
    let theirs = onHelper ? helper.finishSegment(model, 20 * (performance.now() - t0)) : undefined;
    if (!theirs) {
      const theirTokens = tf.tensor2d(allTokens.subarray(b0 * cells), [B - b0, cells], 'int32');
      try { theirs = runSegment(model, theirCarry, theirTokens); } finally { theirTokens.dispose(); }
    }
    const parts = [mine, theirs];
    const out: SegmentOutput = {
      carry: { zH: tf.concat(parts.map((p) => p.carry.zH), 0), zL: tf.concat(parts.map((p) => p.carry.zL), 0) },
      logits: tf.concat(parts.map((p) => p.logits), 0),
      qHalt: tf.concat(parts.map((p) => p.qHalt), 0),
      qContinue: tf.concat(parts.map((p) => p.qContinue), 0),
    };
    for (const p of parts) { disposeCarry(p.carry); p.logits.dispose(); p.qHalt.dispose(); p.qContinue.dispose(); }
    return out;
  } finally {
    disposeCarry(mineCarry);
    disposeCarry(theirCarry);
    mineTokens.dispose();
  }
}
