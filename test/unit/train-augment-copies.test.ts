/**
 * Fixed symmetry copies of a fixed training set, as the reference dataset builder writes them: each puzzle plus
 * `augmentCopies` transforms drawn from (seed, puzzle, copy), one member of the group per draw, each copy with its own
 * fixed hint twin under mixing. The paper's preset trains on 1,000 puzzles × 1,000 copies. `hrm-lens train
 * --augment-copies` records the setting in run.json.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TrainDataSource, type TrainDataSpec } from '../../engine/train/data-source';
import { getPreset, trainSettingsProblems } from '../../engine/train/presets';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { geometry, gridToString } from '../../engine/sudoku/geometry';
import { conflictEnergy } from '../../engine/sudoku/energy';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-aug-copies-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const POOL: TrainDataSpec = {
  kind: 'pool', size: 4, description: 'five puzzles', puzzles: generatePuzzles({ n: 4, seed: 5 }, 5).map((p) => ({ puzzle: p.puzzle, solution: p.solution })),
};

test('the paper\'s preset: 1,000 puzzles × 1,000 fixed symmetry copies', () => {
  const t = getPreset('hrm-sudoku-extreme').train;
  assert.equal(t.fixedSetSize, 1000);
  assert.equal(t.augmentCopies, 1000);
  assert.deepEqual(trainSettingsProblems({ ...t, augmentCopies: -1 }).map((p) => p.field), ['augmentCopies']);
});

test('every draw is a member of its puzzle\'s fixed group (copy 0 = the puzzle); the groups depend on the seed only', () => {
  const s = new TrainDataSource(POOL, { seed: 9, mixing: true, augment: false, augmentCopies: 3 });
  const groups = [0, 1, 2, 3, 4].map((i) => s.poolGroup(i));
  const geo = geometry(4);
  groups.forEach((g, i) => {
    assert.equal(g.length, 4);
    assert.equal(gridToString(g[0].puzzle), gridToString(POOL.kind === 'pool' ? POOL.puzzles[i].puzzle : []));
    for (const m of g) {
      assert.equal(conflictEnergy(m.solution, geo), 0);
      for (let c = 0; c < 16; c++) if (m.puzzle[c] !== 0) assert.equal(m.puzzle[c], m.solution[c]);
      assert.ok(m.twin);
      for (let c = 0; c < 16; c++) if (m.twin[c] !== 0) assert.equal(m.twin[c], m.solution[c]);
    }
    assert.ok(new Set(g.map((m) => gridToString(m.puzzle))).size > 1, `puzzle ${i}: its copies differ`);
  });
  const members = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((m) => { members.set(gridToString(m.puzzle), i); if (m.twin) members.set(gridToString(m.twin), i); }));
  const seen = new Set<string>();
  for (let k = 0; k < 500; k++) {
    const ex = s.draw(k);
    const key = gridToString(ex.puzzle);
    assert.ok(members.has(key), `draw ${k} is not a member of any group`);
    seen.add(key);
  }
  assert.ok(seen.size >= 30, `${seen.size} distinct members drawn`);
  const again = new TrainDataSource(POOL, { seed: 9, mixing: true, augment: false, augmentCopies: 3 });
  assert.deepEqual(again.poolGroup(2), groups[2]);
  assert.notDeepEqual(new TrainDataSource(POOL, { seed: 10, mixing: true, augment: false, augmentCopies: 3 }).poolGroup(2), groups[2]);
  assert.throws(() => new TrainDataSource({ kind: 'generated', size: 4 }, { seed: 1, mixing: false, augment: false, augmentCopies: 2 }), /augmentCopies needs a fixed training set/);
});

test('hrm-lens train --fixed-set 4 --augment-copies 2: recorded in run.json', { timeout: 300_000 }, async () => {
  const out = path.join(tmp, 'run');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'train', '--preset', 'tiny-4x4', '--fixed-set', '4', '--augment-copies', '2', '--mixing',
      '--steps', '2', '--batch', '4', '--eval-puzzles', '1', '--backend', 'wasm', '--quiet', '--out', out],
    { cwd: root, encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { spec: { train: { augmentCopies?: number }; mixingMode?: string }; data: { augmentCopies?: number; puzzles?: number } };
  assert.equal(run.spec.train.augmentCopies, 2);
  assert.equal(run.data.augmentCopies, 2);
  assert.equal(run.spec.mixingMode, 'fixed');
});
