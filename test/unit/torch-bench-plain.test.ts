/**
 * The plain-PyTorch side of `npm run bench -- torch-backend` (bench/reference/torch_backend_plain.py) runs on an
 * engine checkpoint: inference, the ensemble's passes and the training step each answer one JSON object with a rate
 * per run (no speed is asserted); bench/gpu-check.sh is valid bash, lists its modes, and its local mode runs end to
 * end on the CPU (--rehearse), writing both result files with every row it promises.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

test('bench/gpu-check.sh --rehearse: the GPU machine\'s local mode, run on the CPU, writes its JSON and table', { timeout: 600_000 }, () => {
  const out = mkdtempSync(path.join(tmpdir(), 'hrm-gpu-check-'));
  const tracked = path.join(root, 'bench', 'results', 'torch-backend.json');
  const before = statSync(tracked).mtimeMs;
  try {
    const r = spawnSync('bash', [path.join(root, 'bench', 'gpu-check.sh'), '--rehearse', out], {
      encoding: 'utf8', cwd: root, timeout: 580_000, env: { ...process.env, HRM_LENS_PYTHON: torchPython() },
    });
    assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    const json = JSON.parse(readFileSync(path.join(out, 'gpu-check-local.json'), 'utf8')) as {
      torch_backend: { device?: string; error?: string; results?: { row: string; backend: number; plain: number; ratio: number }[] };
      torch_cuda_reference: { error?: string; device?: string; infer?: { median: number }; capture27m?: { median: number } };
    };
    assert.equal(json.torch_backend.error, undefined, json.torch_backend.error);
    assert.equal(json.torch_backend.device, 'cpu');
    assert.deepEqual(json.torch_backend.results?.map((x) => x.row), ['capture-27m', 'ensemble-27m']);
    for (const x of json.torch_backend.results ?? []) assert.ok(x.backend > 0 && x.plain > 0 && x.ratio > 0, JSON.stringify(x));
    assert.equal(json.torch_cuda_reference.error, undefined, json.torch_cuda_reference.error);
    assert.ok((json.torch_cuda_reference.infer?.median ?? 0) > 0 && (json.torch_cuda_reference.capture27m?.median ?? 0) > 0);
    const table = readFileSync(path.join(out, 'gpu-check-local.md'), 'utf8');
    assert.match(table, /\| capture-27m \(puzzle-segments\/s\) \| [0-9.]+ \| [0-9.]+ \|/);
    assert.match(table, /\| ensemble-27m \(puzzle-segments\/s\) \|/);
    assert.match(table, /\| reference model on cpu: training steps\/s [0-9.]+, inference puzzle-segments\/s [0-9]+/);
    // The backend bench's own files go to DIR too; the repository's results stay as they are.
    assert.ok(existsSync(path.join(out, 'torch-backend.json')) && existsSync(path.join(out, 'torch-backend.md')));
    assert.equal(statSync(tracked).mtimeMs, before, 'bench/results/torch-backend.json was rewritten');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
