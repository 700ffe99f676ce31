/**
 * The fused kernels for the wasm backend (engine/kernels/wasm-ops.ts, used through engine/model/fused.ts):
 * each against the tfjs composition it replaces, values and gradients, on shapes with several rows, heads and
 * positions; exp over its whole clamped range against Math.exp; large attention calls split with a helper thread give
 * the bits of one thread; a flat tensor count; the committed binary matches its generator (scripts/build-ops.mjs --check).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { wasmOpsInstalled } from '../../engine/kernels/wasm-ops';
import { gemmStats, gemmThreads } from '../../engine/kernels/wasm-gemm';
import { addRmsNorm, attentionFused, gateUpSwiglu, ropeRows, swigluAct } from '../../engine/model/fused';
import { applyRope, attentionCore, rmsNorm, ropeTensors } from '../../engine/model/layers';
import { createModel, disposeCarry, initialCarry, makeConfig, runSegment } from '../../engine/model';
import { Rng } from '../../engine/util/rng';

before(async () => {
  const info = await selectBackend({ backend: 'wasm' });
  assert.equal(info.name, 'wasm');
  assert.match(info.detail, /fused element-wise kernels/);
  assert.ok(wasmOpsInstalled());
});

const rand = (rng: Rng, shape: [number, number], scale = 1) =>
  tf.tensor2d(Float32Array.from({ length: shape[0] * shape[1] }, () => scale * rng.normal()), shape);

function maxRelError(got: tf.Tensor, want: tf.Tensor): number {
  const g = got.dataSync();
  const w = want.dataSync();
  assert.equal(g.length, w.length);
  let e = 0;
  for (let i = 0; i < w.length; i++) e = Math.max(e, Math.abs(g[i] - w[i]) / (1 + Math.abs(w[i])));
  return e;
}

/** Values and the gradients of Σ y·w for both inputs, for the fused op and the composition. */
function compare(name: string, inputs: tf.Tensor2D[], fused: (...x: tf.Tensor2D[]) => tf.Tensor2D, composite: (...x: tf.Tensor2D[]) => tf.Tensor2D, tol: number): void {
  tf.tidy(() => {
    const yF = fused(...inputs);
    const yC = composite(...inputs);
    const e = maxRelError(yF, yC);
    assert.ok(e < tol, `${name}: values differ by ${e}`);
    const w = tf.randomNormal(yC.shape, 0, 1, 'float32', 3);
    const gF = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(fused(...(x as tf.Tensor2D[])), w)))(inputs);
    const gC = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(composite(...(x as tf.Tensor2D[])), w)))(inputs);
    gF.forEach((g, i) => {
      const eg = maxRelError(g, gC[i]);
      assert.ok(eg < 10 * tol, `${name}: gradient ${i} differs by ${eg}`);
    });
  });
}

test('the module compiles on the backend memory and the committed binary is current', () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-ops.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('addRmsNorm = rmsNorm(a + b), values and gradients', () => {
  const rng = new Rng(1);
  for (const [rows, D] of [[1, 4], [7, 64], [2624 / 8, 128]] as [number, number][]) {
    const a = rand(rng, [rows, D], 3);
    const b = rand(rng, [rows, D]);
    compare(`addRmsNorm [${rows},${D}]`, [a, b], (x, y) => addRmsNorm(x, y, 1e-5), (x, y) => rmsNorm(tf.add(x, y), 1e-5), 2e-6);
    a.dispose(); b.dispose();
  }
});

test('swigluAct = silu(g) · u, values and gradients, also for large |g| and an odd number of vectors', () => {
  const rng = new Rng(2);
  for (const [rows, n, scale] of [[1, 4, 1], [3, 20, 4], [2624 / 8, 512, 1], [5, 12, 40]] as [number, number, number][]) {
    const g = rand(rng, [rows, n], scale);
    const u = rand(rng, [rows, n]);
    compare(`swiglu [${rows},${n}]×${scale}`, [g, u], swigluAct, (x, y) => tf.mul(tf.mul(x, tf.sigmoid(x)), y), 2e-6);
    g.dispose(); u.dispose();
  }
});

test('exp inside the kernel stays within a few ulp over its range (through silu(g)·1 = g·σ(g))', () => {
  const xs = Float32Array.from({ length: 4096 }, (_, i) => -87 + (175 * i) / 4095);
  const g = tf.tensor2d(xs, [1, xs.length]);
  const one = tf.onesLike(g) as tf.Tensor2D;
  const y = swigluAct(g, one).dataSync();
  let worst = 0;
  xs.forEach((x, i) => {
    const want = x / (1 + Math.exp(-x));
    worst = Math.max(worst, Math.abs(y[i] - want) / Math.max(Math.abs(want), 1e-30));
  });
  assert.ok(worst < 1e-6, `max relative error ${worst}`);
  g.dispose(); one.dispose();
});

test('ropeRows = applyRope (rotate-half), values and gradients, several heads and batches', () => {
  const rng = new Rng(3);
  for (const [B, S, H, hd] of [[1, 5, 1, 8], [3, 11, 2, 16], [4, 82, 4, 32]]) {
    const rope = ropeTensors(S, hd, 10000);
    const x = rand(rng, [B * S, H * hd]);
    compare(`rope B${B} S${S} H${H} hd${hd}`, [x], (v) => ropeRows(v, B, S, H, rope),
      (v) => tf.reshape(applyRope(v, B, S, H, rope), [B * S, H * hd]) as tf.Tensor2D, 1e-6);
    x.dispose();
    for (const t of Object.values(rope)) t.dispose();
  }
});

test('attentionFused = attentionCore (softmax(q·kᵀ/√hd)·v per batch and head), values and gradients, odd and even S', () => {
  const rng = new Rng(5);
  for (const [B, S, H, hd] of [[1, 1, 1, 16], [2, 5, 2, 16], [3, 17, 1, 32], [4, 82, 4, 32], [2, 36, 2, 48]]) {
    const s = { batch: B, seqLen: S, heads: H };
    const [q, k, v] = [rand(rng, [B * S, H * hd], 2), rand(rng, [B * S, H * hd], 2), rand(rng, [B * S, H * hd])];
    compare(`attention B${B} S${S} H${H} hd${hd}`, [q, k, v], (a, b, c) => attentionFused(a, b, c, s), (a, b, c) => attentionCore(a, b, c, s), 2e-6);
    q.dispose(); k.dispose(); v.dispose();
  }
});

test('large attention calls (and their gradients) split their batch rows with a helper thread: the same bits as one thread, odd batch too', () => {
  const rng = new Rng(6);
  const saved = process.env.HRM_LENS_ATTENTION_THREADS;
  try {
    for (const [B, S, H, hd] of [[33, 82, 4, 32], [8, 130, 4, 64]]) {
      const s = { batch: B, seqLen: S, heads: H };
      const [q, k, v] = [rand(rng, [B * S, H * hd], 2), rand(rng, [B * S, H * hd], 2), rand(rng, [B * S, H * hd])];
      process.env.HRM_LENS_ATTENTION_THREADS = '1';
      const split0 = gemmStats.attentionSplit;
      const one = attentionFused(q, k, v, s);
      assert.equal(gemmStats.attentionSplit, split0, 'HRM_LENS_ATTENTION_THREADS=1 keeps it on one thread');
      delete process.env.HRM_LENS_ATTENTION_THREADS;
      const two = attentionFused(q, k, v, s);
      if (gemmThreads() >= 2) assert.equal(gemmStats.attentionSplit, split0 + 1, `B${B} S${S}: split with a helper`);
      assert.deepEqual(two.dataSync(), one.dataSync(), `B${B} S${S} H${H} hd${hd}`);
      const want = attentionCore(q, k, v, s);
      assert.ok(maxRelError(two, want) < 2e-6, `B${B} S${S}: against the composition`);
      // The gradient kernel splits the same way.
      const w = rand(rng, [B * S, H * hd]);
      const grads = () => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attentionFused(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, s), w)))([q, k, v]);
      process.env.HRM_LENS_ATTENTION_THREADS = '1';
      const g1 = grads();
      delete process.env.HRM_LENS_ATTENTION_THREADS;
      const split1 = gemmStats.attentionSplit;
      const g2 = grads();
      if (gemmThreads() >= 2) assert.equal(gemmStats.attentionSplit, split1 + 2, `B${B} S${S}: forward and gradient split`);
      g1.forEach((g, i) => assert.deepEqual(g2[i].dataSync(), g.dataSync(), `B${B} S${S}: gradient ${i}`));
      tf.dispose([q, k, v, one, two, want, w, ...g1, ...g2]);
    }
  } finally {
    if (saved === undefined) delete process.env.HRM_LENS_ATTENTION_THREADS;
    else process.env.HRM_LENS_ATTENTION_THREADS = saved;
  }
});

test('gateUpSwiglu (off the tape) = swigluAct of the two products, bit for bit, split with a helper or not; not on a tape', () => {
  const rng = new Rng(7);
  const saved = process.env.HRM_LENS_GEMM_THREADS;
  try {
    for (const [M, D, I] of [[2624, 128, 512], [34, 64, 256], [6, 32, 16]]) {
      const x = rand(rng, [M, D]);
      const gu = rand(rng, [D, 2 * I], 0.2);
      const want = tf.tidy(() => swigluAct(tf.matMul(x, gu.slice([0, 0], [D, I])), tf.matMul(x, gu.slice([0, I], [D, I]))));
      for (const threads of ['1', '2']) {
        process.env.HRM_LENS_GEMM_THREADS = threads;
        const got = gateUpSwiglu(x, gu);
        assert.ok(got, `[${M}, ${D}] · [${D}, ${2 * I}]: the kernel applies`);
        assert.deepEqual(got.dataSync(), want.dataSync(), `[${M}, ${D}] · [${D}, ${2 * I}], ${threads} thread(s)`);
        got.dispose();
      }
      let onTape: tf.Tensor | undefined;
      tf.grads((a: tf.Tensor) => { onTape = gateUpSwiglu(a as tf.Tensor2D, gu); return tf.sum(a); })([x]).forEach((g) => g.dispose());
      assert.equal(onTape, undefined, 'on a tape the separate ops run (they have gradients)');
      tf.dispose([x, gu, want]);
    }
    assert.equal(gateUpSwiglu(rand(rng, [5, 32]), rand(rng, [32, 32])), undefined, 'an odd row count keeps the separate ops');
  } finally {
    if (saved === undefined) delete process.env.HRM_LENS_GEMM_THREADS;
    else process.env.HRM_LENS_GEMM_THREADS = saved;
  }
});

test('capturing the attention probabilities, or the separate MLP ops, leave a segment bit-identical', () => {
  const model = createModel(makeConfig({ gridSize: 4, hidden: 64, heads: 4, H_layers: 1, L_layers: 1, positions: 'rope', haltMaxSteps: 4 }), 3);
  const tokens = tf.tensor2d(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 5) % 5), [2, 16], 'int32');
  const run = (capture: boolean) => {
    let carry = initialCarry(model, 2);
    const logits: Float32Array[] = [];
    let probs = 0;
    for (let seg = 1; seg <= 3; seg++) {
      const out = runSegment(model, carry, tokens, capture ? { segmentIndex: seg, capture: { wants: (n) => n.endsWith('.attn'), record: (_n, p) => { probs += p.size; } } } : {});
      disposeCarry(carry);
      carry = out.carry;
      logits.push(out.logits.dataSync() as Float32Array);
      out.logits.dispose(); out.qHalt.dispose(); out.qContinue.dispose();
    }
    disposeCarry(carry);
    return { logits, probs };
  };
  const plain = run(false);
  const captured = run(true);
  assert.ok(captured.probs > 0, 'attention probabilities were recorded');
  plain.logits.forEach((l, i) => assert.deepEqual(captured.logits[i], l, `segment ${i + 1}`));
  // The fused MLP kernel (off the tape) leaves the segments bit-identical too.
  process.env.HRM_LENS_FUSED_MLP = '0';
  try {
    const separate = run(false);
    plain.logits.forEach((l, i) => assert.deepEqual(separate.logits[i], l, `segment ${i + 1}, separate MLP ops`));
  } finally {
    delete process.env.HRM_LENS_FUSED_MLP;
  }
  tokens.dispose();
  model.dispose();
});

test('the tensor count stays flat over repeated fused calls, on and off the tape', () => {
  const rng = new Rng(4);
  const a = rand(rng, [64, 32]);
  const b = rand(rng, [64, 32]);
  const rope = ropeTensors(8, 8, 10000);
  const round = () => tf.tidy(() => {
    addRmsNorm(a, b, 1e-5);
    swigluAct(a, b);
    ropeRows(a, 8, 8, 4, rope);
    attentionFused(a, b, a, { batch: 8, seqLen: 8, heads: 2 });
    tf.grads((x: tf.Tensor) => tf.sum(attentionFused(x as tf.Tensor2D, b, b, { batch: 8, seqLen: 8, heads: 2 })))([a]);
    tf.grads((x: tf.Tensor) => tf.sum(swigluAct(ropeRows(addRmsNorm(x as tf.Tensor2D, b, 1e-5), 8, 8, 4, rope), b)))([a]);
  });
  round();
  const before = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds(); // the attention kernel's scratch is freed too
  for (let i = 0; i < 5; i++) round();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
  a.dispose(); b.dispose();
  for (const t of Object.values(rope)) t.dispose();
});

test('Transpose of 2-D float32 tensors (the SIMD kernel) moves every element exactly, edges included; other transposes unchanged', () => {
  const rng = new Rng(11);
  for (const [R, C] of [[1312, 128], [128, 512], [7, 5], [1, 9], [9, 1], [82, 13], [6, 8], [8, 6], [4, 4], [0, 3]] as [number, number][]) {
    const x = rand(rng, [R, C]);
    const y = tf.transpose(x);
    assert.deepEqual(y.shape, [C, R]);
    const xv = x.dataSync(), yv = y.dataSync();
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      if (!Object.is(yv[c * R + r], xv[r * C + c])) assert.fail(`[${R}, ${C}]: element (${r}, ${c}) is ${yv[c * R + r]}, not ${xv[r * C + c]}`);
    }
    x.dispose(); y.dispose();
  }
  tf.tidy(() => {
    // rank 3 and int32 go to tfjs-backend-wasm's kernel
    const t3 = tf.tensor3d(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    assert.deepEqual(Array.from(tf.transpose(t3, [2, 0, 1]).dataSync()).slice(0, 6), [0, 4, 8, 12, 16, 20]);
    assert.deepEqual(Array.from(tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32')).dataSync()), [1, 4, 2, 5, 3, 6]);
  });
});

test('Identity (tf.clone, tensors kept for a gradient) shares the buffer: values stay, disposing either side keeps the other, no buffer leaks', () => {
  const before = tf.engine().backend.numDataIds();
  const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const b = tf.clone(a);
  assert.equal(tf.engine().backend.numDataIds(), before + 1, 'one buffer for both');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4]);
  b.dispose();
  assert.equal(tf.engine().backend.numDataIds(), before, 'the buffer is freed with its last tensor');
  const v = tf.variable(tf.tensor1d([5, 6]));
  const kept = tf.clone(v);
  tf.tidy(() => v.assign(tf.tensor1d([7, 8])));
  assert.deepEqual(Array.from(kept.dataSync()), [5, 6], 'a clone keeps the values from before an assign');
  kept.dispose(); v.dispose();
});
