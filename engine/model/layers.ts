/**
 * Transformer pieces of the reference HRM block, in wasm-friendly forms (docs/model.md §Wasm-friendly formulation):
 * - rmsNorm without scale or bias: x · rsqrt(mean(x², last axis) + eps);
 * - RoPE, rotate-half (NeoX) convention, with rotate_half(x) = x @ R for a constant ±1 [hd, hd] matrix R (no split /
 *   concat of activations); positions 0..S−1 include the prefix;
 * - non-causal multi-head attention with softmax scale 1/√hd; q, k, v come from 2-D slices of the fused qkv WEIGHT
 *   (layout [all Q heads | all K heads | all V heads]), so activations are not split — except off the tape for few rows
 *   on wasm, where one product with the fused weight and three output slices give the same bits (fused.ts qkvJoint);
 * - SwiGLU: down(silu(x @ W_gate) ⊙ (x @ W_up)), gate = chunk 0 and up = chunk 1 of gate_up_proj.
 * All dense products go through `linear` (explicit-transpose custom gradient). Activations are rank-2 [B·S, D].
 */
import { tf } from '../tf';
import { attentionFused, qkvJoint, ropeRows, swigluAct } from './fused';
import { groupMatMul } from './group-matmul';
import { linear } from './linear';

export function rmsNorm(x: tf.Tensor2D, eps: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))));
}

/** Rotary tables as plain data: cos/sin [S, hd] (angles repeated over both halves) and R, Rᵀ [hd, hd] row-major. */
export interface RopeData {
  cos: Float32Array;
  sin: Float32Array;
  rot: Float32Array;
  rotT: Float32Array;
}

/**
 * inv_freq[i] = 1 / θ^(2i/hd), angle[p, i] = p · inv_freq[i mod hd/2], computed in float32 like the reference.
 * R is chosen so that (x @ R) = rotate_half(x) = concat(−x[hd/2:], x[:hd/2]).
 */
export function ropeData(seqLen: number, headDim: number, theta: number): RopeData {
  const half = headDim / 2;
  const f = Math.fround;
  const invFreq = Array.from({ length: half }, (_, i) => f(1 / f(theta ** f((2 * i) / headDim))));
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < headDim; i++) {
      const a = f(p * invFreq[i % half]);
      cos[p * headDim + i] = Math.cos(a);
      sin[p * headDim + i] = Math.sin(a);
    }
  }
  const rot = new Float32Array(headDim * headDim);
  const rotT = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    rot[(j + half) * headDim + j] = -1; // out[j] = −x[j + half]
    rot[j * headDim + (j + half)] = 1; // out[j + half] = x[j]
    rotT[j * headDim + (j + half)] = -1;
    rotT[(j + half) * headDim + j] = 1;
  }
  return { cos, sin, rot, rotT };
}

/** Rotary constants as tensors: cos/sin [S, 1, hd] (broadcast over batch and heads), R and Rᵀ [hd, hd]. */
export interface RopeTensors {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
  rot: tf.Tensor2D;
  rotT: tf.Tensor2D;
}

export function ropeTensors(seqLen: number, headDim: number, theta: number): RopeTensors {
  const d = ropeData(seqLen, headDim, theta);
  return {
    cos: tf.tensor3d(d.cos, [seqLen, 1, headDim]),
    sin: tf.tensor3d(d.sin, [seqLen, 1, headDim]),
    rot: tf.tensor2d(d.rot, [headDim, headDim]),
    rotT: tf.tensor2d(d.rotT, [headDim, headDim]),
  };
}

/** x @ m for a constant m, with gradient dy @ mᵀ (mᵀ given; no transpose flags, no gradient for m). */
export function matMulConst(x: tf.Tensor2D, m: tf.Tensor2D, mT: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.matMul(args[0] as tf.Tensor2D, m),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, mT),
  })) as unknown as (xi: tf.Tensor2D) => tf.Tensor2D;
  return f(x);
}

/** Applies RoPE to x [B·S, H·hd] (head-major columns); returns [B, S, H, hd]. */
export function applyRope(x: tf.Tensor2D, batch: number, seqLen: number, heads: number, rope: RopeTensors): tf.Tensor4D {
  return tf.tidy(() => {
    const hd = x.shape[1] / heads;
    const x4 = tf.reshape(x, [batch, seqLen, heads, hd]) as tf.Tensor4D;
    const rotated = tf.reshape(matMulConst(tf.reshape(x, [batch * seqLen * heads, hd]), rope.rot, rope.rotT), [batch, seqLen, heads, hd]);
    return tf.add(tf.mul(x4, rope.cos), tf.mul(rotated, rope.sin)) as tf.Tensor4D;
  });
}

export interface AttentionShape {
  batch: number;
  seqLen: number;
  heads: number;
}

/**
 * Multi-head non-causal self-attention on x [B·S, D]. `w.wq`, `w.wk`, `w.wv` are [D, D] slices of qkv_proj (TF layout),
 * `w.wQkv` qkv_proj itself, `wo` is o_proj [D, D]. `onProbs` receives the attention probabilities [B, H, S, S] (for capture).
 */
export function attention(
  x: tf.Tensor2D, w: QkvWeights, wo: tf.Tensor2D,
  s: AttentionShape, rope: RopeTensors | undefined, onProbs?: (p: tf.Tensor4D) => void,
): tf.Tensor2D {
  return tf.tidy(() => linear(attentionHeads(x, w, s, rope, onProbs), wo));
}

/**
 * The q, k, v projection weights [D, D] (column slices of the fused qkv weight), and that weight itself [D, 3D] when
 * there is one. The slices may be made only when read (engine/model/block.ts).
 */
export interface QkvWeights {
  readonly wq: tf.Tensor2D;
  readonly wk: tf.Tensor2D;
  readonly wv: tf.Tensor2D;
  readonly wQkv?: tf.Tensor2D;
}

/** x·wq, x·wk, x·wv: one product with the fused weight where qkvJoint applies (the same bits), else three. */
function projectQkv(x: tf.Tensor2D, w: QkvWeights): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const joint = w.wQkv && qkvJoint(x, w.wQkv);
  if (joint) return joint;
  return [linear(x, w.wq), linear(x, w.wk), linear(x, w.wv)];
}

/** The heads' outputs [B·S, H·hd] of `attention`, before o_proj (the same values `attention` multiplies by wo). */
export function attentionHeads(
  x: tf.Tensor2D, w: QkvWeights,
  s: AttentionShape, rope: RopeTensors | undefined, onProbs?: (p: tf.Tensor4D) => void,
): tf.Tensor2D {
  return tf.tidy(() => {
    const { batch: B, seqLen: S, heads: H } = s;
    const [q0, k0, v0] = projectQkv(x, w);
    const q = rope ? ropeRows(q0, B, S, H, rope) : q0;
    const k = rope ? ropeRows(k0, B, S, H, rope) : k0;
    // The output always comes from the same op (fused on wasm), so a capture never changes a trajectory; the
    // probabilities for a capture are computed beside it.
    const o = attentionFused(q, k, v0, s);
    if (onProbs) onProbs(attentionProbs(q, k, s));
    return o;
  });
}

/** q [B·S, H·hd] rows → [B·H, S, hd] (head-major groups). */
export function toGroups(x: tf.Tensor, s: AttentionShape): tf.Tensor3D {
  const { batch: B, seqLen: S, heads: H } = s;
  const hd = x.shape[1] as number / H;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, S, H, hd]), [0, 2, 1, 3]), [B * H, S, hd]) as tf.Tensor3D;
}

/** [B·H, S, hd] groups → [B·S, H·hd] rows (the inverse of toGroups). */
export function fromGroups(x: tf.Tensor3D, s: AttentionShape): tf.Tensor2D {
  const { batch: B, seqLen: S, heads: H } = s;
  const hd = x.shape[2];
  return tf.reshape(tf.transpose(tf.reshape(x, [B, H, S, hd]), [0, 2, 1, 3]), [B * S, H * hd]) as tf.Tensor2D;
}

/**
 * softmax(q·kᵀ/√hd)·v per batch row and head, composed of tfjs ops, on [B·S, H·hd] rows (after RoPE); returns the same
 * layout (the fused kernel's fallback and reference).
 */
export function attentionCore(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, s: AttentionShape): tf.Tensor2D {
  return tf.tidy(() => fromGroups(groupMatMul(groupProbs(q, k, s), toGroups(v, s)), s));
}

/** softmax(q·kᵀ/√hd) per group: [B·H, S, S]. */
function groupProbs(q: tf.Tensor2D, k: tf.Tensor2D, s: AttentionShape): tf.Tensor3D {
  return tf.tidy(() => {
    const hd = q.shape[1] / s.heads;
    const qs = toGroups(tf.mul(q, 1 / Math.sqrt(hd)), s); // [B·H, S, hd]
    const kT = tf.transpose(toGroups(k, s), [0, 2, 1]) as tf.Tensor3D; // [B·H, hd, S]
    return tf.softmax(groupMatMul(qs, kT)) as tf.Tensor3D;
  });
}

/** The attention probabilities [B, H, S, S] of q, k [B·S, H·hd] rows (after RoPE), for a capture. */
export function attentionProbs(q: tf.Tensor2D, k: tf.Tensor2D, s: AttentionShape): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(groupProbs(q, k, s), [s.batch, s.heads, s.seqLen, s.seqLen]) as tf.Tensor4D);
}

/** SwiGLU on x [B·S, D]: down(silu(x @ wGate) ⊙ (x @ wUp)). */
export function swiglu(x: tf.Tensor2D, wGate: tf.Tensor2D, wUp: tf.Tensor2D, wDown: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const gate = linear(x, wGate);
    const up = linear(x, wUp);
    return linear(swigluAct(gate, up), wDown);
  });
}
