/**
 * The block's element-wise steps as single ops: on wasm each is one fused kernel (engine/kernels/wasm-ops.ts), on
 * other backends the tfjs composition it replaces. Gradients are written out with tfjs ops (they run only on the
 * tape, for the last two module calls of a segment):
 *
 *   addRmsNorm(a, b)   y = x·r, x = a + b, r = rsqrt(mean(x²) + eps)    dx = r · (dy − y · mean(dy · y))   (same for a, b)
 *   swigluAct(g, u)    y = silu(g) · u                                   dg = dy·u·σ(g)·(1 + g·(1 − σ(g))),  du = dy·silu(g)
 *                                                                          (one kernel on wasm too)
 *   ropeRows(x)        RoPE on x [B·S, H·hd], rows at positions 0..S−1    dx = the inverse rotation of dy (RoPE is orthogonal)
 *   attentionFused     o = P·v, P = softmax(q·kᵀ·c) per (batch, head)     with dO: dv = Pᵀ·dO, dS = P ⊙ (dO·vᵀ − Σ),
 *     (q, k, v)        on [B·S, H·hd] rows, c = 1/√hd                      dq = c·dS·k, dk = c·dSᵀ·q (P recomputed); on wasm
 *                                                                          one kernel too (HRM_LENS_FUSED_GRAD=0: tfjs ops)
 */
import { tf } from '../tf';
import { ADD_RMS_NORM, ATTENTION, ATTENTION_GRAD, GATE_UP_SWIGLU, ROPE, SWIGLU, SWIGLU_GRAD, wasmOpsInstalled } from '../kernels/wasm-ops';
import { IN_PLACE_MIN_ROWS, ownGemmInstalled } from '../kernels/wasm-gemm';
import { groupMatMul } from './group-matmul';
import { type AttentionShape, applyRope, attentionCore, fromGroups, rmsNorm, type RopeTensors, toGroups } from './layers';

function fusedHere(): boolean {
  return wasmOpsInstalled() && tf.getBackend() === 'wasm';
}

const f32 = (...ts: tf.Tensor[]) => ts.every((t) => t.dtype === 'float32');

/** One customGrad per epsilon (customGrad passes tensors only). */
const addRmsNormByEps = new Map<number, (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D>();

function addRmsNormFused(eps: number): (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D {
  let f = addRmsNormByEps.get(eps);
  if (!f) {
    f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
      const [y, r] = tf.engine().runKernel(ADD_RMS_NORM, { a, b }, { eps }) as unknown as [tf.Tensor2D, tf.Tensor2D];
      save([y, r]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sy, sr] = saved;
          const dx = tf.mul(sr, tf.sub(dy, tf.mul(sy, tf.mean(tf.mul(dy, sy), -1, true))));
          return [dx, tf.clone(dx)];
        },
      };
    }) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
    addRmsNormByEps.set(eps, f);
  }
  return f;
}

/** rmsNorm(a + b) for a, b [rows, D]. */
export function addRmsNorm(a: tf.Tensor2D, b: tf.Tensor2D, eps: number): tf.Tensor2D {
  if (!fusedHere() || !f32(a, b) || a.shape[1] % 4 !== 0) return tf.tidy(() => rmsNorm(tf.add(a, b), eps));
  return addRmsNormFused(eps)(a, b);
}

const swigluFused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [g, u, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([g, u]);
  return {
    value: tf.engine().runKernel(SWIGLU, { g, u }, {}) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sg, su] = saved;
      if (process.env.HRM_LENS_FUSED_GRAD !== '0') return tf.engine().runKernel(SWIGLU_GRAD, { g: sg, u: su, dy }, {}) as tf.Tensor[];
      const sig = tf.sigmoid(sg);
      const silu = tf.mul(sg, sig);
      const dSilu = tf.mul(sig, tf.add(1, tf.mul(sg, tf.sub(1, sig))));
      return [tf.mul(tf.mul(dy, su), dSilu), tf.mul(dy, silu)];
    },
  };
}) as unknown as (g: tf.Tensor2D, u: tf.Tensor2D) => tf.Tensor2D;

/** silu(g) · u, element-wise (g, u the same shape). */
export function swigluAct(g: tf.Tensor2D, u: tf.Tensor2D): tf.Tensor2D {
  if (!fusedHere() || !f32(g, u) || tf.util.sizeFromShape(g.shape) % 4 !== 0) {
    return tf.tidy(() => tf.mul(tf.mul(g, tf.sigmoid(g)), u) as tf.Tensor2D);
  }
  return swigluFused(g, u);
}

/**
 * x·wq, x·wk, x·wv as one product with the fused qkv weight [D, 3D] and three column slices of the [M, 3D] result: off
 * the tape, on wasm with the own GEMM, for calls with few rows (one puzzle: 82 rows at 9×9). There the weight slices
 * (copies of D × D floats, three per block call) cost more than the output slices, and the fused weight, a model
 * variable, is packed once and kept (engine/kernels/packed-weights.ts) where the slices would be packed at every call.
 * Each element is the GEMM's chain over k whatever the number of columns, so these are the bits of the three
 * products (test: packed-weights.test.ts). Undefined where it does not apply: the caller makes the three products.
 */
export function qkvJoint(x: tf.Tensor2D, wQkv: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] | undefined {
  const [M, D] = x.shape;
  if (M >= IN_PLACE_MIN_ROWS || !ownGemmInstalled() || tf.getBackend() !== 'wasm' || tf.engine().state.gradientDepth > 0) return undefined;
  if (!f32(x, wQkv) || wQkv.shape[0] !== D || wQkv.shape[1] !== 3 * D) return undefined;
  return tf.tidy(() => {
    const qkv = tf.matMul(x, wQkv);
    return [0, 1, 2].map((i) => tf.slice(qkv, [0, i * D], [M, D])) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  });
}

/**
 * silu(x·Wg) ⊙ (x·Wu) for x [M, D] and the MLP's gate|up weight gu [D, 2I] (gate columns first), as one kernel: only
 * off the tape (no gradient is recorded; the taped path keeps the separate products and swigluAct, whose values are the
 * same bits). Undefined when the kernel does not apply here (another backend, a tape, an odd row count, I % 16 ≠ 0).
 */
export function gateUpSwiglu(x: tf.Tensor2D, gu: tf.Tensor2D): tf.Tensor2D | undefined {
  if (!fusedHere() || tf.engine().state.gradientDepth > 0 || process.env.HRM_LENS_FUSED_MLP === '0') return undefined;
  if (!f32(x, gu) || x.shape[0] % 2 !== 0 || gu.shape[1] % 32 !== 0 || x.shape[1] !== gu.shape[0]) return undefined;
  return tf.engine().runKernel(GATE_UP_SWIGLU, { x, gu }, {}) as tf.Tensor2D;
}

function ropeKernel(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, heads: number, sign: 1 | -1): tf.Tensor2D {
  return tf.engine().runKernel(ROPE, { x, cos, sin }, { heads, sign }) as tf.Tensor2D;
}

/** RoPE on x [B·S, H·hd] (head-major columns; row b·S + s is at position s); returns [B·S, H·hd]. */
export function ropeRows(x: tf.Tensor2D, batch: number, seqLen: number, heads: number, rope: RopeTensors): tf.Tensor2D {
  const hd = x.shape[1] / heads;
  if (!fusedHere() || !f32(x) || hd % 8 !== 0) {
    return tf.tidy(() => tf.reshape(applyRope(x, batch, seqLen, heads, rope), [batch * seqLen, heads * hd]) as tf.Tensor2D);
  }
  return tf.tidy(() => {
    const cos = tf.reshape(rope.cos, [seqLen, hd]) as tf.Tensor2D;
    const sin = tf.reshape(rope.sin, [seqLen, hd]) as tf.Tensor2D;
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: ropeKernel(args[0] as tf.Tensor2D, cos, sin, heads, 1),
      gradFunc: (dy: tf.Tensor) => ropeKernel(dy as tf.Tensor2D, cos, sin, heads, -1),
    })) as unknown as (xi: tf.Tensor2D) => tf.Tensor2D;
    return f(x);
  });
}

/** Gradients of attentionCore for dO, with P recomputed from q and k (tfjs ops: run on the tape only). */
function attentionGrad(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, dO: tf.Tensor2D, s: AttentionShape): tf.Tensor2D[] {
  const c = 1 / Math.sqrt(q.shape[1] / s.heads);
  const qs = toGroups(tf.mul(q, c), s);
  const kg = toGroups(k, s);
  const p = tf.softmax(groupMatMul(qs, tf.transpose(kg, [0, 2, 1]) as tf.Tensor3D)) as tf.Tensor3D;
  const dOg = toGroups(dO, s);
  const dV = groupMatMul(tf.transpose(p, [0, 2, 1]) as tf.Tensor3D, dOg);
  const dP = groupMatMul(dOg, tf.transpose(toGroups(v, s), [0, 2, 1]) as tf.Tensor3D);
  const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))) as tf.Tensor3D;
  const dQ = tf.mul(fromGroups(groupMatMul(dS, kg), s), c) as tf.Tensor2D;
  const dK = fromGroups(groupMatMul(tf.transpose(dS, [0, 2, 1]) as tf.Tensor3D, qs), s);
  return [dQ, dK, fromGroups(dV, s)];
}

/**
 * softmax(q·kᵀ/√hd)·v per batch row and head on [B·S, H·hd] rows (after RoPE); the same layout out. One kernel on
 * wasm (hd a multiple of 16), attentionCore elsewhere.
 */
export function attentionFused(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, s: AttentionShape): tf.Tensor2D {
  const hd = q.shape[1] / s.heads;
  if (!fusedHere() || !f32(q, k, v) || hd % 16 !== 0) return attentionCore(q, k, v, s);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([qi, ki, vi]);
    return {
      value: tf.engine().runKernel(ATTENTION, { q: qi, k: ki, v: vi }, { batch: s.batch, seqLen: s.seqLen, heads: s.heads }) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => (process.env.HRM_LENS_FUSED_GRAD === '0'
        ? attentionGrad(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, saved[2] as tf.Tensor2D, dy as tf.Tensor2D, s)
        : tf.engine().runKernel(ATTENTION_GRAD, { q: saved[0], k: saved[1], v: saved[2], dO: dy }, { batch: s.batch, seqLen: s.seqLen, heads: s.heads }) as tf.Tensor[]),
    };
  }) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor2D) => tf.Tensor2D;
  return f(q, k, v);
}
