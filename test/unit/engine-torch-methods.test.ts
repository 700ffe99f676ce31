/**
 * The engine's analysis methods with `torch` (what the extension sends when hrmLens.backend is torch), run through the
 * real handler registry and Dispatcher in-process: inspect (trace, then the strip), probe, ensemble and landscape
 * answer what the same requests answer on TF.js for the shipped 4×4 model; a bad `torch` parameter is InvalidParams
 * (the interventions' too); an interpreter that is not there is an error of every method that takes `torch`, naming it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TorchParams } from '../../engine/torch/torch-protocol';
import { engineUnderTest } from './helpers/engine-dispatch';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const MODEL = path.join(root, 'models', 'tiny-4x4.safetensors');
const PUZZLE = '..4.3.....1..2..';

const engine = engineUnderTest({ timeoutMs: 300_000 });
const { call, ok, logs } = engine;

const torch = (): TorchParams => ({ python: torchPython(), device: 'cpu' });

after(async () => {
  // The engine's workers end with their stdin (the process); here the test process ends them.
  engine.dispatcher.cancelAll('tests done');
  await (await import('../../engine/rpc/torch-engine')).disposeTorchWorkers();
});

test('inspect and inspect.strip with torch give the TF.js grids, class and strip; the worker is reported in the log', async () => {
  const tfjs = await ok('inspect', { checkpoint: MODEL, puzzle: PUZZLE });
  const trace = await ok('inspect', { checkpoint: MODEL, puzzle: PUZZLE, strip: false, torch: torch() });
  assert.equal(trace.stripPending, true);
  assert.deepEqual(trace.segments.map((s) => s.grid), tfjs.segments.map((s) => s.grid));
  assert.equal(trace.mode.mode, tfjs.mode.mode);
  const strip = await ok('inspect.strip', { checkpoint: MODEL, puzzle: PUZZLE, torch: torch() });
  assert.deepEqual(strip.perturbations, tfjs.perturbations);
  assert.deepEqual(strip.vote, tfjs.vote);
  const whole = await ok('inspect', { checkpoint: MODEL, puzzle: PUZZLE, torch: torch() });
  assert.deepEqual(whole.perturbations, tfjs.perturbations);
  assert.ok(logs.some((l) => /^PyTorch worker: torch \S+ on cpu \(fp32\), Python \S+ \(.+\), pid \d+$/.test(l)), logs.join('\n'));
});

test('probe, ensemble and landscape with torch answer what they answer on TF.js', async () => {
  const probe = { checkpoints: [MODEL], masks: ['cell', 'box'], count: 6, seed: 4 };
  const p1 = await ok('probe', probe);
  const p2 = await ok('probe', { ...probe, torch: torch() });
  assert.deepEqual(p2.rows, p1.rows);

  const ensemble = { sources: [MODEL], generate: 8, seed: 3, perturb: 'shifts' as const };
  const e1 = await ok('ensemble', ensemble);
  const e2 = await ok('ensemble', { ...ensemble, torch: torch() });
  assert.deepEqual(e2.summary, e1.summary);
  assert.deepEqual(e2.detail.passes, e1.detail.passes);

  const landscape = { checkpoint: MODEL, puzzle: PUZZLE, size: 7, basins: true };
  const l1 = await ok('landscape', landscape);
  const l2 = await ok('landscape', { ...landscape, torch: torch() });
  assert.deepEqual(Array.from(l2.heights), Array.from(l1.heights));
  assert.deepEqual(l2.basins && Array.from(l2.basins.labels), l1.basins && Array.from(l1.basins.labels));
  assert.deepEqual(l2.basins?.attractors, l1.basins?.attractors);
  const worst = Array.from(l2.flow).reduce((m, x, i) => Math.max(m, Math.abs(x - l1.flow[i])), 0);
  assert.ok(worst < 1e-3, `flow arrows differ by up to ${worst}`);
});

test('a bad torch parameter is InvalidParams; an interpreter that is not there is an error of every method, naming it', async () => {
  for (const [bad, why] of [
    [{ device: 'tpu' }, /torch\.device must be one of auto, cuda, mps, cpu/],
    [{ python: '' }, /torch\.python must be a non-empty path/],
    [{ pythonPath: '/usr/bin/python3' }, /torch has unknown fields: pythonPath/],
    ['python3', /torch must be an object/],
  ] as const) {
    for (const r of [
      await call('probe', { checkpoints: [MODEL], torch: bad as unknown as TorchParams }).reply,
      await call('intervene.kick', { checkpoint: MODEL, puzzle: PUZZLE, torch: bad as unknown as TorchParams }).reply,
      await call('intervene.patchData', { checkpoint: MODEL, source: { kind: 'relabel', perm: [2, 1, 3, 4] }, puzzles: { generate: 2 }, torch: bad as unknown as TorchParams }).reply,
    ]) {
      assert.ok('error' in r, `accepted ${JSON.stringify(bad)}`);
      assert.equal(r.error.code, 'InvalidParams');
      assert.match(r.error.message, why);
    }
  }
  // Every method runs on the worker the request names (none of them falls back to TF.js).
  const missing = { python: path.join(root, 'no-such-dir', 'python') };
  for (const r of [
    await call('inspect', { checkpoint: MODEL, puzzle: PUZZLE, torch: missing }).reply,
    await call('inspect.strip', { checkpoint: MODEL, puzzle: PUZZLE, torch: missing }).reply,
    await call('probe', { checkpoints: [MODEL], count: 2, torch: missing }).reply,
    await call('ensemble', { sources: [MODEL], generate: 2, torch: missing }).reply,
    await call('landscape', { checkpoint: MODEL, puzzle: PUZZLE, size: 3, torch: missing }).reply,
    await call('intervene.kick', { checkpoint: MODEL, puzzle: PUZZLE, directions: 2, pcs: 0, torch: missing }).reply,
    await call('intervene.kickData', { checkpoints: [MODEL], puzzles: { generate: 2 }, directions: 2, pcs: 0, torch: missing }).reply,
    await call('intervene.patch', { checkpoint: MODEL, puzzle: PUZZLE, source: { kind: 'relabel', perm: [2, 1, 3, 4] }, torch: missing }).reply,
    await call('intervene.patchData', { checkpoint: MODEL, source: { kind: 'relabel', perm: [2, 1, 3, 4] }, puzzles: { generate: 2 }, torch: missing }).reply,
  ]) {
    assert.ok('error' in r, 'ran without the named interpreter');
    assert.ok(r.error.message.includes(`Python interpreter "${missing.python}" was not found`), r.error.message);
  }
});
