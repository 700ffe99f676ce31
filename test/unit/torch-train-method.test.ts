/**
 * The engine's `train` with `torch` (what "HRM: Train" sends for the PyTorch backend) and `torch.info`, through the
 * real handler registry and Dispatcher in-process: a tiny-4x4 run trained by PyTorch under torchrun streams the step
 * and checkpoint events of a TF.js training (backend 'torch'), answers with the held-out figures and leaves the
 * engine's run folder (run.json backend torch, metrics.jsonl); `train.stop` ends it after a checkpoint, answered as
 * cancelled; `torch.info` finds the interpreter with PyTorch, and reports why for one without it or a missing one; a
 * bad `torch` is InvalidParams.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrainEvent } from '../../engine/protocol';
import { engineUnderTest } from './helpers/engine-dispatch';
import { torchPython } from './helpers/torch-python';
import { metricsOf } from './helpers/train-cli';

const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-torch-train-method-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const HANG = 1_200_000;

const engine = engineUnderTest({ timeoutMs: HANG });
const { call, ok } = engine;

after(() => engine.dispatcher.cancelAll('tests done'));

test('train with torch: the TF.js training\'s step and checkpoint events, held-out figures and run folder, trained by PyTorch', { timeout: HANG }, async () => {
  const out = path.join(tmp, 'run');
  const c = call('train', { preset: 'tiny-4x4', steps: 3, batch: 8, seed: 4, out, backend: 'wasm', torch: { python: torchPython(), device: 'cpu', processes: 1 } });
  const r = await c.result();
  assert.equal(r.backend, 'torch');
  assert.equal(r.step, 3);
  assert.equal(r.cancelled, false);
  assert.ok(r.heldOut && r.heldOut.puzzles > 0, 'the engine evaluated the final checkpoint');
  assert.equal(r.checkpoint, path.join(out, 'step-000003.safetensors'));
  const events = c.events();
  const steps = events.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
  assert.deepEqual(steps.map((e) => e.step), [1, 2, 3]);
  for (const e of steps) {
    assert.equal(e.backend, 'torch');
    assert.equal(e.totalSteps, 3);
    assert.ok(Number.isFinite(e.loss) && e.loss > 0 && Number.isFinite(e.cellAccuracy) && e.stepsPerSecond > 0 && e.lr > 0, JSON.stringify(e));
    assert.equal(e.segmentExact.length, 4);
  }
  assert.deepEqual(events.filter((e) => e.kind === 'checkpoint').map((e) => e.step), [3]);
  const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { spec: { backend: { name: string; processes: number } } };
  assert.equal(run.spec.backend.name, 'torch');
  assert.equal(run.spec.backend.processes, 1);
  assert.deepEqual(metricsOf(out).map((m) => m.step), [1, 2, 3]);
});

test('train.stop ends a torch training after a checkpoint; the answer says cancelled', { timeout: HANG }, async () => {
  const out = path.join(tmp, 'stopped');
  const c = call('train', { preset: 'tiny-4x4', steps: 100_000, batch: 8, seed: 5, out, torch: { python: torchPython(), device: 'cpu' } });
  await c.until((es) => es.some((e) => e.kind === 'step'));
  const stop = await ok('train.stop', { out });
  assert.equal(stop.stopping, 1);
  const r = await c.result();
  assert.equal(r.cancelled, true);
  assert.ok(r.step >= 1 && r.step < 100_000);
  assert.equal(r.heldOut, null);
  assert.equal(r.checkpoint, path.join(out, `step-${String(r.step).padStart(6, '0')}.safetensors`));
});

test('torch.info: the interpreter with PyTorch, its version and CUDA devices; why not, for one without torch or a missing one', { timeout: HANG }, async () => {
  const python = torchPython();
  const found = await ok('torch.info', { python });
  assert.equal(found.available, true);
  if (found.available) {
    assert.equal(found.python, python);
    assert.match(found.torch, /^\d+\.\d+/);
    assert.equal(found.cuda, found.cudaDevices > 0);
  }
  // The same interpreter without its site-packages: Python runs, torch is not there.
  const bare = path.join(tmp, 'python-without-torch');
  writeFileSync(bare, `#!/bin/sh\nexec ${python} -S "$@"\n`);
  chmodSync(bare, 0o755);
  const without = await ok('torch.info', { python: bare });
  assert.equal(without.available, false);
  if (!without.available) {
    assert.equal(without.python, bare);
    assert.match(without.reason, /cannot import torch/);
  }
  const missing = await ok('torch.info', { python: path.join(tmp, 'no-such-python') });
  assert.equal(missing.available, false);
  if (!missing.available) assert.match(missing.reason, /was not found/);
});

test('a bad torch parameter of train, or python of torch.info, is InvalidParams', async () => {
  const bad = await call('train', { preset: 'tiny-4x4', out: path.join(tmp, 'x'), torch: { device: 'mps' } } as never, { timeoutMs: 60_000 }).reply;
  assert.ok('error' in bad && bad.error.code === 'InvalidParams' && /torch.device/.test(bad.error.message));
  const info = await call('torch.info', { python: '' }, { timeoutMs: 60_000 }).reply;
  assert.ok('error' in info && info.error.code === 'InvalidParams');
});
