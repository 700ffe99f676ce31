/**
 * The HRM training loss (reference `models/losses.py`; docs/model.md §Losses), as differentiable TF.js ops usable
 * inside tf.variableGrads on every backend (wasm included: no gather, no where, no segment sums; labels go in as
 * one-hot).
 *
 * Token loss, stablemax cross-entropy (docs/model.md §Losses):
 *   s(x) = x + 1 for x ≥ 0,  1 / (1 − x + 1e-30) for x < 0
 *   written without a select as  s(x) = relu(x) + 1 / (1 − min(x, 0))   (each branch's other term is 0 / 1)
 *   log p = log( s(x_label) / Σ_v s(x_v) ),  token loss = −log p
 * or ordinary softmax cross-entropy. Reduction: per-sequence mean over valid cells (label ≥ 0 and mask ≠ 0), summed
 * over the batch. Q losses: BCE-with-logits (stable form), summed. total = (lm + 0.5·(q_halt + q_continue)) / globalBatch.
 * The returned lm / qHalt / qContinue are also divided by globalBatch (the reference's logged values).
 *
 * `stablemaxLossPerPuzzle` is the same token loss in plain float64 JS, for analyses.
 */
import { tf } from '../tf';

export type LossType = 'stablemax' | 'softmax';

/** log of the stablemax probabilities along the last axis. */
export function logStablemax(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const s = stablemaxS(logits);
    return tf.log(tf.div(s, tf.sum(s, -1, true)));
  });
}

function stablemaxS(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), tf.reciprocal(tf.sub(1, tf.minimum(x, 0))));
}

/**
 * Per-token cross-entropy, [..., C] for logits [..., C, V] and int32 labels [..., C]. Labels < 0 (−100 = ignore) give
 * a finite value that the caller must mask out (see `validMask`).
 */
export function tokenCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, lossType: LossType): tf.Tensor {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.rank - 1];
    const safe = tf.relu(tf.cast(labels, 'int32')); // ignored labels (< 0) → class 0, masked later
    const onehot = tf.oneHot(safe, vocab);
    if (lossType === 'softmax') {
      return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits, -1), onehot), -1));
    }
    const s = stablemaxS(logits);
    return tf.neg(tf.log(tf.div(tf.sum(tf.mul(s, onehot), -1), tf.sum(s, -1))));
  });
}

/** Float mask of valid cells: label ≥ 0, times the optional mask. */
export function validMask(labels: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const v = tf.cast(tf.greaterEqual(labels, 0), 'float32');
    return mask === undefined ? v : tf.mul(v, tf.cast(mask, 'float32'));
  });
}

/** Σ over rows of (per-row mean token loss over valid cells); [B, C] in, scalar out. */
export function sequenceMeanSum(tokenLoss: tf.Tensor, valid: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const count = tf.maximum(tf.sum(valid, -1), 1);
    return tf.sum(tf.div(tf.sum(tf.mul(tokenLoss, valid), -1), count)) as tf.Scalar;
  });
}

/** Σ BCE-with-logits(x, z) = Σ max(x, 0) − x·z + log(1 + exp(−|x|)). */
export function bceWithLogitsSum(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const x = logits;
    const z = tf.cast(targets, 'float32');
    return tf.sum(tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))))) as tf.Scalar;
  });
}

/** 1 for rows whose argmax prediction equals the label on every valid cell (the halt target), else 0; float [B]. */
export function sequenceCorrect(logits: tf.Tensor, labels: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const valid = validMask(labels, mask);
    const wrong = tf.mul(tf.cast(tf.notEqual(tf.argMax(logits, -1), tf.cast(labels, 'int32')), 'float32'), valid);
    return tf.cast(tf.equal(tf.sum(wrong, -1), 0), 'float32');
  });
}

export interface HrmLossInput {
  /** [B, C, V] */
  logits: tf.Tensor;
  /** int32 [B, C]; −100 (any negative) = ignored */
  labels: tf.Tensor;
  /** optional [B, C] (1 = supervised) */
  mask?: tf.Tensor;
  /** [B] Q logits */
  qHalt: tf.Tensor;
  /** [B]; its loss is counted only when continueTarget is given (HRM; TRM has none) */
  qContinue?: tf.Tensor;
  /** [B] 1 where the sequence is exactly correct (see sequenceCorrect) */
  haltTarget: tf.Tensor;
  /** [B] sigmoid of the next-segment Q (HRM) */
  continueTarget?: tf.Tensor;
  lossType: LossType;
  globalBatch: number;
}

export interface HrmLossOutput {
  /** (lm + 0.5·(qHalt + qContinue)) / globalBatch — differentiate this. */
  total: tf.Scalar;
  /** Σ per-sequence mean token loss, / globalBatch */
  lm: tf.Scalar;
  /** Σ BCE(q_halt, haltTarget), / globalBatch */
  qHalt: tf.Scalar;
  /** Σ BCE(q_continue, continueTarget), / globalBatch (0 without a continue target) */
  qContinue: tf.Scalar;
}

/** The full reference loss. All outputs are new scalars owned by the caller (or by an enclosing tidy). */
export function hrmLoss(input: HrmLossInput): HrmLossOutput {
  const { logits, labels, lossType, globalBatch } = input;
  if (!(globalBatch > 0)) throw new RangeError(`hrmLoss: globalBatch must be > 0, got ${globalBatch}`);
  if (logits.rank !== 3 || labels.rank !== 2 || logits.shape[0] !== labels.shape[0] || logits.shape[1] !== labels.shape[1]) {
    throw new Error(`hrmLoss: logits [B, C, V] and labels [B, C] expected, got [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const valid = validMask(labels, input.mask);
    const lmSum = sequenceMeanSum(tokenCrossEntropy(logits, labels, lossType), valid);
    const qHaltSum = bceWithLogitsSum(input.qHalt, input.haltTarget);
    let qContSum: tf.Scalar = tf.scalar(0);
    if (input.continueTarget !== undefined) {
      if (input.qContinue === undefined) throw new Error('hrmLoss: continueTarget given without qContinue');
      qContSum = bceWithLogitsSum(input.qContinue, input.continueTarget);
    }
    const inv = 1 / globalBatch;
    const total = tf.mul(tf.add(lmSum, tf.mul(tf.add(qHaltSum, qContSum), 0.5)), inv) as tf.Scalar;
    return {
      total,
      lm: tf.mul(lmSum, inv) as tf.Scalar,
      qHalt: tf.mul(qHaltSum, inv) as tf.Scalar,
      qContinue: tf.mul(qContSum, inv) as tf.Scalar,
    };
  });
}

/**
 * Stablemax loss per puzzle in float64: `logits` holds P puzzles × `cells` × `vocab` (row-major), `labels` P × cells.
 * Each puzzle's value is the mean over cells with label ≥ 0 of −log p_label (0 when it has none).
 */
export function stablemaxLossPerPuzzle(logits: ArrayLike<number>, labels: ArrayLike<number>, cells: number, vocab: number): Float64Array {
  const per = cells * vocab;
  if (!(cells > 0 && vocab > 0) || logits.length % per !== 0) {
    throw new RangeError(`stablemaxLossPerPuzzle: ${logits.length} logits is not a multiple of cells·vocab = ${per}`);
  }
  const puzzles = logits.length / per;
  if (labels.length !== puzzles * cells) throw new RangeError(`stablemaxLossPerPuzzle: expected ${puzzles * cells} labels, got ${labels.length}`);
  const s = (x: number): number => (x >= 0 ? x + 1 : 1 / (1 - x + 1e-30));
  const out = new Float64Array(puzzles);
  for (let p = 0; p < puzzles; p++) {
    let sum = 0;
    let n = 0;
    for (let c = 0; c < cells; c++) {
      const label = labels[p * cells + c];
      if (!(label >= 0)) continue;
      if (label >= vocab || !Number.isInteger(label)) throw new RangeError(`stablemaxLossPerPuzzle: label ${label} out of range [0, ${vocab})`);
      const base = p * per + c * vocab;
      let total = 0;
      for (let v = 0; v < vocab; v++) total += s(logits[base + v]);
      sum -= Math.log(s(logits[base + label]) / total);
      n++;
    }
    out[p] = n > 0 ? sum / n : 0;
  }
  return out;
}
