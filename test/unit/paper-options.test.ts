/**
 * `hrm-lens reproduce` refuses bad options before it loads a model or writes a file: every range from the shared
 * limits, errors naming the flag on the command line (exit code 1) and the field in a call; run folders that are not
 * run folders; runs of different grid sizes; a run named in both arms; held-out puzzles that cannot be generated.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseSeeds, reproduceOptionProblems } from '../../engine/paper/options';
import { reproduceOptionsFromFlags, type ReproduceFlags } from '../../engine/cli/reproduce-run';
import { runReproduce } from '../../engine/paper/reproduce';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-paper-options-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A run folder with `weights` as its one checkpoint and `runJson` as its run.json. */
function runFolder(name: string, weights: string, runJson: string | null): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  if (runJson !== null) writeFileSync(path.join(dir, 'run.json'), runJson);
  copyFileSync(weights, path.join(dir, 'step-000100.safetensors'));
  return dir;
}

const tiny = path.join(root, 'models', 'tiny-4x4.safetensors');
const small = path.join(root, 'models', 'small-6x6.safetensors');
const runJsonOf = (file: string): string => readFileSync(file, 'utf8');
const four = runFolder('four', tiny, runJsonOf(path.join(root, 'demo', 'shipped-run', 'run.json')));
const fourB = runFolder('four-b', tiny, runJsonOf(path.join(root, 'demo', 'shipped-run', 'run.json')));
const six = runFolder('six', small, runJsonOf(path.join(root, 'models', 'small-6x6-run', 'run.json')));
const imported = runFolder('imported', tiny, JSON.stringify({ format: 'hrm-lens-run', imported: { source: 'x' } }));
const noRunJson = runFolder('bare', tiny, null);

const flags = (extra: Partial<ReproduceFlags>): ReproduceFlags => ({ baseline: four, mixing: fourB, backend: 'wasm', ...extra });

test('every option range: the command line names the flag, a call names the field', () => {
  const cases: [Partial<ReproduceFlags>, RegExp][] = [
    [{ puzzles: '0' }, /--puzzles must be an integer in 1…100000, got 0/],
    [{ puzzles: '100001' }, /--puzzles must be an integer in 1…100000, got 100001/],
    [{ puzzles: '2.5' }, /--puzzles must be an integer/],
    [{ relabelings: '0' }, /--relabelings must be an integer in 1…1000, got 0/],
    [{ checkpoints: 'ten' }, /--checkpoints must be an integer in 1…1000, got "ten"/],
    [{ segments: '257' }, /--segments must be an integer in 1…256, got 257/],
    [{ landscapeSample: '-1' }, /--landscape-sample must be an integer in 0…1000, got -1/],
    [{ seeds: '1,2,3,4' }, /--seeds must be 1 to 3 comma-separated integers/],
    [{ seeds: '1,x' }, /--seeds \(probe\) must be an integer in 0…4294967295, got "x"/],
    [{ seeds: '4294967296' }, /--seeds \(held-out\) must be an integer in 0…4294967295, got 4294967296/],
    [{ baseline: ' , ' }, /--baseline must name at least one run folder/],
    [{ mixing: Array.from({ length: 65 }, (_, i) => `r${i}`).join(',') }, /--mixing names 65 run folders, at most 64 are allowed/],
  ];
  for (const [extra, re] of cases) assert.throws(() => reproduceOptionsFromFlags(flags(extra)), re, JSON.stringify(extra));
  assert.deepEqual(reproduceOptionsFromFlags(flags({ puzzles: '50', seeds: '9,8', landscapeSample: '0' })), {
    baseline: [four], mixing: [fourB], data: undefined, puzzles: 50, seeds: { heldOut: 9, probe: 8, sample: undefined }, relabelings: undefined,
    checkpoints: undefined, segments: undefined, landscapeSample: 0, out: undefined,
  });
  assert.deepEqual(reproduceOptionProblems({ baseline: [], mixing: ['m'], puzzles: 0, landscapeSize: 4, seeds: { probe: -1 } }), [
    'baseline must name at least one run folder', 'puzzles must be an integer in 1…100000, got 0',
    'landscapeSize must be an odd integer in 1…201, got 4', 'seeds.probe must be an integer in 0…4294967295, got -1',
  ]);
  assert.deepEqual(reproduceOptionProblems({ baseline: ['b'], mixing: ['m'], seeds: null as never, data: '' }), [
    'data must name a dataset file', 'seeds must be an object { heldOut, probe, sample }',
  ]);
  assert.deepEqual(parseSeeds('1'), { heldOut: 1, probe: undefined, sample: undefined });
});

test('a bad option is refused by runReproduce before anything is read or written', async () => {
  const out = path.join(tmp, 'never');
  await assert.rejects(runReproduce({ baseline: [four], mixing: [fourB], relabelings: 0, out }), /relabelings must be an integer in 1…1000, got 0/);
  assert.equal(existsSync(out), false);
});

test('run folders: grid sizes must match, a folder must be a run folder, each run in one arm', async () => {
  const out = path.join(tmp, 'never');
  await assert.rejects(runReproduce({ baseline: [four], mixing: [six], out }), (err: Error) => {
    assert.match(err.message, /runs of different grid sizes cannot be compared/);
    assert.ok(err.message.includes(`${four} (--baseline) is 4×4`) && err.message.includes(`${six} (--mixing) is 6×6`), err.message);
    return true;
  });
  await assert.rejects(runReproduce({ baseline: [path.join(tmp, 'missing')], mixing: [four], out }), /--baseline: .*missing is not a run folder \(no such folder\)/);
  await assert.rejects(runReproduce({ baseline: [four], mixing: [noRunJson], out }), /--mixing: .*bare is not a run folder \(no run.json\)/);
  const empty = path.join(tmp, 'empty');
  mkdirSync(empty);
  writeFileSync(path.join(empty, 'run.json'), runJsonOf(path.join(root, 'demo', 'shipped-run', 'run.json')));
  await assert.rejects(runReproduce({ baseline: [four], mixing: [empty], out }), /--mixing: .*empty holds no step-N.safetensors checkpoints/);
  await assert.rejects(runReproduce({ baseline: [four], mixing: [four], out }), /is named twice \(--baseline and --mixing\)/);
  await assert.rejects(runReproduce({ baseline: [imported], mixing: [four], out }), /--data is required: .*imported\/run.json does not say how the run's training data was generated/);
  await assert.rejects(runReproduce({ baseline: [four], mixing: [fourB], data: path.join(tmp, 'nope.csv'), out }), /--data: .*nope.csv: no such file or folder/);
  assert.equal(existsSync(out), false, 'nothing was written');
});

test('hrm-lens reproduce: a bad flag exits with code 1 and a message naming it', { timeout: 120_000 }, async () => {
  const res = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'reproduce', '--baseline', four, '--mixing', fourB, '--checkpoints', '0'],
      { cwd: root, encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
  });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^hrm-lens: --checkpoints must be an integer in 1…1000, got 0$/m);
});
