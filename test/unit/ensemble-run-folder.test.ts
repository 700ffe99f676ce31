/**
 * The ensemble report over a run folder: without `last`, its last 10 checkpoints by step (the paper's bootstrap), in
 * the engine's `ensemble` request (real handlers, shipped 4×4 weights under 12 step names) and in `hrm-lens ensemble`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { engineUnderTest } from './helpers/engine-dispatch';
import { SHIPPED_CHECKPOINT } from './helpers/shipped-model';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-ensemble-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A run folder holding the shipped weights as step-000001 … step-000012. */
const run = path.join(tmp, 'run');
mkdirSync(run);
for (let s = 1; s <= 12; s++) copyFileSync(SHIPPED_CHECKPOINT, path.join(run, `step-${String(s).padStart(6, '0')}.safetensors`));
const names = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `step-${String(from + i).padStart(6, '0')}`);

test('engine ensemble request: a run folder without `last` contributes its last 10 checkpoints', { timeout: 300_000 }, async () => {
  const r = await engineUnderTest().ok('ensemble', { sources: [run], generate: 2, segments: 1, seed: 3, perturb: 'shifts', count: 1 });
  assert.equal(r.checkpoints, 10);
  assert.deepEqual(r.detail.checkpointNames.map((n) => path.basename(n).replace(/\.safetensors$/, '')), names(3, 12));
});

test('hrm-lens ensemble --run DIR: the last 10 checkpoints by default, --last still chooses', { timeout: 300_000 }, async () => {
  const cli = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'ensemble', '--run', run, '--generate', '2', '--segments', '1', '--count', '1', '--backend', 'wasm', '--json', ...args],
      { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
  const byDefault = await cli();
  assert.equal(byDefault.code, 0, byDefault.stderr);
  const report = JSON.parse(byDefault.stdout) as { checkpoints: number; checkpointNames: string[] };
  assert.equal(report.checkpoints, 10);
  assert.deepEqual(report.checkpointNames.map((n) => path.basename(n).replace(/\.safetensors$/, '')), names(3, 12));
  const three = await cli('--last', '3');
  assert.equal(three.code, 0, three.stderr);
  assert.equal((JSON.parse(three.stdout) as { checkpoints: number }).checkpoints, 3);
});
