// Hand-built recurrent maps whose dynamics are known in closed form, for the interventions' tests.
//
// linearMap: on a 4×4 grid (16 positions, no prefix), hidden width 6 = the vocabulary, read-out = identity (the
// logits are z_H itself). The target state T is the one-hot of a fixed solution's tokens (scaled by `scale`), and
//   z_H' = T + (z_H − T) Aᵀ   (A acts on the hidden axis of every position),   z_L' = c · z_L.
// T is the unique fixed point; the map's Jacobian is block-diagonal, so its eigenvalues are exactly A's (each with
// multiplicity 16) and c. A = Q · blockdiag(r·Rot(θ), λ₁, …, λ₄) · Qᵀ with Q a seeded random orthogonal matrix, so
// A has the complex pair r·e^{±iθ} and the real eigenvalues λ₁…λ₄.
import { tf } from '../../../engine/tf';
import type { Carry, RecurrentMap } from '../../../engine/intervene/recurrent-map';
import type { Grid } from '../../../engine/sudoku/geometry';

export interface LinearMapSpec {
  /** Modulus and angle of A's complex pair. */
  r: number;
  theta: number;
  /** A's four real eigenvalues. */
  real: [number, number, number, number];
  /** z_L's factor c. */
  c: number;
  /** The solution the fixed point decodes to (16 digits 1..4). */
  solution: Grid;
  /** Height of the fixed point's one-hot (default 4). */
  scale?: number;
  /** The initial state's offset from T along a seeded direction, relative to ‖T‖ (default 0.5). */
  start?: number;
  seed?: number;
}

export interface LinearMap {
  map: RecurrentMap;
  /** A as a row-major 6×6 matrix. */
  a: Float32Array;
  /** The map's distinct eigenvalues, descending by modulus. */
  eigenvalues: { re: number; im: number }[];
  spectralRadius: number;
  /** The fixed point's z_H, [16, 6] row-major. */
  target: Float32Array;
  dispose(): void;
}

const D = 6;
const P = 16;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}

/** A seeded random orthogonal D×D matrix (Gram–Schmidt on random columns), row-major. */
function orthogonal(seed: number): Float64Array {
  const rand = rng(seed);
  const q = new Float64Array(D * D);
  for (let j = 0; j < D; j++) {
    const v = Array.from({ length: D }, () => rand());
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < D; i++) dot += v[i] * q[i * D + k];
      for (let i = 0; i < D; i++) v[i] -= dot * q[i * D + k];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < D; i++) q[i * D + j] = v[i] / norm;
  }
  return q;
}

export function linearMap(spec: LinearMapSpec): LinearMap {
  const scale = spec.scale ?? 4;
  const seed = spec.seed ?? 7;
  const core = new Float64Array(D * D);
  const { r, theta } = spec;
  core[0] = r * Math.cos(theta); core[1] = -r * Math.sin(theta);
  core[D] = r * Math.sin(theta); core[D + 1] = r * Math.cos(theta);
  spec.real.forEach((l, i) => { core[(i + 2) * D + i + 2] = l; });
  const q = orthogonal(seed);
  const a = new Float32Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) for (let l = 0; l < D; l++) s += q[i * D + k] * core[k * D + l] * q[j * D + l];
      a[i * D + j] = s;
    }
  }
  const target = new Float32Array(P * D);
  for (let c = 0; c < P; c++) target[c * D + spec.solution[c] + 1] = scale;
  const rand = rng(seed + 1);
  const tNorm = Math.hypot(...target);
  const offset = Float32Array.from({ length: P * D }, () => rand());
  const oNorm = Math.hypot(...offset);
  const start = target.map((t, i) => t + ((spec.start ?? 0.5) * tNorm * offset[i]) / oNorm);

  const aT = tf.tidy(() => tf.tensor2d(a, [D, D]).transpose() as tf.Tensor2D);
  const targetT = tf.keep(tf.tensor3d(target, [1, P, D]));
  const startT = tf.keep(tf.tensor3d(start, [1, P, D]));
  const map: RecurrentMap = {
    n: 4,
    positions: P,
    hidden: D,
    prefix: 0,
    segments: 16,
    initial: (batch) => tf.tidy(() => ({
      zH: tf.tile(startT, [batch, 1, 1]) as tf.Tensor3D,
      zL: tf.ones([batch, P, D]) as tf.Tensor3D,
    })),
    embed: (tokens) => tf.tidy(() => tf.tile(targetT, [tokens.shape[0], 1, 1]) as tf.Tensor3D),
    step: (carry: Carry, x: tf.Tensor3D) => tf.tidy(() => {
      const [B] = carry.zH.shape;
      const dev = tf.reshape(tf.sub(carry.zH, x), [B * P, D]);
      const zH = tf.add(x, tf.reshape(tf.matMul(dev, aT), [B, P, D])) as tf.Tensor3D;
      const zL = tf.mul(carry.zL, spec.c) as tf.Tensor3D;
      return { zH, zL };
    }),
    readout: (zH) => tf.clone(zH),
  };
  const all = [
    { re: r * Math.cos(theta), im: r * Math.sin(theta) },
    { re: r * Math.cos(theta), im: -r * Math.sin(theta) },
    ...spec.real.map((l) => ({ re: l, im: 0 })),
    { re: spec.c, im: 0 },
  ].sort((x, y) => Math.hypot(y.re, y.im) - Math.hypot(x.re, x.im));
  return {
    map, a, eigenvalues: all, spectralRadius: Math.hypot(all[0].re, all[0].im), target,
    dispose: () => { aT.dispose(); targetT.dispose(); startT.dispose(); },
  };
}
