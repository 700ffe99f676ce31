import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { linear } from '../../engine/model/linear';
import { applyRope, ropeData, ropeTensors, rmsNorm } from '../../engine/model/layers';
import { TRUNC_NORMAL_STD_FACTOR, truncNormal } from '../../engine/model/init';
import { Rng } from '../../engine/util/rng';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

test('linear: value and both gradients equal tf.matMul (explicit-transpose custom gradient)', () => {
  const rng = new Rng(7);
  const x = randn(rng, [5, 4]) as tf.Tensor2D;
  const w = randn(rng, [4, 3]) as tf.Tensor2D;
  const r = randn(rng, [5, 3]);
  const f1 = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.square(linear(a as tf.Tensor2D, b as tf.Tensor2D)), r));
  const f2 = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)), r));
  assert.ok(maxAbsDiff(linear(x, w).dataSync(), tf.matMul(x, w).dataSync()) < 1e-6);
  const [gx1, gw1] = tf.grads(f1)([x, w]);
  const [gx2, gw2] = tf.grads(f2)([x, w]);
  assert.ok(maxAbsDiff(gx1.dataSync(), gx2.dataSync()) < 1e-4);
  assert.ok(maxAbsDiff(gw1.dataSync(), gw2.dataSync()) < 1e-4);
  // Central finite differences on every entry of w (float64 loss from float32 pieces: loose tolerance).
  const wData = w.dataSync() as Float32Array;
  const eps = 1e-2;
  const g = gw1.dataSync();
  for (let i = 0; i < wData.length; i++) {
    const plus = Float32Array.from(wData); plus[i] += eps;
    const minus = Float32Array.from(wData); minus[i] -= eps;
    const lp = f1(x, tf.tensor2d(plus, [4, 3])).dataSync()[0];
    const lm = f1(x, tf.tensor2d(minus, [4, 3])).dataSync()[0];
    const fd = (lp - lm) / (2 * eps);
    assert.ok(Math.abs(fd - g[i]) < 2e-2 * Math.max(1, Math.abs(g[i])), `entry ${i}: fd ${fd} vs grad ${g[i]}`);
  }
  assert.throws(() => linear(x, tf.zeros([3, 3]) as tf.Tensor2D), /linear: expected/);
});

test('RoPE: x@R rotate-half matches the direct formula, including the gradient path', () => {
  const B = 2, S = 5, H = 2, hd = 8, half = hd / 2;
  const rng = new Rng(3);
  const xData = Float32Array.from({ length: B * S * H * hd }, () => rng.normal());
  const rope = ropeTensors(S, hd, 10000);
  const got = applyRope(tf.tensor2d(xData, [B * S, H * hd]), B, S, H, rope).dataSync();
  const want = new Float32Array(xData.length);
  for (let b = 0; b < B; b++) for (let p = 0; p < S; p++) for (let h = 0; h < H; h++) {
    const o = ((b * S + p) * H + h) * hd;
    for (let i = 0; i < hd; i++) {
      const freq = 1 / 10000 ** ((2 * (i % half)) / hd);
      const rot = i < half ? -xData[o + i + half] : xData[o + i - half];
      want[o + i] = xData[o + i] * Math.cos(p * freq) + rot * Math.sin(p * freq);
    }
  }
  assert.ok(maxAbsDiff(got, want) < 1e-5, `max diff ${maxAbsDiff(got, want)}`);
  // Position 0 is the identity; the rotation keeps norms of each (i, i + half) pair.
  const d = ropeData(S, hd, 10000);
  assert.ok(d.cos.slice(0, hd).every((c) => c === 1) && d.sin.slice(0, hd).every((s) => s === 0));
  // Gradient of sum(rope(x) * r) w.r.t. x is rope⁻¹ applied to r, i.e. rotate by −angle.
  const r = tf.tensor4d(Float32Array.from({ length: xData.length }, () => rng.normal()), [B, S, H, hd]);
  const gx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(applyRope(x as tf.Tensor2D, B, S, H, rope), r)))(tf.tensor2d(xData, [B * S, H * hd])).dataSync();
  const rData = r.dataSync();
  const wantG = new Float32Array(xData.length);
  for (let b = 0; b < B; b++) for (let p = 0; p < S; p++) for (let h = 0; h < H; h++) {
    const o = ((b * S + p) * H + h) * hd;
    for (let i = 0; i < hd; i++) {
      const freq = 1 / 10000 ** ((2 * (i % half)) / hd);
      const rot = i < half ? rData[o + i + half] : -rData[o + i - half];
      wantG[o + i] = rData[o + i] * Math.cos(p * freq) + rot * Math.sin(p * freq);
    }
  }
  assert.ok(maxAbsDiff(gx, wantG) < 1e-5, `grad max diff ${maxAbsDiff(gx, wantG)}`);
});

test('rmsNorm: no scale, eps inside the root', () => {
  const x = tf.tensor2d([[3, 4], [0, 0]]);
  const y = rmsNorm(x, 1e-5).dataSync();
  const s = 1 / Math.sqrt(12.5 + 1e-5);
  assert.ok(maxAbsDiff(y, [3 * s, 4 * s, 0, 0]) < 1e-6);
});

test('truncNormal: seeded, clipped at ±2·1.1368·std, actual std ≈ std', () => {
  const a = truncNormal(new Rng(1), 20000, 0.5);
  const b = truncNormal(new Rng(1), 20000, 0.5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(truncNormal(new Rng(2), 100, 0.5), a.slice(0, 100));
  const bound = 2 * TRUNC_NORMAL_STD_FACTOR * 0.5;
  let sum = 0, sq = 0;
  for (const v of a) {
    assert.ok(Math.abs(v) <= bound + 1e-6);
    sum += v; sq += v * v;
  }
  const mean = sum / a.length;
  const std = Math.sqrt(sq / a.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.5) < 0.01, `std ${std}`);
  assert.ok(truncNormal(new Rng(1), 5, 0).every((v) => v === 0));
});
