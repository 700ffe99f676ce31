/**
 * `--backend torch` on `hrm-lens probe`, `ensemble` and `landscape`: the forward passes run in the PyTorch worker,
 * the analyses are the same, so the reports equal the wasm backend's for the shipped 4×4 model (accuracies, passes,
 * heights, basins; flow arrows within 1e-3 grid units). A command that cannot run on the worker refuses
 * `--backend torch`, also when it comes from env HRM_LENS_BACKEND, naming the command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const MODEL = path.join(root, 'models', 'tiny-4x4.safetensors');
const PUZZLE = '.1.....3..32....';
const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1'];

interface ProbeJson { puzzles: number; checkpoints: { groups: { mask: string; finalAccuracy: number; everExact: number; corruptionEvents: number; exactBySegment: number[] }[] }[] }

test('probe --backend torch reports what the wasm backend reports', () => {
  const common = ['probe', '--checkpoint', MODEL, '--masks', 'cell,row,random:6', '--count', '8', '--seed', '5', '--batch', '7', '--json'];
  const wasm = JSON.parse(cli(...common, '--backend', 'wasm')) as ProbeJson;
  const torch = JSON.parse(cli(...common, ...torchArgs())) as ProbeJson;
  assert.equal(torch.puzzles, 24);
  const figures = (r: ProbeJson) => r.checkpoints[0].groups.map((g) => [g.mask, g.finalAccuracy, g.everExact, g.corruptionEvents, g.exactBySegment]);
  assert.deepEqual(figures(torch), figures(wasm));
});

interface EnsembleJson { puzzles: number; summary: Record<string, { oracle: number; labelFree: number }>; checkpointSolved: { oracle: number[] } }

test('ensemble --backend torch reports what the wasm backend reports', () => {
  const common = ['ensemble', '--checkpoints', MODEL, '--generate', '10', '--seed', '2', '--perturb', 'relabel', '--count', '3', '--max-rows', '8', '--json'];
  const wasm = JSON.parse(cli(...common, '--backend', 'wasm')) as EnsembleJson;
  const torch = JSON.parse(cli(...common, ...torchArgs())) as EnsembleJson;
  assert.equal(torch.puzzles, 10);
  assert.deepEqual(torch.summary, wasm.summary);
  assert.deepEqual(torch.checkpointSolved, wasm.checkpointSolved);
});

interface LandscapeJson {
  size: number; centreGrid: string; heights: number[]; flow: number[]; flowEnergy: number[];
  basins: { labels: number[]; attractors: { kind: string; grid: string; points: number }[]; moving: number };
}

test('landscape --backend torch (heights, flow, basins) matches the wasm backend', () => {
  const common = ['landscape', '--checkpoint', MODEL, '--puzzle', PUZZLE, '--size', '9', '--basins', '--max-segments', '6', '--batch', '20', '--json'];
  const wasm = JSON.parse(cli(...common, '--backend', 'wasm')) as LandscapeJson;
  const torch = JSON.parse(cli(...common, ...torchArgs())) as LandscapeJson;
  assert.equal(torch.size, 9);
  assert.equal(torch.centreGrid, wasm.centreGrid);
  assert.deepEqual(torch.heights, wasm.heights);
  assert.deepEqual(torch.flowEnergy, wasm.flowEnergy);
  assert.deepEqual(torch.basins, wasm.basins);
  const worst = torch.flow.reduce((m, x, i) => Math.max(m, Math.abs(x - wasm.flow[i])), 0);
  assert.ok(worst < 1e-3, `flow arrows differ by up to ${worst} grid units`);
});

test('a command that cannot run on the PyTorch worker refuses --backend torch, naming itself (also from env HRM_LENS_BACKEND)', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env });
  const flag = run(['eval', '--checkpoint', MODEL, '--backend', 'torch']);
  assert.equal(flag.status, 1, flag.stderr);
  assert.match(flag.stderr, /eval: --backend torch is not available for this command \(the PyTorch worker runs the forward passes of inspect, classify, probe, ensemble, landscape, kick and patch\)/);
  assert.doesNotMatch(flag.stderr, /HRM_LENS_BACKEND/);
  const fromEnv = run(['reproduce', '--baseline', MODEL, '--mixing', MODEL], { ...process.env, HRM_LENS_BACKEND: 'torch' });
  assert.equal(fromEnv.status, 1, fromEnv.stderr);
  assert.match(fromEnv.stderr, /reproduce: --backend torch is not available for this command .*\(torch came from env HRM_LENS_BACKEND\)/);
});
