/**
 * Hostile checkpoint files, generated in a temp folder: deep nesting in a pickle (dict chains, lists as a tensor's
 * size or offset, cycles, containers grown after nesting), deeply nested JSON / npy headers, zip bombs (a 1 GiB
 * deflated storage in a 1 MB file, sizes that disagree, a bomb in data.pkl), many views of one storage, and totals
 * over the cap. Each must end in a DataError naming the file and the position, without a stack overflow, and
 * without inflating or copying what it refuses; shared storages load once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readTorchCheckpoint, TORCH_ALLOWED_GLOBALS, TORCH_LIMITS } from '../../engine/interop/torch-zip';
import { PICKLE_LIMITS, unpickle } from '../../engine/interop/pickle';
import { ZIP_LIMITS } from '../../engine/interop/zip-entries';
import { f32ToBf16, f32ToF16, readSafetensors } from '../../engine/interop/safetensors';
import { readNpy } from '../../engine/interop/npy';
import { DataError } from '../../engine/util/errors';
import {
  PickleWriter, type StorageType, type TensorSpec, deflatedZeros, f32Bytes, peakRss, resetPeakRss, stateDictPickle, tensorPickle,
  torchZip, withSharedDirectoryEntry, zipOf,
} from './helpers/hostile-files';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const DEEP = 20_000;

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Asserts a DataError naming `file` whose message matches every pattern (and is short). */
async function refuses(p: Promise<unknown>, file: string, ...patterns: RegExp[]): Promise<DataError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${caught instanceof Error ? `${caught.name}: ${caught.message.slice(0, 300)}` : String(caught)}`);
  const e = caught;
  assert.ok(e.message.includes(file), `the message names the file: ${e.message}`);
  for (const re of patterns) assert.match(e.message, re);
  assert.ok(e.message.length < 1000, `a short message (${e.message.length} characters)`);
  return e;
}

/** Runs `fn` and returns its result with how far the resident set peaked above where it started. */
async function peakGrowth<T>(fn: () => Promise<T>): Promise<{ value: T | undefined; error: unknown; growth: number }> {
  const start = resetPeakRss();
  let value: T | undefined;
  let error: unknown;
  try {
    value = await fn();
  } catch (err) {
    error = err;
  }
  return { value, error, growth: peakRss() - start };
}

const ONE = { name: 'w', key: '0', numel: 4, size: [4] };
const oneStorage = [{ key: '0', data: f32Bytes([1, 2, 3, 4]) }];

// ---------------------------------------------------------------------------------------------------------------
// Zip bombs (first, so that the peaks they measure are not hidden by the larger files below).

test('a zip bomb (1 GiB of deflated zeros in a 1 MB checkpoint) is refused before inflating, naming the storage and sizes', async () => {
  const bomb = deflatedZeros(GiB);
  const numel = GiB / 4;
  const pkl = stateDictPickle([{ name: 'big', key: '0', numel, size: [numel] }]);
  const file = write('bomb.pt', torchZip(pkl, [{ key: '0', deflated: bomb, size: GiB }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  await refuses(Promise.reject(r.error), file, /storage data\/0/, new RegExp(`${bomb.length} bytes to ${GiB}`), /zip bomb/);
  assert.ok(r.growth < 100 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB`);
});

test('a storage whose zip entry declares more bytes than its tensors need is refused before inflating', async () => {
  const pkl = stateDictPickle([ONE]);
  const file = write('mismatch.pt', torchZip(pkl, [{ key: '0', deflated: deflatedZeros(GiB), size: GiB }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  await refuses(Promise.reject(r.error), file, /storage data\/0/, /4 float32 elements \(16 bytes\)/, new RegExp(`holds ${GiB} bytes`));
  assert.ok(r.growth < 100 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB`);
});

test('a zip entry that inflates past its declared size stops there', async () => {
  const pkl = stateDictPickle([ONE]);
  const file = write('liar.pt', torchZip(pkl, [{ key: '0', deflated: deflatedZeros(GiB), size: 16 }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  await refuses(Promise.reject(r.error), file, /storage data\/0/, /inflates to more than the 16 bytes/);
  assert.ok(r.growth < 100 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB`);
});

test('a zip bomb in data.pkl is refused before inflating', async () => {
  const file = write('pkl-bomb.pt', zipOf([{ name: 'a/data.pkl', deflated: deflatedZeros(GiB), size: GiB }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  await refuses(Promise.reject(r.error), file, /data\.pkl/, new RegExp(`${GiB} bytes, more than the ${TORCH_LIMITS.maxPickleBytes}`));
  assert.ok(r.growth < 100 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB`);
});

test('zip entries that share bytes, and too many entries, are refused', async () => {
  // Two storages whose central-directory entries point at the same local entry.
  const zip = torchZip(stateDictPickle([ONE, { ...ONE, name: 'v', key: '1' }]), oneStorage);
  const shared = withSharedDirectoryEntry(zip);
  const file = write('overlap.pt', shared);
  await refuses(readTorchCheckpoint(file), file, /overlaps/, /archive\/data\/[01]/);

  // A zip64 directory that claims one entry too many (room for them, but no entries: the count is refused first).
  const count = ZIP_LIMITS.maxEntries + 1;
  const cdSize = 46 * count;
  const many = new Uint8Array(cdSize + 56 + 20 + 22);
  const mv = new DataView(many.buffer);
  many.set([0x50, 0x4b]); // the "PK" a zip starts with
  mv.setUint32(cdSize, 0x06064b50, true);
  mv.setUint32(cdSize + 32, count, true);
  mv.setUint32(cdSize + 40, cdSize, true);
  mv.setUint32(cdSize + 48, 0, true);
  mv.setUint32(cdSize + 56, 0x07064b50, true);
  mv.setUint32(cdSize + 56 + 8, cdSize, true);
  mv.setUint32(cdSize + 76, 0x06054b50, true);
  mv.setUint16(cdSize + 76 + 10, 0xffff, true);
  mv.setUint32(cdSize + 76 + 12, 0xffffffff, true);
  mv.setUint32(cdSize + 76 + 16, 0xffffffff, true);
  const manyFile = write('many.pt', many);
  await refuses(readTorchCheckpoint(manyFile), manyFile, new RegExp(`${count} entries, more than the ${ZIP_LIMITS.maxEntries}`));
});

test('views whose dense copies exceed the total cap are refused before anything is copied', async () => {
  // One 4 MiB storage, 2,048 distinct transposed views of it: 8 GiB as dense float32.
  const side = 1024;
  const numel = side * side + 2048;
  const views = Array.from({ length: 2048 }, (_, k) => ({ name: `t${k}`, key: '0', numel, offset: k, size: [side, side], stride: [1, side] }));
  const file = write('views.pt', torchZip(stateDictPickle(views), [{ key: '0', data: new Uint8Array(4 * numel) }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  await refuses(Promise.reject(r.error), file, /tensors/, new RegExp(`${2048 * 4 * side * side} bytes as float32 in all, more than the ${TORCH_LIMITS.maxTensorBytes}`));
  assert.ok(r.growth < 100 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB`);
});

// ---------------------------------------------------------------------------------------------------------------
// Deep nesting.

/** A state dict holding one tensor and, under key 'deep', `inner`'s value. */
function withDeep(inner: PickleWriter): Uint8Array {
  return new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce().put(1)
    .mark().str('w').add(tensorPickle(ONE)).str('deep').add(inner).setitems().stop().bytes();
}

const byteAt = /pickle byte \d+/;
const tooDeep = new RegExp(`nested deeper than ${PICKLE_LIMITS.maxDepth} levels`);

test(`a ${DEEP}-deep chain of dicts is a DataError naming the file and byte, not a stack overflow`, async () => {
  // As pickle writes {'a': {'a': …}}: every dict and key first, then the SETITEMs from the innermost out.
  const chain = new PickleWriter();
  for (let i = 0; i < DEEP; i++) chain.emptyDict().str('a');
  chain.emptyDict().setitem(DEEP);
  const file = write('deep-dicts.pt', torchZip(withDeep(chain), oneStorage));
  await refuses(readTorchCheckpoint(file), file, byteAt, tooDeep);
});

test(`a ${DEEP}-deep list or tuple as a tensor's size, offset or stride, or in its storage id, is a DataError`, async () => {
  const deepList = (): PickleWriter => new PickleWriter().emptyList(DEEP).append(DEEP - 1);
  const deepTuple = (): PickleWriter => new PickleWriter().emptyTuple().tuple1(DEEP);
  const cases: [string, Uint8Array][] = [
    ['size', new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce()
      .str('w').add(tensorPickle(ONE, { size: deepList().tuple1() })).setitem().stop().bytes()],
    ['offset', new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce()
      .str('w').add(tensorPickle(ONE, { offset: deepList() })).setitem().stop().bytes()],
    ['stride', new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce()
      .str('w').add(tensorPickle(ONE, { stride: deepTuple().tuple1() })).setitem().stop().bytes()],
    ['persistent id', new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce()
      .str('w').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage')
      .add(deepList()).str('cpu').int(4).tuple().binpersid().int(0).ints([4]).ints([1]).newFalse().get(0).emptyTuple().reduce()
      .tuple().reduce().setitem().stop().bytes()],
  ];
  for (const [where, pkl] of cases) {
    const file = write(`deep-${where.replace(' ', '-')}.pt`, torchZip(pkl, oneStorage));
    await refuses(readTorchCheckpoint(file), file, byteAt, tooDeep);
  }
});

test(`nesting up to ${PICKLE_LIMITS.maxDepth} levels parses, one more is refused at its opcode`, () => {
  const list = (depth: number): Uint8Array => new PickleWriter().proto().emptyList(depth).append(depth - 1).stop().bytes();
  let v = unpickle(list(PICKLE_LIMITS.maxDepth), { file: 'ok.pkl', allowedGlobals: TORCH_ALLOWED_GLOBALS });
  for (let d = 1; d < PICKLE_LIMITS.maxDepth; d++) v = (v as unknown[])[0] as typeof v;
  assert.deepEqual(v, []);
  const over = list(PICKLE_LIMITS.maxDepth + 1);
  // The APPEND that makes the outermost list: the first byte after the lists and the appends before it.
  const at = 2 + PICKLE_LIMITS.maxDepth + 1 + PICKLE_LIMITS.maxDepth - 1;
  assert.throws(() => unpickle(over, { file: 'deep.pkl', allowedGlobals: TORCH_ALLOWED_GLOBALS }),
    (e: Error) => e instanceof DataError && e.message.includes('deep.pkl') && e.message.includes(`pickle byte ${at}`) && tooDeep.test(e.message));
});

test('a pickle may not nest a container in itself or grow one after nesting it (so its depth is always known)', async () => {
  const self = new PickleWriter().emptyList().put(9).get(9).append();
  const selfFile = write('cycle.pt', torchZip(withDeep(self), oneStorage));
  await refuses(readTorchCheckpoint(selfFile), selfFile, byteAt, /cannot contain itself/);

  // d0 = {}; d1 = {}; d0['a'] = d1; d2 = {}; d1['a'] = d2; …: each dict is grown after being nested.
  const grown = new PickleWriter().emptyDict().put(100);
  for (let i = 1; i < DEEP; i++) grown.get(100 + i - 1).str('a').emptyDict().put(100 + i).setitem().pop();
  const grownFile = write('grown.pt', torchZip(withDeep(grown), oneStorage));
  await refuses(readTorchCheckpoint(grownFile), grownFile, byteAt, /changed after being placed inside another container/);
});

test('deeply nested JSON in a safetensors header and nested parentheses in an npy header are DataErrors with a position', async () => {
  const json = `{"__metadata__": {"config": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}}, "x": {"dtype": "F32", "shape": [${'['.repeat(DEEP)}], "data_offsets": [0, 0]}}`;
  const head = new TextEncoder().encode(json);
  const st = new Uint8Array(8 + head.length);
  new DataView(st.buffer).setUint32(0, head.length, true);
  st.set(head, 8);
  const stFile = write('deep.safetensors', st);
  await refuses(readSafetensors(stFile), stFile, /at character \d+/, /nested deeper than/);

  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(DEEP)}1${')'.repeat(DEEP)}, }`;
  const npy = new Uint8Array(12 + dict.length + 1);
  npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(npy.buffer).setUint32(8, dict.length + 1, true);
  npy.set(new TextEncoder().encode(`${dict}\n`), 12);
  const npyFile = write('deep.npy', npy);
  await refuses(readNpy(npyFile), npyFile, /shape/);
});

// ---------------------------------------------------------------------------------------------------------------
// Shared storages.

test('40 tensors viewing one 64 MiB storage share one decoded array (memory far below 40 copies)', async () => {
  const numel = 16 * MiB;
  const data = new Uint8Array(4 * numel);
  const f = new Float32Array(data.buffer);
  for (let i = 0; i < numel; i += 4096) f[i] = i;
  const views = Array.from({ length: 40 }, (_, k) => ({ name: `layer${k}.weight`, key: '0', numel, size: [numel / 4, 4] }));
  // Also: one tensor object referenced by 20 more keys (BINGET), as pickle writes tied weights, and 2 views at offsets.
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce().put(1).mark();
  for (const v of views) w.str(v.name).add(tensorPickle(v));
  w.str('tied0').add(tensorPickle({ name: 'tied0', key: '0', numel, size: [numel] })).put(50);
  for (let k = 1; k < 20; k++) w.str(`tied${k}`).get(50);
  w.str('tail').add(tensorPickle({ name: 'tail', key: '0', numel, offset: numel - 4096, size: [4096] }));
  w.str('transposed').add(tensorPickle({ name: 'transposed', key: '0', numel, offset: 4096, size: [4, 4], stride: [1, 4] }));
  w.str('transposed2').add(tensorPickle({ name: 'transposed2', key: '0', numel, offset: 4096, size: [4, 4], stride: [1, 4] }));
  const file = write('shared.pt', torchZip(w.setitems().stop().bytes(), [{ key: '0', data }]));
  const r = await peakGrowth(() => readTorchCheckpoint(file));
  assert.equal(r.error, undefined, String(r.error));
  const ck = r.value!;
  assert.equal(ck.tensors.size, 40 + 20 + 3);
  const first = ck.tensors.get('layer0.weight')!;
  assert.deepEqual(first.shape, [numel / 4, 4]);
  assert.equal(first.data[4096], 4096);
  assert.equal(first.data[numel - 4096], numel - 4096);
  for (const [name, t] of ck.tensors) {
    if (name.startsWith('transposed')) continue;
    assert.equal(t.data.buffer, first.data.buffer, `${name} shares the storage's array`);
  }
  const tail = ck.tensors.get('tail')!;
  assert.equal(tail.data.length, 4096);
  assert.equal(tail.data[0], numel - 4096);
  const tr = ck.tensors.get('transposed')!;
  assert.deepEqual([...tr.data], [4096, ...new Array<number>(15).fill(0)]);
  assert.equal(tr.data, ck.tensors.get('transposed2')!.data, 'identical strided views share one dense copy');
  assert.ok(r.growth < 4 * 64 * MiB, `resident set grew by ${(r.growth / MiB).toFixed(0)} MiB (40 copies would be 2560)`);
});

test('views of float32, bfloat16, float16 and int64 storages decode to the right values, one array per storage', async () => {
  const values = [0, 1, -2, 3.5, 0.25, -0.125, 1024, 7];
  const storages: { key: string; type: StorageType; data: Uint8Array }[] = [];
  const bytesOf = (n: number, set: (v: DataView, i: number, x: number) => void): Uint8Array => {
    const b = new Uint8Array(n * values.length);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => set(v, i, x));
    return b;
  };
  storages.push({ key: '0', type: 'FloatStorage', data: f32Bytes(values) });
  storages.push({ key: '1', type: 'BFloat16Storage', data: bytesOf(2, (v, i, x) => v.setUint16(2 * i, f32ToBf16(x), true)) });
  storages.push({ key: '2', type: 'HalfStorage', data: bytesOf(2, (v, i, x) => v.setUint16(2 * i, f32ToF16(x), true)) });
  storages.push({ key: '3', type: 'LongStorage', data: bytesOf(8, (v, i, x) => v.setBigInt64(8 * i, BigInt(Math.trunc(x)), true)) });
  const specs: TensorSpec[] = storages.flatMap((s) => [
    { name: `${s.key}.slice`, key: s.key, type: s.type, numel: 8, offset: 3, size: [4] },
    { name: `${s.key}.all`, key: s.key, type: s.type, numel: 8, size: [8] },
    { name: `${s.key}.t`, key: s.key, type: s.type, numel: 8, size: [4, 2], stride: [1, 4] },
  ]);
  // An odd-length name shifts the data off 2- and 4-byte alignment in the archive.
  const file = write('dtypes.pt', torchZip(stateDictPickle(specs), storages.map(({ key, data }) => ({ key, data })), 'odd'));
  const ck = await readTorchCheckpoint(file);
  for (const s of storages) {
    const want = s.type === 'LongStorage' ? values.map((x) => Math.trunc(x) + 0) : values;
    const all = ck.tensors.get(`${s.key}.all`)!;
    assert.deepEqual([...all.data], want, s.type);
    assert.deepEqual([...ck.tensors.get(`${s.key}.slice`)!.data], want.slice(3, 7), s.type);
    assert.equal(ck.tensors.get(`${s.key}.slice`)!.data.buffer, all.data.buffer);
    assert.deepEqual([...ck.tensors.get(`${s.key}.t`)!.data], [0, 4, 1, 5, 2, 6, 3, 7].map((i) => want[i]), s.type);
  }
});

test('a checkpoint the size of the official 27M-parameter HRM (109 MB of float32) still loads', async () => {
  const numel = 27_300_000;
  const storage = new Uint8Array(4 * numel);
  new Float32Array(storage.buffer).fill(0.5);
  const file = write('big.pt', torchZip(stateDictPickle([
    { name: 'a', key: '0', numel, size: [numel - 1000] },
    { name: 'b', key: '0', numel, offset: numel - 1000, size: [10, 100] },
  ]), [{ key: '0', data: storage }]));
  const ck = await readTorchCheckpoint(file);
  assert.equal(ck.tensors.get('a')!.data.length, numel - 1000);
  assert.equal(ck.tensors.get('b')!.data[999], 0.5);
});
