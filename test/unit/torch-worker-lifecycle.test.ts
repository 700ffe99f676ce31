/**
 * The PyTorch worker's life: a missing interpreter and a Python without torch are TorchUnavailableErrors naming the
 * interpreter; a worker killed in the middle of a run is reported (TorchWorkerError with the signal) and the next
 * call starts a new one, into which the model is loaded again; a failed request leaves the worker running; dispose
 * stops it and refuses later requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TorchModel } from '../../engine/torch/torch-model';
import { TorchUnavailableError, TorchWorker, TorchWorkerError } from '../../engine/torch/worker-client';
import { torchPython } from './helpers/torch-python';

const TINY = path.resolve(__dirname, '..', '..', 'models', 'tiny-4x4.safetensors');
const ROWS = [Array.from({ length: 16 }, () => 1)];

test('a missing interpreter is a TorchUnavailableError naming it', async () => {
  const missing = path.join(tmpdir(), 'no-such-dir', 'python-that-is-not-there');
  const w = new TorchWorker({ python: missing });
  await assert.rejects(w.start(), (e: Error) => e instanceof TorchUnavailableError && e.message.includes(missing) && /not found/.test(e.message));
  await w.dispose();
});

test('a Python without torch is a TorchUnavailableError naming the interpreter and saying torch is missing', async () => {
  // A planted "torch" package that fails to import stands for a Python without PyTorch.
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-notorch-'));
  mkdirSync(path.join(dir, 'torch'));
  writeFileSync(path.join(dir, 'torch', '__init__.py'), 'raise ImportError("No module named \'torch\'")\n');
  const python = torchPython();
  const w = new TorchWorker({ python, env: { PYTHONPATH: dir } });
  await assert.rejects(w.start(), (e: Error) => e instanceof TorchUnavailableError && e.message.includes(`"${python}"`) && /cannot import torch/.test(e.message));
  await w.dispose();
});

test('a killed worker is reported, the next call restarts it and loads the model again', async () => {
  const w = new TorchWorker({ python: torchPython(), device: 'cpu', threads: 1 });
  try {
    const model = await TorchModel.fromCheckpoint(TINY, w);
    let first: Float32Array | undefined;
    await model.run(ROWS, { segments: 2 }, (s) => { if (s.k === 1) first = s.logits; });
    const gen = w.generation;
    const pid = w.pid;
    assert.ok(pid !== undefined);
    // Kill it while it streams a long run: the pending run is rejected with the signal.
    const long = model.run(ROWS, { segments: 4000 }, (s) => { if (s.k === 2) process.kill(pid, 'SIGKILL'); });
    await assert.rejects(long, (e: Error) => e instanceof TorchWorkerError && /killed by SIGKILL/.test(e.message) && /"run"/.test(e.message));
    assert.match(w.lastExit ?? '', /killed by SIGKILL/);
    assert.equal(w.pid, undefined);
    let again: Float32Array | undefined;
    await model.run(ROWS, { segments: 2 }, (s) => { if (s.k === 1) again = s.logits; });
    assert.equal(w.generation, gen + 1);
    assert.notEqual(w.pid, pid);
    assert.deepEqual(again, first);
  } finally {
    await w.dispose();
  }
});

test('a failed request is reported and the worker goes on; dispose stops it', async () => {
  const w = new TorchWorker({ python: torchPython(), device: 'cpu', threads: 1 });
  await assert.rejects(w.request('run', { segments: 1 }), (e: Error) => e instanceof TorchWorkerError && /no model loaded/.test(e.message));
  await assert.rejects(w.request('nonsense'), /unknown op/);
  const model = await TorchModel.fromCheckpoint(TINY, w);
  await assert.rejects(model.run(ROWS, { segments: 0 }, () => undefined), /segments must be an integer/);
  let got = 0;
  await model.run(ROWS, { segments: 3 }, () => { got++; });
  assert.equal(got, 3);
  const pid = w.pid;
  await w.dispose();
  assert.equal(w.pid, undefined);
  assert.throws(() => process.kill(pid as number, 0), /ESRCH/);
  await assert.rejects(w.start(), /disposed/);
});
