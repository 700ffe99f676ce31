/**
 * `hrm-lens train --backend torch` fails clearly, before anything is written where it can: a process count that does
 * not divide the batch, an interpreter that is missing or cannot import torch; and when torchrun fails (a process of
 * the training raises), the error names torchrun's exit and the process's own message, and the run folder is left
 * unlocked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeSafetensors, readSafetensors, type SafeTensorInput } from '../../engine/interop/safetensors';
import { torchPython } from './helpers/torch-python';
import { hrmLens } from './helpers/train-cli';
import { withTempDir } from './helpers/temp-dir';

const HANG = 1_200_000;

test('--nproc-per-node that does not divide the batch is refused before the run folder is made', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-err-', async (tmp) => {
    const out = path.join(tmp, 'run');
    const r = await hrmLens(['train', '--backend', 'torch', '--python', torchPython(), '--preset', 'tiny-4x4', '--nproc-per-node', '3', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the batch \(64 slots\) must be a multiple of the number of processes \(3 = --nproc-per-node 3 × --nnodes 1\)/);
    assert.ok(!existsSync(out), 'no run folder');
    const nodes = await hrmLens(['train', '--backend', 'torch', '--python', torchPython(), '--nnodes', '2', '--out', out]);
    assert.equal(nodes.code, 1);
    assert.match(nodes.stderr, /--nnodes above 1 needs --rdzv-endpoint/);
  });
});

test('an interpreter that is missing or has no torch is named in the error', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-err-', async (tmp) => {
    const out = path.join(tmp, 'run');
    const missing = path.join(tmp, 'no-such-python');
    const r = await hrmLens(['train', '--backend', 'torch', '--python', missing, '--out', out]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`Python interpreter "${missing}" was not found`), r.stderr);
    // A `torch` that cannot be imported, first on the path.
    const fake = path.join(tmp, 'fake');
    mkdirSync(path.join(fake, 'torch'), { recursive: true });
    writeFileSync(path.join(fake, 'torch', '__init__.py'), 'raise ImportError("no torch in this interpreter")\n');
    const py = torchPython();
    const noTorch = await hrmLens(['train', '--backend', 'torch', '--python', py, '--out', out], { ...process.env, PYTHONPATH: fake });
    assert.equal(noTorch.code, 1);
    assert.ok(noTorch.stderr.includes(`Python interpreter "${py}"`) && noTorch.stderr.includes('cannot import torch: no torch in this interpreter'), noTorch.stderr);
    assert.ok(!existsSync(out), 'no run folder');
  });
});

test('torchrun failing: the error names its exit and the failing process\'s message; the run folder is unlocked', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-err-', async (tmp) => {
    const dir = path.join(tmp, 'run');
    const engine = await hrmLens(['train', '--preset', 'tiny-4x4', '--batch', '8', '--steps', '1', '--eval-puzzles', '2', '--backend', 'wasm', '--quiet', '--out', dir]);
    assert.equal(engine.code, 0, engine.stderr);
    // An optimizer file whose AdamATan2 moment for q_head.weight is cut short: only the trainer reads the moments.
    const optim = path.join(dir, 'step-000001.optim.safetensors');
    const st = await readSafetensors(optim);
    const tensors = new Map<string, SafeTensorInput>();
    for (const [name, t] of st.tensors) tensors.set(name, { shape: t.shape, data: t.data as Float32Array });
    tensors.set('adam/m.q_head.weight', { shape: [3], data: new Float32Array(3) });
    writeFileSync(optim, encodeSafetensors(tensors, st.metadata));
    const r = await hrmLens(['train', '--resume', dir, '--steps', '2', '--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /torchrun \(.* -m torch\.distributed\.run\) exited with code 1 before the training finished: process 0: /);
    assert.ok(r.stderr.includes(`${optim}: AdamATan2 state: "q_head.weight" must be float32 with 128 elements`), r.stderr);
    assert.ok(!existsSync(path.join(dir, '.lock')), 'the lock is released');
    assert.ok(!existsSync(path.join(dir, 'step-000002.safetensors')), 'no checkpoint written');
  });
});
