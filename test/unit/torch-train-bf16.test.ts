/**
 * `hrm-lens train --backend torch --dtype bf16`: mixed precision. The run's weights, optimizer state and checkpoints
 * stay float32 and the engine evaluates its final checkpoint; its first-step loss is close to the fp32 run's of the
 * same seed but not equal (the forward and backward ran in bfloat16), its updates point the fp32 run's way (gradients
 * reach every weight); run.json and the checkpoints record the dtype, and a resume keeps it. `--dtype` without
 * `--backend torch` is refused.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findTorchPythonSync } from '../../engine/torch/python-discovery';
import type { SafeTensor } from '../../engine/interop/safetensors';
import { hrmLens, metricsOf, tensorsOf } from './helpers/train-cli';
import { withTempDir } from './helpers/temp-dir';

const HANG = 600_000;

/** The interpreter with PyTorch (the product's choice, checked to import torch), or why the torch test is skipped. */
function torchOrReason(): { python: string } | { reason: string } {
  let python: string;
  try {
    python = findTorchPythonSync();
  } catch (e) {
    return { reason: `no Python with PyTorch (set HRM_LENS_PYTHON to one): ${(e as Error).message}` };
  }
  const r = spawnSync(python, ['-c', 'import torch, torch.distributed, numpy'], { encoding: 'utf8', timeout: 180_000 });
  return r.status === 0 ? { python } : { reason: `Python "${python}" cannot import torch and numpy (set HRM_LENS_PYTHON to one that can)` };
}
const found = torchOrReason();

interface Backend { name: string; dtype?: string; detail?: string }

function runBackend(dir: string): Backend {
  return (JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { spec: { backend: Backend } }).spec.backend;
}

async function checkpointBackend(file: string): Promise<Backend> {
  return (JSON.parse((await tensorsOf(file)).metadata.meta) as { backend: Backend }).backend;
}

/** w(step b) − w(step a) of every tensor of a run's two checkpoints. */
async function updates(dir: string, a: number, b: number): Promise<Map<string, Float64Array>> {
  const file = (s: number): string => path.join(dir, `step-${String(s).padStart(6, '0')}.safetensors`);
  const [ta, tb] = [(await tensorsOf(file(a))).tensors, (await tensorsOf(file(b))).tensors];
  const out = new Map<string, Float64Array>();
  for (const [name, t] of ta) {
    const u = tb.get(name) as SafeTensor;
    out.set(name, Float64Array.from(u.data as Float32Array, (v, i) => v - Number(t.data[i])));
  }
  return out;
}

test('--dtype bf16: float32 checkpoints the engine evaluates, a first-step loss within 2 % of fp32\'s but not equal, '
  + 'updates along fp32\'s, the dtype recorded and kept on resume', { timeout: HANG, skip: 'reason' in found ? found.reason : false }, async () => {
  const python = (found as { python: string }).python;
  await withTempDir('hrm-torch-bf16-', async (tmp) => {
    const common = ['train', '--preset', 'tiny-4x4', '--batch', '8', '--steps', '2', '--checkpoint-every', '1', '--eval-puzzles', '4', '--seed', '5',
      '--no-tensorboard', '--backend', 'torch', '--python', python, '--device', 'cpu', '--threads', '1', '--quiet'];
    const fp32Dir = path.join(tmp, 'fp32');
    const bf16Dir = path.join(tmp, 'bf16');
    const fp32 = await hrmLens([...common, '--out', fp32Dir]);
    assert.equal(fp32.code, 0, fp32.stderr);
    const bf16 = await hrmLens([...common, '--dtype', 'bf16', '--out', bf16Dir]);
    assert.equal(bf16.code, 0, bf16.stderr);

    // The engine evaluated the final checkpoint (the closing line and eval.json).
    const final = path.join(bf16Dir, 'step-000002.safetensors');
    const closing = JSON.parse(bf16.stdout.trim().split('\n').pop() as string) as { checkpoint: string; heldOut: { puzzles: number; cell: number } };
    assert.equal(closing.checkpoint, final);
    assert.equal(closing.heldOut.puzzles, 4);
    assert.ok(Number.isFinite(closing.heldOut.cell), 'the held-out cell accuracy is a number');
    assert.ok(existsSync(path.join(bf16Dir, 'step-000002.eval.json')), 'the evaluation is stored beside the checkpoint');

    // Weights and optimizer state are float32.
    for (const file of [final, path.join(bf16Dir, 'step-000002.optim.safetensors')]) {
      const { tensors } = await tensorsOf(file);
      const floats = [...tensors].filter(([, t]) => t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16');
      assert.ok(floats.length > 0, `${file} holds float tensors`);
      for (const [name, t] of floats) assert.equal(t.dtype, 'F32', `${path.basename(file)}: ${name} is float32`);
    }

    // The first step's loss: bfloat16 changed it, a little.
    const [a] = metricsOf(fp32Dir);
    const [b] = metricsOf(bf16Dir);
    assert.ok(Number.isFinite(b.loss) && Number.isFinite(b.lmLoss), `finite bf16 loss ${b.loss}`);
    assert.notEqual(b.loss, a.loss, 'bf16 computed the step differently from fp32');
    assert.ok(Math.abs(b.loss - a.loss) <= 0.02 * Math.abs(a.loss), `bf16 loss ${b.loss} within 2 % of fp32 loss ${a.loss}`);

    // Step 2's update of every weight matrix: as large as fp32's and in its direction.
    const [ua, ub] = [await updates(fp32Dir, 1, 2), await updates(bf16Dir, 1, 2)];
    let matrices = 0;
    for (const [name, u] of ua) {
      const v = ub.get(name) as Float64Array;
      let uu = 0;
      let vv = 0;
      let uv = 0;
      for (let i = 0; i < u.length; i++) { uu += u[i] * u[i]; vv += v[i] * v[i]; uv += u[i] * v[i]; }
      if (uu === 0) continue;
      if (name.endsWith('.weight')) matrices++;
      assert.ok(vv > 0.8 * uu && vv < 1.25 * uu, `${name}: bf16 update norm ${Math.sqrt(vv)} vs fp32 ${Math.sqrt(uu)}`);
      assert.ok(uv / Math.sqrt(uu * vv) > 0.95, `${name}: bf16 update along fp32's (cosine ${uv / Math.sqrt(uu * vv)})`);
    }
    assert.ok(matrices >= 8, `${matrices} weight matrices were updated`);

    // The dtype in run.json (the Runs tree's tooltip) and the checkpoints; fp32 says so too.
    const rb = runBackend(bf16Dir);
    assert.equal(rb.dtype, 'bf16');
    assert.match(String(rb.detail), /bf16 mixed precision/);
    assert.equal((await checkpointBackend(final)).dtype, 'bf16');
    const ra = runBackend(fp32Dir);
    assert.equal(ra.dtype, 'fp32');
    assert.doesNotMatch(String(ra.detail), /bf16/);

    // A resume without --dtype keeps the run's.
    const resumed = await hrmLens(['train', '--resume', bf16Dir, '--steps', '3', '--backend', 'torch', '--python', python, '--device', 'cpu', '--threads', '1',
      '--quiet', '--no-tensorboard']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const step3 = await checkpointBackend(path.join(bf16Dir, 'step-000003.safetensors'));
    assert.equal(step3.dtype, 'bf16');
    assert.match(String(step3.detail), /bf16 mixed precision/);
    assert.ok(Number.isFinite(metricsOf(bf16Dir)[2].loss), 'the resumed step has a finite loss');
  });
});

test('--dtype without --backend torch is refused before a run folder is made', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-bf16-', async (tmp) => {
    const out = path.join(tmp, 'run');
    const r = await hrmLens(['train', '--preset', 'tiny-4x4', '--steps', '1', '--backend', 'wasm', '--dtype', 'bf16', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--dtype goes with --backend torch/);
    assert.ok(!existsSync(out), 'no run folder');
  });
});
