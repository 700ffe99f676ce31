/**
 * `hrm-lens export --format hrm-official`: a run's checkpoint written as the reference PyTorch code saves it (a
 * torch.save zip of the loss head's state dict, keys under `model.inner.`, plus all_config.yaml), by TypeScript alone.
 * The written files are read back by the project's own readers: the importer turns them into the same model (the
 * same weights, the same per-segment logits), the zip and pickle are what torch.save writes (64-byte aligned stored
 * entries, the allow-listed globals only), and the YAML is what the reference and the importer read. Bad input is a
 * DataError naming the file, and nothing is written then.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { selectBackend } from '../../engine/backend';
import { exportFormat, exportOfficial } from '../../engine/interop/export-official';
import { importCheckpoint } from '../../engine/interop/import-checkpoint';
import { parseReferenceConfigYaml } from '../../engine/interop/hrm-keys';
import { parseTorchCheckpoint } from '../../engine/interop/torch-zip';
import { ZipArchive } from '../../engine/interop/zip-entries';
import { scanPickle, unpickle, PyDict, PyGlobal, PyTuple } from '../../engine/interop/pickle';
import { PyCall, PyDictOut, PyPersistentId, encodePickle } from '../../engine/interop/pickle-writer';
import { encodeStoredZip } from '../../engine/interop/zip-writer';
import { pyYamlFloat } from '../../engine/interop/official-config';
import { bf16ToF32, f32ToBf16, readSafetensors } from '../../engine/interop/safetensors';
import { loadModel } from '../../engine/train/load-model';
import { DataError } from '../../engine/util/errors';
import { PUZZLES_4, maxAbsDiff, randomRun, sameBits, segmentLogits, shippedRun, tokens } from './helpers/official-export';

const root = path.resolve(__dirname, '..', '..');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'hrm-export-'));

before(async () => {
  await selectBackend({ backend: 'cpu' });
});

/** The run's checkpoint tensors (PyTorch layout) by engine name. */
async function sourceTensors(dir: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const file = readdirSync(dir).find((f) => /^step-\d+\.safetensors$/.test(f)) as string;
  const st = await readSafetensors(path.join(dir, file));
  return new Map([...st.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
}

test('a trained run exports to model.inner. keys and imports back with the same weights and per-segment logits', async (tc) => {
  const t = tmp();
  const run = shippedRun(t);
  const r = await exportOfficial(run);
  assert.equal(r.dir, `${run}-hrm-official`);
  assert.equal(r.file, path.join(r.dir, 'step_2000'));
  assert.deepEqual(readdirSync(r.dir).sort(), ['all_config.yaml', 'step_2000'], 'only the two files, no temp files left');
  // The SwiGLU width 96 (interMultiple 32) is padded to the reference's multiple of 256.
  assert.deepEqual(r.swiglu, { inter: 96, written: 256, expansion: 2 });

  const ck = parseTorchCheckpoint(new Uint8Array(readFileSync(r.file)), r.file);
  assert.equal(ck.archive, 'archive');
  const src = await sourceTensors(run);
  assert.deepEqual([...ck.tensors.keys()].sort(), [...src.keys()].map((k) => `model.inner.${k}`).sort());
  for (const [name, s] of src) {
    const w = ck.tensors.get(`model.inner.${name}`);
    assert.ok(w, name);
    assert.equal(w.dtype, 'float32');
    if (name.endsWith('gate_up_proj.weight')) {
      const D = s.shape[1];
      assert.deepEqual(w.shape, [512, D]);
      assert.ok(sameBits(w.data.subarray(0, 96 * D), s.data.subarray(0, 96 * D)), 'gate rows');
      assert.ok(sameBits(w.data.subarray(256 * D, 352 * D), s.data.subarray(96 * D)), 'up rows');
      assert.ok(w.data.subarray(96 * D, 256 * D).every((x) => x === 0) && w.data.subarray(352 * D).every((x) => x === 0), 'zero padding');
    } else if (name.endsWith('down_proj.weight')) {
      const D = s.shape[0];
      assert.deepEqual(w.shape, [D, 256]);
      for (let row = 0; row < D; row++) {
        assert.ok(sameBits(w.data.subarray(row * 256, row * 256 + 96), s.data.subarray(row * 96, row * 96 + 96)), `down row ${row}`);
        assert.ok(w.data.subarray(row * 256 + 96, row * 256 + 256).every((x) => x === 0));
      }
    } else {
      assert.deepEqual(w.shape, s.shape, name);
      assert.ok(sameBits(w.data, s.data), `${name} bit-identical`);
    }
  }

  // The importer reads it back (with the all_config.yaml beside it): the same function.
  const imported = await importCheckpoint(r.file, { out: path.join(t, 'reimported') });
  assert.deepEqual(imported.notes, [], 'the YAML tells the importer everything');
  assert.equal(imported.step, 2000);
  const original = await loadModel(path.join(run, 'step-002000.safetensors'));
  const back = await loadModel(imported.file);
  try {
    for (const k of ['gridSize', 'hidden', 'heads', 'H_layers', 'L_layers', 'H_cycles', 'L_cycles', 'haltMaxSteps', 'positions', 'puzzleEmbLen', 'variant'] as const) {
      assert.equal(back.model.config[k], original.model.config[k], k);
    }
    const a = segmentLogits(original.model, tokens(PUZZLES_4), 4);
    const b = segmentLogits(back.model, tokens(PUZZLES_4), 4);
    tc.diagnostic(`SwiGLU padded 96 → 256: max |Δ logits| over 4 segments = ${maxAbsDiff(a, b).toExponential(2)}`);
    assert.ok(maxAbsDiff(a, b) <= 1e-5, `logits differ by ${maxAbsDiff(a, b)}`);
  } finally {
    original.model.dispose();
    back.model.dispose();
  }

  // all_config.yaml: the reference's fields, the run's training settings, and what the importer needs.
  const text = readFileSync(r.configFile, 'utf8');
  const doc = parseYaml(text) as { arch: Record<string, unknown>; [k: string]: unknown };
  assert.equal(doc.arch.name, 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1');
  assert.deepEqual(doc.arch.loss, { name: 'losses@ACTLossHead', loss_type: 'softmax_cross_entropy' });
  assert.deepEqual(
    { H_cycles: 2, L_cycles: 2, H_layers: 1, L_layers: 1, hidden_size: 64, num_heads: 2, expansion: 2, pos_encodings: 'learned', halt_max_steps: 4, puzzle_emb_ndim: 64 },
    Object.fromEntries(['H_cycles', 'L_cycles', 'H_layers', 'L_layers', 'hidden_size', 'num_heads', 'expansion', 'pos_encodings', 'halt_max_steps', 'puzzle_emb_ndim'].map((k) => [k, doc.arch[k]])));
  assert.equal(doc.global_batch_size, 64);
  assert.equal(doc.lr, 1e-3);
  assert.equal(typeof doc.data_path, 'string');
  for (const k of ['epochs', 'lr_min_ratio', 'lr_warmup_steps', 'weight_decay', 'beta1', 'beta2', 'puzzle_emb_lr', 'puzzle_emb_weight_decay']) {
    assert.equal(typeof doc[k], 'number', k);
  }
  const arch = parseReferenceConfigYaml(text, r.configFile);
  assert.equal(arch.hidden_size, 64);
});

test('an HRM whose SwiGLU width is a multiple of 256 and a TRM round-trip bit for bit, logits identical', async () => {
  const t = tmp();
  const cases = [
    randomRun(t, 'hrm-rope', { gridSize: 4, hidden: 32, heads: 2, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 1, haltMaxSteps: 3, positions: 'rope', puzzleEmbLen: 1, variant: 'hrm' }, 3),
    randomRun(t, 'trm', { gridSize: 4, hidden: 32, heads: 2, expansion: 4, interMultiple: 256, H_layers: 0, L_layers: 2, H_cycles: 2, L_cycles: 3, haltMaxSteps: 3, positions: 'rope', puzzleEmbLen: 16, variant: 'trm' }, 4),
  ];
  for (const { dir, config } of cases) {
    const r = await exportOfficial(dir);
    assert.equal(r.swiglu.written, r.swiglu.inter);
    assert.equal(r.variant, config.variant);
    const doc = parseYaml(readFileSync(r.configFile, 'utf8')) as { arch: Record<string, unknown>; data_paths?: unknown; data_path?: unknown };
    if (config.variant === 'trm') {
      assert.equal(doc.arch.name, 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1');
      assert.equal(doc.arch.puzzle_emb_len, 16);
      assert.equal(doc.arch.mlp_t, false);
      assert.ok(Array.isArray(doc.data_paths), 'TRM reads data_paths');
    } else {
      assert.equal(typeof doc.data_path, 'string');
    }
    const imported = await importCheckpoint(r.file, { out: path.join(t, `${path.basename(dir)}-back`) });
    assert.equal(imported.variant, config.variant);
    assert.equal(imported.config.puzzleEmbLen, config.puzzleEmbLen);
    const back = await readSafetensors(imported.file);
    const src = await sourceTensors(dir);
    assert.deepEqual([...back.tensors.keys()].sort(), [...src.keys()].sort());
    for (const [name, s] of src) assert.ok(sameBits(back.tensors.get(name)?.data as Float32Array, s.data), `${config.variant} ${name}`);
    const a = await loadModel(path.join(dir, 'step-000007.safetensors'));
    const b = await loadModel(imported.file);
    try {
      const la = segmentLogits(a.model, tokens(PUZZLES_4), 2);
      const lb = segmentLogits(b.model, tokens(PUZZLES_4), 2);
      assert.ok(sameBits(la, lb), `${config.variant}: logits differ by ${maxAbsDiff(la, lb)}`);
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  }
});

test('--dtype bf16 rounds every tensor to nearest even, --dtype reference only H_init / L_init; --compiled adds _orig_mod.', async () => {
  const t = tmp();
  const run = shippedRun(t);
  const src = await sourceTensors(run);
  const bf = await exportOfficial(run, { dtype: 'bf16', out: path.join(t, 'bf16') });
  const ck = parseTorchCheckpoint(new Uint8Array(readFileSync(bf.file)), bf.file);
  for (const [name, s] of src) {
    if (name.includes('mlp.')) continue; // padded: checked in the fp32 test
    const w = ck.tensors.get(`model.inner.${name}`);
    assert.equal(w?.dtype, 'bfloat16', name);
    const rounded = Float32Array.from(s.data, (x) => bf16ToF32(f32ToBf16(x)));
    assert.ok(sameBits(w.data, rounded), `${name} rounded to nearest even`);
  }
  const ref = await exportOfficial(run, { dtype: 'reference', compiled: true, out: path.join(t, 'ref') });
  const ck2 = parseTorchCheckpoint(new Uint8Array(readFileSync(ref.file)), ref.file);
  for (const [key, w] of ck2.tensors) {
    assert.ok(key.startsWith('_orig_mod.model.inner.'), key);
    assert.equal(w.dtype, /\.(H|L)_init$/.test(key) ? 'bfloat16' : 'float32', key);
  }
  // The importer strips both prefixes.
  const imported = await importCheckpoint(ref.file, { out: path.join(t, 'ref-back') });
  assert.deepEqual(Object.keys(imported.prefixes), ['_orig_mod.model.inner.']);
});

test('the puzzle prefix as the reference builds it: none (ndim 0), or an HRM prefix of k positions as k·hidden columns', async () => {
  const t = tmp();
  const none = randomRun(t, 'none', { gridSize: 4, hidden: 32, heads: 2, interMultiple: 256, haltMaxSteps: 2, puzzleEmbLen: 0 }, 11);
  const r0 = await exportOfficial(none.dir);
  assert.ok(!r0.keys.some((k) => k.key.includes('puzzle_emb')));
  assert.equal((parseYaml(readFileSync(r0.configFile, 'utf8')) as { arch: { puzzle_emb_ndim: number } }).arch.puzzle_emb_ndim, 0);
  const three = randomRun(t, 'three', { gridSize: 4, hidden: 32, heads: 2, interMultiple: 256, haltMaxSteps: 2, puzzleEmbLen: 3 }, 12);
  const r3 = await exportOfficial(three.dir);
  assert.equal((parseYaml(readFileSync(r3.configFile, 'utf8')) as { arch: { puzzle_emb_ndim: number } }).arch.puzzle_emb_ndim, 96);
  const ck = parseTorchCheckpoint(new Uint8Array(readFileSync(r3.file)), r3.file);
  const pe = ck.tensors.get('model.inner.puzzle_emb.weights');
  assert.deepEqual(pe?.shape, [1, 96]);
  const src = (await sourceTensors(three.dir)).get('puzzle_emb.weights') as { data: Float32Array };
  assert.ok(sameBits(pe.data.subarray(0, 32), src.data) && pe.data.subarray(32).every((x) => x === 0));
  assert.ok(r3.notes.some((n) => n.startsWith('puzzle_emb.weights zero-padded')));
});

test('the zip is torch.save\'s layout: stored, CRC-checked, 64-byte aligned, allow-listed globals only', () => {
  const t = tmp();
  const { dir } = randomRun(t, 'small', { gridSize: 4, hidden: 32, heads: 2, expansion: 4, interMultiple: 256, H_layers: 1, L_layers: 1, haltMaxSteps: 2 }, 5);
  return exportOfficial(dir).then((r) => {
    const bytes = new Uint8Array(readFileSync(r.file));
    const zip = new ZipArchive(bytes, r.file);
    const names = zip.entries.map((e) => e.name);
    assert.equal(names[0], 'archive/data.pkl');
    assert.ok(names.includes('archive/version') && names.includes('archive/byteorder'));
    assert.equal(new TextDecoder().decode(zip.read('archive/version')), '3\n');
    for (const e of zip.entries) {
      assert.equal(e.method, 0, `${e.name} stored`);
      const lv = new DataView(bytes.buffer, e.localHeaderOffset);
      const dataAt = e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
      assert.equal(dataAt % 64, 0, `${e.name} data at ${dataAt}`);
      zip.read(e.name); // verifies the CRC
    }
    const scan = scanPickle(zip.read('archive/data.pkl'));
    assert.equal(scan.protocol, 2);
    assert.deepEqual([...new Set(scan.globals)].sort(), ['collections.OrderedDict', 'torch.FloatStorage', 'torch._utils._rebuild_tensor_v2']);
    // Deterministic: the same checkpoint gives the same bytes.
    return exportOfficial(dir, { out: path.join(t, 'again') }).then((r2) => {
      assert.ok(Buffer.from(readFileSync(r2.file)).equals(Buffer.from(bytes)));
    });
  });
});

test('the pickle writer round-trips through the project\'s pickle reader (ints of every width, floats, unicode, batches)', () => {
  const big = Array.from({ length: 2500 }, (_, i) => i * 37 - 1000);
  const entries = Array.from({ length: 1200 }, (_, i): [string, number] => [`k${i}`, i]);
  const value = new PyTuple([
    0, 255, 256, 65535, 65536, -1, -2147483648, 2147483647, 2147483648, -2147483649, 2 ** 53 - 1, 12345678901234567890n, -(2n ** 70n),
    0.5, -1e-7, 3.14, 'ünïcödé ✓', '', true, false, null, big, new PyTuple([]), new PyTuple([1]), new PyTuple([1, 2, 3, 4, 5]),
  ]);
  const bytes = encodePickle(new PyDictOut([['v', value as never], ['d', new PyDictOut(entries, true)]], false));
  const globals = new Map([['collections.OrderedDict', {
    call: (): PyDict => new PyDict(true),
  }]]);
  const got = unpickle(bytes, { allowedGlobals: globals });
  assert.ok(got instanceof PyDict);
  const v = got.map.get('v') as PyTuple;
  const items = v.items;
  assert.deepEqual(items.slice(0, 10).map(Number), [0, 255, 256, 65535, 65536, -1, -2147483648, 2147483647, 2147483648, -2147483649]);
  assert.equal(BigInt(items[10] as number), 2n ** 53n - 1n);
  assert.equal(BigInt(items[11] as bigint), 12345678901234567890n);
  assert.equal(BigInt(items[12] as bigint), -(2n ** 70n));
  assert.deepEqual(items.slice(13, 21), [0.5, -1e-7, 3.14, 'ünïcödé ✓', '', true, false, null]);
  assert.deepEqual(items[21], big);
  assert.deepEqual((items[22] as PyTuple).items, []);
  assert.deepEqual((items[24] as PyTuple).items, [1, 2, 3, 4, 5]);
  const d = got.map.get('d') as PyDict;
  assert.equal(d.ordered, true);
  assert.equal(d.map.size, 1200);
  assert.equal(d.map.get('k1199'), 1199);
  // Tensors as torch.save writes them: GLOBAL memoised once, fetched with BINGET after.
  const call = (i: number): PyCall => new PyCall(new PyGlobal('torch._utils', '_rebuild_tensor_v2'), [
    new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', 'FloatStorage'), String(i), 'cpu', 1])), 0, new PyTuple([1]), new PyTuple([1]), false, new PyDictOut([], true),
  ]);
  const two = encodePickle(new PyDictOut([['a', call(0)], ['b', call(1)]], true));
  assert.equal(scanPickle(two).globals.length, 3, 'each global written once');
  // An archive with a name that needs padding of fewer than 4 bytes still aligns.
  for (let n = 1; n < 70; n++) {
    const zip = encodeStoredZip([{ name: 'x'.repeat(n), data: Uint8Array.of(1, 2, 3) }, { name: 'y', data: Uint8Array.of(4) }]);
    const z = new ZipArchive(zip, 'test.zip');
    for (const e of z.entries) {
      const lv = new DataView(zip.buffer, e.localHeaderOffset);
      assert.equal((e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true)) % 64, 0);
    }
    assert.deepEqual([...z.read('x'.repeat(n))], [1, 2, 3]);
  }
});

test('YAML floats are written so that PyYAML reads floats (a dot and a signed exponent)', () => {
  assert.equal(pyYamlFloat(1e-7), '1.0e-07');
  assert.equal(pyYamlFloat(2.5e-8), '2.5e-08');
  assert.equal(pyYamlFloat(0.1), '0.1');
  assert.equal(pyYamlFloat(1e-5), '0.00001');
  assert.equal(pyYamlFloat(3), '3.0');
  assert.equal(pyYamlFloat(1.5e300), '1.5e+300');
});

test('bad input is a DataError naming the file, and nothing is written', async () => {
  const t = tmp();
  const missing = path.join(t, 'nope');
  const isData = (where: string, field?: string) => (err: unknown): boolean => {
    assert.ok(err instanceof DataError, String(err));
    assert.equal(err.location.file, where, err.message);
    if (field !== undefined) assert.equal(err.location.field, field, err.message);
    return true;
  };
  await assert.rejects(() => exportOfficial(missing), isData(missing, 'run'));
  const aFile = path.join(t, 'file.safetensors');
  writeFileSync(aFile, 'x');
  await assert.rejects(() => exportOfficial(aFile), isData(aFile, 'run'));
  const empty = path.join(t, 'empty-run');
  mkdirSync(empty);
  await assert.rejects(() => exportOfficial(empty), isData(empty, 'run'));
  assert.throws(() => exportFormat('onnx', empty), isData(empty, 'format'));
  // A truncated checkpoint.
  const broken = path.join(t, 'broken-run');
  mkdirSync(broken);
  const bad = path.join(broken, 'step-000010.safetensors');
  writeFileSync(bad, readFileSync(path.join(root, 'models', 'tiny-4x4.safetensors')).subarray(0, 5000));
  await assert.rejects(() => exportOfficial(broken), isData(bad));
  assert.ok(!existsSync(`${broken}-hrm-official`), 'nothing written');
  // A named checkpoint that does not exist; an unknown dtype.
  const run = shippedRun(t);
  await assert.rejects(() => exportOfficial(run, { checkpoint: 'step-000001.safetensors' }), isData(path.join(run, 'step-000001.safetensors'), 'checkpoint'));
  await assert.rejects(() => exportOfficial(run, { dtype: 'fp8' as never }), isData(run, 'dtype'));
  // An all_config.yaml of another model in the output folder is not overwritten.
  const out = path.join(t, 'shared');
  const other = randomRun(t, 'other', { gridSize: 4, hidden: 32, heads: 2, interMultiple: 256, haltMaxSteps: 2 }, 9);
  await exportOfficial(other.dir, { out });
  const before = readFileSync(path.join(out, 'all_config.yaml'), 'utf8');
  await assert.rejects(() => exportOfficial(run, { out }), isData(path.join(out, 'all_config.yaml'), 'arch'));
  assert.equal(readFileSync(path.join(out, 'all_config.yaml'), 'utf8'), before);
  assert.ok(!existsSync(path.join(out, 'step_2000')));
  // The same model again into the same folder is fine (a second checkpoint of one run).
  await exportOfficial(other.dir, { out });
});

test('the CLI writes the files and reports them; a wrong --format fails naming the run', { timeout: 120_000 }, () => {
  const t = tmp();
  const run = shippedRun(t);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), 'export', ...args],
    { cwd: root, encoding: 'utf8' });
  const ok = cli('--format', 'hrm-official', run, '--json', '--out', path.join(t, 'exported'));
  assert.equal(ok.status, 0, ok.stderr);
  const r = JSON.parse(ok.stdout) as { file: string; configFile: string; keys: { key: string }[] };
  assert.equal(r.file, path.join(t, 'exported', 'step_2000'));
  assert.ok(existsSync(r.file) && existsSync(r.configFile));
  assert.ok(r.keys.every((k) => k.key.startsWith('model.inner.')));
  const bad = cli('--format', 'onnx', run);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /format.*unknown export format "onnx"/);
  assert.ok(bad.stderr.includes(run), bad.stderr);
});
