/**
 * `--save-latents FILE` with `--backend torch`: `hrm-lens inspect` and `hrm-lens classify` write the traces the
 * PyTorch worker records in the layout the TF.js engine writes. The same puzzles saved with both backends are read
 * back by numpy (the safetensors header parsed by hand, the .npy files by np.load): the same files, tensor names,
 * dtypes, shapes and description; the digits identical; every float within 1e-4 (times the tensor's largest |value|
 * where that exceeds 1: a trained model's logits reach ±180, where float32's spacing is already 1.5e-5).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pythonWith } from './helpers/python-with';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const TINY = path.join(root, 'models', 'tiny-4x4.safetensors');
const HARD = path.join(root, 'models', 'hard-6x6.safetensors');
/**
 * Largest |Δ| of a float between the backends, per unit of scale (float32 sums in another order over a few segments;
 * measured on hard-6x6 over 6 segments: z_H, z_L 3.4e-5, q 2.8e-5, logits 1.1e-3 at a scale of 180).
 */
const TOLERANCE = 1e-4;
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-torch-latents-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], {
    cwd: root, encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HRM_LENS_THREADS: '1' },
  });
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1'];

/**
 * Both exports read by numpy; argv: kind (safetensors | folder), path A, path B. Prints per tensor the dtype and
 * shape of each side and the largest |a − b|, plus both descriptions.
 */
const PY_COMPARE = `
import json, os, struct, sys
import numpy as np
def read(kind, p):
    if kind == 'safetensors':
        raw = open(p, 'rb').read()
        n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n].decode('utf-8'))
        meta = header.pop('__metadata__')
        body = raw[8 + n:]
        out = {}
        for name, v in header.items():
            b, e = v['data_offsets']
            out[name] = np.frombuffer(body[b:e], dtype={'F32': '<f4', 'I32': '<i4'}[v['dtype']]).reshape(v['shape'])
        return meta, out
    meta = json.load(open(os.path.join(p, 'metadata.json')))
    return meta, {f[:-4]: np.load(os.path.join(p, f), allow_pickle=False) for f in os.listdir(p) if f.endswith('.npy')}
kind, a, b = sys.argv[1:4]
ma, ta = read(kind, a)
mb, tb = read(kind, b)
res = {}
for name in sorted(set(ta) | set(tb)):
    x, y = ta.get(name), tb.get(name)
    if x is None or y is None:
        res[name] = {'missing': 'a' if x is None else 'b'}
        continue
    d = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.shape == y.shape and x.size else (0.0 if x.shape == y.shape else None)
    res[name] = {'a': [str(x.dtype), list(x.shape)], 'b': [str(y.dtype), list(y.shape)], 'maxdiff': d, 'scale': float(np.max(np.abs(x))) if x.size else 0.0, 'finite': bool(np.isfinite(x).all() and np.isfinite(y).all())}
print(json.dumps({'tensors': res, 'meta_a': ma, 'meta_b': mb}))
`;

interface Compared {
  tensors: Record<string, { a: [string, number[]]; b: [string, number[]]; maxdiff: number | null; scale: number; finite: boolean; missing?: string }>;
  meta_a: Record<string, unknown>;
  meta_b: Record<string, unknown>;
}

const NAMES = ['logits', 'puzzles', 'q_continue', 'q_halt', 'solutions', 'z_H', 'z_L'];

function compare(kind: 'safetensors' | 'folder', a: string, b: string): Compared {
  const python = pythonWith(['numpy'], 'python3-numpy (Debian) or numpy (pip)');
  return JSON.parse(execFileSync(python, ['-c', PY_COMPARE, kind, a, b], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 })) as Compared;
}

function assertSameExport(c: Compared, dims: Record<string, number>): void {
  assert.deepEqual(Object.keys(c.tensors), NAMES);
  for (const name of NAMES) {
    const t = c.tensors[name];
    assert.equal(t.missing, undefined, `${name} in both`);
    assert.deepEqual(t.a, t.b, `${name}: the same dtype and shape`);
    assert.ok(t.finite, `${name} finite`);
    const limit = t.a[0] === 'int32' ? 0 : TOLERANCE * Math.max(1, t.scale);
    assert.ok(t.maxdiff !== null && t.maxdiff <= limit, `${name}: the backends differ by ${t.maxdiff}`);
  }
  const desc = (m: Record<string, unknown>) => {
    const parse = (v: unknown) => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) as unknown : v);
    return { format: m.format, source: m.source, checkpoint: m.checkpoint, config: parse(m.config), dims: parse(m.dims), ids: parse(m.ids) };
  };
  assert.deepEqual(desc(c.meta_a), desc(c.meta_b), 'the same description');
  assert.deepEqual(desc(c.meta_a).dims, dims);
}

test('inspect --save-latents FILE.safetensors with --backend torch: the TF.js export\'s layout and values within 1e-4', { timeout: 900_000 }, () => {
  const puzzle = '.1.....3..32....';
  const common = ['inspect', '--checkpoint', TINY, '--puzzle', puzzle, '--segments', '4', '--json'];
  const wasm = path.join(dir, 'inspect-wasm.safetensors');
  const torch = path.join(dir, 'inspect-torch.safetensors');
  cli(...common, '--backend', 'wasm', '--save-latents', wasm);
  const out = JSON.parse(cli(...common, ...torchArgs(), '--save-latents', torch)) as { segments: unknown[] };
  assert.equal(out.segments.length, 4, 'the inspection itself is reported too');
  assertSameExport(compare('safetensors', wasm, torch), { puzzles: 1, segments: 4, seq: 17, prefix: 1, hidden: 64, cells: 16, vocab: 6 });
});

test('classify --save-latents FOLDER with --backend torch (hard-6x6, batches of 5): the TF.js export within 1e-4 of its scale', { timeout: 900_000 }, () => {
  const common = ['classify', '--checkpoint', HARD, '--generate', '12', '--seed', '3', '--segments', '6', '--batch', '5', '--json'];
  const wasm = path.join(dir, 'classify-wasm');
  const torch = path.join(dir, 'classify-torch');
  cli(...common, '--backend', 'wasm', '--save-latents', wasm);
  cli(...common, ...torchArgs(), '--save-latents', torch);
  assert.deepEqual(readdirSync(torch).sort(), readdirSync(wasm).sort());
  const c = compare('folder', wasm, torch);
  assertSameExport(c, { puzzles: 12, segments: 6, seq: 37, prefix: 1, hidden: 64, cells: 36, vocab: 8 });
  assert.deepEqual(JSON.parse(JSON.stringify(c.meta_b.ids)), Array.from({ length: 12 }, (_, i) => `gen ${i}`));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
});
