/**
 * The easy-puzzle probe on a dataset's solved grids: the rows' answers, or the solver's solution of a row without
 * one; through `loadSolvedGrids`, the engine's `probe` request (real handlers, the shipped 4×4 model) and
 * `hrm-lens probe --data`. Files are generated here in a temp folder.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSolvedGrids } from '../../engine/cli/puzzle-source';
import { makeProbePuzzles, parseMask } from '../../engine/analysis/probe';
import { PuzzleGenerator } from '../../engine/sudoku/generator';
import { gridToString } from '../../engine/sudoku/geometry';
import { DataError } from '../../engine/util/errors';
import { engineUnderTest } from './helpers/engine-dispatch';
import { SHIPPED_CHECKPOINT } from './helpers/shipped-model';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-probe-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const gen = new PuzzleGenerator({ n: 4, seed: 21 });
const rows = Array.from({ length: 3 }, () => gen.next());
/** question,answer: rows 0 and 2 with their answer, row 1 without (the solver fills it). */
const csv = path.join(tmp, 'three.csv');
writeFileSync(csv, `question,answer\n${rows.map((r, i) => `${gridToString(r.puzzle)},${i === 1 ? '' : gridToString(r.solution)}`).join('\n')}\n`);
/** A row with two solutions and no answer: nothing to probe. */
const ambiguous = path.join(tmp, 'ambiguous.txt');
writeFileSync(ambiguous, `${gridToString(rows[0].puzzle)}\n${'.'.repeat(16)}\n`);

test('loadSolvedGrids: the answers of the rows, the solver\'s where a row has none; the first N; ambiguous rows refused', async () => {
  const grids = await loadSolvedGrids(csv, 4);
  assert.deepEqual(grids.map((g) => gridToString(g)), rows.map((r) => gridToString(r.solution)));
  assert.equal((await loadSolvedGrids(csv, 4, 2)).length, 2);
  const puzzles = makeProbePuzzles(grids, 4, [parseMask('row')], 0);
  assert.deepEqual(puzzles.map((p) => gridToString(p.solution)), rows.map((r) => gridToString(r.solution)));
  await assert.rejects(loadSolvedGrids(ambiguous, 4), (e: unknown) => e instanceof DataError && /ambiguous\.txt/.test(e.message) && /line 2/.test(e.message) && /more than one solution|several solutions/.test(e.message));
});

const { call, ok } = engineUnderTest();

test('engine probe request with data: the dataset\'s grids (3, not 100 generated); bad data params refused', { timeout: 300_000 }, async () => {
  const r = await ok('probe', { checkpoints: [SHIPPED_CHECKPOINT], data: csv, masks: ['cell', 'row'], segments: 2, seed: 1 });
  assert.deepEqual(r.rows.map((x) => [x.mask, x.puzzles]), [['cell', 3], ['row', 3], ['all', 6]]);
  assert.match(r.text, /probe: 6 puzzles \(cell, row\)/);
  const limited = await ok('probe', { checkpoints: [SHIPPED_CHECKPOINT], data: csv, count: 2, masks: ['cell'], segments: 1 });
  assert.equal(limited.rows[0].puzzles, 2);
  const bad = await call('probe', { checkpoints: [SHIPPED_CHECKPOINT], data: 7 as unknown as string }).reply;
  assert.ok('error' in bad && /data must be a dataset file/.test(bad.error.message));
  const refused = await call('probe', { checkpoints: [SHIPPED_CHECKPOINT], data: ambiguous, masks: ['cell'], segments: 1 }).reply;
  assert.ok('error' in refused && /ambiguous\.txt/.test(refused.error.message) && /more than one solution|several solutions/.test(refused.error.message), JSON.stringify(refused));
});

test('hrm-lens probe --data: the dataset\'s grids in the report', { timeout: 300_000 }, async () => {
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'probe', '--checkpoint', SHIPPED_CHECKPOINT, '--data', csv, '--masks', 'box', '--segments', '1', '--backend', 'wasm', '--json'],
      { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout) as { puzzles: number; masks: string[] };
  assert.equal(report.puzzles, 3);
  assert.deepEqual(report.masks, ['box']);
});
