/**
 * The plain-PyTorch side of `npm run bench -- torch-backend` (bench/reference/torch_backend_plain.py) runs on an
 * engine checkpoint: inference, the ensemble's passes and the training step each answer one JSON object with a rate
 * per run (no speed is asserted); bench/gpu-check.sh is valid bash and lists its modes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const PLAIN = path.join(root, 'bench', 'reference', 'torch_backend_plain.py');
const TINY = path.join(root, 'models', 'tiny-4x4.safetensors');

interface Rates { per_run: number[]; median: number; min: number; max: number }

function plain(args: string[]): Record<string, unknown> {
  const out = execFileSync(torchPython(), [PLAIN, ...args, '--threads', '1', '--runs', '1', '--warmup', '0'], {
    encoding: 'utf8', timeout: 600_000, env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}

const positive = (r: Rates): boolean => r.per_run.length === 1 && r.per_run.every((x) => Number.isFinite(x) && x > 0) && r.min <= r.median && r.median <= r.max;

test('plain PyTorch infers, runs an ensemble and trains on an engine checkpoint, one rate per run', { timeout: 900_000 }, () => {
  const infer = plain(['infer', '--weights', TINY, '--batch', '4', '--segments', '2', '--latents']);
  assert.equal(infer.device, 'cpu');
  assert.ok(positive(infer.puzzle_segments_per_s as Rates), JSON.stringify(infer));
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-bench-plain-'));
  try {
    const copy = path.join(tmp, 'copy.safetensors');
    copyFileSync(TINY, copy);
    const ens = plain(['ensemble', '--weights', `${TINY},${copy}`, '--puzzles', '5', '--relabelings', '3', '--segments', '2', '--rows', '6']);
    assert.equal(ens.checkpoints, 2);
    assert.equal(ens.rows, 6);
    assert.ok(positive(ens.puzzle_segments_per_s as Rates), JSON.stringify(ens));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const train = plain(['train', '--weights', TINY, '--batch', '8', '--steps', '2', '--loss', 'softmax']);
  assert.equal(train.continue_forward, true);
  assert.ok(positive(train.steps_per_s as Rates), JSON.stringify(train));
});

test('bench/gpu-check.sh is valid bash; an unknown mode prints the usage with the local mode first', () => {
  const script = path.join(root, 'bench', 'gpu-check.sh');
  assert.equal(spawnSync('bash', ['-n', script]).status, 0);
  const usage = spawnSync('bash', [script, '--help'], { encoding: 'utf8', cwd: root });
  assert.equal(usage.status, 2);
  assert.match(usage.stdout, /bash bench\/gpu-check\.sh \[--runs 3\]/);
  assert.match(usage.stdout, /bench\/torch-backend\.ts --device cuda/);
});
