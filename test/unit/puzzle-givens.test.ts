/**
 * A typed puzzle whose givens clash is refused before it runs, naming the cells: the clash finder, the engine's
 * `inspect` / `inspect.strip` / `landscape` requests (real handlers and Dispatcher, the shipped 4×4 checkpoint),
 * inspectPuzzle itself with the shipped model, and `hrm-lens inspect --puzzle` (spawned from the sources).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { geometry } from '../../engine/sudoku/geometry';
import { describeClash, findGivensClash, parsePuzzle, puzzleProblem } from '../../engine/sudoku/givens';
import { inspectPuzzle } from '../../engine/analysis/inspect';
import { engineUnderTest } from './helpers/engine-dispatch';
import { SHIPPED_CHECKPOINT, useShippedModel } from './helpers/shipped-model';

const root = path.resolve(__dirname, '..', '..');
const CLASH_4 = '1234123412341234';
const CLASH_4_TEXT = 'givens clash: r1c1 = 1 and r2c1 = 1 (column 1, box 1); 23 more clashing pairs';
const model = useShippedModel();

test('clash finder: names the first pair, the units they share and how many more pairs clash', () => {
  const g9 = parsePuzzle(`1...1${'.'.repeat(76)}`);
  assert.deepEqual(g9, { error: 'givens clash: r1c1 = 1 and r1c5 = 1 (row 1)' });
  assert.equal(puzzleProblem(CLASH_4), CLASH_4_TEXT);
  assert.equal(puzzleProblem(`${'.'.repeat(9)}5${'.'.repeat(10)}5${'.'.repeat(60)}`), 'givens clash: r2c1 = 5 and r3c3 = 5 (box 1)');
  // 6×6 boxes are 2 rows × 3 columns: r1c1 and r2c3 share box 1.
  assert.equal(puzzleProblem(`6.....${'..6...'}${'.'.repeat(24)}`), 'givens clash: r1c1 = 6 and r2c3 = 6 (box 1)');
  const c = findGivensClash(Int8Array.from([2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), geometry(4));
  assert.deepEqual(c, { first: 0, second: 3, digit: 2, units: ['row 1'], pairs: 1 });
  assert.equal(describeClash(c, 4), 'givens clash: r1c1 = 2 and r1c4 = 2 (row 1)');
  // Fine puzzles pass (whitespace ignored); other problems keep their messages.
  assert.equal(puzzleProblem('.1.. ...3 ..32 ....'), '');
  assert.match(puzzleProblem('12345'), /expected 16, 36 or 81 characters, got 5/);
  assert.match(puzzleProblem('.1.....3..32...5'), /bad character "5" at position 16/);
  assert.equal(puzzleProblem('x'.repeat(10_000_000)).length < 100, true);
});

/** Requests through the real handler registry; `refusal` resolves with the error (or fails when one succeeds). */
const { refusal } = engineUnderTest({ timeoutMs: 60_000 });

test('engine requests: inspect, inspect.strip and landscape refuse clashing givens with InvalidParams', async () => {
  for (const [method, params] of [
    ['inspect', { checkpoint: SHIPPED_CHECKPOINT, puzzle: CLASH_4 }],
    ['inspect.strip', { checkpoint: SHIPPED_CHECKPOINT, puzzle: CLASH_4 }],
    ['landscape', { checkpoint: SHIPPED_CHECKPOINT, puzzle: CLASH_4, size: 3, segments: 1 }],
  ] as const) {
    const e = await refusal(method, params);
    assert.equal(e.code, 'InvalidParams', `${method}: ${e.message}`);
    assert.equal(e.message, `puzzle: ${CLASH_4_TEXT}`);
  }
});

test('inspectPuzzle with the shipped model refuses clashing givens and still inspects a fine puzzle', () => {
  assert.throws(() => inspectPuzzle(model(), SHIPPED_CHECKPOINT, '1..1............', 1, { strip: false }),
    /^Error: puzzle: givens clash: r1c1 = 1 and r1c4 = 1 \(row 1\)$/);
  const ok = inspectPuzzle(model(), SHIPPED_CHECKPOINT, '.1.....3..32....', 1, { strip: false });
  assert.equal(ok.puzzle, '.1.....3..32....');
});

test('hrm-lens inspect --puzzle with clashing givens exits 1 naming the cells', async () => {
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'inspect', '--checkpoint', SHIPPED_CHECKPOINT, '--puzzle', CLASH_4, '--backend', 'cpu'],
      { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr.trim(), `hrm-lens: --puzzle: ${CLASH_4_TEXT}`);
  assert.equal(r.stdout, '');
});
