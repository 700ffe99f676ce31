/**
 * Data mixing with hint twins: by default one twin per training puzzle, drawn from (seed, puzzle) when the training
 * set is built and fixed for the run; per-draw resampling as the option. The same seed gives the same mixed set;
 * run.json records the mode; a run.json without it (an older run) resumes with per-draw resampling; trainings with
 * the same seed, data and backend give the same checkpoint (real TF.js on wasm, tiny-4x4).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { type MixingMode, TrainDataSource, type TrainDataSpec } from '../../engine/train/data-source';
import { openTrainer, runTrainLoop } from '../../engine/train/train-session';
import { Trainer } from '../../engine/train/trainer';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToString } from '../../engine/sudoku/geometry';
import { DataError } from '../../engine/util/errors';
import type { ParamsOf } from '../../engine/protocol';
import { engineUnderTest } from './helpers/engine-dispatch';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-mixing-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const POOL: TrainDataSpec = {
  kind: 'pool', size: 4, description: 'six puzzles', puzzles: generatePuzzles({ n: 4, seed: 8 }, 6).map((p) => ({ puzzle: p.puzzle, solution: p.solution })),
};
const source = (seed: number, mixingMode?: MixingMode, augment = false) => new TrainDataSource(POOL, { seed, mixing: true, mixingMode, augment });
const indexOf = new Map(POOL.kind === 'pool' ? POOL.puzzles.map((p, i) => [gridToString(p.solution), i]) : []);

/** Per pool puzzle, the distinct twins its twin draws gave over `draws` draws (augmentation off). */
function twinsSeen(s: TrainDataSource, draws: number): { perPuzzle: Set<string>[]; twins: number } {
  const perPuzzle = Array.from({ length: 6 }, () => new Set<string>());
  let twins = 0;
  for (let k = 0; k < draws; k++) {
    const ex = s.draw(k);
    if (!ex.twin) continue;
    twins++;
    perPuzzle[indexOf.get(gridToString(ex.solution)) as number].add(gridToString(ex.puzzle));
  }
  return { perPuzzle, twins };
}

test('mixing by default: every twin draw of a puzzle is its one fixed twin, across epochs; about half the draws', () => {
  const s = source(3);
  assert.equal(s.mixingMode, 'fixed');
  const { perPuzzle, twins } = twinsSeen(s, 600);
  assert.ok(twins > 240 && twins < 360, `${twins} twins in 600 draws`);
  perPuzzle.forEach((seen, i) => {
    const fixed = s.poolTwin(i);
    assert.ok(fixed, `puzzle ${i} has a twin`);
    assert.deepEqual([...seen], [gridToString(fixed)], `puzzle ${i}`);
  });
});

test('the same seed gives the same fixed mixed set; another seed another one', () => {
  const set = (seed: number) => Array.from({ length: 6 }, (_, i) => gridToString(source(seed).poolTwin(i) ?? new Int8Array(0)));
  assert.deepEqual(set(3), set(3));
  assert.notDeepEqual(set(3), set(4));
  const a = source(3, undefined, true);
  const b = source(3, undefined, true);
  for (let k = 0; k < 200; k++) assert.deepEqual(a.draw(k), b.draw(k), `draw ${k}`);
});

test('with augmentation a fixed twin moves with its puzzle: same solution, the fixed twin\'s number of blanks', () => {
  const s = source(3, 'fixed', true);
  const blanks = (g: ArrayLike<number>) => Array.from(g).filter((d) => d === 0).length;
  const fixedBlanks = Array.from({ length: 6 }, (_, i) => blanks(s.poolTwin(i) ?? []));
  const baseBlanks = POOL.kind === 'pool' ? POOL.puzzles.map((p) => blanks(p.puzzle)) : [];
  let checked = 0;
  for (let k = 0; k < 300; k++) {
    const ex = s.draw(k);
    for (let c = 0; c < 16; c++) if (ex.puzzle[c] !== 0) assert.equal(ex.puzzle[c], ex.solution[c]);
    if (!ex.twin) continue;
    // The symmetry hides which puzzle it was: its blank count must be a fixed twin's of a puzzle with that many givens less.
    assert.ok(fixedBlanks.some((b, i) => b === blanks(ex.puzzle) && baseBlanks[i] > b), `draw ${k}`);
    checked++;
  }
  assert.ok(checked > 100);
});

test('mixing resampled per draw: a puzzle gets several different twins over the epochs', () => {
  const { perPuzzle } = twinsSeen(source(3, 'resample'), 600);
  assert.ok(perPuzzle.some((seen) => seen.size > 1), JSON.stringify(perPuzzle.map((s) => s.size)));
});

describe('training with mixing', () => {
  before(async () => { await selectBackend({ backend: 'wasm' }); });
  const overrides = { batch: 8, checkpointEvery: 2, evalPuzzles: 2 };
  const weights = (file: string) => { const buf = readFileSync(file); return buf.subarray(8 + Number(buf.readBigUInt64LE(0))); };
  const spec = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { spec: Record<string, unknown>; data: Record<string, unknown> };

  async function train(out: string, mixing: { mixing?: boolean; mixingResample?: boolean }, stopAt?: number): Promise<string> {
    const { trainer, totalSteps } = await openTrainer({ preset: 'tiny-4x4', out, steps: 4, seed: 2, ...mixing, overrides, backend: {} });
    try {
      return (await runTrainLoop(trainer, totalSteps, { shouldStop: () => stopAt !== undefined && trainer.step >= stopAt })).checkpoint;
    } finally {
      await trainer.close();
    }
  }

  test('training: run.json records the mode; an older run.json without it resumes resampling per draw; same seed, same checkpoint', { timeout: 300_000 }, async () => {
    const fixedA = await train(path.join(tmp, 'fixed-a'), { mixing: true });
    const fixedB = await train(path.join(tmp, 'fixed-b'), { mixing: true });
    assert.ok(weights(fixedA).equals(weights(fixedB)), 'same seed, data and backend: identical weights');
    assert.equal(spec(path.join(tmp, 'fixed-a')).spec.mixingMode, 'fixed');
    assert.equal(spec(path.join(tmp, 'fixed-a')).data.mixingMode, 'fixed');

    const resampled = await train(path.join(tmp, 'resample'), { mixingResample: true });
    assert.equal(spec(path.join(tmp, 'resample')).spec.mixing, true);
    assert.equal(spec(path.join(tmp, 'resample')).spec.mixingMode, 'resample');
    assert.ok(!weights(resampled).equals(weights(fixedA)), 'the two modes draw different twins');

    // An older run: resampling per draw, stopped at step 2, its run.json without the mode; resumed to step 4.
    const old = path.join(tmp, 'old');
    await train(old, { mixingResample: true }, 2);
    const runJson = JSON.parse(readFileSync(path.join(old, 'run.json'), 'utf8')) as { spec: Record<string, unknown>; data: Record<string, unknown> };
    delete runJson.spec.mixingMode;
    delete runJson.data.mixingMode;
    writeFileSync(path.join(old, 'run.json'), JSON.stringify(runJson));
    assert.equal((await Trainer.readRunSpec(old)).mixingMode, 'resample');
    const { trainer, totalSteps } = await openTrainer({ preset: 'tiny-4x4', resume: old, backend: {} });
    let resumed: string;
    try {
      assert.equal(trainer.step, 2);
      assert.equal(trainer.data.mixingMode, 'resample');
      resumed = (await runTrainLoop(trainer, totalSteps, { shouldStop: () => false })).checkpoint;
    } finally {
      await trainer.close();
    }
    assert.ok(weights(resumed).equals(weights(resampled)), 'the resumed older run matches the uninterrupted per-draw run');

    runJson.spec.mixingMode = 'sometimes';
    writeFileSync(path.join(old, 'run.json'), JSON.stringify(runJson));
    await assert.rejects(Trainer.readRunSpec(old), (e: unknown) => e instanceof DataError && /spec\.mixingMode/.test(e.message) && /run\.json/.test(e.message));
  });
});

test('hrm-lens train --mixing-resample: mixing on, mode resample in run.json', { timeout: 300_000 }, async () => {
  const out = path.join(tmp, 'cli-resample');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'train', '--preset', 'tiny-4x4', '--mixing-resample', '--steps', '1', '--batch', '4',
      '--eval-puzzles', '1', '--backend', 'wasm', '--quiet', '--out', out], { cwd: root, encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { spec: { mixing: boolean; mixingMode?: string } };
  assert.deepEqual([run.spec.mixing, run.spec.mixingMode], [true, 'resample']);
});

test('engine train request: mixingResample trains with per-draw twins; a non-boolean is refused', { timeout: 300_000 }, async () => {
  const { call } = engineUnderTest();
  const train = (params: ParamsOf<'train'>) => call('train', params).reply;
  const out = path.join(tmp, 'request-resample');
  const r = await train({ preset: 'tiny-4x4', steps: 1, batch: 4, seed: 1, out, mixingResample: true });
  if ('error' in r) assert.fail(r.error.message);
  const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { spec: { mixing: boolean; mixingMode?: string } };
  assert.deepEqual([run.spec.mixing, run.spec.mixingMode], [true, 'resample']);
  const bad = await train({ preset: 'tiny-4x4', steps: 1, out: path.join(tmp, 'bad'), mixingResample: 'yes' as unknown as boolean });
  assert.ok('error' in bad && /mixingResample must be true or false/.test(bad.error.message));
});
