/**
 * `hrm-lens train --backend torch` computes the engine's training step. From the same initial weights and batch (the
 * same seed: the engine's initial weights and draws), one step gives the engine's loss parts, weights, optimizer
 * moments and slots. Resumed from an engine run's checkpoint (small-6x6 with mixing and augmentation: stablemax,
 * RoPE, halt-only ACT), the torch trainer's next checkpoint is the engine's next checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';
import { hrmLens, maxAbs, maxAbsDiff, metricsOf, tensorsOf } from './helpers/train-cli';

const HANG = 1_800_000;
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1', '--quiet'];

/** Loss parts agree to 1e-5 relative (float32 sums in another order). */
function assertLossesMatch(dirA: string, dirB: string, step: number): void {
  const a = metricsOf(dirA).find((r) => r.step === step);
  const b = metricsOf(dirB).find((r) => r.step === step);
  assert.ok(a && b, `step ${step} logged by both`);
  for (const k of ['loss', 'lmLoss', 'qHaltLoss', 'qContinueLoss'] as const) {
    assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * Math.abs(b[k]) + 1e-7, `${k} at step ${step}: torch ${a[k]}, engine ${b[k]}`);
  }
  assert.equal(a.halted, b.halted, 'the same slots halted');
  assert.equal(a.batchCellAccuracy, b.batchCellAccuracy, 'the same cells right');
}

/** Weights within 1e-4; optimizer moments within 1e-4 of their scale; slots identical (carry within 1e-3). */
async function assertCheckpointsMatch(torchFile: string, engineFile: string): Promise<void> {
  const t = await tensorsOf(torchFile);
  const e = await tensorsOf(engineFile);
  assert.deepEqual([...t.tensors.keys()].sort(), [...e.tensors.keys()].sort(), 'the same weight names');
  for (const [name, w] of e.tensors) assert.ok(maxAbsDiff(t.tensors.get(name) as never, w) <= 1e-4, `weight ${name}: ${maxAbsDiff(t.tensors.get(name) as never, w)}`);
  assert.equal(JSON.parse(t.metadata.config).hidden, JSON.parse(e.metadata.config).hidden);
  const to = await tensorsOf(torchFile.replace(/\.safetensors$/, '.optim.safetensors'));
  const eo = await tensorsOf(engineFile.replace(/\.safetensors$/, '.optim.safetensors'));
  assert.deepEqual([...to.tensors.keys()].sort(), [...eo.tensors.keys()].sort(), 'the same optimizer arrays');
  for (const [name, a] of eo.tensors) {
    const b = to.tensors.get(name) as never;
    assert.equal(to.tensors.get(name)?.dtype, a.dtype, `${name} dtype`);
    if (/^slots\/(tokens|labels|steps|halted)$/.test(name)) assert.equal(maxAbsDiff(b, a), 0, `${name} identical`);
    else if (/^slots\/z[HL]$/.test(name)) assert.ok(maxAbsDiff(b, a) <= 1e-3, `${name}: ${maxAbsDiff(b, a)}`);
    else assert.ok(maxAbsDiff(b, a) <= 1e-4 * maxAbs(a) + 1e-9, `${name}: ${maxAbsDiff(b, a)} (scale ${maxAbs(a)})`);
  }
  const ts = JSON.parse(to.metadata.state) as { step: number; slots: { drawCounter: number }; adam: { steps: Record<string, number> } };
  const es = JSON.parse(eo.metadata.state) as typeof ts;
  assert.equal(ts.step, es.step);
  assert.equal(ts.slots.drawCounter, es.slots.drawCounter, 'the same draws taken');
  assert.deepEqual(ts.adam.steps, es.adam.steps);
}

test('one torch step from a new run gives the engine step\'s loss parts, weights, moments and slots', { timeout: HANG }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-torch-step-'));
  try {
    const common = ['train', '--preset', 'tiny-4x4', '--batch', '16', '--steps', '1', '--eval-puzzles', '4', '--seed', '7', '--no-tensorboard'];
    const engine = await hrmLens([...common, '--backend', 'wasm', '--quiet', '--out', path.join(tmp, 'engine')]);
    assert.equal(engine.code, 0, engine.stderr);
    const torch = await hrmLens([...common, ...torchArgs(), '--out', path.join(tmp, 'torch')]);
    assert.equal(torch.code, 0, torch.stderr);
    assertLossesMatch(path.join(tmp, 'torch'), path.join(tmp, 'engine'), 1);
    await assertCheckpointsMatch(path.join(tmp, 'torch', 'step-000001.safetensors'), path.join(tmp, 'engine', 'step-000001.safetensors'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the torch trainer resumes an engine run (small-6x6, mixing, augmentation): its next checkpoint is the engine\'s', { timeout: HANG }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-torch-resume-'));
  try {
    const engineDir = path.join(tmp, 'engine');
    const engine = await hrmLens(['train', '--preset', 'small-6x6', '--batch', '16', '--steps', '3', '--checkpoint-every', '1', '--mixing', '--augment',
      '--seed', '3', '--eval-puzzles', '4', '--backend', 'wasm', '--quiet', '--no-tensorboard', '--out', engineDir]);
    assert.equal(engine.code, 0, engine.stderr);
    // The torch run continues from the engine's step 2.
    const torchDir = path.join(tmp, 'torch');
    cpSync(engineDir, torchDir, { recursive: true });
    for (const f of ['step-000003.safetensors', 'step-000003.optim.safetensors', 'step-000003.eval.json']) rmSync(path.join(torchDir, f), { force: true });
    const torch = await hrmLens(['train', '--resume', torchDir, '--steps', '3', ...torchArgs(), '--no-tensorboard']);
    assert.equal(torch.code, 0, torch.stderr);
    assert.deepEqual(metricsOf(torchDir).map((r) => r.step), [1, 2, 3], 'the resumed log has every step once');
    assertLossesMatch(torchDir, engineDir, 3);
    await assertCheckpointsMatch(path.join(torchDir, 'step-000003.safetensors'), path.join(engineDir, 'step-000003.safetensors'));
    const meta = JSON.parse((await tensorsOf(path.join(torchDir, 'step-000003.safetensors'))).metadata.meta) as { backend: { name: string } };
    assert.equal(meta.backend.name, 'torch');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
