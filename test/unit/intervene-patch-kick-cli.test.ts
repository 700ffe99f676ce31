// `intervene.patch` / `intervene.kick` through the engine's real dispatcher (results, progress, cancel, parameter
// checks), and `hrm-lens patch` / `hrm-lens kick` spawned from the sources on the shipped tiny-4x4 model (text and
// --json output, progress kept off stdout; option errors named before anything is loaded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { MethodName } from '../../engine/protocol';
import type { KickResult, PatchResult } from '../../engine/intervene/intervene-protocol';
import { type PatchFlags, patchParams } from '../../engine/cli/patch-run';
import { type KickFlags, kickParams } from '../../engine/cli/kick-run';
import { runCli } from './helpers/cli-run';
import { engineUnderTest } from './helpers/engine-dispatch';

process.env.HRM_LENS_BACKEND = 'wasm';
const root = path.resolve(__dirname, '..', '..');
const SHIPPED = path.join(root, 'models', 'tiny-4x4.safetensors');
const PUZZLE = '.1.....3..32....';
const SOLUTION = '3124421314322341';

const { call } = engineUnderTest({ timeoutMs: 180_000 });

test('engine: intervene.patch and intervene.kick answer with their results and progress; cancel stops them', async () => {
  const p = call('intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'relabel', perm: [2, 3, 4, 1] }, part: 'zH', cells: [0, 1, 2] });
  const pr = await p.reply;
  assert.ok('result' in pr, JSON.stringify(pr));
  assert.equal(pr.result.curve.length, 3);
  assert.equal(pr.result.part, 'zH');
  assert.deepEqual(pr.result.cells, [0, 1, 2]);
  assert.equal(pr.result.receiver.grid, SOLUTION);
  assert.deepEqual(p.events().at(-1), { done: 2 * 4 + 3 + 2 + 1, total: 2 * 4 + 3 + 2 + 1 });
  const k = call('intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, epsilons: [0.01, 1], directions: 3, pcs: 1 });
  const kr = await k.reply;
  assert.ok('result' in kr, JSON.stringify(kr));
  assert.equal(kr.result.curve.length, 2);
  assert.equal(kr.result.basinLevel, 0.9);
  assert.deepEqual(k.events().at(-1), { done: 4 + (1 + 2 * 5) * 4, total: 4 + (1 + 2 * 5) * 4 });
  // A large sweep cancelled after its first progress event answers Cancelled.
  const res = await call('intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, segments: 64, runOn: 64, directions: 64 }, { cancelAfter: 1 }).reply;
  assert.ok('error' in res && res.error.code === 'Cancelled', JSON.stringify(res).slice(0, 300));
});

test('engine: bad intervention params are InvalidParams naming the parameter', async () => {
  const bad: [MethodName, object, RegExp][] = [
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE }, /source must be/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'copy' } }, /source.kind must be trace, relabel or latents/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'relabel', perm: [0, 1] } }, /source.perm\[0\] must be an integer in 1…9, got 0/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'trace', puzzle: '11..' } }, /source.puzzle/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'latents', file: 'x.npy', row: -1 } }, /source.row must be an integer in 0…99999, got -1/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'trace' }, part: 'zX' }, /part must be zH, zL or both/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'trace' }, atSegments: [0] }, /atSegments\[0\] must be an integer in 1…256, got 0/],
    ['intervene.patch', { checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'trace' }, cells: [] }, /cells must list 1…81 integers/],
    ['intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, epsilons: [0] }, /epsilons\[0\] must be a number in \(0, 1000\], got 0/],
    ['intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, directions: 1025 }, /directions must be an integer in 0…1024, got 1025/],
    ['intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, directions: 1000, pcs: 8 }, /must be in 1…1024 kicks, got 7112/],
    ['intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, directions: 0, pcs: 0 }, /got 0/],
    ['intervene.kick', { checkpoint: SHIPPED, puzzle: PUZZLE, runOn: 257 }, /runOn must be an integer in 1…256, got 257/],
    ['intervene.kick', { checkpoint: '', puzzle: PUZZLE }, /checkpoint must be a file path/],
  ];
  for (const [method, params, re] of bad) {
    const r = await call(method, params as never).reply;
    assert.ok('error' in r && r.error.code === 'InvalidParams' && re.test(r.error.message), `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
  }
});

const cli = runCli;

test('hrm-lens patch and kick on the shipped model: text and --json on stdout, an option error on stderr', async () => {
  const [text, json, kick, none] = await Promise.all([
    cli(['patch', SHIPPED, PUZZLE, '--relabel', '2341', '--at', '1,3', '--backend', 'wasm']),
    cli(['patch', SHIPPED, PUZZLE, '--from-puzzle', '1..4....2..1...3', '--part', 'zL', '--cells', '0,15', '--segments', '2', '--json', '--backend', 'wasm']),
    cli(['kick', SHIPPED, PUZZLE, '--eps', '0.01,2', '--directions', '4', '--pcs', '1', '--seed', '3', '--run-on', '2', '--json', '--backend', 'wasm']),
    cli(['patch', SHIPPED, PUZZLE, '--backend', 'wasm']),
  ]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^patch tiny-4x4\.safetensors ← relabel 2341: z_H and z_L, all positions, 4 segments/);
  assert.match(text.stdout, new RegExp(`receiver  ${SOLUTION}  exact, E 0`));
  assert.match(text.stdout, /^ {3}1 {2}\d{16}/m);
  assert.match(text.stdout, /^ {3}3 {2}\d{16}/m);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as PatchResult;
  assert.equal(r.part, 'zL');
  assert.deepEqual(r.cells, [0, 15]);
  assert.deepEqual(r.curve.map((p) => p.atSegment), [1]);
  assert.equal(r.segments, 2);
  assert.equal(kick.code, 0, kick.stderr);
  const k = JSON.parse(kick.stdout) as KickResult;
  assert.deepEqual(k.curve.map((p) => p.epsilon), [0.01, 2]);
  assert.equal(k.curve[0].random.total, 4);
  assert.equal(k.curve[0].principal.total, 2);
  assert.equal(k.outcome.grid, SOLUTION);
  assert.match(k.text, /^kick tiny-4x4\.safetensors: z_H and z_L after segment 4, run on 2 segments/);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^hrm-lens: patch: give one donor/);
  assert.equal(none.stdout, '');
});

test('hrm-lens patch and kick options are checked before anything is loaded, naming the option', () => {
  const base = { row: '0', part: 'both', batch: '128', backend: 'wasm' };
  const patchErrors: [Partial<PatchFlags>, RegExp][] = [
    [{}, /give one donor/],
    [{ relabel: '2341', fromPuzzle: PUZZLE }, /give one donor/],
    [{ relabel: '2341', part: 'zX' }, /--part must be zH, zL or both, got "zX"/],
    [{ relabel: '2341', at: '1,,2' }, /--at must be a comma-separated list of integers/],
    [{ relabel: '2341', at: '0' }, /--at must be an integer in 1…256, got 0/],
    [{ relabel: '2341', cells: '81' }, /--cells must be an integer in 0…80, got 81/],
    [{ relabel: '2341', segment: '2' }, /--segment and --row go with --from-latents/],
    [{ relabel: '23x1' }, /--relabel must be an integer in 1…9, got "x"/],
    [{ fromPuzzle: '11..............' }, /--from-puzzle: givens clash/],
    [{ fromLatents: 'x.npy', row: '-1' }, /--row must be an integer in 0…99999, got -1/],
  ];
  for (const [flags, re] of patchErrors) assert.throws(() => patchParams(SHIPPED, PUZZLE, { ...base, ...flags }), re, JSON.stringify(flags));
  assert.throws(() => patchParams(SHIPPED, '11..............', { ...base, relabel: '2341' }), /puzzle: givens clash/);
  assert.deepEqual(patchParams(SHIPPED, PUZZLE, { ...base, relabel: '2,3,4,1', at: '3,1', cells: '0,5', segments: '6' }), {
    checkpoint: SHIPPED, puzzle: PUZZLE, source: { kind: 'relabel', perm: [2, 3, 4, 1] }, part: 'both', cells: [0, 5], atSegments: [3, 1], segments: 6,
  });
  assert.deepEqual(patchParams(SHIPPED, PUZZLE, { ...base, fromLatents: 'x.safetensors', segment: '2', row: '1' }).source, { kind: 'latents', file: 'x.safetensors', segment: 2, row: 1 });
  const kbase = { eps: '0.1', directions: '16', pcs: '2', part: 'both', seed: '0', batch: '128', backend: 'wasm' };
  const kickErrors: [Partial<KickFlags>, RegExp][] = [
    [{ eps: '0' }, /--eps must be a number in \(0, 1000\], got 0/],
    [{ eps: '0.1,abc' }, /--eps must be a number in \(0, 1000\], got "abc"/],
    [{ directions: '1024', pcs: '64' }, /must be 1…1024 kicks, got 1152/],
    [{ directions: '0', pcs: '0' }, /must be 1…1024 kicks, got 0/],
    [{ runOn: '0' }, /--run-on must be an integer in 1…256, got 0/],
    [{ seed: '-1' }, /--seed must be an integer in 0…4294967295, got -1/],
  ];
  for (const [flags, re] of kickErrors) assert.throws(() => kickParams(SHIPPED, PUZZLE, { ...kbase, ...flags }), re, JSON.stringify(flags));
  assert.deepEqual(kickParams(SHIPPED, PUZZLE, { ...kbase, eps: '0.01, 1', runOn: '3' }).epsilons, [0.01, 1]);
});
