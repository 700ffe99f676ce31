/**
 * `--backend torch` on the CLI: classify and inspect run their forward passes in the PyTorch worker and report what
 * the wasm backend reports for the shipped 4×4 model (the same classes per puzzle, the same decoded grid per segment and
 * perturbation strip);
 * a missing interpreter is a clear error naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const MODEL = path.join(root, 'models', 'tiny-4x4.safetensors');
const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1'];

interface ClassifyJson { puzzles: number; counts: Record<string, number>; entries: { id: string; mode: string; firstExact: number | null }[]; exactBySegment: number[] }

test('classify --backend torch gives the classes the wasm backend gives', () => {
  const common = ['classify', '--checkpoint', MODEL, '--generate', '24', '--seed', '3', '--batch', '10', '--json'];
  const wasm = JSON.parse(cli(...common, '--backend', 'wasm')) as ClassifyJson;
  const torch = JSON.parse(cli(...common, ...torchArgs())) as ClassifyJson;
  assert.equal(torch.puzzles, 24);
  assert.deepEqual(torch.counts, wasm.counts);
  assert.deepEqual(torch.entries.map((e) => [e.id, e.mode, e.firstExact]), wasm.entries.map((e) => [e.id, e.mode, e.firstExact]));
  assert.deepEqual(torch.exactBySegment, wasm.exactBySegment);
});

interface InspectJson { segments: { grid: string }[]; mode: { mode: string }; perturbations: { name: string; answer: string }[]; vote: { answer: string | null }; stripPending?: boolean }

test('inspect --backend torch gives the wasm backend\'s grids, class and perturbation strip', () => {
  const common = ['inspect', '--checkpoint', MODEL, '--puzzle', '1..4..1..3..2..3', '--json'];
  const wasm = JSON.parse(cli(...common, '--backend', 'wasm')) as InspectJson;
  const torch = JSON.parse(cli(...common, ...torchArgs())) as InspectJson;
  assert.deepEqual(torch.segments.map((s) => s.grid), wasm.segments.map((s) => s.grid));
  assert.equal(torch.mode.mode, wasm.mode.mode);
  assert.equal(torch.stripPending, undefined);
  assert.equal(torch.perturbations.length, 4);
  assert.deepEqual(torch.perturbations, wasm.perturbations);
  assert.deepEqual(torch.vote, wasm.vote);
});

test('--backend torch with a missing interpreter fails naming it', () => {
  const missing = path.join(root, 'no-such-python');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'inspect', '--checkpoint', MODEL, '--puzzle', '1..4..1..3..2..3',
    '--backend', 'torch', '--python', missing], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`Python interpreter "${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" was not found`));
});
