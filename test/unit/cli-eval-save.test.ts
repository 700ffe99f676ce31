/**
 * `hrm-lens eval --save`: the result is stored in the checkpoint's .eval.json under the data file's name when the flag
 * has no value, and under NAME with `--save NAME` (spawns the CLI from the sources on a copy of the shipped model).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { saveName } from '../../engine/cli/train-run';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-cli-eval-save-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

test('saveName: the flag alone means the data file name, a value is the name', () => {
  assert.equal(saveName(undefined), undefined);
  assert.equal(saveName(true), '');
  assert.equal(saveName('heldout'), 'heldout');
});

test('eval --save stores under the data file name, --save NAME under NAME', { timeout: 240_000 }, () => {
  const model = path.join(dir, 'model.safetensors');
  copyFileSync(path.join(root, 'models', 'tiny-4x4.safetensors'), model);
  const data = path.join(dir, 'puzzles-4x4.csv');
  cli('data', 'generate', '--size', '4', '--count', '6', '--seed', '5', '--out', data);
  cli('eval', '--checkpoint', model, '--data', data, '--segments', '2', '--save', '--backend', 'wasm');
  cli('eval', '--checkpoint', model, '--data', data, '--segments', '2', '--save', 'mine', '--backend', 'wasm');
  const stored = JSON.parse(readFileSync(path.join(dir, 'model.eval.json'), 'utf8')) as { sets: Record<string, { puzzles: number }> };
  assert.deepEqual(Object.keys(stored.sets).sort(), ['mine', 'puzzles-4x4.csv']);
  assert.equal(stored.sets['puzzles-4x4.csv'].puzzles, 6);
});
