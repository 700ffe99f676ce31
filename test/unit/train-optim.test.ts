/** AdamATan2, sign-SGD, the lr schedule and EMA against plain-JS references; no tensor leaks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { AdamATan2 } from '../../engine/train/adam-atan2';
import { SignSGD, signSgdUpdate } from '../../engine/train/sign-sgd';
import { learningRate, validateSchedule } from '../../engine/train/schedule';
import { Ema } from '../../engine/train/ema';
import { Rng } from '../../engine/util/rng';

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

/** Plain-JS AdamATan2 (float64), straight from docs/model.md §AdamATan2. */
class RefAdam {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(public p: Float64Array, private wd: number, private b1 = 0.9, private b2 = 0.95) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  step(g: ArrayLike<number>, lr: number): void {
    this.t++;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = Math.sqrt(1 - this.b2 ** this.t);
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * this.wd;
      this.m[i] = this.b1 * this.m[i] + (1 - this.b1) * g[i];
      this.v[i] = this.b2 * this.v[i] + (1 - this.b2) * g[i] * g[i];
      this.p[i] -= lr * Math.atan2(this.m[i] / bc1, Math.sqrt(this.v[i]) / bc2);
    }
  }
}

test('AdamATan2 matches the plain-JS reference over several steps (two parameters, weight decay)', async () => {
  await tf.setBackend('cpu');
  const rng = new Rng(1);
  const shapes: Record<string, number[]> = { a: [3, 4], b: [5] };
  const params = new Map<string, tf.Variable>();
  const refs = new Map<string, RefAdam>();
  for (const [name, shape] of Object.entries(shapes)) {
    const init = randn(rng, shape.reduce((x, y) => x * y, 1));
    params.set(name, tf.variable(tf.tensor(init, shape), true, `adamref_${name}`));
    refs.set(name, new RefAdam(Float64Array.from(init), 0.1));
  }
  const opt = new AdamATan2(params, { weightDecay: 0.1 });
  for (let s = 1; s <= 6; s++) {
    const lr = 0.01 * s;
    const grads = new Map<string, tf.Tensor>();
    for (const [name, shape] of Object.entries(shapes)) {
      const g = randn(rng, refs.get(name)!.p.length, s === 3 ? 1e-3 : 2);
      grads.set(name, tf.tensor(g, shape));
      refs.get(name)!.step(g, lr);
    }
    opt.step(grads, lr);
    for (const g of grads.values()) g.dispose();
    for (const [name, p] of params) assertClose(p.dataSync(), refs.get(name)!.p, 1e-6, `step ${s} ${name}`);
  }
  assert.equal(opt.stepCount('a'), 6);
  opt.dispose();
  for (const p of params.values()) p.dispose();
});

test('AdamATan2: each step moves an element by at most lr·π/2 (no ε, no scale); wasm agrees', async () => {
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const lr = 0.5;
    // First step: m̂ = g, v̂ = g², so the update is exactly lr·atan2(g, |g|) = ±lr·π/4 for any g ≠ 0.
    const init = new Float32Array([0, 1, -1, 5]);
    const p = tf.variable(tf.tensor1d(init), true, `bound_${backend}`);
    const opt = new AdamATan2(new Map([['p', p]]));
    let g = tf.tensor1d([1e15, 1e-10, -1e6, 0]);
    opt.step(new Map([['p', g]]), lr);
    assertClose(p.dataSync(), [-lr * Math.PI / 4, 1 - lr * Math.PI / 4, -1 + lr * Math.PI / 4, 5], 1e-6, backend);
    // Later steps with extreme gradients (float32 over/underflow of g²): never more than lr·π/2 per element.
    for (const values of [[1e30, 1e-30, -1e38, 3], [-1e-30, 1e30, 0, -1e-20], [7, -7, 1e-45, 1e20]]) {
      g.dispose();
      g = tf.tensor1d(values);
      const before = p.dataSync().slice();
      opt.step(new Map([['p', g]]), lr);
      const after = p.dataSync();
      for (let i = 0; i < 4; i++) {
        const moved = Math.abs(after[i] - before[i]);
        assert.ok(Number.isFinite(after[i]) && moved <= (lr * Math.PI) / 2 + 1e-6, `${backend}: element ${i} moved ${moved}`);
      }
    }
    g.dispose();
    opt.dispose();
    p.dispose();
  }
  await tf.setBackend('cpu');
});

test('AdamATan2: parameters without a gradient are untouched; unknown names and bad shapes throw', async () => {
  await tf.setBackend('cpu');
  const a = tf.variable(tf.ones([2]), true, 'skip_a');
  const b = tf.variable(tf.ones([2]), true, 'skip_b');
  const opt = new AdamATan2(new Map([['a', a], ['b', b]]), { weightDecay: 1 });
  const g = tf.ones([2]);
  opt.step(new Map([['a', g]]), 0.1);
  assert.deepEqual([...b.dataSync()], [1, 1]);
  assert.equal(opt.stepCount('b'), 0);
  assert.throws(() => opt.step(new Map([['zz', g]]), 0.1), /unknown parameter "zz"/);
  const bad = tf.ones([3]);
  assert.throws(() => opt.step(new Map([['a', bad]]), 0.1), /shape \[3\]/);
  tf.dispose([g, bad, a, b]);
  opt.dispose();
});

test('AdamATan2 getState/setState: restored optimizer takes identical next steps', async () => {
  await tf.setBackend('cpu');
  const rng = new Rng(7);
  const grads = Array.from({ length: 6 }, () => randn(rng, 6));
  const init = randn(rng, 6);
  const run = (steps: Float32Array[], opt: AdamATan2, p: tf.Variable): void => {
    for (const g of steps) {
      const t = tf.tensor(g, [2, 3]);
      opt.step(new Map([['w', t]]), 0.05);
      t.dispose();
    }
    void p;
  };
  const p1 = tf.variable(tf.tensor(init, [2, 3]), true, 'rs_p1');
  const o1 = new AdamATan2(new Map([['w', p1]]), { weightDecay: 0.5 });
  run(grads.slice(0, 3), o1, p1);
  const state = o1.getState();
  const midParams = p1.dataSync().slice();
  run(grads.slice(3), o1, p1);

  const p2 = tf.variable(tf.tensor(midParams, [2, 3]), true, 'rs_p2');
  const o2 = new AdamATan2(new Map([['w', p2]]), { weightDecay: 0.5 });
  o2.setState(state);
  assert.equal(o2.stepCount('w'), 3);
  run(grads.slice(3), o2, p2);
  assert.deepEqual([...p2.dataSync()], [...p1.dataSync()]);

  assert.throws(() => o2.setState({ arrays: {}, json: { steps: { w: 1 } } }), /missing array "m.w"/);
  assert.throws(() => o2.setState({ arrays: {}, json: { steps: { nope: 1 } } }), /unknown parameter "nope"/);
  // A failed setState leaves the previous state in place.
  assert.equal(o2.stepCount('w'), 6);
  o1.dispose();
  o2.dispose();
  tf.dispose([p1, p2]);
});

test('sign-SGD: w ← w·(1 − lr·wd) − lr·sign(g); sparse rows untouched', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor2d([[1, -2, 3], [4, 5, 6], [0.5, 0.5, 0.5]]), true, 'sgd_w');
  const opt = new SignSGD(new Map([['w', w]]), { weightDecay: 0.1 });
  const g = tf.tensor2d([[0.3, -7, 0], [0, 0, 0], [-1e-9, 2, 3]]);
  const lr = 0.01;
  opt.step(new Map([['w', g]]), lr);
  const d = 1 - lr * 0.1;
  assertClose(w.dataSync(), [1 * d - lr, -2 * d + lr, 3 * d, 4, 5, 6, 0.5 * d + lr, 0.5 * d - lr, 0.5 * d - lr], 1e-7, 'sparse');
  const dense = signSgdUpdate(tf.tensor1d([2, -2, 1]), tf.tensor1d([1, -1, 0]), 0.5, 1, false);
  assertClose(dense.dataSync(), [2 * 0.5 - 0.5, -2 * 0.5 + 0.5, 0.5], 1e-7, 'dense');
  tf.dispose([w, g, dense]);
});

test('schedule: linear warmup from step 1, then cosine to base·minRatio; minRatio 1 is constant', () => {
  const s = { base: 1e-4, warmup: 2000, total: 10000 };
  assert.equal(learningRate(1, s), 1e-4 / 2000);
  assert.equal(learningRate(1000, s), 5e-5);
  assert.equal(learningRate(2000, s), 1e-4);
  assert.equal(learningRate(9000, s), 1e-4);
  assert.equal(learningRate(20000, s), 1e-4);
  const c = { base: 3e-4, warmup: 10, total: 110, minRatio: 0.1 };
  assert.equal(learningRate(10, c), 3e-4);
  assert.ok(Math.abs(learningRate(60, c) - 3e-4 * (0.1 + 0.9 * 0.5)) < 1e-15);
  assert.ok(Math.abs(learningRate(110, c) - 3e-5) < 1e-15);
  assert.ok(Math.abs(learningRate(500, c) - 3e-5) < 1e-15, 'stays at the floor past total');
  for (let t = 11; t <= 110; t++) assert.ok(learningRate(t, c) <= learningRate(t - 1, c), `monotone at ${t}`);
  assert.equal(learningRate(5, { base: 1, warmup: 0, total: 10 }), 1);
  assert.deepEqual(validateSchedule(c), []);
  assert.equal(validateSchedule({ base: -1, warmup: 1.5, total: 0, minRatio: 2 }).length, 4);
});

test('EMA: shadow = 0.001·param + 0.999·shadow; trainable only, puzzle_emb excluded; swap and copy', async () => {
  await tf.setBackend('cpu');
  const weights = new Map<string, tf.Variable>([
    ['w', tf.variable(tf.tensor1d([1, 2]), true, 'ema_w')],
    ['puzzle_emb.weights', tf.variable(tf.tensor1d([3]), true, 'ema_pe')],
    ['H_init', tf.variable(tf.tensor1d([4]), false, 'ema_h')],
  ]);
  const ema = new Ema(weights);
  assert.deepEqual(ema.names, ['w']);
  const w = weights.get('w')!;
  let ref = [1, 2];
  for (let s = 0; s < 5; s++) {
    w.assign(tf.tensor1d([10 + s, -s]));
    ref = ref.map((r, i) => 0.999 * r + 0.001 * [10 + s, -s][i]);
    ema.update();
  }
  const raw = [...w.dataSync()];
  ema.swapIn();
  assertClose(w.dataSync(), ref, 1e-6, 'swapped in');
  assert.throws(() => ema.update(), /swapped in/);
  const saved = ema.averaged();
  assert.equal(saved.get('w'), w);
  ema.swapOut();
  assert.deepEqual([...w.dataSync()], raw);
  assertClose(ema.averaged().get('w')!.dataSync(), ref, 1e-6, 'averaged');
  assert.equal(ema.averaged().get('H_init'), weights.get('H_init'));

  const target = new Map([['w', tf.variable(tf.zeros([2]), true, 'ema_target')]]);
  ema.copyTo(target);
  assertClose(target.get('w')!.dataSync(), ref, 1e-6, 'copyTo');

  const state = ema.getState();
  const ema2 = new Ema(weights);
  ema2.setState(state);
  assert.deepEqual([...ema2.averaged().get('w')!.dataSync()], [...ema.averaged().get('w')!.dataSync()]);
  assert.throws(() => ema2.setState({ arrays: {}, json: {} }), /ema\.w/);
  ema.dispose();
  ema2.dispose();
  tf.dispose([...weights.values(), ...target.values()]);
});

test('no tensor leaks: 200 steps of AdamATan2 + sign-SGD + EMA keep tf.memory().numTensors flat', async () => {
  await tf.setBackend('cpu');
  const weights = new Map<string, tf.Variable>([
    ['a', tf.variable(tf.randomNormal([4, 4]), true, 'leak_a')],
    ['b', tf.variable(tf.randomNormal([4]), true, 'leak_b')],
  ]);
  const pe = tf.variable(tf.zeros([1, 4]), true, 'leak_pe');
  const adam = new AdamATan2(weights, { weightDecay: 1 });
  const sgd = new SignSGD(new Map([['puzzle_emb.weights', pe]]), { weightDecay: 1 });
  const ema = new Ema(weights);
  const target = tf.randomNormal([4]);
  const oneStep = (): void => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(
      tf.add(tf.sum(tf.matMul(weights.get('a')!, tf.reshape(weights.get('b')!, [4, 1])), 1), tf.reshape(pe, [4])), target))) as tf.Scalar,
    [weights.get('a')!, weights.get('b')!, pe]);
    adam.step(new Map([['a', grads[weights.get('a')!.name]], ['b', grads[weights.get('b')!.name]]]), 1e-3);
    sgd.step(new Map([['puzzle_emb.weights', grads[pe.name]]]), 1e-3);
    ema.update();
    tf.dispose([value, ...Object.values(grads)]);
  };
  oneStep(); // creates optimizer state
  const before = tf.memory().numTensors;
  for (let i = 0; i < 200; i++) oneStep();
  assert.equal(tf.memory().numTensors, before);
  const st = adam.getState();
  adam.setState(st);
  ema.setState(ema.getState());
  assert.equal(tf.memory().numTensors, before);
  adam.dispose();
  ema.dispose();
  tf.dispose([...weights.values(), pe, target]);
});

test('AdamATan2 on wasm: the fused kernel gives the bits of the tfjs composition (weight decay, extreme values, many scales)', async () => {
  const { selectBackend } = await import('../../engine/backend');
  const { ADAM_ATAN2 } = await import('../../engine/kernels/wasm-ops');
  await selectBackend({ backend: 'wasm' });
  const rng = new Rng(41);
  const n = 4096;
  const start = randn(rng, n, 0.1);
  for (const wd of [0, 0.1]) {
    const runs = ['1', '0'].map((fused) => {
      process.env.HRM_LENS_FUSED_ADAM = fused;
      const p = tf.variable(tf.tensor1d(start), true, `fused_${wd}_${fused}`);
      const opt = new AdamATan2(new Map([['p', p]]), { weightDecay: wd });
      return { p, opt, kernels: new Set<string>() };
    });
    try {
      for (let step = 0; step < 8; step++) {
        // Gradients over 40 decades, both signs, exact zeros and the special values musl's atan2f treats apart.
        const g = Float32Array.from({ length: n }, (_, i) => {
          if (i < 16) return [0, -0, 1e-45, -1e-45, 1e-38, 1e30, -1e30, 3.4e38, 1, -1, 2 ** -12, 2 ** 26, 1e-20, 7, -7, 0][i];
          return rng.normal() * 10 ** (rng.float() * 40 - 25);
        });
        for (const [k, run] of runs.entries()) {
          process.env.HRM_LENS_FUSED_ADAM = k === 0 ? '1' : '0';
          const gt = tf.tensor1d(g);
          const prof = await tf.profile(() => { run.opt.step(new Map([['p', gt]]), 0.01 * (step + 1)); });
          prof.kernelNames.forEach((name) => run.kernels.add(name));
          gt.dispose();
        }
        const [a, b] = runs.map((r) => new Uint32Array(r.p.dataSync().slice().buffer));
        const bad = a.findIndex((x, i) => x !== b[i]);
        assert.equal(bad, -1, `wd ${wd}, step ${step + 1}: element ${bad} differs`);
      }
      assert.ok(runs[0].kernels.has(ADAM_ATAN2), 'the fused kernel ran');
      assert.ok(!runs[1].kernels.has(ADAM_ATAN2) && runs[1].kernels.has('Atan2'), 'the composition ran');
      const [sa, sb] = runs.map((r) => r.opt.getState().arrays);
      for (const key of Object.keys(sa)) assert.deepEqual(new Uint32Array(sa[key].data.slice().buffer), new Uint32Array(sb[key].data.slice().buffer), key);
    } finally {
      delete process.env.HRM_LENS_FUSED_ADAM;
      runs.forEach((r) => { r.opt.dispose(); r.p.dispose(); });
    }
  }
  await tf.setBackend('cpu');
});
