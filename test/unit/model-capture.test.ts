import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { type HrmConfig, makeConfig } from '../../engine/model/config';
import { createModel, disposeCarry, disposeSegmentOutput, initialCarry, runSegment } from '../../engine/model/hrm';
import { captureNames, expandNames, runWithCache } from '../../engine/model/capture';
import { haltDecisions } from '../../engine/model/halting';
import { Rng } from '../../engine/util/rng';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const TINY: Partial<HrmConfig> = { gridSize: 4, hidden: 16, heads: 2, expansion: 2, interMultiple: 8, H_cycles: 2, L_cycles: 3 };

function rows(batch: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: 16 }, () => 1 + rng.int(5)));
}

test('capture names: 1-based recursion indices, wildcards, RegExps, errors for unknown names', () => {
  const cfg = makeConfig(TINY);
  const all = captureNames(cfg, 2);
  assert.ok(all.includes('seg.1.h.1.l.1.zL') && all.includes('seg.2.h.2.l.3.zL') && all.includes('seg.2.h.2.zH'));
  assert.ok(!all.some((n) => /\.(h|l)\.0\./.test(n) || n.startsWith('seg.0.')));
  assert.ok(all.includes('seg.1.h.2.l.3.layers.0.attn') && all.includes('seg.1.h.1.layers.0.attn'));
  assert.deepEqual(expandNames(cfg, 3, ['seg.*.logits']), ['seg.1.logits', 'seg.2.logits', 'seg.3.logits']);
  assert.deepEqual(expandNames(cfg, 2, ['seg.*.h.*.zH']), ['seg.1.h.1.zH', 'seg.1.h.2.zH', 'seg.2.h.1.zH', 'seg.2.h.2.zH']);
  assert.equal(expandNames(cfg, 2, ['seg.2.h.*.l.*.zL']).length, 6);
  assert.deepEqual(expandNames(cfg, 2, ['seg.2.**.attn']).length, 8);
  assert.deepEqual(expandNames(cfg, 2, [/seg\.1\.(zH|q)/, 'seg.1.q']), ['seg.1.zH', 'seg.1.q']);
  assert.throws(() => expandNames(cfg, 2, ['seg.3.zH']), /no such capture name.*seg\.3\.zH/);
  assert.throws(() => expandNames(cfg, 2, ['seg.1.h.0.zH']), /1-based/);
  assert.throws(() => expandNames(cfg, 2, ['seg.*.nothing']), /seg\.\*\.nothing/);
});

test('runWithCache: exactly the requested names, right shapes, values consistent with runSegment', () => {
  const model = createModel(makeConfig(TINY), 1);
  const toks = rows(3, 1);
  const cache = runWithCache(model, toks, {
    segments: 2,
    names: ['seg.*.logits', 'seg.*.q', 'seg.2.h.*.zH', 'seg.1.h.1.l.2.zL', 'seg.2.zH', 'seg.1.zL', 'seg.*.halted', 'seg.1.h.2.l.1.layers.0.attn'],
  });
  assert.deepEqual([...cache.keys()], [
    'seg.1.h.1.l.2.zL', 'seg.1.h.2.l.1.layers.0.attn', 'seg.1.zL', 'seg.1.logits', 'seg.1.q', 'seg.1.halted',
    'seg.2.h.1.zH', 'seg.2.h.2.zH', 'seg.2.zH', 'seg.2.logits', 'seg.2.q', 'seg.2.halted',
  ]);
  const shape = (n: string) => cache.get(n)?.shape;
  assert.deepEqual(shape('seg.1.logits'), [3, 16, 6]);
  assert.deepEqual(shape('seg.1.q'), [3, 2]);
  assert.deepEqual(shape('seg.2.h.1.zH'), [3, 17, 16]);
  assert.deepEqual(shape('seg.1.h.1.l.2.zL'), [3, 17, 16]);
  assert.deepEqual(shape('seg.1.halted'), [3]);
  assert.deepEqual(shape('seg.1.h.2.l.1.layers.0.attn'), [3, 2, 17, 17]);
  for (const e of cache.values()) assert.equal(e.data.length, e.shape.reduce((a, b) => a * b, 1), e.name);
  // Attention rows sum to 1.
  const att = cache.get('seg.1.h.2.l.1.layers.0.attn')?.data as Float32Array;
  for (let r = 0; r < 3 * 2 * 17; r++) {
    const sum = att.subarray(r * 17, r * 17 + 17).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5);
  }
  // The last H-update of a segment is the segment's carry; logits match runSegment.
  assert.deepEqual(cache.get('seg.2.h.2.zH')?.data, cache.get('seg.2.zH')?.data);
  const tokens = tf.tensor2d(toks.flat(), [3, 16], 'int32');
  const c0 = initialCarry(model, 3);
  const o1 = runSegment(model, c0, tokens);
  const o2 = runSegment(model, o1.carry, tokens);
  assert.deepEqual(cache.get('seg.1.logits')?.data, o1.logits.dataSync());
  assert.deepEqual(cache.get('seg.2.logits')?.data, o2.logits.dataSync());
  assert.deepEqual(cache.get('seg.1.zL')?.data, o1.carry.zL.dataSync());
  const q2 = cache.get('seg.2.q')?.data as Float32Array;
  assert.deepEqual([q2[0], q2[1]], [o2.qHalt.dataSync()[0], o2.qContinue.dataSync()[0]]);
  // A tensor input is not disposed; bad rows are rejected.
  runWithCache(model, tokens, { segments: 1, names: ['seg.1.q'] });
  assert.ok(!tokens.isDisposed);
  assert.throws(() => runWithCache(model, [[1, 2, 3]], { segments: 1, names: ['seg.1.q'] }), /row 0 has 3 tokens/);
  assert.throws(() => runWithCache(model, [Array(16).fill(9)], { segments: 1, names: ['seg.1.q'] }), /outside 0\.\.5/);
  disposeCarry(c0);
  for (const o of [o1, o2]) disposeSegmentOutput(o);
  tokens.dispose();
  model.dispose();
});

test('runWithCache: halting on freezes halted rows at their last outputs', () => {
  const model = createModel(makeConfig({ ...TINY, haltMaxSteps: 3 }), 2);
  // Make row-dependent Q: q_halt − q_continue = w · zH[:, 0] with a random w; bias 0.
  const rng = new Rng(5);
  model.weight('q_head.weight').assign(tf.tensor2d(Float32Array.from({ length: 32 }, () => rng.normal()), [16, 2]));
  model.weight('q_head.bias').assign(tf.zeros([2]));
  const toks = rows(6, 3);
  const names = ['seg.*.logits', 'seg.*.halted', 'seg.*.q', 'seg.*.h.1.l.1.zL'];
  const off = runWithCache(model, toks, { segments: 5, names });
  const on = runWithCache(model, toks, { segments: 5, halting: 'on', names });
  const B = 6;
  const haltedAt = new Array<number>(B).fill(0);
  for (let k = 1; k <= 5; k++) {
    const q = off.get(`seg.${k}.q`)?.data as Float32Array;
    const h = off.get(`seg.${k}.halted`)?.data as Float32Array;
    for (let b = 0; b < B; b++) {
      assert.equal(h[b], q[2 * b] > q[2 * b + 1] ? 1 : 0); // off: the Q rule at this segment alone
      if (!haltedAt[b] && (h[b] === 1 || k >= 3)) haltedAt[b] = k;
    }
  }
  assert.ok(haltedAt.some((k) => k < 3), 'test needs a row that halts early');
  for (let k = 1; k <= 5; k++) {
    const h = on.get(`seg.${k}.halted`)?.data as Float32Array;
    for (let b = 0; b < B; b++) {
      assert.equal(h[b], k >= haltedAt[b] ? 1 : 0, `seg ${k} row ${b}`);
      const src = Math.min(k, haltedAt[b]);
      for (const what of ['logits', 'q', 'h.1.l.1.zL']) {
        const a = on.get(`seg.${k}.${what}`) as { data: Float32Array; shape: number[] };
        const ref = off.get(`seg.${src}.${what}`) as { data: Float32Array };
        const row = a.data.length / B;
        assert.deepEqual(a.data.subarray(b * row, (b + 1) * row), ref.data.subarray(b * row, (b + 1) * row), `${what} seg ${k} row ${b}`);
      }
    }
  }
  model.dispose();
});

test('runWithCache: tf.memory().numTensors stays flat over 50 captures', () => {
  const model = createModel(makeConfig(TINY), 3);
  const toks = rows(2, 4);
  const start = tf.memory().numTensors;
  for (let i = 0; i < 50; i++) {
    runWithCache(model, toks, { segments: 2, halting: i % 2 ? 'on' : 'off', names: ['seg.*.h.*.zH', 'seg.*.logits', 'seg.2.**.attn'] });
    assert.equal(tf.memory().numTensors, start, `capture ${i + 1}`);
  }
  model.dispose();
});

test('halting rule: HRM q_halt > q_continue, TRM q_halt > 0, max steps, exploration', () => {
  const hrm = makeConfig({ haltMaxSteps: 4 });
  const trm = makeConfig({ haltMaxSteps: 4, variant: 'trm' });
  assert.deepEqual([...haltDecisions(hrm, [1, -1, -1], [0, 0, -2], [1, 1, 1])], [1, 0, 1]);
  assert.deepEqual([...haltDecisions(trm, [1, -1, -1], [0, 0, -2], [1, 1, 1])], [1, 0, 0]);
  assert.deepEqual([...haltDecisions(hrm, [-1, -1], [0, 0], [3, 4])], [0, 1]);
  assert.deepEqual([...haltDecisions(hrm, [1, 1], [0, 0], [2, 4], { useQ: false })], [0, 1]);
  const explore = makeConfig({ haltMaxSteps: 16, haltExplorationProb: 1 });
  // With probability 1 every slot draws a min halt step in [2, 16]: at step 1 nothing halts, at 16 everything does.
  assert.ok(haltDecisions(explore, new Array(50).fill(9), new Array(50).fill(0), new Array(50).fill(1), { exploration: new Rng(1) }).every((h) => h === 0));
  assert.ok(haltDecisions(explore, new Array(50).fill(-9), new Array(50).fill(0), new Array(50).fill(16), { exploration: new Rng(1) }).every((h) => h === 1));
});

test('runWithCache: attention probabilities are computed only for the layers asked for, and never change the outputs', async () => {
  const model = createModel(makeConfig(TINY), 2);
  const toks = rows(2, 3);
  const softmaxCalls = async (names: string[]) => {
    let calls = 0;
    let logits: Float32Array | undefined;
    const info = await tf.profile(() => {
      logits = runWithCache(model, toks, { segments: 2, names }).get('seg.2.logits')?.data as Float32Array;
    });
    for (const k of info.kernels) if (k.name === 'Softmax') calls++;
    return { calls, logits };
  };
  const none = await softmaxCalls(['seg.*.logits']);
  const one = await softmaxCalls(['seg.*.logits', 'seg.2.h.1.l.2.layers.0.attn']);
  const all = await softmaxCalls(['seg.*.logits', 'seg.*.**.attn']);
  const blocks = expandNames(makeConfig(TINY), 2, ['seg.*.**.attn']).length;
  // One softmax pass per block asked for, on top of whatever the attention itself runs (fused kernel or composition).
  assert.equal(one.calls - none.calls, 1);
  assert.equal(all.calls - none.calls, blocks);
  assert.deepEqual(one.logits, none.logits);
  assert.deepEqual(all.logits, none.logits);
  model.dispose();
});
