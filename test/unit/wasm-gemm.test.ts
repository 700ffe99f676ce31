/**
 * The project's own GEMM for the wasm backend (engine/kernels/wasm-gemm.ts): products against a float64 reference for
 * shapes that exercise the padding (odd M, N not a multiple of 16, K = 1); tf.matMul through the overridden
 * BatchMatMul kernel (2-D and batch-1 operands, small ones too, a row independent of the row count) against the same
 * reference; transposed and batched products still go to the original kernel; gradients through it; a flat tensor count; products
 * computed in place on the heap (N a multiple of 16) have the bits of the copying path for any thread count; the committed binary matches its
 * generator (scripts/build-gemm.mjs --check).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { gemmInto, gemmModule, gemmStats } from '../../engine/kernels/wasm-gemm';
import { Rng } from '../../engine/util/rng';

before(async () => {
  const info = await selectBackend({ backend: 'wasm' });
  assert.equal(info.name, 'wasm');
  assert.match(info.detail, /own GEMM kernel/);
});

const rand = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

function reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
    const x = a[i * K + k];
    for (let j = 0; j < N; j++) c[i * N + j] += x * b[k * N + j];
  }
  return c;
}

/** Max |got − want| relative to √K (the scale of a sum of K unit-normal products). */
function maxScaledError(got: ArrayLike<number>, want: ArrayLike<number>, K: number): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e / Math.sqrt(K);
}

test('the module compiles (relaxed SIMD, else SIMD) and the committed binary is current', () => {
  assert.notEqual(gemmModule().info.kernel, 'off', gemmModule().info.detail);
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-gemm.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('gemmInto matches a float64 reference, padding and cache blocks (K > 512 in three blocks, rows > 128) included', () => {
  const rng = new Rng(5);
  for (const [M, K, N] of [[1, 1, 1], [3, 7, 5], [2, 16, 16], [33, 20, 17], [64, 128, 10], [7, 300, 2], [130, 64, 48], [2624 / 8, 128, 512 / 8], [300, 1100, 40]]) {
    const a = rand(rng, M * K);
    const b = rand(rng, K * N);
    const out = new Float32Array(M * N).fill(Number.NaN);
    gemmInto(a, b, out, M, K, N);
    const err = maxScaledError(out, reference(a, b, M, K, N), K);
    assert.ok(err < 1e-5, `[${M},${K}]·[${K},${N}]: error ${err}`);
  }
});

test('tf.matMul goes through it for large 2-D and batch-1 products; transposed, batched and small ones are unchanged', () => {
  const rng = new Rng(6);
  const [M, K, N] = [130, 96, 90];
  const a = rand(rng, M * K);
  const b = rand(rng, K * N);
  const want = reference(a, b, M, K, N);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const ta = tf.tensor2d(a, [M, K]);
    const tb = tf.tensor2d(b, [K, N]);
    const calls0 = gemmStats.calls;
    const cases: [string, tf.Tensor][] = [
      ['2-D', tf.matMul(ta, tb)],
      ['batch 1', tf.matMul(ta.reshape([1, M, K]), tb.reshape([1, K, N])).reshape([M, N])],
    ];
    assert.equal(gemmStats.calls, calls0 + 2, 'both went through the own kernel');
    cases.push(
      ['transposeB (original kernel)', tf.matMul(ta, tb.transpose(), false, true)],
      ['transposeA (original kernel)', tf.matMul(ta.transpose(), tb, true, false)],
      ['batched (original kernel)', tf.matMul(tf.stack([ta, ta]), tf.stack([tb, tb])).slice([1, 0, 0], [1, M, N]).reshape([M, N])],
    );
    assert.equal(gemmStats.calls, calls0 + 2, 'transposed and batched products kept the original kernel');
    for (const [name, c] of cases) assert.ok(maxScaledError(c.dataSync(), want, K) < 1e-5, name);
    const small = tf.matMul(tf.ones([4, 4]), tf.ones([4, 4]));
    assert.deepEqual(Array.from(small.dataSync()), new Array(16).fill(4));
    assert.equal(gemmStats.calls, calls0 + 3, 'small products too (a row does not depend on the batch)');
    // Row i of A·B is the same bits whether A has one row or many.
    const one = tf.matMul(ta.slice([5, 0], [1, K]), tb).dataSync();
    const all = tf.matMul(ta, tb).slice([5, 0], [1, N]).dataSync();
    assert.deepEqual(Array.from(one), Array.from(all));
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
});

test('gradients through the kernel match the analytic ones', () => {
  const rng = new Rng(7);
  const [M, K, N] = [128, 96, 100];
  const a = tf.tensor2d(rand(rng, M * K), [M, K]);
  const b = tf.tensor2d(rand(rng, K * N), [K, N]);
  const w = tf.tensor2d(rand(rng, M * N), [M, N]);
  // d/da sum(w ⊙ a·b) = w·bᵀ, d/db = aᵀ·w
  const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(w, tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))))([a, b]);
  const ga = reference(w.dataSync() as Float32Array, b.transpose().dataSync() as Float32Array, M, N, K);
  const gb = reference(a.transpose().dataSync() as Float32Array, w.dataSync() as Float32Array, K, M, N);
  assert.ok(maxScaledError(g[0].dataSync(), ga, N) < 1e-5);
  assert.ok(maxScaledError(g[1].dataSync(), gb, M) < 1e-5);
  tf.dispose([a, b, w, ...g]);
});

test('helper threads: the same bits with 1, 2 and 3 threads (rows are split, each computed the same way)', () => {
  const rng = new Rng(8);
  const [M, K, N] = [262, 128, 130];
  const a = rand(rng, M * K);
  const b = rand(rng, K * N);
  const saved = process.env.HRM_LENS_GEMM_THREADS;
  const parallel0 = gemmStats.parallel;
  try {
    const runs = [1, 2, 3].map((t) => {
      process.env.HRM_LENS_GEMM_THREADS = String(t);
      const out = new Float32Array(M * N);
      gemmInto(a, b, out, M, K, N);
      return out;
    });
    assert.ok(maxScaledError(runs[0], reference(a, b, M, K, N), K) < 1e-5);
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
    assert.equal(gemmStats.parallel, parallel0 + 2, 'the 2- and 3-thread runs were split over helper threads');
  } finally {
    if (saved === undefined) delete process.env.HRM_LENS_GEMM_THREADS;
    else process.env.HRM_LENS_GEMM_THREADS = saved;
  }
});

test('in place on the heap: tf.matMul gives the bits of the copying path, with 1, 2 and 3 threads and an odd row count', () => {
  const rng = new Rng(9);
  const saved = { threads: process.env.HRM_LENS_GEMM_THREADS, gemm: process.env.HRM_LENS_GEMM };
  const before = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds(); // the packed-B scratch on the heap is freed too
  try {
    for (const [M, K, N] of [[263, 128, 128], [2624, 128, 64], [1, 40, 16]]) {
      const a = rand(rng, M * K);
      const b = rand(rng, K * N);
      const copied = new Float32Array(M * N);
      gemmInto(a, b, copied, M, K, N);
      assert.ok(maxScaledError(copied, reference(a, b, M, K, N), K) < 1e-5);
      const ta = tf.tensor2d(a, [M, K]);
      const tb = tf.tensor2d(b, [K, N]);
      for (const threads of [1, 2, 3]) {
        process.env.HRM_LENS_GEMM_THREADS = String(threads);
        delete process.env.HRM_LENS_GEMM;
        const inPlace0 = gemmStats.inPlace;
        const c = tf.matMul(ta, tb);
        assert.equal(gemmStats.inPlace, inPlace0 + (M > 1 ? 1 : 0), `[${M},${K}]·[${K},${N}], ${threads} thread(s): rows computed in place`);
        assert.deepEqual(c.dataSync(), copied, `[${M},${K}]·[${K},${N}], ${threads} thread(s)`);
        c.dispose();
        process.env.HRM_LENS_GEMM = 'copy';
        const inPlace1 = gemmStats.inPlace;
        const d = tf.matMul(ta, tb);
        assert.equal(gemmStats.inPlace, inPlace1, 'HRM_LENS_GEMM=copy turns it off');
        assert.deepEqual(d.dataSync(), copied);
        d.dispose();
      }
      tf.dispose([ta, tb]);
    }
  } finally {
    for (const [k, v] of [['HRM_LENS_GEMM_THREADS', saved.threads], ['HRM_LENS_GEMM', saved.gemm]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  assert.equal(tf.engine().backend.numDataIds(), dataIds, 'no heap scratch left');
});
