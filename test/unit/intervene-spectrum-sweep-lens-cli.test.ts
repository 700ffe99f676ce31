// The engine methods `intervene.spectrum`, `intervene.sweep`, `intervene.lens` through the real dispatcher and
// handlers (progress, cancellation, parameter bounds), and `hrm-lens spectrum | sweep | lens` on the shipped tiny-4x4.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MethodName, ParamsOf } from '../../engine/protocol';
import type { SpectrumResult, SweepResult } from '../../engine/intervene/intervene-protocol';
import { engineUnderTest } from './helpers/engine-dispatch';
import { SHIPPED_CHECKPOINT } from './helpers/shipped-model';

process.env.HRM_LENS_BACKEND = 'wasm';
const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-map-analysis-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const PUZZLE = '.1.....3..32....';
const SOLUTION = '3124421314322341';

const engine = engineUnderTest();

async function refused<M extends MethodName>(method: M, params: ParamsOf<M>, message: RegExp): Promise<void> {
  const error = await engine.refusal(method, params);
  assert.equal(error.code, 'InvalidParams', error.message);
  assert.match(error.message, message);
}

test('engine: intervene.spectrum, .lens and .sweep answer with progress; a cancel stops them', { timeout: 300_000 }, async () => {
  const s = engine.call('intervene.spectrum', { checkpoint: SHIPPED_CHECKPOINT, puzzle: PUZZLE, count: 2, maxIterations: 4, part: 'zH' });
  const spectrum = await s.result();
  assert.equal(spectrum.part, 'zH');
  assert.equal(spectrum.iterations, 4);
  assert.equal(spectrum.outcome.grid, SOLUTION);
  assert.ok(Number.isFinite(spectrum.spectralRadius));
  assert.match(spectrum.text, /tiny-4x4\.safetensors: Jacobian spectrum/);
  assert.deepEqual(s.events().at(-1), { done: 8, total: 8 });

  const l = engine.call('intervene.lens', { checkpoint: SHIPPED_CHECKPOINT, puzzle: PUZZLE, segments: 2 });
  assert.equal((await l.result()).steps.length, 2 * 2 * 3);
  assert.deepEqual(l.events(), [{ done: 1, total: 2 }, { done: 2, total: 2 }]);

  const w = await engine.ok('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT, puzzles: [PUZZLE, `${PUZZLE},${SOLUTION}`], hCycles: [2], lCycles: [1, 2], segments: [2, 4] });
  assert.equal(w.puzzles, 2);
  assert.equal(w.cells.length, 4);
  assert.equal(w.cells.filter((c) => c.trained).length, 1);

  const c = await engine.call('intervene.spectrum', { checkpoint: SHIPPED_CHECKPOINT, puzzle: PUZZLE, count: 1, tolerance: 1e-9, maxIterations: 200 }, { cancelAfter: 2 }).reply;
  assert.ok('error' in c && c.error.code === 'Cancelled', JSON.stringify(c));
});

test('engine: the parameters of intervene.spectrum, .sweep and .lens are checked against their ranges', async () => {
  const base = { checkpoint: SHIPPED_CHECKPOINT, puzzle: PUZZLE };
  await refused('intervene.spectrum', { ...base, count: 0 }, /count must be an integer in 1…64, got 0/);
  await refused('intervene.spectrum', { ...base, maxIterations: 301 }, /maxIterations must be an integer in 1…300/);
  await refused('intervene.spectrum', { ...base, tolerance: 0 }, /tolerance must be a number in \(0, 1\]/);
  await refused('intervene.spectrum', { ...base, part: 'zX' as 'zH' }, /part must be zH, zL or both/);
  await refused('intervene.spectrum', { ...base, atSegment: 257 }, /atSegment must be an integer in 1…256/);
  await refused('intervene.spectrum', { ...base, puzzle: '.1.' }, /puzzle:/);
  await refused('intervene.lens', { ...base, segments: 0 }, /segments must be an integer in 1…256/);
  await refused('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT }, /give either puzzles or data/);
  await refused('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT, puzzles: [PUZZLE], data: 'x.csv' }, /give either puzzles or data/);
  await refused('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT, puzzles: [PUZZLE], hCycles: [0] }, /hCycles\[0\] must be an integer in 1…64/);
  await refused('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT, puzzles: [PUZZLE], segments: Array.from({ length: 17 }, (_, i) => i + 1) }, /segments must list 1…16 counts/);
  await refused('intervene.sweep', { checkpoint: SHIPPED_CHECKPOINT, data: 'x.csv', count: 0 }, /count must be an integer in 1…100000/);
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args, '--backend', 'wasm'], { cwd: root, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('hrm-lens spectrum, lens and sweep on tiny-4x4: JSON and text; bad options refused before loading', { timeout: 300_000 }, async () => {
  const s = await cli(['spectrum', SHIPPED_CHECKPOINT, PUZZLE, '--at', '3', '--count', '2', '--max-iterations', '5', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const spectrum = JSON.parse(s.stdout) as SpectrumResult;
  assert.equal(spectrum.atSegment, 3);
  assert.equal(spectrum.eigenvalues.length, 2);
  assert.equal(spectrum.part, 'both');

  const l = await cli(['lens', SHIPPED_CHECKPOINT, PUZZLE, '--segments', '3']);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /logit lens over 3 segments \(18 updates/);
  assert.match(l.stdout, new RegExp(`solution ${SOLUTION}`));

  const data = path.join(tmp, 'three.txt');
  writeFileSync(data, `${PUZZLE}\n1..4....2..1...3\n..3.4.....1..2..\n`);
  const w = await cli(['sweep', SHIPPED_CHECKPOINT, '--data', data, '--count', '2', '--h-cycles', '1,2', '--l-cycles', '2', '--segments', '4', '--json']);
  assert.equal(w.code, 0, w.stderr);
  const sweep = JSON.parse(w.stdout) as SweepResult;
  assert.equal(sweep.puzzles, 2);
  assert.deepEqual(sweep.cells.map((c) => [c.hCycles, c.lCycles, c.segments, c.trained]), [[1, 2, 4, false], [2, 2, 4, true]]);

  const bad = await cli(['spectrum', SHIPPED_CHECKPOINT, PUZZLE, '--count', '0']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--count must be an integer in 1…64, got 0/);
  const none = await cli(['sweep', SHIPPED_CHECKPOINT]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /give puzzles or --data FILE/);
  const part = await cli(['spectrum', SHIPPED_CHECKPOINT, PUZZLE, '--part', 'z']);
  assert.match(part.stderr, /--part must be zH, zL or both/);
});
