/**
 * One post-norm transformer block (identical for H and L, docs/model.md §Transformer block) and a reasoning module
 * (`module(z, injection) = blocks(z + injection)`, docs/model.md §Forward pass of one segment).
 *
 *   h = rms(h + attn(h));  h = rms(h + swiglu(h))
 *
 * The fused weights are sliced as 2-D WEIGHT slices (qkv → Q|K|V columns, gate_up → gate|up columns); their
 * gradient is a cheap pad back into the variable. Activations stay rank-2 [B·S, D].
 */
import { tf } from '../tf';
import { addRmsNorm, gateUpSwiglu } from './fused';
import { attention, attentionHeads, type QkvWeights, type RopeTensors, swiglu } from './layers';
import { linear } from './linear';
import { blockWeightName, type Level } from './weights';

export interface BlockWeights extends QkvWeights {
  /** The fused qkv weight itself [D, 3D] (wq, wk and wv are its column slices). */
  wQkv: tf.Tensor2D;
  wo: tf.Tensor2D;
  wGate: tf.Tensor2D;
  wUp: tf.Tensor2D;
  /** The gate|up weight itself [D, 2·inter] (wGate and wUp are its column slices). */
  wGateUp: tf.Tensor2D;
  wDown: tf.Tensor2D;
}

export interface BlockContext {
  batch: number;
  seqLen: number;
  heads: number;
  eps: number;
  rope: RopeTensors | undefined;
}

/**
 * Slices block `layer` of `level` into its seven [in, out] matrices (new tensors; dispose or tidy them). Read wGate and
 * wUp inside the same tf.tidy as the call: they are sliced on first read.
 */
export function sliceBlockWeights(weights: ReadonlyMap<string, tf.Variable>, level: Level, layer: number): BlockWeights {
  const get = (part: Parameters<typeof blockWeightName>[2]) => {
    const v = weights.get(blockWeightName(level, layer, part));
    if (!v) throw new Error(`missing weight ${blockWeightName(level, layer, part)}`);
    return v as tf.Variable<tf.Rank.R2>;
  };
  const qkv = get('self_attn.qkv_proj.weight');
  const gu = get('mlp.gate_up_proj.weight');
  const D = qkv.shape[0];
  const inter = gu.shape[1] / 2;
  // The slices are made when first read: the fused gate|up kernel (off the tape, on wasm) reads wGateUp alone, and the
  // joint q|k|v product (off the tape, on wasm, few rows; engine/model/fused.ts qkvJoint) reads wQkv alone.
  let wq: tf.Tensor2D | undefined;
  let wk: tf.Tensor2D | undefined;
  let wv: tf.Tensor2D | undefined;
  let wGate: tf.Tensor2D | undefined;
  let wUp: tf.Tensor2D | undefined;
  return {
    get wq() { return (wq ??= tf.slice(qkv, [0, 0], [D, D])); },
    get wk() { return (wk ??= tf.slice(qkv, [0, D], [D, D])); },
    get wv() { return (wv ??= tf.slice(qkv, [0, 2 * D], [D, D])); },
    wQkv: qkv,
    wo: get('self_attn.o_proj.weight'),
    get wGate() { return (wGate ??= tf.slice(gu, [0, 0], [D, inter])); },
    get wUp() { return (wUp ??= tf.slice(gu, [0, inter], [D, inter])); },
    wGateUp: gu,
    wDown: get('mlp.down_proj.weight'),
  };
}

export function blockForward(h: tf.Tensor2D, w: BlockWeights, ctx: BlockContext, onProbs?: (p: tf.Tensor4D) => void): tf.Tensor2D {
  return tf.tidy(() => {
    const a = attention(h, w, w.wo, ctx, ctx.rope, onProbs);
    const h1 = addRmsNorm(h, a, ctx.eps);
    // Off the tape on wasm the gate|up products and swiglu are one kernel (the same bits); else the separate ops.
    const act = gateUpSwiglu(h1, w.wGateUp);
    return addRmsNorm(h1, act ? linear(act, w.wDown) : swiglu(h1, w.wGate, w.wUp, w.wDown), ctx.eps);
  });
}

/**
 * Row 0 of every batch row of blockForward's output, [B, D] for h [B·S, D]: the attention runs over every position
 * (its keys and values need them), then o_proj, both norms and the MLP run on the B rows at position 0 only. Each of
 * those computes a row the same way whatever the number of rows, so these are the bits of blockForward's rows
 * 0, S, 2S, … (test: segment-q.test.ts).
 */
export function blockForwardFirstRows(h: tf.Tensor2D, w: BlockWeights, ctx: BlockContext): tf.Tensor2D {
  return tf.tidy(() => {
    const o0 = firstRows(attentionHeads(h, w, ctx, ctx.rope), ctx);
    const h1 = addRmsNorm(firstRows(h, ctx), linear(o0, w.wo), ctx.eps);
    const act = gateUpSwiglu(h1, w.wGateUp);
    return addRmsNorm(h1, act ? linear(act, w.wDown) : swiglu(h1, w.wGate, w.wUp, w.wDown), ctx.eps);
  });
}

/** Rows 0, S, 2S, … of x [B·S, D] → [B, D]. */
function firstRows(x: tf.Tensor2D, ctx: BlockContext): tf.Tensor2D {
  const D = x.shape[1];
  return tf.tidy(() => tf.reshape(tf.slice(tf.reshape(x, [ctx.batch, ctx.seqLen, D]), [0, 0, 0], [ctx.batch, 1, D]), [ctx.batch, D]) as tf.Tensor2D);
}

/**
 * moduleForward's output at position 0 only, [B, D]: every block but the last in full, the last through
 * blockForwardFirstRows. What a halting head needs (it reads z_H[:, 0]).
 */
export function moduleForwardFirstRows(
  weights: ReadonlyMap<string, tf.Variable>, level: Level, layers: number, z: tf.Tensor2D, injection: tf.Tensor2D, ctx: BlockContext,
): tf.Tensor2D {
  const h = moduleForward(weights, level, layers - 1, z, injection, ctx);
  const out = tf.tidy(() => blockForwardFirstRows(h, sliceBlockWeights(weights, level, layers - 1), ctx));
  h.dispose();
  return out;
}

/** Where a capture takes attention probabilities: only the layers it wants have them computed (a separate pass). */
export interface ProbsSink {
  wants(layer: number): boolean;
  record(layer: number, probs: tf.Tensor4D): void;
}

/**
 * A reasoning module: blocks(z + injection), z and injection [B·S, D]. Each block runs in its own tf.tidy and its
 * weight slices are made and freed inside it, so at most one block's intermediates are alive at a time.
 * `probs` receives the attention probabilities of the blocks it wants.
 */
export function moduleForward(
  weights: ReadonlyMap<string, tf.Variable>, level: Level, layers: number,
  z: tf.Tensor2D, injection: tf.Tensor2D, ctx: BlockContext, probs?: ProbsSink,
): tf.Tensor2D {
  let h = tf.add(z, injection) as tf.Tensor2D;
  for (let i = 0; i < layers; i++) {
    const prev = h;
    const onProbs = probs?.wants(i) ? (p: tf.Tensor4D) => probs.record(i, p) : undefined;
    h = tf.tidy(() => blockForward(prev, sliceBlockWeights(weights, level, i), ctx, onProbs));
    prev.dispose();
  }
  return h;
}
