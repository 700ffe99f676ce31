/**
 * Every option that sizes work has a range (engine/util/limits.ts), checked before anything is loaded: through the
 * engine's real dispatcher and handlers (the protocol is an input too) and through the `hrm-lens` command line. Also:
 * the engine's inspect / evaluate and the CLI's inspect / eval on hostile checkpoints (NaN weights, haltMaxSteps = 1e9)
 * answer with an error that names the file and the tensor or field.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { MethodName } from '../../engine/protocol';
import { LIMITS, NUM_LIMITS, intOption, intProblem, numOption } from '../../engine/util/limits';
import { selectBackend } from '../../engine/backend';
import { evaluateCheckpointFile } from '../../engine/train/eval-session';
import { engineUnderTest } from './helpers/engine-dispatch';
import { tinyWeights, withValues, writeNativeCheckpoint } from './helpers/hostile-checkpoints';

process.env.HRM_LENS_BACKEND = 'cpu';
const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SHIPPED = path.join(root, 'models', 'tiny-4x4.safetensors');
const PUZZLE = '.1.....3..32....';

/** The error a request is answered with (fails when it succeeds, or when no answer comes within a generous time). */
const { refusal: errorOf, ok } = engineUnderTest({ timeoutMs: 120_000 });

test('option checks name the option, its range and the value', () => {
  assert.throws(() => intOption('0', 'segments', LIMITS.segments), { name: 'RangeError', message: '--segments must be an integer in 1…256, got 0' });
  assert.throws(() => intOption('100001', 'size', LIMITS.landscapeSize), { message: '--size must be an odd integer in 1…201, got 100001' });
  assert.throws(() => intOption('40', 'size', LIMITS.landscapeSize), { message: '--size must be an odd integer in 1…201, got 40' });
  assert.throws(() => intOption('abc', 'count', LIMITS.puzzles), { message: '--count must be an integer in 1…100000, got "abc"' });
  assert.throws(() => intOption('', 'batch', LIMITS.batch), /--batch must be an integer in 1…65536, got ""/);
  assert.throws(() => intOption('2.5', 'segments', LIMITS.segments), /got 2.5/);
  assert.throws(() => intOption('0x10', 'segments', LIMITS.segments), /got "0x10"/);
  assert.throws(() => numOption('0', 'step', NUM_LIMITS.landscapeStep), { message: '--step must be a number in (0, 1000000], got 0' });
  assert.throws(() => numOption('Infinity', 'lr', NUM_LIMITS.lr), /--lr must be a number in \(0, 10\]/);
  assert.equal(intOption('256', 'segments', LIMITS.segments), 256);
  assert.equal(intOption('201', 'size', LIMITS.landscapeSize), 201);
  assert.equal(intOption(undefined, 'segments', LIMITS.segments), undefined);
  assert.equal(numOption('1e-3', 'lr', NUM_LIMITS.lr), 1e-3);
  assert.equal(intProblem('seed', 2 ** 32, LIMITS.seed), 'seed must be an integer in 0…4294967295, got 4294967296');
});

test('engine requests: segment counts and sizes outside their ranges are InvalidParams naming the parameter', async () => {
  const cases: [MethodName, Record<string, unknown>, string][] = [
    ['inspect', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 0 }, 'segments must be an integer in 1…256, got 0'],
    ['inspect', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 1e9 }, 'segments must be an integer in 1…256, got 1000000000'],
    ['inspect', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 2.5 }, 'segments must be an integer in 1…256, got 2.5'],
    ['inspect.strip', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 257 }, 'segments must be an integer in 1…256, got 257'],
    ['evaluate', { checkpoint: SHIPPED, data: 'x.csv', segments: 0 }, 'segments must be an integer in 1…256, got 0'],
    ['evaluate', { checkpoint: SHIPPED, data: 'x.csv', limit: 0 }, 'limit must be an integer in 1…100000000, got 0'],
    ['landscape', { checkpoint: SHIPPED, puzzle: PUZZLE, size: 100001 }, 'size must be an odd integer in 1…201, got 100001'],
    ['landscape', { checkpoint: SHIPPED, puzzle: PUZZLE, size: 9, step: -1 }, 'step must be a number in (0, 1000000], got -1'],
    ['landscape', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 300 }, 'segments must be an integer in 1…256, got 300'],
    ['probe', { checkpoints: [SHIPPED], count: 0 }, 'count must be an integer in 1…100000, got 0'],
    ['probe', { checkpoints: [SHIPPED], count: 10, segments: 1000 }, 'segments must be an integer in 1…256, got 1000'],
    ['ensemble', { sources: [SHIPPED], last: 0 }, 'last must be an integer in 1…1000, got 0'],
    ['ensemble', { sources: [SHIPPED], count: 1e6 }, 'count must be an integer in 1…1000, got 1000000'],
    ['ensemble', { sources: [SHIPPED], generate: 1e9 }, 'generate must be an integer in 1…100000, got 1000000000'],
    ['ensemble', { sources: [SHIPPED], limit: 1e7 }, 'limit must be an integer in 1…100000, got 10000000'],
    ['train', { preset: 'tiny-4x4', out: path.join(dir, 'never'), batch: 0 }, 'batch must be an integer in 1…65536, got 0'],
    ['train', { preset: 'tiny-4x4', out: path.join(dir, 'never'), steps: 1e12 }, 'steps must be an integer in 1…10000000, got 1000000000000'],
    ['import', { file: SHIPPED, out: path.join(dir, 'never'), heads: 0 }, 'heads must be an integer in 1…256, got 0'],
  ];
  for (const [method, params, message] of cases) {
    const err = await errorOf(method, params as never);
    assert.equal(err.code, 'InvalidParams', `${method} ${JSON.stringify(params)}: ${err.message}`);
    assert.equal(err.message, message);
  }
});

test('engine inspect and evaluate on a checkpoint with NaN weights answer an error naming the file, the tensor and the count', async () => {
  await selectBackend({ backend: 'cpu' });
  const name = 'L_level.layers.0.self_attn.o_proj.weight';
  const file = writeNativeCheckpoint(path.join(dir, 'nan.safetensors'), {}, withValues(tinyWeights(), name, [NaN, NaN, NaN]));
  const data = path.join(dir, 'four.txt');
  writeFileSync(data, `${PUZZLE}\n`);
  const expected = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, field "${name}": 3 of 4096 values are not finite \\(3 NaN\\)`);
  assert.match((await errorOf('inspect', { checkpoint: file, puzzle: PUZZLE })).message, expected);
  assert.match((await errorOf('evaluate', { checkpoint: file, data })).message, expected);
});

test('engine inspect on a checkpoint with haltMaxSteps = 1e9 answers at once, naming the file and the field', async () => {
  const file = writeNativeCheckpoint(path.join(dir, 'halt.safetensors'), { haltMaxSteps: 1e9 });
  const before = process.memoryUsage().arrayBuffers;
  const err = await errorOf('inspect', { checkpoint: file, puzzle: PUZZLE });
  assert.match(err.message, /halt\.safetensors, field "config\.haltMaxSteps": bad model config: haltMaxSteps must be an integer in 1…256, got 1000000000/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 256 * 2 ** 20, 'nothing sized by haltMaxSteps was allocated');
  // The engine still answers.
  await ok('ping', {}, { timeoutMs: 5_000 });
});

test('evaluateCheckpointFile (every evaluation of a file) refuses segments or a limit out of range before opening it', async () => {
  await assert.rejects(evaluateCheckpointFile({ checkpoint: SHIPPED, data: 'x.csv', segments: 0 }), { name: 'RangeError', message: 'segments must be an integer in 1…256, got 0' });
  await assert.rejects(evaluateCheckpointFile({ checkpoint: SHIPPED, data: 'x.csv', limit: -1 }), { message: 'limit must be an integer in 1…100000000, got -1' });
});

interface Run { status: number | null; stderr: string; stdout: string }

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err && typeof err.code === 'number' ? err.code : err ? null : 0, stdout, stderr });
    });
  });
}

test('hrm-lens: options out of range and hostile checkpoints end with exit code 1 and a message naming the option or field', async () => {
  const data = path.join(dir, 'cli.txt');
  writeFileSync(data, `${PUZZLE}\n`);
  const nan = writeNativeCheckpoint(path.join(dir, 'cli-nan.safetensors'), {}, withValues(tinyWeights(), 'lm_head.weight', [Infinity]));
  const cases: [string[], RegExp][] = [
    [['eval', '--checkpoint', SHIPPED, '--data', data, '--segments', '0'], /^hrm-lens: --segments must be an integer in 1…256, got 0$/m],
    [['landscape', '--checkpoint', SHIPPED, '--puzzle', PUZZLE, '--size', '100001'], /^hrm-lens: --size must be an odd integer in 1…201, got 100001$/m],
    [['classify', '--checkpoint', SHIPPED, '--generate', '0'], /^hrm-lens: --generate must be an integer in 1…100000, got 0$/m],
    [['inspect', '--checkpoint', nan, '--puzzle', PUZZLE, '--backend', 'cpu'], /cli-nan\.safetensors, field "lm_head\.weight": 1 of 384 values are not finite \(1 \+Inf\)/],
  ];
  // Two at a time (the machine has 2 cores).
  for (let i = 0; i < cases.length; i += 2) {
    const runs = await Promise.all(cases.slice(i, i + 2).map(([args]) => cli(...args)));
    runs.forEach((r, k) => {
      const [args, expected] = cases[i + k];
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
      assert.equal(r.stdout, '', 'no (empty) table is printed');
    });
  }
});
