/**
 * The model shipped in models/ works on a fresh clone with no training: the CLI inspects a 4×4 puzzle with it, and
 * its stored evaluation says what it was trained to (the README quotes it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const checkpoint = path.join(root, 'models', 'tiny-4x4.safetensors');

test('hrm-lens inspect works with the shipped default model', { timeout: 120_000 }, () => {
  const puzzle = '.1.....3..32....';
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), 'inspect', '--checkpoint', checkpoint, '--puzzle', puzzle, '--json', '--backend', 'wasm'],
    { cwd: root, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const summary = JSON.parse(res.stdout) as { puzzle: string; solution: string; segments: { grid: string; exact: boolean; wrong: number }[]; mode: { mode: string } };
  assert.equal(summary.puzzle, puzzle);
  assert.equal(summary.solution, '3124421314322341');
  assert.equal(summary.segments.length, 4);
  for (const s of summary.segments) assert.match(s.grid, /^[1-4.]{16}$/);
  assert.ok(['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'].includes(summary.mode.mode));
});

test('the shipped default model reached its stated held-out accuracy', () => {
  const evalJson = JSON.parse(readFileSync(path.join(root, 'models', 'tiny-4x4.eval.json'), 'utf8')) as { exact: number; puzzles: number; segments: number };
  assert.equal(evalJson.puzzles, 500);
  assert.ok(evalJson.exact >= 0.6, `held-out exact accuracy ${evalJson.exact}`);
});
