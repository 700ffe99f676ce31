/**
 * Latents out: `hrm-lens inspect --save-latents` and `hrm-lens classify --save-latents` (the CLI spawned from the
 * sources on the shipped 4×4 model) and the engine's `inspect.latents` method write z_H, z_L, logits and Q per puzzle
 * and segment; Python reads them back without the project's readers (numpy's np.load for .npy, the safetensors header
 * parsed by hand with struct + json), and every value equals the trace the engine records for the same puzzles.
 * Also: nothing is left behind when an export fails, and an export larger than the free disk is refused up front.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SHIPPED_CHECKPOINT, useShippedModel } from './helpers/shipped-model';
import { captureTraces } from '../../engine/analysis/capture-trace';
import type { PuzzleTrace } from '../../engine/analysis/trace';
import { LatentsWriter, latentsLayout, openLatentsExport } from '../../engine/analysis/latents-export';
import { loadPuzzleSource } from '../../engine/cli/puzzle-source';
import { parsePuzzle } from '../../engine/sudoku/givens';
import { solve } from '../../engine/sudoku/solver';
import { type Grid, geometry } from '../../engine/sudoku/geometry';
import { inspectLatents } from '../../engine/rpc/inspect-handlers';
import { DataError } from '../../engine/util/errors';
import { pythonWith } from './helpers/python-with';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-latents-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = useShippedModel();

const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args, '--backend', 'wasm'], {
    cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, HRM_LENS_THREADS: '1' },
  });

interface PyTensor { dtype: string; shape: number[]; data: number[] }
interface PyExport { metadata: Record<string, unknown>; tensors: Record<string, PyTensor> }

/** The safetensors file read by Python with struct + json + numpy.frombuffer (no safetensors package, no project code). */
const PY_SAFETENSORS = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n].decode('utf-8'))
meta = header.pop('__metadata__')
body = raw[8 + n:]
ends = sorted(v['data_offsets'] for v in header.values())
assert ends[0][0] == 0 and ends[-1][1] == len(body), 'the data must fill the file'
assert all(a[1] == b[0] for a, b in zip(ends, ends[1:])), 'tensors must be contiguous'
out = {}
for name, v in header.items():
    dt = {'F32': '<f4', 'I32': '<i4'}[v['dtype']]
    b, e = v['data_offsets']
    a = np.frombuffer(body[b:e], dtype=dt).reshape(v['shape'])
    out[name] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'data': a.ravel().tolist()}
print(json.dumps({'metadata': meta, 'tensors': out}))
`;

/** .npy files read by np.load; argv: the metadata JSON file, then name=path pairs. */
const PY_NPY = `
import json, sys
import numpy as np
meta = json.load(open(sys.argv[1]))
out = {}
for arg in sys.argv[2:]:
    name, file = arg.split('=', 1)
    a = np.load(file, allow_pickle=False)
    assert a.dtype.byteorder in '<=|' and a.flags['C_CONTIGUOUS']
    out[name] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'data': a.ravel().tolist()}
print(json.dumps({'metadata': meta, 'tensors': out}))
`;

const python = (script: string, ...args: string[]): PyExport =>
  JSON.parse(execFileSync(pythonWith(['numpy'], 'python3-numpy (Debian) or numpy (pip)'), ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 })) as PyExport;

const NAMES = ['logits', 'puzzles', 'q_continue', 'q_halt', 'solutions', 'z_H', 'z_L'];

/** The tensors the export must hold, built from engine traces (P puzzles × S segments). */
function expected(traces: PuzzleTrace[]): Record<string, { dtype: string; shape: number[]; data: number[] }> {
  const m = model();
  const S = traces[0].segments.length;
  const P = traces.length;
  const { totalLen, cells, vocab } = m.dims;
  const D = m.config.hidden;
  const seg = (f: (s: PuzzleTrace['segments'][number]) => ArrayLike<number> | number): number[] =>
    traces.flatMap((t) => t.segments.flatMap((s) => { const v = f(s); return typeof v === 'number' ? [v] : Array.from(v); }));
  return {
    logits: { dtype: 'float32', shape: [P, S, cells, vocab], data: seg((s) => s.logits) },
    puzzles: { dtype: 'int32', shape: [P, cells], data: traces.flatMap((t) => Array.from(t.puzzle)) },
    q_continue: { dtype: 'float32', shape: [P, S], data: seg((s) => s.qContinue) },
    q_halt: { dtype: 'float32', shape: [P, S], data: seg((s) => s.qHalt) },
    solutions: { dtype: 'int32', shape: [P, cells], data: traces.flatMap((t) => (t.solution ? Array.from(t.solution) : new Array<number>(cells).fill(-1))) },
    z_H: { dtype: 'float32', shape: [P, S, totalLen, D], data: seg((s) => s.zH as Float32Array) },
    z_L: { dtype: 'float32', shape: [P, S, totalLen, D], data: seg((s) => s.zL as Float32Array) },
  };
}

function assertSameTensors(got: PyExport, traces: PuzzleTrace[]): void {
  const want = expected(traces);
  assert.deepEqual(Object.keys(got.tensors).sort(), NAMES);
  for (const name of NAMES) {
    const g = got.tensors[name];
    const w = want[name];
    assert.equal(g.dtype, w.dtype, name);
    assert.deepEqual(g.shape, w.shape, name);
    assert.equal(g.data.length, w.data.length, name);
    // float32 values: Python's floats are their exact doubles, so equality is bit equality.
    const bad = g.data.findIndex((x, i) => x !== (w.dtype === 'float32' ? Math.fround(w.data[i]) : w.data[i]));
    assert.equal(bad, -1, `${name}[${bad}]: python ${g.data[bad]}, engine ${w.data[bad]}`);
  }
}

function gridOf(text: string): { puzzle: Grid; solution?: Grid } {
  const parsed = parsePuzzle(text, 4);
  if ('error' in parsed) throw new Error(parsed.error);
  const solved = solve(parsed.grid, geometry(4));
  return { puzzle: parsed.grid, solution: solved.solutions === 1 ? solved.solution : undefined };
}

const UNIQUE = '.1.....3..32....';
const AMBIGUOUS = '1...2...3...4...';

test('inspect --save-latents FILE.safetensors: Python parses the header by hand; values equal the engine trace', { timeout: 300_000 }, () => {
  const file = path.join(dir, 'inspect.safetensors');
  cli('inspect', '--checkpoint', SHIPPED_CHECKPOINT, '--puzzle', UNIQUE, '--segments', '3', '--save-latents', file);
  const got = python(PY_SAFETENSORS, file);
  const input = gridOf(UNIQUE);
  assert.ok(input.solution, 'the puzzle has one solution');
  assertSameTensors(got, captureTraces(model(), [input], { segments: 3 }));
  const meta = got.metadata as Record<string, string>;
  assert.equal(meta.format, 'hrm-lens-latents');
  assert.equal(meta.source, 'inspect');
  assert.equal(meta.checkpoint, SHIPPED_CHECKPOINT);
  assert.equal((JSON.parse(meta.config) as { hidden: number }).hidden, model().config.hidden);
  assert.deepEqual(JSON.parse(meta.dims), { puzzles: 1, segments: 3, seq: 17, prefix: 1, hidden: 64, cells: 16, vocab: 6 });
  assert.deepEqual(JSON.parse(meta.ids), [UNIQUE]);
  assert.match(meta.convention_segments, /index k = segment k\+1/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('inspect --save-latents FILE.npy: FILE.<tensor>.npy + FILE.json read by np.load; no unique solution → solutions −1', { timeout: 300_000 }, () => {
  const file = path.join(dir, 'amb.npy');
  cli('inspect', '--checkpoint', SHIPPED_CHECKPOINT, '--puzzle', AMBIGUOUS, '--segments', '2', '--save-latents', file);
  const got = python(PY_NPY, path.join(dir, 'amb.json'), ...NAMES.map((n) => `${n}=${path.join(dir, `amb.${n}.npy`)}`));
  const input = gridOf(AMBIGUOUS);
  assert.equal(input.solution, undefined);
  assertSameTensors(got, captureTraces(model(), [input], { segments: 2 }));
  assert.deepEqual(got.tensors.solutions.data, new Array<number>(16).fill(-1));
  const meta = got.metadata as { format: string; dims: { segments: number }; tensors: Record<string, { dtype: string; shape: number[] }> };
  assert.equal(meta.format, 'hrm-lens-latents');
  assert.equal(meta.dims.segments, 2);
  assert.deepEqual(meta.tensors.z_H, { dtype: 'float32', shape: [1, 2, 17, 64] });
  assert.equal(existsSync(file), false, 'FILE.npy itself is not written');
});

test('classify --save-latents FOLDER: every batch lands at its puzzles (3 puzzles, batches of 2)', { timeout: 300_000 }, async () => {
  const folder = path.join(dir, 'classify-latents');
  cli('classify', '--checkpoint', SHIPPED_CHECKPOINT, '--generate', '3', '--seed', '4', '--segments', '2', '--batch', '2', '--json', '--save-latents', folder);
  const got = python(PY_NPY, path.join(folder, 'metadata.json'), ...NAMES.map((n) => `${n}=${path.join(folder, `${n}.npy`)}`));
  const { puzzles } = await loadPuzzleSource({ generate: '3', seed: '4' }, 4);
  assertSameTensors(got, captureTraces(model(), puzzles, { segments: 2 }));
  assert.deepEqual((got.metadata as { ids: string[] }).ids, ['gen 0', 'gen 1', 'gen 2']);
  assert.deepEqual(readdirSync(folder).sort(), ['logits.npy', 'metadata.json', 'puzzles.npy', 'q_continue.npy', 'q_halt.npy', 'solutions.npy', 'z_H.npy', 'z_L.npy']);
});

test('the engine method inspect.latents writes the same export the CLI does', { timeout: 300_000 }, async () => {
  const file = path.join(dir, 'method.safetensors');
  const ctx = { id: 1, signal: new AbortController().signal, progress: () => {}, log: () => {} };
  const r = await inspectLatents({ checkpoint: SHIPPED_CHECKPOINT, puzzle: UNIQUE, segments: 2, file }, ctx);
  assert.deepEqual(r.files, [file]);
  assertSameTensors(python(PY_SAFETENSORS, file), captureTraces(model(), [gridOf(UNIQUE)], { segments: 2 }));
  await assert.rejects(Promise.resolve(inspectLatents({ checkpoint: SHIPPED_CHECKPOINT, puzzle: UNIQUE, file: '' }, ctx)), /file must be a path/);
});

test('a failed export leaves nothing; an unfinished one is refused; a file where a folder goes is a DataError', () => {
  const m = model();
  const traces = captureTraces(m, [gridOf(UNIQUE), gridOf(AMBIGUOUS)], { segments: 2 });
  const sub = path.join(dir, 'fail');
  const w = openLatentsExport(path.join(sub, 'x.safetensors'), m, { checkpoint: 'c', source: 'test', ids: ['a', 'b'], segments: 2 });
  w.write(traces.slice(0, 1), 0);
  assert.throws(() => w.commit(), /puzzle 1 was not written/);
  assert.throws(() => w.write(traces.slice(0, 1), 0), /written twice/);
  assert.throws(() => w.write(captureTraces(m, [gridOf(UNIQUE)], { segments: 1 }), 1), /1 segments, the export 2/);
  assert.throws(() => w.write(captureTraces(m, [gridOf(UNIQUE)], { segments: 2, latents: false }), 1), /without z_H/);
  w.abort();
  assert.deepEqual(readdirSync(sub), []);
  const plain = path.join(dir, 'plain-file');
  writeFileSync(plain, 'x');
  assert.throws(() => openLatentsExport(plain, m, { checkpoint: 'c', source: 'test', ids: ['a'], segments: 1 }),
    (e: unknown) => e instanceof DataError && e.message.includes('plain-file') && /needs a folder/.test(e.message));
});

test('an export larger than the free disk space is refused before anything is written', () => {
  const sub = path.join(dir, 'huge');
  const layout = { ...latentsLayout(model(), 100_000, 256), hidden: 1 << 20 };
  assert.throws(() => LatentsWriter.open(path.join(sub, 'x.safetensors'), layout, { checkpoint: 'c', config: {}, source: 'test', ids: new Array<string>(100_000).fill('p') }),
    (e: unknown) => e instanceof DataError && /the latents need .* only .* free/.test(e.message));
  assert.deepEqual(readdirSync(sub), []);
});
