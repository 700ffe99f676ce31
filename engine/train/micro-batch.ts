/**
 * One micro-batch of a training step (trainer.ts, step 2): the segment's off-tape part, the last calls on the tape,
 * the loss with the continue target from an extra forward pass without tape (the halting head only; HRM with
 * `actContinue`, the default), and the gradients. The trainer's own thread and its data-parallel helper thread (micro-batch-worker.ts) run this same
 * function, so a micro-batch gives the same bits on either thread.
 */
import { tf } from '../tf';
import { type Carry, type HrmModel, runSegmentQ, segmentGradients } from '../model';
import { type LossType, hrmLoss } from './losses';
import { withoutTape } from './no-tape';

export interface MicroBatchInput {
  /** The slots' carry, [size, totalLen, D] each. */
  carry: Carry;
  /** Input and label tokens, size × cells. */
  tokens: Int32Array;
  labels: Int32Array;
  /** 1 where the slot is at its last allowed segment (its continue target is then q_halt alone). */
  isLast: Float32Array;
  lossType: LossType;
  /** The whole step's batch: losses are sums over the micro-batch divided by it, so micro-batches add up. */
  globalBatch: number;
  /**
   * HRM: train q_continue on the next segment's Q (the extra forward pass); false = no continue target and no continue
   * loss (the halt-only rule's training). Default true; TRM never has one.
   */
  actContinue?: boolean;
}

export interface MicroBatchResult {
  /** Reference name → gradient (TF.js layout). */
  grads: Map<string, tf.Tensor>;
  loss: number;
  lm: number;
  qHalt: number;
  qContinue: number;
  qHaltValues: Float32Array;
  qContinueValues: Float32Array;
  /** argmax per cell, size × cells. */
  pred: Int32Array;
  /** The carry after the segment (owned by the caller). */
  carry: Carry;
}

export function runMicroBatch(model: HrmModel, input: MicroBatchInput): MicroBatchResult {
  const cfg = model.config;
  const cells = model.dims.cells;
  const size = input.isLast.length;
  const tokT = tf.tensor2d(input.tokens, [size, cells], 'int32');
  const labT = tf.tensor2d(input.labels, [size, cells], 'int32');
  const parts: tf.Scalar[] = [];
  try {
    const res = segmentGradients(model, input.carry, tokT, (out) => {
      const exact = exactRows(out.logits, labT);
      let continueTarget: tf.Tensor | undefined;
      if (cfg.variant === 'hrm' && input.actContinue !== false) {
        const target = withoutTape(() => {
          // Only the halting head of the next segment (runSegment's q, the same bits, without the logits and with
          // the last block on position 0 alone).
          const next = runSegmentQ(model, { zH: out.zH, zL: out.zL }, tokT);
          const nh = next.qHalt.dataSync();
          const nc = next.qContinue.dataSync();
          next.qHalt.dispose(); next.qContinue.dispose();
          const v = new Float32Array(size);
          for (let b = 0; b < size; b++) v[b] = sigmoid(input.isLast[b] ? nh[b] : Math.max(nh[b], nc[b]));
          return v;
        });
        continueTarget = tf.tensor1d(target);
      }
      const loss = hrmLoss({
        logits: out.logits, labels: labT, qHalt: out.qHalt, qContinue: out.qContinue,
        haltTarget: tf.tensor1d(exact), continueTarget, lossType: input.lossType, globalBatch: input.globalBatch,
      });
      parts.push(tf.keep(loss.lm), tf.keep(loss.qHalt), tf.keep(loss.qContinue));
      return loss.total;
    });
    const loss = res.loss.dataSync()[0];
    const [lm, qh, qc] = parts.map((p) => p.dataSync()[0]);
    const result: MicroBatchResult = {
      grads: res.grads, loss, lm, qHalt: qh, qContinue: qc,
      qHaltValues: res.output.qHalt.dataSync() as Float32Array,
      qContinueValues: res.output.qContinue.dataSync() as Float32Array,
      pred: argMaxData(res.output.logits),
      carry: res.output.carry,
    };
    res.output.logits.dispose(); res.output.qHalt.dispose(); res.output.qContinue.dispose(); res.loss.dispose();
    return result;
  } finally {
    parts.forEach((p) => p.dispose());
    tokT.dispose();
    labT.dispose();
  }
}

/** 1 where argmax(logits) equals the label on every cell. */
function exactRows(logits: tf.Tensor3D, labels: tf.Tensor2D): Float32Array {
  const [B, C, V] = logits.shape;
  const l = logits.dataSync();
  const y = labels.dataSync();
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let ok = 1;
    for (let c = 0; c < C && ok; c++) {
      const base = (b * C + c) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (l[base + v] > l[base + best]) best = v;
      if (best !== y[b * C + c]) ok = 0;
    }
    out[b] = ok;
  }
  return out;
}

/** argmax over the last axis, read back and disposed. */
export function argMaxData(logits: tf.Tensor3D): Int32Array {
  const a = tf.argMax(logits, 2);
  const data = a.dataSync() as Int32Array;
  a.dispose();
  return data;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
