/** Checkpoints (save/load/list/prune, atomicity, optimizer-state resume), eval results, and metrics.jsonl. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { tf } from '../../engine/tf';
import {
  assignWeights, combineStates, latestCheckpoint, listCheckpoints, loadCheckpoint, pickState, readEvalResult, saveCheckpoint,
  toMemoryLayout, writeEvalResult, type JsonObject,
} from '../../engine/train/checkpoint';
import { AdamATan2 } from '../../engine/train/adam-atan2';
import { Ema } from '../../engine/train/ema';
import { encodeSafetensors, readSafetensors } from '../../engine/interop/safetensors';
import { MetricsLog, parseMetricsLog, readMetricsLog } from '../../engine/train/metrics-log';
import { DataError } from '../../engine/util/errors';
import { Rng } from '../../engine/util/rng';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'hrm-ckpt-'));
}

function variable(init: tf.Tensor, name: string, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

let uid = 0;
/** A tiny model-shaped weight map: one linear weight stored [in, out], a bias, a buffer. */
function makeWeights(seed: number): { weights: Map<string, tf.Variable>; transpose: Set<string> } {
  const rng = new Rng(seed);
  const r = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
  uid++;
  const weights = new Map<string, tf.Variable>([
    ['H_level.layers.0.self_attn.qkv_proj.weight', variable(tf.tensor(r(6), [2, 3]), `ck_qkv_${uid}`)],
    ['q_head.weight', variable(tf.tensor(r(8), [4, 2]), `ck_qw_${uid}`)],
    ['q_head.bias', variable(tf.tensor(r(2), [2]), `ck_qb_${uid}`)],
    ['H_init', variable(tf.tensor(r(4), [4]), `ck_hi_${uid}`, false)],
  ]);
  return { weights, transpose: new Set(['H_level.layers.0.self_attn.qkv_proj.weight', 'q_head.weight']) };
}

const CONFIG: JsonObject = { hidden_size: 4, H_layers: 1, vocab_size: 11 };

test('save → load round trip is bit-exact; linear weights are written [out, in]; metadata holds config and meta', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const { weights, transpose } = makeWeights(1);
  try {
    const meta = { run_id: 'r1', step: 500, seed: 0, backend: { name: 'cpu' }, time: '2024-01-01T00:00:00Z' };
    const saved = await saveCheckpoint(dir, 500, { weights, transposeNames: transpose, config: CONFIG, meta });
    assert.equal(path.basename(saved.file), 'step-000500.safetensors');
    assert.equal(saved.optimFile, undefined);

    const raw = await readSafetensors(saved.file);
    assert.equal(raw.metadata.format, 'hrm-lens');
    assert.deepEqual(JSON.parse(raw.metadata.config), CONFIG);
    const qkv = raw.tensors.get('H_level.layers.0.self_attn.qkv_proj.weight')!;
    assert.deepEqual(qkv.shape, [3, 2], 'PyTorch layout [out, in]');
    const mem = weights.get('H_level.layers.0.self_attn.qkv_proj.weight')!.arraySync() as number[][];
    for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) assert.equal(qkv.data[o * 2 + i], mem[i][o]);

    const loaded = await loadCheckpoint(saved.file);
    assert.equal(loaded.step, 500);
    assert.deepEqual(loaded.config, CONFIG);
    assert.deepEqual(loaded.meta, meta);
    assert.equal(loaded.optimizer, undefined);
    const back = toMemoryLayout(loaded.tensors, transpose);
    for (const [name, v] of weights) {
      assert.deepEqual(back.get(name)!.shape, v.shape, name);
      assert.deepEqual(back.get(name)!.data, v.dataSync(), `${name} bit-exact`);
    }

    // assignWeights into a fresh model reproduces the weights; a missing or mis-shaped weight is named.
    const other = makeWeights(2);
    assignWeights(other.weights, loaded, transpose);
    for (const [name, v] of weights) assert.deepEqual(other.weights.get(name)!.dataSync(), v.dataSync(), name);
    const wrong = new Map(other.weights);
    wrong.set('extra', variable(tf.zeros([1]), `ck_extra_${uid}`));
    assert.throws(() => assignWeights(wrong, loaded, transpose), (e: Error) => e instanceof DataError && /field "extra".*no such weight/.test(e.message));
    assert.throws(() => assignWeights(other.weights, loaded, new Set()), /qkv_proj.weight.*shape \[3, 2\]/);
    tf.dispose([...other.weights.values(), wrong.get('extra')!]);

    // The snapshot is taken before the first await: training may change the weights while the files are written.
    const bias = weights.get('q_head.bias')!;
    const biasAtSave = bias.dataSync().slice();
    const pending = saveCheckpoint(dir, 600, { weights, transposeNames: transpose, config: CONFIG, meta });
    tf.tidy(() => bias.assign(tf.tensor1d([123, 456])));
    await pending;
    assert.deepEqual((await loadCheckpoint(path.join(dir, 'step-000600.safetensors'))).tensors.get('q_head.bias')!.data, biasAtSave);
  } finally {
    tf.dispose([...weights.values()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('optimizer state round trip through files: restore + 3 steps equals 3 more steps, bit for bit', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const rng = new Rng(5);
  const gradSeq = Array.from({ length: 6 }, () => Float32Array.from({ length: 8 }, () => rng.normal()));
  const stepAll = (weights: Map<string, tf.Variable>, adam: AdamATan2, ema: Ema, g: Float32Array): void => {
    const grads = new Map<string, tf.Tensor>([['q_head.weight', tf.tensor(g, [4, 2])], ['q_head.bias', tf.tensor(g.subarray(0, 2), [2])]]);
    adam.step(grads, 0.01);
    ema.update();
    tf.dispose([...grads.values()]);
    void weights;
  };
  const a = makeWeights(3);
  const adamA = new AdamATan2(a.weights, { weightDecay: 1 });
  const emaA = new Ema(a.weights);
  const rngState = new Rng(99);
  try {
    for (const g of gradSeq.slice(0, 3)) stepAll(a.weights, adamA, emaA, g);
    rngState.float();
    await saveCheckpoint(dir, 3, {
      weights: a.weights, transposeNames: a.transpose, config: CONFIG, meta: { run_id: 'r' },
      optimizerState: combineStates({ adam: adamA.getState(), ema: emaA.getState() }, { step: 3, rng: rngState.getState(), slotSteps: [1, 2] }),
    });
    for (const g of gradSeq.slice(3)) stepAll(a.weights, adamA, emaA, g);
    const expectedNext = rngState.float();

    const loaded = await loadCheckpoint(path.join(dir, 'step-000003.safetensors'));
    assert.ok(loaded.optimizer);
    assert.equal(loaded.optimizer.json.step, 3);
    const b = makeWeights(4);
    assignWeights(b.weights, loaded, b.transpose);
    const adamB = new AdamATan2(b.weights, { weightDecay: 1 });
    adamB.setState(pickState(loaded.optimizer, 'adam')!);
    const emaB = new Ema(b.weights);
    emaB.setState(pickState(loaded.optimizer, 'ema')!);
    assert.equal(Rng.fromState(loaded.optimizer.json.rng as number[]).float(), expectedNext, 'RNG state resumes');
    for (const g of gradSeq.slice(3)) stepAll(b.weights, adamB, emaB, g);
    for (const [name, v] of a.weights) assert.deepEqual(b.weights.get(name)!.dataSync(), v.dataSync(), name);
    const avA = emaA.averaged();
    const avB = emaB.averaged();
    for (const name of emaA.names) assert.deepEqual(avB.get(name)!.dataSync(), avA.get(name)!.dataSync(), `ema ${name}`);
    adamB.dispose();
    emaB.dispose();
    tf.dispose([...b.weights.values()]);
  } finally {
    adamA.dispose();
    emaA.dispose();
    tf.dispose([...a.weights.values()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listing, pruning to the last N (never the one just written), eval.json beside each checkpoint', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const { weights, transpose } = makeWeights(6);
  const save = (step: number, keepLast?: number) => saveCheckpoint(dir, step, {
    weights, transposeNames: transpose, config: CONFIG, meta: { step }, keepLast,
    optimizerState: { arrays: { x: { shape: [1], data: Float32Array.from([step]) } }, json: { step } },
  });
  try {
    assert.deepEqual(await listCheckpoints(path.join(dir, 'nope')), []);
    assert.equal(await latestCheckpoint(dir), undefined);
    for (const step of [100, 200, 300]) {
      const s = await save(step);
      await writeEvalResult(s.file, { exact: step / 1000 });
    }
    assert.deepEqual(await readEvalResult(path.join(dir, 'step-000200.safetensors')), { exact: 0.2 });
    assert.equal(await readEvalResult(path.join(dir, 'step-000999.safetensors')), undefined);
    const s4 = await save(1_000_000, 2);
    assert.equal(path.basename(s4.file), 'step-1000000.safetensors');
    assert.deepEqual(s4.pruned.map((f) => path.basename(f)), ['step-000100.safetensors', 'step-000200.safetensors']);
    assert.deepEqual(readdirSync(dir).sort(), [
      'step-000300.eval.json', 'step-000300.optim.safetensors', 'step-000300.safetensors',
      'step-1000000.optim.safetensors', 'step-1000000.safetensors',
    ]);
    // A run restarted from an earlier step: the new, older-numbered checkpoint is kept even with keepLast 1.
    const s5 = await save(50, 1);
    assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [50, 1_000_000]);
    assert.equal(s5.pruned.length, 1);
    assert.equal((await latestCheckpoint(dir))!.step, 1_000_000);
    await assert.rejects(save(60, 0), /keepLast must be an integer >= 1/);
    // Optimizer file of the wrong step is refused.
    writeFileSync(path.join(dir, 'step-000050.optim.safetensors'), encodeSafetensors({}, { format: 'hrm-lens-optim', step: '7', state: '{}' }));
    await assert.rejects(loadCheckpoint(path.join(dir, 'step-000050.safetensors')), /optimizer state is for step 7, the weights beside it are for step 50/);
    writeFileSync(path.join(dir, 'step-000050.eval.json'), '{oops');
    await assert.rejects(readEvalResult(path.join(dir, 'step-000050.safetensors')), /step-000050\.eval\.json.*not valid JSON/);
  } finally {
    tf.dispose([...weights.values()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a killed writer never leaves a visible half-written checkpoint: temp files are ignored', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const { weights, transpose } = makeWeights(8);
  try {
    await saveCheckpoint(dir, 10, { weights, transposeNames: transpose, config: CONFIG, meta: {} });
    // What writeFileAtomic leaves behind when the process dies before the rename.
    writeFileSync(path.join(dir, `.step-000020.safetensors.${process.pid}.${Date.now()}.tmp`), 'garbage half write');
    writeFileSync(path.join(dir, `.step-000020.optim.safetensors.123.456.tmp`), new Uint8Array(3));
    writeFileSync(path.join(dir, 'step-000030.safetensors.tmp'), 'x');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    const list = await listCheckpoints(dir);
    assert.deepEqual(list.map((c) => path.basename(c.file)), ['step-000010.safetensors']);
    const loaded = await loadCheckpoint(list[0].file);
    assert.equal(loaded.step, 10);
    // A truncated checkpoint (written without this module) fails with an error naming the file.
    const bytes = readFileSync(list[0].file);
    const bad = path.join(dir, 'step-000040.safetensors');
    writeFileSync(bad, bytes.subarray(0, bytes.length - 5));
    await assert.rejects(loadCheckpoint(bad), (e: Error) => e instanceof DataError && e.message.startsWith(bad));
    // A plain safetensors file that is not ours is named as such.
    const foreign = path.join(dir, 'step-000050.safetensors');
    writeFileSync(foreign, encodeSafetensors({ w: { shape: [1], data: new Float32Array(1) } }));
    await assert.rejects(loadCheckpoint(foreign), /not an HRM Lens checkpoint/);
    const noConfig = path.join(dir, 'step-000060.safetensors');
    writeFileSync(noConfig, encodeSafetensors({}, { format: 'hrm-lens', step: '60', config: '{bad', meta: '{}' }));
    await assert.rejects(loadCheckpoint(noConfig), /field "config".*not valid JSON/);
    await assert.rejects(saveCheckpoint(dir, 70, { weights, transposeNames: new Set(['q_head.bias']), config: CONFIG, meta: {} }), /not rank 2/);
    await assert.rejects(saveCheckpoint(dir, 70, { weights, transposeNames: new Set(['nope']), config: CONFIG, meta: {} }), /"nope", which is not a weight/);
    assert.ok(!existsSync(path.join(dir, 'step-000070.safetensors')));
  } finally {
    tf.dispose([...weights.values()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metrics.jsonl: one line per record, NaN → null, torn tail tolerated and repaired, malformed lines reported', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  try {
    const log = await MetricsLog.open(file);
    for (let step = 1; step <= 4; step++) log.append({ step, lm_loss: 1 / step, grad: step === 2 ? Number.NaN : 0.5, lr: [step] });
    log.close();
    assert.throws(() => log.append({ step: 9 }), /closed/);
    let r = readMetricsLog(file);
    assert.deepEqual(r.records.map((x) => x.step), [1, 2, 3, 4]);
    assert.equal(r.records[1].grad, null);
    assert.deepEqual(r.problems, []);

    appendFileSync(file, '{"step": 5, "lm_lo'); // crash mid-line
    r = readMetricsLog(file);
    assert.equal(r.tornTail, true);
    assert.deepEqual(r.problems, []);
    assert.equal(r.records.length, 4);

    // Re-opening cuts the torn line; resumeFromStep drops steps after the checkpoint.
    const log2 = await MetricsLog.open(file, { resumeFromStep: 3 });
    log2.append({ step: 4, resumed: true });
    log2.close();
    r = readMetricsLog(file);
    assert.deepEqual(r.records.map((x) => [x.step, x.resumed ?? false]), [[1, false], [2, false], [3, false], [4, true]]);
    assert.equal(r.tornTail, false);

    const bad = parseMetricsLog('{"step":1}\nnot json\n[1]\n{"x":1}\n\n{"step":2}\n', 'run/metrics.jsonl');
    assert.deepEqual(bad.records.map((x) => x.step), [1, 2]);
    assert.deepEqual(bad.problems.map((p) => p.message.replace(/ \(.*\)$/, '')), [
      'run/metrics.jsonl:2: not valid JSON', 'run/metrics.jsonl:3: not a JSON object', 'run/metrics.jsonl:4: no numeric "step" field',
    ]);
    assert.deepEqual(readMetricsLog(path.join(dir, 'missing.jsonl')), { records: [], problems: [], tornTail: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
