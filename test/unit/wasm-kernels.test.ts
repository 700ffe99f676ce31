import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { copySlice } from '../../engine/kernels/wasm-slice';
import { groupMatMul, groupMatMulBySlices } from '../../engine/model/group-matmul';
import { GROUP_MATMUL_KERNEL, installWasmGroupMatMul } from '../../engine/kernels/wasm-group-matmul';
import { Rng } from '../../engine/util/rng';

before(async () => {
  const info = await selectBackend({ backend: 'wasm' });
  assert.equal(info.name, 'wasm');
  assert.match(info.detail, /copy-free Slice/);
});

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** Reference slice by index arithmetic, independent of any kernel. */
function naiveSlice(x: Float32Array, shape: number[], begin: number[], size: number[]): Float32Array {
  const out = new Float32Array(size.reduce((a, b) => a * b, 1));
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    let off = 0;
    for (let d = size.length - 1; d >= 0; d--) {
      const i = rem % size[d];
      rem = Math.floor(rem / size[d]);
      off += (begin[d] + i) * strides[d];
    }
    out[o] = x[off];
  }
  return out;
}

const boxArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
  fc.tuple(fc.constant(shape), ...shape.map((n) => fc.integer({ min: 0, max: n - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: n - b })))))
    .map(([s, ...bs]) => ({ shape: s, begin: bs.map((p) => p[0]), size: bs.map((p) => p[1]) })));

test('copySlice equals index arithmetic for any box of any rank ≤ 5 (property)', () => {
  fc.assert(fc.property(boxArb, ({ shape, begin, size }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, (_, i) => i + 0.5);
    const out = new Float32Array(size.reduce((a, b) => a * b, 1));
    copySlice(x, shape, out, begin, size);
    assert.deepEqual(out, naiveSlice(x, shape, begin, size));
  }), { numRuns: 300, seed: 11 });
});

test('the installed wasm Slice kernel gives tf.slice the same values (float32 and int32, heap growth)', () => {
  fc.assert(fc.property(boxArb, ({ shape, begin, size }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => i * 1.25 - 3);
    const got = tf.tidy(() => tf.slice(tf.tensor(data, shape), begin, size).dataSync());
    assert.deepEqual(Float32Array.from(got), naiveSlice(data, shape, begin, size));
    const gotInt = tf.tidy(() => tf.slice(tf.tensor(Int32Array.from(data, (v) => Math.round(v) | 0), shape, 'int32'), begin, size).dataSync());
    assert.deepEqual(Array.from(gotInt), Array.from(naiveSlice(data, shape, begin, size), (v) => Math.round(v) | 0));
  }), { numRuns: 200, seed: 12 });
  // A slice whose output allocation grows the wasm heap must still read the input correctly.
  const big = tf.fill([4096, 1024], 2.5);
  const before = tf.memory().numTensors;
  const s = tf.slice(big, [4095, 0], [1, 1024]);
  assert.ok(s.dataSync().every((v) => v === 2.5));
  s.dispose();
  big.dispose();
  assert.equal(tf.memory().numTensors, before - 1);
});

test('groupMatMul: value and gradients equal tf.matMul on [G, M, K] @ [G, K, N]', () => {
  const rng = new Rng(5);
  for (const [G, M, K, N] of [[1, 3, 4, 5], [6, 7, 4, 7], [12, 10, 8, 10]]) {
    const a = randn(rng, [G, M, K]) as tf.Tensor3D;
    const b = randn(rng, [G, K, N]) as tf.Tensor3D;
    const r = randn(rng, [G, M, N]);
    const y1 = groupMatMul(a, b);
    const y2 = tf.matMul(a, b);
    assert.deepEqual(y1.shape, [G, M, N]);
    const d = tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0];
    assert.ok(d < 1e-5, `value diff ${d}`);
    const f1 = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.square(groupMatMul(x as tf.Tensor3D, w as tf.Tensor3D)), r));
    const f2 = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.matMul(x as tf.Tensor3D, w as tf.Tensor3D)), r));
    const [ga1, gb1] = tf.grads(f1)([a, b]);
    const [ga2, gb2] = tf.grads(f2)([a, b]);
    for (const [g1, g2] of [[ga1, ga2], [gb1, gb2]]) {
      const gd = tf.max(tf.abs(tf.sub(g1, g2))).dataSync()[0];
      assert.ok(gd < 1e-4, `gradient diff ${gd}`);
    }
    tf.dispose([a, b, r, y1, y2, ga1, gb1, ga2, gb2]);
  }
  assert.throws(() => groupMatMul(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([2, 5, 4]) as tf.Tensor3D), /expected a \[G, M, K\]/);
});

test('groupMatMul leaves no tensors behind (forward and backward)', () => {
  const rng = new Rng(9);
  const a = randn(rng, [8, 6, 4]) as tf.Tensor3D;
  const b = randn(rng, [8, 4, 6]) as tf.Tensor3D;
  const run = () => tf.tidy(() => {
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(groupMatMul(x as tf.Tensor3D, w as tf.Tensor3D)))([a, b]);
    return g[0].dataSync()[0];
  });
  run();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) run();
  assert.equal(tf.memory().numTensors, n0);
});

test('the zero-copy group kernel is installed on wasm and equals the slice path and tf.matMul bit for bit', () => {
  assert.equal(installWasmGroupMatMul(), true);
  const rng = new Rng(21);
  const a = randn(rng, [16, 9, 5]) as tf.Tensor3D;
  const b = randn(rng, [16, 5, 7]) as tf.Tensor3D;
  const viaKernel = tf.engine().runKernel(GROUP_MATMUL_KERNEL, { a, b }, {}) as tf.Tensor3D;
  assert.deepEqual(viaKernel.shape, [16, 9, 7]);
  const k = viaKernel.dataSync();
  assert.deepEqual(k, groupMatMulBySlices(a, b).dataSync());
  const ref = tf.matMul(a, b).dataSync();
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - k[i]));
  assert.ok(worst < 1e-5, `kernel vs tf.matMul ${worst}`);
});

test('the group kernel frees its temporary views: the wasm heap does not grow over 300 calls', () => {
  const rng = new Rng(22);
  const a = randn(rng, [64, 82, 32]) as tf.Tensor3D;
  const b = randn(rng, [64, 32, 82]) as tf.Tensor3D;
  const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  for (let i = 0; i < 20; i++) groupMatMul(a, b).dispose();
  const h0 = heap();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 300; i++) groupMatMul(a, b).dispose();
  assert.equal(heap(), h0);
  assert.equal(tf.memory().numTensors, n0);
});
