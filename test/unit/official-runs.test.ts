/**
 * Following reference trainers' runs: finding `step_N` checkpoints (and run folders under a followed folder) on real
 * files, deciding when a file being written has settled, the cache key of an evaluation (path, size, modification
 * time, all_config.yaml, the evaluation's settings), and the engine's `official.evaluate` through the real handler
 * registry and dispatcher on the committed PyTorch fixtures, copied into a temp folder as `step_N` files: evaluated in
 * place (nothing written beside the checkpoint), the same figures as the imported checkpoint evaluated natively,
 * cached (a second request reads nothing), evaluated again when the file changes, and a partial file refused with an
 * error naming it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { officialCacheFile, officialCacheKey, officialKeyInput } from '../../engine/interop/official-cache';
import type { OfficialEvalSpec } from '../../engine/interop/official-protocol';
import { importCheckpoint } from '../../engine/interop/import-checkpoint';
import { evaluateCheckpointFile } from '../../engine/train/eval-session';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { writeCsv } from '../../engine/sudoku/dataset';
import { SettleTracker, findOfficialRuns, readCachedOfficialEval, scanOfficialRunFolder } from '../../extension/views/official-folder';
import { engineUnderTest } from './helpers/engine-dispatch';

const root = path.resolve(import.meta.dirname, '..', '..');
const FIX = path.join(root, 'test', 'fixtures', 'torch');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-official-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sub = (name: string): string => { const d = path.join(tmp, name); mkdirSync(d, { recursive: true }); return d; };

const { call, ok } = engineUnderTest({ timeoutMs: 600_000 });

describe('official run folders: discovery on real files', () => {
  test('a run folder lists its step_N files newest step first; other files, folders and names are left out', async () => {
    const dir = sub('run-a');
    copyFileSync(path.join(FIX, 'hrm', 'all_config.yaml'), path.join(dir, 'all_config.yaml'));
    for (const n of ['step_20', 'step_100', 'step_3']) copyFileSync(path.join(FIX, 'hrm', 'step_100'), path.join(dir, n));
    for (const n of ['step_100.tmp', 'notes.txt', 'step-5.safetensors', 'step_x']) writeFileSync(path.join(dir, n), 'x');
    mkdirSync(path.join(dir, 'step_7'));
    const r = await scanOfficialRunFolder(dir);
    assert.ok(r);
    assert.equal(r.hasConfig, true);
    assert.deepEqual(r.checkpoints.map((c) => [c.name, c.step]), [['step_100', 100], ['step_20', 20], ['step_3', 3]]);
    assert.equal(r.checkpoints[0].size, readFileSync(path.join(FIX, 'hrm', 'step_100')).length);
    assert.deepEqual((await findOfficialRuns(dir)).map((x) => x.dir), [dir]);
  });

  test('a folder of run folders lists each run (a run with only all_config.yaml too); a missing folder is listed as missing', async () => {
    const parent = sub('project');
    const one = sub('project/run-1');
    const two = sub('project/run-2');
    sub('project/unrelated');
    copyFileSync(path.join(FIX, 'hrm', 'step_100'), path.join(one, 'step_100'));
    writeFileSync(path.join(two, 'all_config.yaml'), 'arch:\n  name: x\n');
    const runs = await findOfficialRuns(parent);
    assert.deepEqual(runs.map((r) => [r.name, r.root, r.checkpoints.length, r.hasConfig]), [['run-1', parent, 1, false], ['run-2', parent, 0, true]]);
    const empty = sub('empty');
    assert.deepEqual((await findOfficialRuns(empty)).map((r) => [r.dir, r.exists, r.checkpoints.length]), [[empty, true, 0]]);
    const missing = path.join(tmp, 'no-such-folder');
    assert.deepEqual((await findOfficialRuns(missing)).map((r) => [r.dir, r.exists]), [[missing, false]]);
  });

  test('a file counts as settled once its size and time have not changed for the settle period', () => {
    const t = new SettleTracker(2000);
    const now = 1_000_000;
    // Written just now: not settled on first sight; growing: starts again; unchanged for 2 s: settled.
    assert.equal(t.observe('/a/step_1', 100, now - 500, now), 1500);
    assert.equal(t.observe('/a/step_1', 200, now + 400, now + 1000), 2000);
    assert.equal(t.observe('/a/step_1', 200, now + 400, now + 2500), 500);
    assert.equal(t.observe('/a/step_1', 200, now + 400, now + 3000), 0);
    // Last written long before it was first seen: settled at once.
    assert.equal(t.observe('/a/step_2', 100, now - 60_000, now), 0);
    // Forgotten when gone: seen again, it starts over.
    t.retain(new Set(['/a/step_2']));
    assert.equal(t.observe('/a/step_1', 200, now + 2900, now + 3000), 1900);
  });

  test('the cache key changes with the file, its size or time, all_config.yaml and every evaluation setting', async () => {
    const dir = sub('keys');
    const file = path.join(dir, 'step_1');
    writeFileSync(file, 'abc');
    utimesSync(file, 1000, 1000);
    const spec: OfficialEvalSpec = { puzzles: 10, seed: 1, data: null, segments: null };
    const key = async (s: OfficialEvalSpec = spec) => officialCacheKey((await officialKeyInput(file, s))!);
    const base = await key();
    assert.match(base, /^[0-9a-f]{32}$/);
    assert.equal(await key(), base, 'the same inputs give the same key');
    const others = [await key({ ...spec, puzzles: 11 }), await key({ ...spec, seed: 2 }), await key({ ...spec, segments: 4 }), await key({ ...spec, data: file })];
    writeFileSync(path.join(dir, 'all_config.yaml'), 'arch: {}\n');
    others.push(await key());
    utimesSync(path.join(dir, 'all_config.yaml'), 5000, 5000);
    others.push(await key());
    rmSync(path.join(dir, 'all_config.yaml'));
    assert.equal(await key(), base, 'the YAML removed again: the first key');
    utimesSync(file, 2000, 2000);
    others.push(await key());
    writeFileSync(file, 'abcd');
    utimesSync(file, 1000, 1000);
    others.push(await key());
    assert.equal(new Set([base, ...others]).size, others.length + 1, 'every change gives a new key');
    assert.equal(await officialKeyInput(path.join(dir, 'missing'), spec), undefined);
  });
});

describe('official.evaluate: a reference checkpoint evaluated in place (real TF.js)', () => {
  const run = sub('live-run');
  const cacheDir = path.join(tmp, 'cache');
  const file = path.join(run, 'step_100');
  copyFileSync(path.join(FIX, 'hrm', 'all_config.yaml'), path.join(run, 'all_config.yaml'));
  copyFileSync(path.join(FIX, 'hrm', 'step_100'), file);
  const spec: OfficialEvalSpec = { puzzles: 3, seed: 424242, data: null, segments: null };

  test('evaluated where it lies, cached, and the same figures as the imported checkpoint evaluated natively', async () => {
    const before = readdirSync(run).sort();
    const r = await ok('official.evaluate', { file, cacheDir, puzzles: 3 });
    assert.deepEqual(readdirSync(run).sort(), before, 'nothing is written beside the checkpoint');
    assert.equal(r.cached, false);
    assert.equal(r.step, 100);
    assert.equal(r.configFile, path.join(run, 'all_config.yaml'));
    assert.deepEqual({ variant: r.model.variant, gridSize: r.model.gridSize, hidden: r.model.hidden, heads: r.model.heads }, { variant: 'hrm', gridSize: 9, hidden: 32, heads: 2 });
    assert.equal(r.figures.puzzles, 3);
    assert.equal(r.figures.segments, 4, 'the model\'s own halt_max_steps');
    assert.equal(r.figures.perSegment.length, 4);
    assert.ok(r.cacheFile && existsSync(r.cacheFile) && path.dirname(r.cacheFile) === cacheDir);

    // The same puzzles through the import path: a native checkpoint evaluated by `hrm-lens eval`'s code.
    const csv = path.join(tmp, 'generated-9x9.csv');
    await writeCsv(csv, generatePuzzles({ n: 9, seed: 424242 }, 3).map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, line: i + 2 })));
    const imported = await importCheckpoint(file, { out: path.join(tmp, 'imported') });
    const native = (await evaluateCheckpointFile({ checkpoint: imported.file, data: csv })).report;
    assert.equal(r.figures.exact, native.exact);
    assert.equal(r.figures.cell, native.cell);
    assert.deepEqual(r.figures.perSegment, native.perSegment);

    // Asked again: from the cache, read by the extension host too (no engine needed after a restart).
    const again = await ok('official.evaluate', { file, cacheDir, puzzles: 3 });
    assert.equal(again.cached, true);
    assert.deepEqual(again.figures, r.figures);
    const { cached: _c, cacheFile: _f, ...entry } = r;
    assert.deepEqual(await readCachedOfficialEval(cacheDir, file, spec), entry);
    assert.equal(await readCachedOfficialEval(cacheDir, file, { ...spec, puzzles: 4 }), undefined, 'other settings: not this entry');
  });

  test('a checkpoint rewritten (same name, new time) is evaluated again; its old entry stays where it was', async () => {
    const old = await readCachedOfficialEval(cacheDir, file, spec);
    assert.ok(old, 'needs the previous test');
    const t = Date.now() / 1000 + 5;
    utimesSync(file, t, t);
    assert.equal(await readCachedOfficialEval(cacheDir, file, spec), undefined);
    const r = await ok('official.evaluate', { file, cacheDir, puzzles: 3 });
    assert.equal(r.cached, false);
    assert.notEqual(r.key, old.key);
    assert.equal(r.figures.exact, old.figures.exact);
    assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length, 2);
  });

  test('a trained model in a step_N file: a real accuracy, equal to the native evaluation on the same puzzles', async () => {
    const dir = sub('trained-run');
    const step = path.join(dir, 'step_2000');
    copyFileSync(path.join(root, 'models', 'tiny-4x4.safetensors'), step); // the importer reads safetensors in place too
    const r = await ok('official.evaluate', { file: step, cacheDir, puzzles: 40, segments: 4 });
    const csv = path.join(tmp, 'generated-4x4.csv');
    await writeCsv(csv, generatePuzzles({ n: 4, seed: 424242 }, 40).map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, line: i + 2 })));
    const native = (await evaluateCheckpointFile({ checkpoint: path.join(root, 'models', 'tiny-4x4.safetensors'), data: csv, segments: 4 })).report;
    assert.equal(r.model.gridSize, 4);
    assert.equal(r.step, 2000);
    assert.ok(r.figures.exact > 0.5, `a trained 4×4 model solves most generated puzzles (exact ${r.figures.exact})`);
    assert.equal(r.figures.exact, native.exact);
    assert.equal(r.figures.cell, native.cell);
  });

  test('a partial file (the trainer still writing) is refused with an error naming it, and nothing is cached', async () => {
    const dir = sub('partial-run');
    copyFileSync(path.join(FIX, 'hrm', 'all_config.yaml'), path.join(dir, 'all_config.yaml'));
    const bytes = readFileSync(path.join(FIX, 'hrm', 'step_100'));
    const partial = path.join(dir, 'step_300');
    writeFileSync(partial, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const cacheBefore = readdirSync(cacheDir).length;
    const r = await call('official.evaluate', { file: partial, cacheDir, puzzles: 3 }).reply;
    assert.ok('error' in r, 'a half-written checkpoint is not evaluated');
    assert.ok(r.error.message.startsWith(partial), r.error.message);
    assert.equal(readdirSync(cacheDir).length, cacheBefore);
    const folder = await call('official.evaluate', { file: dir, cacheDir }).reply;
    assert.ok('error' in folder && /not a regular file/.test(folder.error.message), JSON.stringify(folder));
  });

  test('bad params are InvalidParams naming the parameter', async () => {
    for (const [params, message] of [
      [{ file: file, puzzles: 0 }, 'puzzles must be an integer in 1…100000, got 0'],
      [{ file: file, segments: 300 }, 'segments must be an integer in 1…256, got 300'],
      [{ file: '' }, 'file must be a checkpoint path'],
    ] as const) {
      const r = await call('official.evaluate', params).reply;
      assert.ok('error' in r && r.error.code === 'InvalidParams' && r.error.message === message, JSON.stringify(r));
    }
  });
});

test('the cache file of a key is <cacheDir>/<key>.json', () => {
  assert.equal(officialCacheFile('/c', 'ab'), path.join('/c', 'ab.json'));
});
